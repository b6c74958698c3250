// Owns which tables SYNC_METHOD=cdc streams and from which position: each
// selected table described every cycle and compared with what its copy was
// made from, claimed in DuckDB before anything is created on the server,
// marked for a new copy when its stream broke (with a notice saying why), and
// copied in a snapshot exactly at a stream position (the new slot's, or a
// temporary slot's); and, for the stream, which table a relation OID is.

import type pg from "pg";
import { type Lsn, parseLsn } from "../../core/lsn.ts";
import type { RelationColumn } from "../../core/pgoutput.ts";
import { cdcKey } from "../../core/cdc_plan.ts";
import { compareWithRecorded, type ShapeVerdict, slotBreak } from "../../core/table_identity.ts";
import { configError, SyncError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/sql.ts";
import { formatSelector } from "../../core/selector.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { mapColumn } from "../../core/type_map.ts";
import { describeTable, shapeOf } from "../../io/postgres/mod.ts";
import type { SourceCatalog } from "../../io/postgres/source_catalog.ts";
import { ReplicationConnection } from "../../io/postgres/replication.ts";
import { checkFreeSlot, replicaIdentity, slotState } from "../../io/postgres/cdc_catalog.ts";
import { acquireWarehouse, type TableSyncContext } from "../context.ts";
import { claimTarget } from "../table_guards.ts";
import { CdcTable } from "./cdc_table.ts";
import { type CdcDeps, followSchema } from "./cdc_apply.ts";
import { cdcFirstCopy, recopyKey } from "./cdc_first_copy.ts";

export type TableFailure = { table: string; error: SyncError };

/** A snapshot exactly at a stream position (a slot's exported snapshot). */
export interface StreamPoint {
  readonly consistentPoint: Lsn;
  readonly snapshot: string;
}

export class CdcTables {
  readonly #deps: CdcDeps;
  #tables = new Map<string, CdcTable>();
  /** Relation OID -> the target streamed from it (null: not selected). */
  #relations = new Map<number, string | null>();
  /** The last relation message of each relation in this stream (new table objects line up with it). */
  #relationColumns = new Map<number, readonly RelationColumn[]>();
  readonly #told = new Set<string>();

  constructor(deps: CdcDeps) {
    this.#deps = deps;
  }

  get(target: string): CdcTable | undefined {
    return this.#tables.get(target);
  }

  delete(target: string): void {
    this.#tables.delete(target);
  }

  /** A new stream: relation messages come again. */
  streamRestarted(): void {
    this.#relations.clear();
    this.#relationColumns.clear();
  }

  /** The table a change names by its relation OID, or null. */
  forRelation(relationId: number): CdcTable | null {
    const target = this.#relations.get(relationId);
    return target ? this.#tables.get(target) ?? null : null;
  }

  /** A relation message: kept, and matched to a table by OID (renames keep it). */
  relationMessage(relationId: number, columns: readonly RelationColumn[]): CdcTable | null {
    this.#relationColumns.set(relationId, columns);
    const table = [...this.#tables.values()].find((t) => t.isRelation(relationId)) ?? null;
    this.#relations.set(relationId, table?.plan.target ?? null);
    return table;
  }

  /** Every selected table described now, each with its verdict against its copy. */
  async describeAll(
    ctx: TableSyncContext,
    client: pg.Client,
    catalog: SourceCatalog,
    plans: readonly TablePlan[],
  ): Promise<{ tables: CdcTable[]; failures: TableFailure[] }> {
    const tables: CdcTable[] = [];
    const failures: TableFailure[] = [];
    for (const plan of plans) {
      try {
        tables.push(await this.#table(ctx, client, catalog, plan));
      } catch (error) {
        const e = await this.#renamed(ctx, client, plan, this.#deps.classify(error, plan.source));
        this.#tables.delete(plan.target);
        const unstreamable = e.code === "REPLICA_IDENTITY_MISSING" ||
          e.code === "CDC_TABLE_UNSUPPORTED";
        if (unstreamable && !plan.explicit) {
          // Matched by a wildcard: skipped with the fix, as the cursor method skips it.
          this.#noticeOnce(ctx, plan.source, `skipped ${e.message}`);
          continue;
        }
        failures.push({ table: plan.target, error: e });
      }
    }
    return { tables, failures };
  }

  /**
   * A table not found under its name whose copy recorded its OID: renamed (the
   * error names the new name, and a loop retries: renamed back, it is copied
   * again) or dropped.
   */
  async #renamed(
    ctx: TableSyncContext,
    client: pg.Client,
    plan: TablePlan,
    error: SyncError,
  ): Promise<SyncError> {
    const relid = ctx.store.schema(plan.target)?.relid;
    if (error.code !== "TABLE_MISSING" || !relid) return error;
    const row = (await client.query(
      `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid`,
      [relid],
    )).rows[0] as { schema: string; table: string } | undefined;
    if (!row) return error;
    const now = formatSelector(row.schema, row.table);
    return new SyncError(
      "TABLE_MISSING",
      `Cannot find table ${plan.source}: it was renamed to ${now} (select it as ${now} in POSTGRES_TABLES, or rename it back; it is copied again then)`,
      { exitCode: 2, transient: true },
    );
  }

  /** Tables whose first copy is due claim their DuckDB table first (TARGET_NOT_OWNED fails one alone). */
  async claimTargets(
    ctx: TableSyncContext,
    tables: readonly CdcTable[],
    failures: TableFailure[],
  ): Promise<CdcTable[]> {
    const due = tables.filter((t) => ctx.store.state(t.plan.target).kind !== "incremental");
    if (due.length === 0) return [...tables];
    const refused = new Set<string>();
    const warehouse = await acquireWarehouse(ctx);
    try {
      for (const table of due) {
        try {
          await claimTarget(ctx, warehouse, table.plan.target);
        } catch (error) {
          refused.add(table.plan.target);
          this.#tables.delete(table.plan.target);
          failures.push({
            table: table.plan.target,
            error: this.#deps.classify(error, table.plan.source),
          });
        }
      }
    } finally {
      warehouse.close();
    }
    return tables.filter((t) => !refused.has(t.plan.target));
  }

  /**
   * The continuity checks: a table whose stream broke (the slot is not the one
   * it streamed from, it was not published, it is another relation or other
   * columns than its copy, or a change could not be applied) is marked, in the
   * checkpoint first, to be copied again, with a notice saying why.
   */
  async findBreaks(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
    tables: readonly CdcTable[],
    newlyPublished: ReadonlySet<string>,
    confirmed: Lsn | null,
  ): Promise<void> {
    const { store } = ctx;
    const positioned = tables.filter((t) => t.lsn !== null);
    const state = await slotState(client, slot);
    const slotGap = slotBreak(
      state && { name: slot, confirmedFlush: state.confirmedFlush },
      slot,
      { tables: positioned.length, confirmed },
    );
    for (const table of positioned) {
      const target = table.plan.target;
      const verdict = table.verdict;
      const reason = slotGap ??
        (verdict.kind === "break" ? verdict.reason : null) ??
        (newlyPublished.has(target)
          ? "its changes were not published until now (taken out of the selection, or published by partition)"
          : null) ??
        store.info(recopyKey(target));
      if (reason === null) continue;
      this.markBroken(ctx, table, reason);
    }
  }

  /** Marks a table to be copied again (in the checkpoint, before the slot moves past it). */
  markBroken(ctx: TableSyncContext, table: CdcTable, reason: string): void {
    ctx.store.setInfo(recopyKey(table.plan.target), reason);
    ctx.emit({ type: "notice", message: `${table.plan.source}: copying it again, as ${reason}` });
    table.lsn = null;
  }

  /**
   * First copies (a table new, re-selected or broken): in the new slot's
   * snapshot when the slot was just made, else in a temporary slot's, whose
   * consistent point is where this table's stream picks up.
   */
  async firstCopies(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
    tables: readonly CdcTable[],
    created: StreamPoint | null,
    failures: TableFailure[],
  ): Promise<Map<string, { rows: number; ms: number }>> {
    const copied = new Map<string, { rows: number; ms: number }>();
    const due = tables.filter((t) =>
      t.lsn === null || ctx.store.state(t.plan.target).kind !== "incremental"
    );
    if (due.length === 0) return copied;
    const temporary = created ? null : await this.#temporarySnapshot(ctx, client, slot);
    const point = created ?? temporary!;
    try {
      for (const table of due) {
        try {
          const copyStarted = performance.now();
          const { rows, table: fresh } = await cdcFirstCopy(
            ctx,
            client,
            table,
            point.snapshot,
            point.consistentPoint,
            created ? undefined : (c) => this.#describeAgain(ctx, c, table),
          );
          this.#tables.set(fresh.plan.target, fresh);
          copied.set(table.plan.target, { rows, ms: performance.now() - copyStarted });
        } catch (error) {
          failures.push({
            table: table.plan.target,
            error: this.#deps.classify(error, table.plan.source),
          });
          this.#tables.delete(table.plan.target);
        }
      }
    } finally {
      await temporary?.close();
    }
    return copied;
  }

  /** Columns added or dropped: DuckDB follows the table as it is now, in place. */
  async follow(ctx: TableSyncContext, table: CdcTable): Promise<void> {
    await followSchema(ctx, this.#deps, table);
    const snapshot = ctx.store.schema(table.plan.target);
    if (snapshot && table.description.oid) {
      const { oid, storage } = table.description;
      ctx.store.saveSchema(table.plan.target, {
        ...snapshot,
        relid: oid,
        ...(storage ? { storage } : {}),
      });
    }
    table.verdict = { kind: "same" };
    const columns = this.#relationColumns.get(Number(table.description.oid));
    if (columns) table.relate(columns);
  }

  /** A snapshot exactly at a stream position: a temporary slot's, alive until `close`. */
  async #temporarySnapshot(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
  ): Promise<StreamPoint & { close: () => Promise<void> }> {
    await checkFreeSlot(client);
    const connection = await ReplicationConnection.open(ctx.config, this.#deps.secrets);
    try {
      const suffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16);
      const created = await connection.createSlot(`${slot.slice(0, 40)}_copy_${suffix}`, {
        temporary: true,
      });
      return { ...created, close: () => connection.close() };
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** The table described inside the copy's snapshot (its columns as of that moment). */
  async #describeAgain(ctx: TableSyncContext, client: pg.Client, table: CdcTable) {
    const description = await describeTable(client, table.plan, ctx.config.pg.database);
    const fresh = this.#tableOf(ctx, table.plan, description, table.key, null);
    fresh.fullIdentity = table.fullIdentity;
    return fresh;
  }

  #noticeOnce(ctx: TableSyncContext, id: string, message: string): void {
    if (this.#told.has(id)) return;
    this.#told.add(id);
    ctx.emit({ type: "notice", message });
  }

  async #table(
    ctx: TableSyncContext,
    client: pg.Client,
    catalog: SourceCatalog,
    plan: TablePlan,
  ): Promise<CdcTable> {
    const description = await catalog.describe(client, plan);
    const generated = description.columns.filter((c) => c.generated).map((c) => c.name);
    const qualified = `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`;
    if (generated.length > 0) {
      throw configError(
        "CDC_TABLE_UNSUPPORTED",
        `Cannot stream ${plan.source}: its generated column(s) ${
          generated.join(", ")
        } are not in the write-ahead log of PostgreSQL 15 (sync it with SYNC_METHOD=cursor, or turn them into plain columns with ALTER TABLE ${qualified} ALTER COLUMN ${
          quoteIdent(generated[0]!)
        } DROP EXPRESSION and set them in a trigger)`,
      );
    }
    const { identity, deferrableKey } = await replicaIdentity(client, plan);
    if (identity === "d" && deferrableKey) {
      throw configError(
        "REPLICA_IDENTITY_MISSING",
        `Cannot stream ${plan.source}: its primary key is DEFERRABLE, which PostgreSQL cannot name changed rows by, so its UPDATEs would fail once it is published (run ALTER TABLE ${qualified} REPLICA IDENTITY FULL; the primary key stays its key)`,
      );
    }
    const key = cdcKey(plan, shapeOf(description), identity);
    const lsnText = ctx.store.lsn(plan.target);
    const recorded = ctx.store.schema(plan.target);
    let verdict: ShapeVerdict = lsnText && recorded
      ? compareWithRecorded(recorded, description)
      : { kind: "same" };
    const known = this.#tables.get(plan.target);
    if (known && !known.failed && verdict.kind !== "break") {
      // Columns only added or dropped: the stream goes on in the shape it was
      // streaming, and the change is followed at its place in the stream (or
      // after this cycle's changes), so rows inserted before it get its values.
      known.verdict = verdict;
      return known;
    }
    if (verdict.kind === "follow") {
      // No shape to stream the changes made before it in (a new process):
      // copied again rather than guessed.
      verdict = { kind: "break", reason: `${verdict.reason} while nothing streamed` };
    }
    const table = this.#tableOf(ctx, plan, description, key, lsnText ? parseLsn(lsnText) : null);
    table.fullIdentity = identity === "f";
    table.verdict = verdict;
    this.#tables.set(plan.target, table);
    return table;
  }

  /** A table object, lined up with its relation's last message when this stream had one. */
  #tableOf(
    ctx: TableSyncContext,
    plan: TablePlan,
    description: CdcTable["description"],
    key: readonly string[],
    lsn: Lsn | null,
  ): CdcTable {
    const mappings = description.columns.map((c) =>
      mapColumn(c, { wideNumeric: ctx.config.wideNumeric })
    );
    const table = new CdcTable(plan, description, mappings, key, lsn);
    const columns = this.#relationColumns.get(Number(description.oid));
    if (columns) table.relate(columns);
    return table;
  }
}
