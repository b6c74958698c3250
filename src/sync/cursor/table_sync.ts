// Owns one cycle of one table that has a cursor and a key, in the order that
// keeps DuckDB exact: the guards (table_guards.ts), schema drift
// (schema_sync.ts), a first copy by block ranges when it can (scan_phase.ts),
// then keyset batches up to the table's last row (keyset_batches.ts), every
// batch through the one batch sink (batch_sink.ts), and the lifecycle's
// transitions as the copy gets there (core/table_lifecycle.ts). Never reads the
// environment or prints: progress leaves as events.

import type pg from "pg";
import { schemaChanged } from "../../core/table_identity.ts";
import { count } from "../../core/counts.ts";
import type { SyncMode } from "../../core/events.ts";
import { quoteIdent } from "../../core/sql.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { isFirstCopy, modeOf, positionOf } from "../../core/table_lifecycle.ts";
import { maxBatchSeq } from "../../io/state/batch_files.ts";
import {
  countNullCursor,
  hasRowsAfter,
  type Horizon,
  type TableInfo,
} from "../../io/postgres/mod.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";
import { announceCheckpoint, BatchSink } from "../batch_sink.ts";
import { acquireWarehouse, type TableCycleResult, type TableSyncContext } from "../context.ts";
import { copyKeysetBatches } from "./keyset_batches.ts";
import { fenceReplay } from "../ops/replay.ts";
import { ensurePrimaryKey, prepareScan, runScan } from "./scan_phase.ts";
import { applySchema, copyAttachedPartitions } from "../schema_sync.ts";
import {
  checkConfiguredKey,
  checkKeyset,
  checkOrigin,
  claimTarget,
  targetExists,
  targetMissing,
} from "../table_guards.ts";

/**
 * One incremental (or first-copy) cycle of one table. `cycleHorizon` was read
 * before any data query of this cycle; `firstCycle` asks for one-time notices.
 */
export async function syncIncremental(
  ctx: TableSyncContext,
  client: pg.Client,
  plan: TablePlan,
  info: TableInfo,
  cycleHorizon: Horizon | null,
  firstCycle: boolean,
): Promise<TableCycleResult> {
  const config = ctx.config;
  const started = performance.now();
  const target = plan.target;
  checkOrigin(ctx, target, plan.source);
  if (ctx.store.state(target).kind === "full_refresh") await restartAfterRefreshes(ctx, target);
  const checkpoint = ctx.store.get(target);
  const state = ctx.store.state(target);
  const horizon = info.cursorIsTime ? cycleHorizon : null;
  const mode: SyncMode = modeOf(state);
  const startedAt = ctx.now().toISOString();
  ctx.emit({
    type: "cycle_started",
    table: target,
    mode,
    at: startedAt,
    estimatedRows: info.estimatedRows,
  });
  if (isFirstCopy(state) && firstCycle) await noticeNullCursors(ctx, client, info);

  const position = positionOf(state);
  const snapshot = ctx.store.schema(target);
  checkKeyset(plan, info, position, snapshot);
  const partitions = info.partitions?.map((p) => `${p.schema}.${p.table}`);
  const partitionsChanged = partitions !== undefined &&
    (snapshot?.partitions === undefined ||
      partitions.join("\n") !== snapshot.partitions.join("\n"));
  const changed = !snapshot || !snapshot.keyset || partitionsChanged ||
    schemaChanged(snapshot, info.mappings);
  const batchSize = isFirstCopy(state) ? config.bootstrapBatchSize : config.batchSize;
  const pending = await hasRowsAfter(client, info, position);
  if (
    !pending && !changed && state.kind === "incremental" && await targetExists(ctx, target)
  ) {
    const durationMs = performance.now() - started;
    ctx.emit({
      type: "cycle_finished",
      table: target,
      mode,
      rows: 0,
      batches: 0,
      durationMs,
      idle: true,
      inSyncAsOf: startedAt,
    });
    return { rows: 0, batches: 0, idle: true, mode };
  }

  if (checkpoint && checkpoint.rowsCopied > 0) {
    try {
      await Deno.stat(config.duckdbPath);
    } catch {
      throw targetMissing(config, target);
    }
  }
  const warehouse = await acquireWarehouse(ctx);
  let done: TableCycleResult;
  try {
    done = await copyChanges(ctx, warehouse, {
      client,
      plan,
      info,
      horizon,
      batchSize,
      position,
      partitionsChanged: partitions !== undefined && partitionsChanged,
    });
  } finally {
    warehouse.close();
  }
  const durationMs = performance.now() - started;
  ctx.emit({
    type: "cycle_finished",
    table: target,
    mode: done.mode,
    rows: done.rows,
    batches: done.batches,
    durationMs,
    idle: false,
    inSyncAsOf: done.mode === "bootstrap" ? null : startedAt,
  });
  return done;
}

interface CycleWork {
  readonly client: pg.Client;
  readonly plan: TablePlan;
  readonly info: TableInfo;
  readonly horizon: Horizon | null;
  readonly batchSize: number;
  readonly position: ReturnType<typeof positionOf>;
  readonly partitionsChanged: boolean;
}

/** The part of a cycle that holds the DuckDB file: schema, then batches, then the lifecycle. */
async function copyChanges(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  work: CycleWork,
): Promise<TableCycleResult> {
  const { client, plan, info, horizon, batchSize } = work;
  const target = plan.target;
  await claimTarget(ctx, warehouse, target);
  // A first copy reads the heap in block order when it can (scan_phase.ts)
  // into a table without its primary key, which is added at the end.
  const scanStart = await prepareScan(ctx, plan, warehouse, client, info, horizon, batchSize);
  // After prepareScan: a scan that started over (a changed key) has copied nothing.
  await checkConfiguredKey(client, plan, info, ctx.store.get(target));
  await ctx.writer.run(() =>
    applySchema(
      ctx,
      plan,
      warehouse,
      client,
      info,
      ctx.store.get(target)?.rowsCopied ?? 0,
      ctx.store.schema(target),
      scanStart === null,
    )
  );
  ctx.targetsSeen.add(target);
  const sink = new BatchSink(ctx, warehouse, {
    target,
    from: info,
    columns: info.mappings,
    // Never reuse a number still on disk: pruning keeps the highest ones.
    lastSeq: Math.max(
      ctx.store.lastBatchSeq(target),
      await maxBatchSeq(ctx.config.parquetDir, target),
    ),
  });
  if (work.partitionsChanged) {
    await copyAttachedPartitions(ctx, sink, client, info, work.position, ctx.store.schema(target));
  }

  let after = work.position;
  let caughtUp = true;
  if (scanStart) {
    // Then the keyset catch-up below copies what changed while it ran.
    const scanned = await runScan(ctx, sink, warehouse, client, info, scanStart, batchSize, {
      parallelism: ctx.config.bootstrapParallelism,
      ...(ctx.connectPg ? { connect: ctx.connectPg } : {}),
    });
    caughtUp = scanned.caughtUp;
    after = scanned.start;
  } else if (ctx.store.state(target).kind === "not_synced") {
    ctx.store.commit({
      table: target,
      source: info.source,
      origin: ctx.config.pgOrigin,
      event: { type: "keyset_copy_started" },
    });
  }
  if (caughtUp) {
    const keyed = (await warehouse.primaryKey(target)).length > 0;
    caughtUp = await copyKeysetBatches(sink, {
      client,
      info,
      after,
      horizon,
      batchSize,
      load: keyed
        ? { kind: "upsert" }
        : { kind: "replace_keys", key: info.keyset.key.map((k) => k.name), where: null },
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  }
  if (caughtUp && isFirstCopy(ctx.store.state(target))) {
    await finishFirstCopy(ctx, warehouse, info, target);
  }
  return { rows: sink.rows, batches: sink.batches, idle: false, mode: sink.mode };
}

/** Caught up with the table: every later cycle is incremental, keyed. */
async function finishFirstCopy(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  info: TableInfo,
  table: string,
): Promise<void> {
  await ensurePrimaryKey(ctx, warehouse, table, info);
  // Rows copied are the rows the copy holds: the scan's re-read of rows
  // written while it ran, and the catch-up's overlap, would count some twice.
  const rowsInCopy = await warehouse.countRows(table);
  const saved = ctx.store.commit({
    table,
    source: info.source,
    origin: ctx.config.pgOrigin,
    event: { type: "caught_up" },
    rowsCopied: rowsInCopy,
  });
  announceCheckpoint(ctx, table, saved);
  ctx.emit({
    type: "notice",
    message: `Bootstrap of ${info.source} complete: ${
      count(rowsInCopy, "row")
    } copied; incremental from now on`,
  });
}

/**
 * A table copied whole until now (no cursor, or no key) that has both now
 * starts over with a first copy, so that rows deleted since the last refresh
 * do not linger and the table gets its primary key.
 */
async function restartAfterRefreshes(ctx: TableSyncContext, table: string): Promise<void> {
  await ctx.writer.run(async () => {
    await fenceReplay(ctx.store, ctx.config.parquetDir, table);
    const warehouse = await ctx.warehouseFile.acquire({
      lockWaitSeconds: ctx.config.lockWaitSeconds,
      signal: ctx.signal,
    });
    try {
      await warehouse.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
    } finally {
      warehouse.close();
    }
    ctx.store.commit({ table, event: { type: "restarted" } });
  });
  ctx.emit({
    type: "notice",
    message:
      `${table} now syncs incrementally (it has a cursor column and a key): copying it again from the start`,
  });
}

/** Rows with a NULL cursor are never copied: said once, at the first copy. */
async function noticeNullCursors(
  ctx: TableSyncContext,
  client: pg.Client,
  info: TableInfo,
): Promise<void> {
  const nulls = await countNullCursor(client, info);
  if (nulls === 0) return;
  const cursor = info.keyset.cursor.name;
  ctx.emit({
    type: "notice",
    message: `${count(nulls, "row")} of ${info.source} ${
      nulls === 1 ? "has" : "have"
    } a NULL ${cursor} and are not synced (give them a value, e.g. UPDATE ... SET ${cursor} = now() WHERE ${cursor} IS NULL)`,
  });
}
