// Owns SYNC_METHOD=cdc's cycle: slot and publication made ready, the tables
// checked for continuity and copied where due (cdc_tables.ts), then the stream
// read from the slot's confirmed position up to the WAL position at the
// cycle's start, folded into batches of net changes per table (CDC_BATCH_ROWS,
// CDC_BATCH_BYTES) that the batch sink applies. Postgres is told a position
// only once DuckDB and the checkpoint hold every change before it. Under
// `sync --loop` the replication connection stays open between cycles.

import type pg from "pg";
import { formatLsn, type Lsn, parseLsn } from "../../core/lsn.ts";
import { type LogicalMessage, parseLogical, type ReplicationFrame } from "../../core/pgoutput.ts";
import { cdcNames } from "../../core/cdc_plan.ts";
import { type BatchLimits, StreamState } from "../../core/stream_state.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import type { SourceCatalog } from "../../io/postgres/source_catalog.ts";
import { ReplicationConnection } from "../../io/postgres/replication.ts";
import { ReplicationInbox } from "../../io/postgres/replication_inbox.ts";
import {
  checkCdcReady,
  checkFreeSlot,
  currentWalLsn,
  slotState,
} from "../../io/postgres/cdc_catalog.ts";
import { prepareSlot, warnRetained } from "./cdc_slot.ts";
import { acquireWarehouse, type TableCycleResult, type TableSyncContext } from "../context.ts";
import type { MethodCycle, SyncMethod } from "../sync_method.ts";
import { CdcTable } from "./cdc_table.ts";
import { applyTableBatch, type CdcDeps, failsTableAlone } from "./cdc_apply.ts";
import { preparePublication, publicationRecreated, streamFailure } from "./cdc_publication.ts";
import { recopyKey } from "./cdc_first_copy.ts";
import { CdcTables, type StreamPoint, type TableFailure } from "./cdc_tables.ts";

export type { CdcDeps } from "./cdc_apply.ts";

export interface CdcCycle {
  readonly results: TableCycleResult[];
  readonly failures: TableFailure[];
}

export class CdcSession implements SyncMethod {
  readonly #deps: CdcDeps;
  readonly #tables: CdcTables;
  #inbox: ReplicationInbox | null = null;
  /** A slot just created: its connection, which streams once the first copies read its snapshot. */
  #created: ReplicationConnection | null = null;
  readonly #state = new StreamState();
  /** The connection of the cycle in progress (re-copies after a break in the stream use it). */
  #client: pg.Client | null = null;
  #slotName = "";
  /** Tables that failed while the stream was applied (each alone). */
  #failures: TableFailure[] = [];
  /** The furthest position ever confirmed to the server (recorded first). */
  #confirmed: Lsn | null = null;
  #touched = new Set<CdcTable>();
  #counts = new Map<string, { rows: number; batches: number }>();
  /** When the retained-WAL warning was last given (at most every 5 minutes). */
  #warnedRetained = -Infinity;

  constructor(deps: CdcDeps) {
    this.#deps = deps;
    this.#tables = new CdcTables(deps);
  }

  async close(): Promise<void> {
    const inbox = this.#inbox;
    const created = this.#created;
    this.#inbox = null;
    this.#created = null;
    await inbox?.close();
    await created?.close();
  }

  /** The server went away: the stream goes too (a walsender waiting for us would hold a shutdown). */
  interrupt(): Promise<void> {
    return this.close();
  }

  /** One cycle over the selected tables. */
  async cycle(input: MethodCycle): Promise<CdcCycle> {
    const cycle = await this.#cycle(input.ctx, input.plans, input.catalog);
    for (const failure of cycle.failures) input.failed(failure);
    return cycle;
  }

  async #cycle(
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
      const described = await this.#tables.describeAll(ctx, client, catalog, plans);
      const failures = described.failures;
      // Everything checked before anything is created on the server: a table
      // whose DuckDB table is another STATE_DIR's fails here, and a missing
      // slot must have room before the publication is made.
      const claimed = await this.#tables.claimTargets(ctx, described.tables, failures);
      if (claimed.length === 0) return { results: [], failures };
      if (!(await slotState(client, names.slot))) await checkFreeSlot(client);
      const published = await preparePublication(ctx, client, names.publication, claimed);
      failures.push(...published.failures);
      for (const failure of published.failures) this.#tables.delete(failure.table);
      if (published.tables.length === 0) return { results: [], failures };
      if (published.created) {
        await publicationRecreated(ctx, client, names, published.tables, {
          closeStream: () => this.close(),
          markBroken: (table, reason) => this.#tables.markBroken(ctx, table, reason),
        });
      }
      const recorded = store.info("cdc_confirmed");
      this.#confirmed = recorded ? parseLsn(recorded) : null;
      await this.#tables.findBreaks(
        ctx,
        client,
        names.slot,
        published.tables,
        published.newlyPublished,
        this.#confirmed,
      );
      const created = await this.#prepareSlot(ctx, client, names.slot);
      const from = created?.consistentPoint ??
        (await slotState(client, names.slot))?.confirmedFlush ?? 0n;
      const copied = await this.#tables.firstCopies(
        ctx,
        client,
        names.slot,
        published.tables,
        created,
        failures,
      );
      const streamed = published.tables.map((t) => this.#tables.get(t.plan.target))
        .filter((t): t is CdcTable => t !== undefined);
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

  /** The stream, up to where the server's WAL is now; the cycle's results, table by table. */
  async #streamAll(
    ctx: TableSyncContext,
    client: pg.Client,
    names: { slot: string; publication: string },
    from: Lsn,
    streamed: readonly CdcTable[],
    copied: ReadonlyMap<string, { rows: number; ms: number }>,
  ): Promise<TableCycleResult[]> {
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
    // Columns added or dropped between cycles that the stream has not reached
    // yet: followed now, once every change made before them is applied.
    for (const { plan } of streamed) {
      const table = this.#tables.get(plan.target);
      if (table && !table.failed && table.verdict.kind === "follow") {
        await this.#tables.follow(ctx, table);
      }
    }
    this.#warnedRetained = await warnRetained(ctx, client, names.slot, this.#warnedRetained);
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

  /** The slot, created now (with its snapshot) when missing. */
  async #prepareSlot(
    ctx: TableSyncContext,
    client: pg.Client,
    slot: string,
  ): Promise<StreamPoint | null> {
    const streaming = this.#inbox !== null;
    const exists = await slotState(client, slot);
    if (!exists) await this.close();
    const made = await prepareSlot(ctx, client, slot, { streaming, secrets: this.#deps.secrets });
    if (!made) return null;
    this.#record(ctx.store, made.created.consistentPoint, true);
    this.#created = made.connection;
    this.#state.advance(made.created.consistentPoint);
    return made.created;
  }

  async #ensureStream(
    ctx: TableSyncContext,
    names: { slot: string; publication: string },
    from: Lsn,
  ): Promise<void> {
    if (this.#inbox?.started) {
      if (!this.#inbox.stream.failure) return;
      // It ended between cycles (the server restarted or timed it out): start over.
      await this.close();
    }
    const connection = this.#created ??
      await ReplicationConnection.open(ctx.config, this.#deps.secrets);
    this.#created = null;
    const inbox = new ReplicationInbox(connection);
    this.#inbox = inbox;
    this.#state.restart(from);
    this.#tables.streamRestarted();
    const store = ctx.store;
    await inbox.start(names.slot, names.publication, this.#state.applied, {
      confirm: (replyRequested) => this.#confirm(store, replyRequested),
      // With nothing received and unapplied, everything before walEnd is ours
      // already: confirmed at once, also between cycles (a server shutting
      // down waits for the position it sent last).
      idleKeepalive: (walEnd) => {
        if (this.#state.inTransaction || this.#touched.size > 0) return false;
        this.#state.idleKeepalive(walEnd);
        return true;
      },
    });
  }

  /** Applies the stream up to `target` (and whatever else has arrived). */
  async #drain(ctx: TableSyncContext, target: Lsn): Promise<void> {
    const inbox = this.#inbox!;
    let asked = 0;
    while (true) {
      await inbox.takeAll((frame) => this.#process(ctx, frame));
      if (this.#state.reached(target)) break;
      if (inbox.stream.failure) throw streamFailure(inbox.stream.failure);
      if (ctx.signal?.aborted) break;
      if (performance.now() - asked > 100) {
        asked = performance.now();
        this.#confirm(ctx.store, true);
      }
      await inbox.wait(100);
    }
    await this.#flush(ctx);
  }

  async #process(ctx: TableSyncContext, frame: ReplicationFrame): Promise<void> {
    if (frame.type === "keepalive") {
      this.#state.keepalive(frame.walEnd, this.#touched.size > 0);
      if (frame.replyRequested) this.#confirm(ctx.store);
      return;
    }
    await this.#apply(ctx, parseLogical(frame.data));
  }

  async #apply(ctx: TableSyncContext, message: LogicalMessage): Promise<void> {
    const limits: BatchLimits = {
      rows: ctx.config.cdc.batchRows,
      bytes: ctx.config.cdc.batchBytes,
    };
    switch (message.type) {
      case "begin":
        this.#state.begin(message.finalLsn);
        return;
      case "commit": {
        const end = {
          commitLsn: message.commitLsn,
          endLsn: message.endLsn,
          time: message.commitTime,
        };
        if (this.#state.commit(end, this.#touched.size > 0, limits)) await this.#flush(ctx);
        return;
      }
      case "relation":
        await this.#relation(ctx, message);
        return;
      case "insert":
      case "update":
      case "delete": {
        const table = this.#tables.forRelation(message.relationId);
        if (!table || this.#skip(table)) return;
        let bytes: number;
        try {
          bytes = table.change(message);
        } catch (error) {
          // A change that cannot be folded (a key without a value) stops its table alone.
          this.#failTable(ctx, table, error);
          return;
        }
        this.#touched.add(table);
        // Batches end at commits; only a transaction bigger than a batch is
        // applied in parts (checkpointed at its commit): memory stays bounded.
        if (this.#state.change(bytes, limits)) await this.#flush(ctx);
        return;
      }
      case "truncate":
        for (const id of message.relationIds) {
          const table = this.#tables.forRelation(id);
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
    return table.failed || this.#state.holds(table.lsn);
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
    const table = this.#tables.relationMessage(message.relationId, message.columns);
    if (!table || table.failed) return;
    const verdict = table.relate(message.columns);
    if (verdict.kind === "same" || this.#skip(table)) return;
    await this.#flush(ctx);
    if (verdict.kind === "follow") {
      await this.#tables.follow(ctx, table);
      return;
    }
    this.#tables.markBroken(ctx, table, verdict.reason);
    const failures: TableFailure[] = [];
    await this.#tables.firstCopies(ctx, this.#client!, this.#slotName, [table], null, failures);
    if (failures.length > 0) {
      table.failed = true;
      this.#failures.push(...failures);
    }
  }

  /** Applies the batch built so far, then tells Postgres how far it may let go. */
  async #flush(ctx: TableSyncContext): Promise<void> {
    const { end, since } = this.#state.batch;
    if (this.#touched.size > 0) {
      const warehouse = await acquireWarehouse(ctx);
      try {
        for (const table of this.#touched) {
          const counted = this.#counts.get(table.plan.target) ?? { rows: 0, batches: 0 };
          let rows: number;
          try {
            rows = await applyTableBatch(ctx, warehouse, table, end, since);
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
    const applied = this.#state.batchApplied();
    if (applied) {
      ctx.store.setInfo("cdc_last_commit", applied.time.toISOString());
      const lag = Math.max(0, (ctx.now().getTime() - applied.time.getTime()) / 1000);
      ctx.store.setInfo("cdc_last_lag", lag.toFixed(3));
    }
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
    if (!failsTableAlone(e.code)) throw error;
    ctx.store.setInfo(recopyKey(table.plan.target), `a change could not be applied (${e.code})`);
    table.failed = true;
    table.resetChanges();
    this.#failures.push({ table: table.plan.target, error: e });
  }

  /**
   * Tells the server everything before the applied position may go, once it
   * is recorded as this STATE_DIR's furthest confirmed: a slot whose position
   * is past it later is not the slot this STATE_DIR streamed from.
   */
  #confirm(store: TableSyncContext["store"], replyRequested = false): void {
    const applied = this.#state.applied;
    this.#record(store, applied);
    this.#inbox?.stream.confirm(applied, replyRequested);
  }

  #record(store: TableSyncContext["store"], lsn: Lsn, reset = false): void {
    if (!reset && this.#confirmed !== null && lsn <= this.#confirmed) return;
    store.setInfo("cdc_confirmed", formatLsn(lsn));
    this.#confirmed = lsn;
  }
}
