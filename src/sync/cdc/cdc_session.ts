// Owns SYNC_METHOD=cdc's cycle: the replication slot and publication made
// ready (created when missing, checked when a DBA made them), every table's
// first copy, then the stream read from the slot's confirmed position up to
// the server's WAL position at the cycle's start, folded into batches of net
// changes per table (bounded by CDC_BATCH_ROWS) that the batch sink applies.
// Postgres is told a position only once DuckDB and the checkpoint hold every
// change before it. Under `sync --loop` the replication connection stays open
// between cycles (keepalives answered on a timer, even while DuckDB loads).

import type pg from "pg";
import { formatLsn, type Lsn, maxLsn, parseLsn } from "../../core/lsn.ts";
import { type LogicalMessage, parseLogical, type ReplicationFrame } from "../../core/pgoutput.ts";
import { cdcKey, cdcNames } from "../../core/cdc_plan.ts";
import { compareWithRecorded, type ShapeVerdict, slotBreak } from "../../core/cdc_identity.ts";
import { configError, type SyncError } from "../../core/errors.ts";
import { quoteIdent } from "../../core/sql.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { mapColumn } from "../../core/type_map.ts";
import { describeTable, shapeOf } from "../../io/postgres.ts";
import type { SourceCatalog } from "../../io/source_catalog.ts";
import { ReplicationConnection } from "../../io/postgres/replication.ts";
import {
  checkCdcReady,
  checkFreeSlot,
  checkSlot,
  currentWalLsn,
  replicaIdentity,
  slotState,
} from "../../io/postgres/cdc_catalog.ts";
import type { TableCycleResult, TableSyncContext } from "../context.ts";
import { CdcTable } from "./cdc_table.ts";
import { applyTableBatch, type CdcDeps, followSchema } from "./cdc_apply.ts";
import { preparePublication } from "./cdc_publication.ts";
import { cdcFirstCopy, recopyKey } from "./cdc_first_copy.ts";
import { claimTarget } from "../table_guards.ts";
import type { RelationColumn } from "../../core/pgoutput.ts";

export type { CdcDeps } from "./cdc_apply.ts";

/** Keepalive answers go out at least this often, whatever DuckDB is doing. */
const STATUS_EVERY_MS = 5_000;
/** Frames held before the socket is paused until they are applied. */
const INBOX_LIMIT = 5_000;

/** Failures of one table's batch that leave the other tables streaming. */
const TABLE_ALONE = new Set<string>([
  "VALUE_UNSUPPORTED",
  "DUCKDB_ERROR",
  "KEY_NOT_UNIQUE",
  "INTERNAL",
]);

export interface CdcCycle {
  readonly results: TableCycleResult[];
  readonly failures: { table: string; error: SyncError }[];
}

export class CdcSession {
  readonly #deps: CdcDeps;
  #stream: ReplicationConnection | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #inbox: ReplicationFrame[] = [];
  /** Frames in the inbox that are not keepalives. */
  #pendingData = 0;
  /** The inbox is being applied (a keepalive then waits its turn). */
  #draining = false;
  #wake: (() => void) | null = null;
  #tables = new Map<string, CdcTable>();
  /** Relation OID -> the target streamed from it (null: not selected). */
  #relations = new Map<number, string | null>();
  /** The last relation message of each relation in this stream (new table objects line up with it). */
  #relationColumns = new Map<number, readonly RelationColumn[]>();
  /** The connection of the cycle in progress (re-copies after a break in the stream use it). */
  #client: pg.Client | null = null;
  #slotName = "";
  /** Tables that failed while the stream was applied (each alone). */
  #failures: { table: string; error: SyncError }[] = [];
  /** The furthest position ever confirmed to the server (recorded first). */
  #confirmed: Lsn | null = null;
  /** Everything before it is in DuckDB and the checkpoint. */
  #applied: Lsn = 0n;
  /** The furthest position the server said it has sent. */
  #seen: Lsn = 0n;
  #openTx: { finalLsn: Lsn } | null = null;
  /** The last whole transaction in the batch being built. */
  #batchEnd: { commitLsn: Lsn; endLsn: Lsn; time: Date } | null = null;
  #batchRows = 0;
  #batchBytes = 0;
  #txBytes = 0;
  /** When the batch's oldest transaction committed. */
  #batchSince: Date | null = null;
  /** Rows of the open transaction not yet applied. */
  #txRows = 0;
  #touched = new Set<CdcTable>();
  #counts = new Map<string, { rows: number; batches: number }>();

  readonly #told = new Set<string>();
  /** When the retained-WAL warning was last given (at most every 5 minutes). */
  #warnedRetained = -Infinity;

  constructor(deps: CdcDeps) {
    this.#deps = deps;
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    const stream = this.#stream;
    this.#stream = null;
    await stream?.close();
  }

  /** One cycle over the selected tables. */
  async cycle(
    ctx: TableSyncContext,
    plans: readonly TablePlan[],
    catalog: SourceCatalog,
  ): Promise<CdcCycle> {
    const { config, store } = ctx;
    const names = cdcNames(config.cdc, store.stateId());
    this.#failures = [];
    this.#slotName = names.slot;
    let client: pg.Client | null = null;
    let broken = false;
    try {
      client = await this.#deps.acquire();
      this.#client = client;
      await checkCdcReady(client, config.pg.user);
      const described = await this.#describeAll(ctx, client, catalog, plans);
      const failures = described.failures;
      // Everything checked before anything is created on the server: a table
      // whose DuckDB table is another STATE_DIR's fails here, and a missing
      // slot must have room before the publication is made.
      const claimed = await this.#claimTargets(ctx, described.tables, failures);
      if (claimed.length === 0) return { results: [], failures };
      if (!(await slotState(client, names.slot))) await checkFreeSlot(client);
      const published = await preparePublication(ctx, client, names.publication, claimed);
      failures.push(...published.failures);
      for (const failure of published.failures) this.#tables.delete(failure.table);
      const tables = published.tables;
      if (tables.length === 0) return { results: [], failures };
      await this.#findBreaks(ctx, client, names.slot, tables, published.newlyPublished);
      const created = await this.#prepareSlot(ctx, client, names.slot);
      const state = await slotState(client, names.slot);
      const from = created?.consistentPoint ?? state?.confirmedFlush ?? 0n;
      const copied = await this.#firstCopies(ctx, client, names.slot, tables, created, failures);
      const streamed = tables.filter((t) => this.#tables.get(t.plan.target) !== undefined)
        .map((t) => this.#tables.get(t.plan.target)!);
      // Columns added or dropped while nothing streamed: DuckDB follows them first.
      for (const table of streamed) {
        if (copied.has(table.plan.target) || table.verdict.kind !== "follow") continue;
        await this.#follow(ctx, table);
      }
      const results = await this.#streamAll(ctx, client, names, from, streamed, copied);
      failures.push(...this.#failures);
      return { results: results.filter((_, i) => !streamed[i]!.failed), failures };
    } catch (error) {
      broken = true;
      // Whatever failed (the server shutting down among others), the stream is
      // closed too: a walsender waiting for us would hold a fast shutdown.
      await this.close();
      throw error;
    } finally {
      this.#client = null;
      if (client) this.#deps.release(client, broken);
    }
  }

  /** Every selected table described now, each with its verdict against its copy. */
  async #describeAll(
    ctx: TableSyncContext,
    client: pg.Client,
    catalog: SourceCatalog,
    plans: readonly TablePlan[],
  ): Promise<{ tables: CdcTable[]; failures: { table: string; error: SyncError }[] }> {
    const tables: CdcTable[] = [];
    const failures: { table: string; error: SyncError }[] = [];
    for (const plan of plans) {
      try {
        tables.push(await this.#table(ctx, client, catalog, plan));
      } catch (error) {
        const e = this.#deps.classify(error, plan.source);
        this.#tables.delete(plan.target);
        if (
          (e.code === "REPLICA_IDENTITY_MISSING" || e.code === "CDC_TABLE_UNSUPPORTED") &&
          !plan.explicit
        ) {
          // Matched by a wildcard: skipped with the fix, as the cursor method skips it.
          this.#noticeOnce(ctx, plan.source, `skipped ${e.message}`);
          continue;
        }
        failures.push({ table: plan.target, error: e });
      }
    }
    return { tables, failures };
  }

  /** Tables whose first copy is due claim their DuckDB table first (TARGET_NOT_OWNED fails one alone). */
  async #claimTargets(
    ctx: TableSyncContext,
    tables: readonly CdcTable[],
    failures: { table: string; error: SyncError }[],
  ): Promise<CdcTable[]> {
    const due = tables.filter((t) => ctx.store.state(t.plan.target).kind !== "incremental");
    if (due.length === 0) return [...tables];
    const refused = new Set<string>();
    const warehouse = await ctx.warehouseFile.acquire({
      lockWaitSeconds: ctx.config.lockWaitSeconds,
      signal: ctx.signal,
      onWait: (message) => ctx.emit({ type: "notice", message }),
    });
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
  async #findBreaks(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
    tables: readonly CdcTable[],
    newlyPublished: ReadonlySet<string>,
  ): Promise<void> {
    const { store } = ctx;
    const positioned = tables.filter((t) => t.lsn !== null);
    const state = await slotState(client, slot);
    const recorded = store.info("cdc_confirmed");
    this.#confirmed = recorded ? parseLsn(recorded) : null;
    const slotGap = slotBreak(
      state && { name: slot, confirmedFlush: state.confirmedFlush },
      slot,
      { tables: positioned.length, confirmed: this.#confirmed },
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
      store.setInfo(recopyKey(target), reason);
      ctx.emit({ type: "notice", message: `${table.plan.source}: copying it again, as ${reason}` });
      table.lsn = null;
    }
  }

  /**
   * First copies (a table new, re-selected or broken): in the new slot's
   * snapshot when the slot was just made, else in a temporary slot's, whose
   * consistent point is where this table's stream picks up.
   */
  async #firstCopies(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
    tables: readonly CdcTable[],
    created: { consistentPoint: Lsn; snapshot: string } | null,
    failures: { table: string; error: SyncError }[],
  ): Promise<Map<string, { rows: number; ms: number }>> {
    const copied = new Map<string, { rows: number; ms: number }>();
    const due = tables.filter((t) =>
      t.lsn === null || ctx.store.state(t.plan.target).kind !== "incremental"
    );
    if (due.length === 0) return copied;
    const point = created ?? await this.#temporarySnapshot(ctx, client, slot);
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
      if (!created) await (point as { close?: () => Promise<void> }).close?.();
    }
    return copied;
  }

  /** A snapshot exactly at a stream position: a temporary slot's, alive until `close`. */
  async #temporarySnapshot(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
  ): Promise<{ consistentPoint: Lsn; snapshot: string; close: () => Promise<void> }> {
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

  /** The stream, up to where the server's WAL is now; the cycle's results, table by table. */
  async #streamAll(
    ctx: TableSyncContext,
    client: pg.Client,
    names: { slot: string; publication: string },
    from: Lsn,
    streamed: readonly CdcTable[],
    copied: ReadonlyMap<string, { rows: number; ms: number }>,
  ): Promise<TableCycleResult[]> {
    const { config } = ctx;
    const target = await currentWalLsn(client);
    const started = performance.now();
    const startedAt = ctx.now().toISOString();
    this.#counts.clear();
    for (const table of streamed) {
      if (copied.has(table.plan.target)) continue;
      ctx.emit({
        type: "cycle_started",
        table: table.plan.target,
        mode: "incremental",
        at: startedAt,
        estimatedRows: null,
      });
    }
    await this.#ensureStream(ctx, names, from);
    await this.#drain(ctx, target);
    const retained = (await slotState(client, names.slot))?.retainedBytes ?? 0;
    if (
      retained > config.cdc.maxRetainedWalBytes &&
      performance.now() - this.#warnedRetained > 300_000
    ) {
      this.#warnedRetained = performance.now();
      ctx.emit({
        type: "notice",
        message: `Replication slot ${names.slot} holds ${
          (retained / 1e6).toFixed(0)
        } MB of WAL, more than CDC_MAX_RETAINED_WAL (the sync is behind, or was stopped: run it, or \`reset --yes\` to drop the slot)`,
      });
    }
    const results: TableCycleResult[] = [];
    for (const table of streamed) {
      const target = table.plan.target;
      const first = copied.get(target);
      const done = this.#counts.get(target) ?? { rows: 0, batches: 0 };
      const rows = (first?.rows ?? 0) + done.rows;
      const batches = (first === undefined ? 0 : 1) + done.batches;
      const idle = batches === 0;
      if (!table.failed) {
        ctx.emit({
          type: "cycle_finished",
          table: target,
          mode: "incremental",
          rows,
          batches,
          durationMs: (first?.ms ?? 0) + performance.now() - started,
          idle,
          inSyncAsOf: startedAt,
        });
      }
      results.push({ rows, batches, idle, mode: "incremental" });
    }
    return results;
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
    if (generated.length > 0) {
      throw configError(
        "CDC_TABLE_UNSUPPORTED",
        `Cannot stream ${plan.source}: its generated column(s) ${
          generated.join(", ")
        } are not in the write-ahead log of PostgreSQL 15 (sync it with SYNC_METHOD=cursor, or turn them into plain columns with ALTER TABLE ${
          quoteIdent(plan.schema)
        }.${quoteIdent(plan.table)} ALTER COLUMN ${
          quoteIdent(generated[0]!)
        } DROP EXPRESSION and set them in a trigger)`,
      );
    }
    const { identity, deferrableKey } = await replicaIdentity(client, plan);
    if (identity === "d" && deferrableKey) {
      throw configError(
        "REPLICA_IDENTITY_MISSING",
        `Cannot stream ${plan.source}: its primary key is DEFERRABLE, which PostgreSQL cannot name changed rows by, so its UPDATEs would fail once it is published (run ALTER TABLE ${
          quoteIdent(plan.schema)
        }.${quoteIdent(plan.table)} REPLICA IDENTITY FULL; the primary key stays its key)`,
      );
    }
    const key = cdcKey(plan, shapeOf(description), identity);
    const lsnText = ctx.store.lsn(plan.target);
    const recorded = ctx.store.schema(plan.target);
    const verdict: ShapeVerdict = lsnText && recorded
      ? compareWithRecorded(recorded, description)
      : { kind: "same" };
    const known = this.#tables.get(plan.target);
    if (known && !known.failed && verdict.kind === "same") {
      known.verdict = verdict;
      return known;
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

  /** Columns added or dropped: DuckDB follows the table as it is now, in place. */
  async #follow(ctx: TableSyncContext, table: CdcTable): Promise<void> {
    await followSchema(ctx, this.#deps, table);
    const snapshot = ctx.store.schema(table.plan.target);
    if (snapshot && table.description.oid) {
      ctx.store.saveSchema(table.plan.target, { ...snapshot, relid: table.description.oid });
    }
    table.verdict = { kind: "same" };
    const columns = this.#relationColumns.get(Number(table.description.oid));
    if (columns) table.relate(columns);
  }

  /** The slot, created now (with its snapshot) when missing. */
  async #prepareSlot(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
  ): Promise<{ consistentPoint: Lsn; snapshot: string } | null> {
    const state = await slotState(client, slot);
    if (state) {
      // With our own stream open the slot is active by us: only its loss matters then.
      const active = state.active && this.#stream === null;
      checkSlot({ ...state, active }, slot, ctx.config.pg.database);
      return null;
    }
    await this.close();
    await checkFreeSlot(client);
    const stream = await ReplicationConnection.open(ctx.config, this.#deps.secrets);
    try {
      const created = await stream.createSlot(slot);
      ctx.store.setInfo("cdc_slot", slot);
      this.#record(ctx.store, created.consistentPoint, true);
      // The snapshot lives while this connection runs nothing else: the first
      // copies read in it, then the stream starts on the same connection.
      this.#stream = stream;
      this.#applied = created.consistentPoint;
      return created;
    } catch (error) {
      await stream.close();
      throw error;
    }
  }

  async #ensureStream(
    ctx: TableSyncContext,
    names: { slot: string; publication: string },
    from: Lsn,
  ): Promise<void> {
    if (this.#stream && this.#timer !== null) {
      if (!this.#stream.failure) return;
      // It ended between cycles (the server restarted or timed it out): start over.
      await this.close();
    }
    const stream = this.#stream ?? await ReplicationConnection.open(ctx.config, this.#deps.secrets);
    this.#stream = stream;
    this.#applied = maxLsn(this.#applied, from);
    this.#seen = this.#applied;
    this.#inbox = [];
    this.#pendingData = 0;
    this.#openTx = null;
    this.#relations.clear();
    this.#relationColumns.clear();
    const store = ctx.store;
    await stream.start(names.slot, names.publication, this.#applied, (frame) => {
      if (frame.type === "keepalive") {
        // With nothing received and unapplied, everything before walEnd is
        // ours already: confirmed at once, also between cycles (a server
        // shutting down waits for the position it sent last).
        if (!this.#draining && this.#pendingData === 0 && this.#touched.size === 0) {
          this.#applied = maxLsn(this.#applied, frame.walEnd);
          this.#seen = maxLsn(this.#seen, frame.walEnd);
          if (frame.replyRequested) this.#confirm(store);
          return;
        }
        // Answered as it arrives, not when its turn comes: between cycles and
        // while DuckDB loads, frames wait, and the server would time us out.
        if (frame.replyRequested) this.#confirm(store);
      } else {
        this.#pendingData += 1;
      }
      this.#inbox.push(frame);
      if (this.#inbox.length >= INBOX_LIMIT) stream.pause();
      this.#wake?.();
    });
    const timer = setInterval(() => this.#confirm(store), STATUS_EVERY_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }

  /** Applies the stream up to `target` (and whatever else has arrived). */
  async #drain(ctx: TableSyncContext, target: Lsn): Promise<void> {
    this.#draining = true;
    try {
      await this.#drainTo(ctx, target);
    } finally {
      this.#draining = false;
    }
  }

  async #drainTo(ctx: TableSyncContext, target: Lsn): Promise<void> {
    const stream = this.#stream!;
    let asked = 0;
    while (true) {
      while (this.#inbox.length > 0) {
        // Take what has arrived in one go (shift() one by one is quadratic).
        const frames = this.#inbox;
        this.#inbox = [];
        for (const frame of frames) {
          if (frame.type !== "keepalive") this.#pendingData -= 1;
          await this.#process(ctx, frame);
        }
        if (this.#inbox.length === 0) stream.resume();
      }
      if (this.#openTx === null && this.#seen >= target) break;
      if (stream.failure) throw stream.failure;
      if (ctx.signal?.aborted) break;
      if (performance.now() - asked > 100) {
        asked = performance.now();
        this.#confirm(ctx.store, true);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    await this.#flush(ctx);
  }

  async #process(ctx: TableSyncContext, frame: ReplicationFrame): Promise<void> {
    if (frame.type === "keepalive") {
      if (this.#openTx === null) {
        // Every transaction that committed before walEnd has been sent.
        this.#seen = maxLsn(this.#seen, frame.walEnd);
        // With nothing of ours pending, the slot may move on (an idle or
        // filtered database must not hold WAL back).
        if (this.#touched.size === 0) this.#applied = maxLsn(this.#applied, frame.walEnd);
      }
      if (frame.replyRequested) this.#confirm(ctx.store);
      return;
    }
    const message = parseLogical(frame.data);
    await this.#apply(ctx, message);
  }

  async #apply(ctx: TableSyncContext, message: LogicalMessage): Promise<void> {
    switch (message.type) {
      case "begin":
        this.#openTx = { finalLsn: message.finalLsn };
        this.#txRows = 0;
        this.#txBytes = 0;
        return;
      case "commit":
        this.#openTx = null;
        if (this.#touched.size > 0) this.#batchSince ??= message.commitTime;
        this.#batchEnd = {
          commitLsn: message.commitLsn,
          endLsn: message.endLsn,
          time: message.commitTime,
        };
        this.#seen = maxLsn(this.#seen, message.endLsn);
        if (this.#touched.size === 0) this.#applied = maxLsn(this.#applied, message.endLsn);
        if (
          this.#batchRows >= ctx.config.cdc.batchRows ||
          this.#batchBytes >= ctx.config.cdc.batchBytes
        ) await this.#flush(ctx);
        return;
      case "relation":
        await this.#relation(ctx, message);
        return;
      case "insert":
      case "update":
      case "delete": {
        const table = this.#tableFor(message.relationId);
        if (!table || this.#skip(table)) return;
        let bytes: number;
        if (message.type === "insert") {
          table.insert(message.row);
          bytes = CdcTable.bytesOf(message.row);
        } else if (message.type === "update") {
          table.update(message.old, message.row);
          bytes = CdcTable.bytesOf(message.row) + CdcTable.bytesOf(message.old);
        } else {
          table.delete(message.old);
          bytes = CdcTable.bytesOf(message.old);
        }
        this.#touched.add(table);
        this.#batchRows += 1;
        this.#batchBytes += bytes;
        this.#txRows += 1;
        this.#txBytes += bytes;
        // Batches end at commits; only a transaction bigger than a batch is
        // applied in parts (checkpointed at its commit): memory stays bounded.
        if (
          this.#txRows >= ctx.config.cdc.batchRows || this.#txBytes >= ctx.config.cdc.batchBytes
        ) {
          await this.#flush(ctx);
          this.#txRows = 0;
          this.#txBytes = 0;
        }
        return;
      }
      case "truncate":
        for (const id of message.relationIds) {
          const table = this.#tableFor(id);
          if (!table || this.#skip(table)) continue;
          table.changes.truncate();
          this.#touched.add(table);
        }
        return;
      case "other":
        return;
    }
  }

  /**
   * A change of a transaction the table already holds (re-sent after a
   * restart, or older than its copy), or of a table that failed this cycle.
   */
  #skip(table: CdcTable): boolean {
    return table.failed ||
      (table.lsn !== null && this.#openTx !== null && this.#openTx.finalLsn <= table.lsn);
  }

  #tableFor(relationId: number): CdcTable | null {
    const target = this.#relations.get(relationId);
    return target ? this.#tables.get(target) ?? null : null;
  }

  /**
   * A relation message: matched to a table by OID (a rename keeps it, a table
   * created again under the name does not). A shape DuckDB can follow in place
   * (columns added or dropped) is followed at this point of the stream; any
   * other is a break, and the table is copied again from a snapshot at a
   * position past this transaction, whose older changes are then skipped.
   */
  async #relation(
    ctx: TableSyncContext,
    message: Extract<LogicalMessage, { type: "relation" }>,
  ): Promise<void> {
    this.#relationColumns.set(message.relationId, message.columns);
    const table = [...this.#tables.values()].find((t) => t.isRelation(message.relationId)) ?? null;
    this.#relations.set(message.relationId, table?.plan.target ?? null);
    if (!table || table.failed) return;
    const verdict = table.relate(message.columns);
    if (verdict.kind === "same" || this.#skip(table)) return;
    await this.#flush(ctx);
    if (verdict.kind === "follow") {
      await this.#follow(ctx, table);
      return;
    }
    const target = table.plan.target;
    ctx.store.setInfo(recopyKey(target), verdict.reason);
    ctx.emit({
      type: "notice",
      message: `${table.plan.source}: copying it again, as ${verdict.reason}`,
    });
    const failures: { table: string; error: SyncError }[] = [];
    table.lsn = null;
    await this.#firstCopies(ctx, this.#client!, this.#slotName, [table], null, failures);
    if (failures.length > 0) {
      table.failed = true;
      this.#failures.push(...failures);
    }
  }

  /** Applies the batch built so far, then tells Postgres how far it may let go. */
  async #flush(ctx: TableSyncContext): Promise<void> {
    const end = this.#batchEnd;
    if (this.#touched.size > 0) {
      const warehouse = await ctx.warehouseFile.acquire({
        lockWaitSeconds: ctx.config.lockWaitSeconds,
        signal: ctx.signal,
        onWait: (message) => ctx.emit({ type: "notice", message }),
      });
      try {
        for (const table of this.#touched) {
          const counted = this.#counts.get(table.plan.target) ?? { rows: 0, batches: 0 };
          let rows: number;
          try {
            rows = await applyTableBatch(ctx, warehouse, table, end, this.#batchSince);
          } catch (error) {
            this.#failTable(ctx, table, error);
            continue;
          }
          this.#counts.set(table.plan.target, {
            rows: counted.rows + rows,
            batches: counted.batches + 1,
          });
        }
      } finally {
        warehouse.close();
      }
      this.#touched.clear();
    }
    this.#batchRows = 0;
    this.#batchBytes = 0;
    if (end) {
      this.#applied = maxLsn(this.#applied, end.endLsn);
      ctx.store.setInfo("cdc_last_commit", end.time.toISOString());
      const lag = Math.max(0, (ctx.now().getTime() - end.time.getTime()) / 1000);
      ctx.store.setInfo("cdc_last_lag", lag.toFixed(3));
    }
    this.#batchEnd = null;
    this.#batchSince = null;
    this.#confirm(ctx.store);
  }

  /**
   * A batch the table alone cannot take (a value DuckDB refuses, a key that
   * cannot be applied): the table stops with its error and is copied again
   * next cycle (marked in the checkpoint before the slot moves past its
   * changes), while the other tables go on. Failures of the DuckDB file
   * itself (disk, lock) stop everything, as before.
   */
  #failTable(ctx: TableSyncContext, table: CdcTable, error: unknown): void {
    const e = this.#deps.classify(error, table.plan.source);
    if (!TABLE_ALONE.has(e.code)) throw error;
    ctx.store.setInfo(recopyKey(table.plan.target), `a change could not be applied (${e.code})`);
    table.failed = true;
    table.resetChanges();
    this.#failures.push({ table: table.plan.target, error: e });
  }

  /**
   * Tells the server everything before #applied may go, once the position is
   * recorded as this STATE_DIR's furthest confirmed: a slot whose position is
   * past it later is not the slot this STATE_DIR streamed from.
   */
  #confirm(store: TableSyncContext["store"], replyRequested = false): void {
    this.#record(store, this.#applied);
    this.#stream?.confirm(this.#applied, replyRequested);
  }

  #record(store: TableSyncContext["store"], lsn: Lsn, reset = false): void {
    if (!reset && this.#confirmed !== null && lsn <= this.#confirmed) return;
    store.setInfo("cdc_confirmed", formatLsn(lsn));
    this.#confirmed = lsn;
  }
}
