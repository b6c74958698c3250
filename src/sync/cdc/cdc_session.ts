// Owns SYNC_METHOD=cdc's cycle: the replication slot and publication made
// ready (created when missing, checked when a DBA made them), every table's
// first copy, then the stream read from the slot's confirmed position up to
// the server's WAL position at the cycle's start, folded into batches of net
// changes per table (bounded by CDC_BATCH_ROWS) that the batch sink applies.
// Postgres is told a position only once DuckDB and the checkpoint hold every
// change before it. Under `sync --loop` the replication connection stays open
// between cycles (keepalives answered on a timer, even while DuckDB loads).

import type pg from "pg";
import { type Lsn, maxLsn, parseLsn } from "../../core/lsn.ts";
import { type LogicalMessage, parseLogical, type ReplicationFrame } from "../../core/pgoutput.ts";
import { cdcKey, cdcNames } from "../../core/cdc_plan.ts";
import type { SyncError } from "../../core/errors.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { mapColumn } from "../../core/type_map.ts";
import { shapeOf } from "../../io/postgres.ts";
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
import { cdcFirstCopy } from "./cdc_first_copy.ts";

export type { CdcDeps } from "./cdc_apply.ts";

/** Keepalive answers go out at least this often, whatever DuckDB is doing. */
const STATUS_EVERY_MS = 5_000;
/** Frames held before the socket is paused until they are applied. */
const INBOX_LIMIT = 5_000;

export interface CdcCycle {
  readonly results: TableCycleResult[];
  readonly failures: { table: string; error: SyncError }[];
}

export class CdcSession {
  readonly #deps: CdcDeps;
  #stream: ReplicationConnection | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #inbox: ReplicationFrame[] = [];
  #wake: (() => void) | null = null;
  #tables = new Map<string, CdcTable>();
  #relations = new Map<number, CdcTable | null>();
  /** Everything before it is in DuckDB and the checkpoint. */
  #applied: Lsn = 0n;
  /** The furthest position the server said it has sent. */
  #seen: Lsn = 0n;
  #openTx: { finalLsn: Lsn } | null = null;
  /** The last whole transaction in the batch being built. */
  #batchEnd: { commitLsn: Lsn; endLsn: Lsn; time: Date } | null = null;
  #batchRows = 0;
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
    const failures: { table: string; error: SyncError }[] = [];
    const client = await this.#deps.acquire();
    let broken = false;
    try {
      await checkCdcReady(client, config.pg.user);
      // The tables, each with the key its changes are applied by.
      const tables: CdcTable[] = [];
      for (const plan of plans) {
        try {
          tables.push(await this.#table(ctx, client, catalog, plan));
        } catch (error) {
          const e = this.#deps.classify(error, plan.source);
          if (e.code === "REPLICA_IDENTITY_MISSING" && !plan.explicit) {
            // Matched by a wildcard: skipped with the fix, as the cursor method skips it.
            this.#noticeOnce(ctx, plan.source, `skipped ${e.message}`);
            continue;
          }
          failures.push({ table: plan.target, error: e });
        }
      }
      if (tables.length === 0) return { results: [], failures };
      await preparePublication(ctx, client, names.publication, tables);
      const created = await this.#prepareSlot(ctx, client, names.slot);
      // First copies: in the slot's snapshot when it was just made.
      const state = await slotState(client, names.slot);
      const from = created?.consistentPoint ?? state?.confirmedFlush ?? 0n;
      const copied = new Map<string, { rows: number; ms: number }>();
      for (const table of tables) {
        if (table.lsn !== null && store.state(table.plan.target).kind === "incremental") continue;
        try {
          const copyStarted = performance.now();
          const rows = await cdcFirstCopy(ctx, client, table, created?.snapshot ?? null, from);
          copied.set(table.plan.target, { rows, ms: performance.now() - copyStarted });
        } catch (error) {
          failures.push({
            table: table.plan.target,
            error: this.#deps.classify(error, table.plan.source),
          });
          this.#tables.delete(table.plan.target);
        }
      }
      const streamed = tables.filter((t) => this.#tables.has(t.plan.target));
      // A schema change made while nothing streamed: DuckDB follows it first.
      for (const table of streamed) {
        if (
          copied.has(table.plan.target) ||
          !table.schemaChangedSince(store.schema(table.plan.target))
        ) continue;
        await followSchema(ctx, this.#deps, table);
      }
      // The stream, up to where the server's WAL is now.
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
        results.push({ rows, batches, idle, mode: "incremental" });
      }
      return { results, failures };
    } catch (error) {
      broken = true;
      await this.close();
      throw error;
    } finally {
      this.#deps.release(client, broken);
    }
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
    const identity = await replicaIdentity(client, plan);
    const key = cdcKey(plan, shapeOf(description), identity);
    const known = this.#tables.get(plan.target);
    if (known) return known;
    const mappings = description.columns.map((c) =>
      mapColumn(c, { wideNumeric: ctx.config.wideNumeric })
    );
    const lsn = ctx.store.lsn(plan.target);
    const table = new CdcTable(plan, description, mappings, key, lsn ? parseLsn(lsn) : null);
    this.#tables.set(plan.target, table);
    return table;
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
    this.#openTx = null;
    this.#relations.clear();
    await stream.start(names.slot, names.publication, this.#applied, (frame) => {
      // Answered as it arrives, not when its turn comes: between cycles and
      // while DuckDB loads, frames wait, and the server would time us out.
      if (frame.type === "keepalive" && frame.replyRequested) stream.confirm(this.#applied);
      this.#inbox.push(frame);
      if (this.#inbox.length >= INBOX_LIMIT) stream.pause();
      this.#wake?.();
    });
    const timer = setInterval(() => stream.confirm(this.#applied), STATUS_EVERY_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }

  /** Applies the stream up to `target` (and whatever else has arrived). */
  async #drain(ctx: TableSyncContext, target: Lsn): Promise<void> {
    const stream = this.#stream!;
    let asked = 0;
    while (true) {
      while (this.#inbox.length > 0) {
        // Take what has arrived in one go (shift() one by one is quadratic).
        const frames = this.#inbox;
        this.#inbox = [];
        for (const frame of frames) await this.#process(ctx, frame);
        if (this.#inbox.length === 0) stream.resume();
      }
      if (this.#openTx === null && this.#seen >= target) break;
      if (stream.failure) throw stream.failure;
      if (ctx.signal?.aborted) break;
      if (performance.now() - asked > 100) {
        asked = performance.now();
        stream.confirm(this.#applied, true);
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
      if (frame.replyRequested) this.#stream?.confirm(this.#applied);
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
        if (this.#batchRows >= ctx.config.cdc.batchRows) await this.#flush(ctx);
        return;
      case "relation": {
        const table =
          [...this.#tables.values()].find((t) =>
            t.plan.schema === message.schema && t.plan.table === message.table
          ) ?? null;
        this.#relations.set(message.relationId, table);
        if (table && !table.relate(message.columns)) {
          await this.#flush(ctx);
          await followSchema(ctx, this.#deps, table);
          table.relate(message.columns);
        }
        return;
      }
      case "insert":
      case "update":
      case "delete": {
        const table = this.#relations.get(message.relationId);
        if (!table || this.#skip(table)) return;
        if (message.type === "insert") table.insert(message.row);
        else if (message.type === "update") table.update(message.old, message.row);
        else table.delete(message.old);
        this.#touched.add(table);
        this.#batchRows += 1;
        this.#txRows += 1;
        // Batches end at commits; only a transaction bigger than a batch is
        // applied in parts (checkpointed at its commit): memory stays bounded.
        if (this.#txRows >= ctx.config.cdc.batchRows) {
          await this.#flush(ctx);
          this.#txRows = 0;
        }
        return;
      }
      case "truncate":
        for (const id of message.relationIds) {
          const table = this.#relations.get(id);
          if (!table || this.#skip(table)) continue;
          table.changes.truncate();
          this.#touched.add(table);
        }
        return;
      case "other":
        return;
    }
  }

  /** A change of a transaction the table already holds (re-sent after a restart). */
  #skip(table: CdcTable): boolean {
    return table.lsn !== null && this.#openTx !== null && this.#openTx.finalLsn <= table.lsn;
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
          const rows = await applyTableBatch(ctx, warehouse, table, end, this.#batchSince);
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
    if (end) {
      this.#applied = maxLsn(this.#applied, end.endLsn);
      ctx.store.setInfo("cdc_last_commit", end.time.toISOString());
      const lag = Math.max(0, (ctx.now().getTime() - end.time.getTime()) / 1000);
      ctx.store.setInfo("cdc_last_lag", lag.toFixed(3));
    }
    this.#batchEnd = null;
    this.#batchSince = null;
    this.#stream?.confirm(this.#applied);
  }
}
