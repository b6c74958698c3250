// Owns the block-scan change source, a first copy by block ranges
// (io/postgres/block_scan.ts has the Postgres side and the reasoning): deciding whether
// a first copy scans, and whether a saved scan may resume or must start over;
// loading the block ranges scan_readers.ts reads into the batch sink; keying
// the table at the end and leaving the checkpoint at the last row older than the
// scan's horizon, where the keyset catch-up starts.

import type pg from "pg";
import type { TableSyncContext } from "../context.ts";
import type { Horizon, TableInfo } from "../../io/postgres/mod.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { keysetOf, type Position, sameKeyset } from "../../core/keyset.ts";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import {
  beginScan,
  canScan,
  copyChangedSinceToCsv,
  currentFilenode,
  lastPositionBefore,
  type ScanState,
  serverVersion,
} from "../../io/postgres/block_scan.ts";
import { announceCheckpoint, type BatchSink } from "../batch_sink.ts";
import { readRanges, type ScanReaders } from "./scan_readers.ts";

export type { ScanReaders } from "./scan_readers.ts";
import { isFirstCopy, positionOf } from "../../core/table_lifecycle.ts";
import { count } from "../../core/counts.ts";
import { fenceReplay } from "../ops/replay.ts";

/** Rewrites during first copies after which a table bootstraps in keyset order instead. */
const MAX_SCAN_RESTARTS = 3;

export interface ScanStart {
  readonly state: ScanState;
  /** A scan saved by an earlier cycle or process (its next batch may be in DuckDB already). */
  readonly resumed: boolean;
}

/**
 * Decides whether this bootstrap copies by block scan, and returns the scan to
 * start or resume. A scan is resumed when the table was not rewritten and its
 * keyset is unchanged since it began; otherwise its partial copy is dropped and
 * a new scan begins. A new scan needs a bootstrap with nothing copied yet and
 * no rows in the DuckDB table (rows not put there by a scan are upserted by
 * the keyset bootstrap instead). Its state is saved before the first row is.
 */
export async function prepareScan(
  ctx: TableSyncContext,
  plan: TablePlan,
  warehouse: Warehouse,
  client: pg.Client,
  info: TableInfo,
  horizon: Horizon | null,
  batchSize: number,
): Promise<ScanStart | null> {
  const target = plan.target;
  const checkpoint = ctx.store.get(target);
  const current = ctx.store.state(target);
  if (!isFirstCopy(current) || !horizon) return null;
  const eligible = async () =>
    ctx.store.scanRestarts(target) < MAX_SCAN_RESTARTS &&
    canScan(info, await serverVersion(client));
  const saved = ctx.store.scan(target);
  if (saved) {
    const snapshot = ctx.store.schema(target);
    const keysetMoved = snapshot?.keyset !== undefined &&
      !sameKeyset(snapshot.keyset, keysetOf(info));
    const rewritten = (await currentFilenode(client, info)) !== saved.filenode;
    const scannable = await eligible();
    if (!rewritten && !keysetMoved && scannable) return { state: saved, resumed: true };
    if (rewritten) ctx.store.noteScanRestart(target);
    const why = rewritten
      ? "was rewritten (VACUUM FULL, CLUSTER or TRUNCATE)"
      : keysetMoved
      ? "changed its cursor or key"
      : "gained inheritance children";
    ctx.emit({
      type: "notice",
      message: `${info.source} ${why} during its first copy: copying it again from the start${
        ctx.store.scanRestarts(target) >= MAX_SCAN_RESTARTS ? ", in keyset order this time" : ""
      }`,
    });
    await ctx.writer.run(async () => {
      await fenceReplay(ctx.store, ctx.config.parquetDir, target);
      await warehouse.run(`DROP TABLE IF EXISTS ${quoteIdent(target)}`);
      ctx.store.commit({ table: target, event: { type: "restarted" } });
    });
  } else if (positionOf(current) !== null || (checkpoint?.rowsCopied ?? 0) > 0) {
    return null;
  }
  if (!(await eligible())) return null;
  if (await warehouse.hasRows(target)) return null;
  const state = await beginScan(client, info, horizon, batchSize);
  ctx.store.commit({
    table: target,
    source: info.source,
    origin: ctx.config.pgOrigin,
    event: { type: "scan_started", scan: state },
  });
  return { state, resumed: false };
}

/**
 * Copies the scan's remaining block ranges. Returns whether it finished (false
 * when stopped between batches) and, when it did, the position the keyset
 * catch-up starts after.
 */
export async function runScan(
  ctx: TableSyncContext,
  sink: BatchSink,
  warehouse: Warehouse,
  client: pg.Client,
  info: TableInfo,
  scan: ScanStart,
  batchSize: number,
  readers: ScanReaders = { parallelism: 1 },
): Promise<{ caughtUp: boolean; start: Position | null }> {
  const key = info.keyset.key.map((k) => k.name);
  const cursor = info.mappings.find((m) => m.name === info.keyset.cursor.name)!;
  // A resumed scan's first batch may already be in DuckDB: all its keys are
  // replaced. Later batches replace the keys of their recently changed rows
  // (a row updated while the scan ran can be met twice), unless the whole
  // scan is read as of one snapshot: then no row is, and nothing is replaced.
  let replaceAllKeys = scan.resumed;
  const read = await readRanges(ctx, sink, client, info, scan.state, batchSize, readers, {
    apply: async (batch, oneSnapshot) => {
      const recent = !scan.resumed && oneSnapshot
        ? "false"
        : `${quoteIdent(cursor.name)} >= CAST(${
          quoteLiteral(batch.scan.recentFrom)
        } AS ${cursor.duckType})`;
      await sink.apply(batch, { kind: "replace_keys", key, where: replaceAllKeys ? null : recent });
      replaceAllKeys = false;
    },
  });
  const caughtUp = read.done;
  if (!caughtUp) return { caughtUp, start: null };
  // Every row older than the horizon is copied; the key goes in place for the
  // upserts, then the rows written since the scan began are copied again
  // (some may have moved behind it), and the keyset catch-up starts after the
  // last row older than the horizon.
  // Read whole as of one snapshot (not resumed from another run), no row
  // version was read twice: no key can be held twice.
  await ensurePrimaryKey(ctx, warehouse, sink.target, info, scan.resumed || !read.oneSnapshot);
  await copyChangedSinceScan(sink, client, info, scan.state);
  const start = await lastPositionBefore(client, info, scan.state.horizon);
  const saved = ctx.store.commit({
    table: sink.target,
    source: info.source,
    origin: ctx.config.pgOrigin,
    event: { type: "scan_finished", position: start },
  });
  announceCheckpoint(ctx, sink.target, saved);
  return { caughtUp, start };
}

/**
 * Makes a table loaded by replace_keys (a first copy by block ranges) keyed,
 * unless it is already. A key met twice (a row an UPDATE moved during the
 * scan) keeps its newest copy, with a notice.
 */
export async function ensurePrimaryKey(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  target: string,
  info: TableInfo,
  duplicatesPossible = true,
): Promise<void> {
  if ((await warehouse.primaryKey(target)).length > 0) return;
  const removed = await ctx.writer.run(() =>
    warehouse.keyTable(
      target,
      info.keyset.key.map((k) => k.name),
      info.keyset.cursor.name,
      duplicatesPossible,
    )
  );
  if (removed > 0) {
    ctx.emit({
      type: "notice",
      message: `${target}: ${
        count(removed, "row")
      } met twice during the first copy (moved by updates while it ran) were merged when the copy was keyed; the rows written during the copy are read again next`,
    });
  }
}

/** The pass over row versions written since the scan began, as one batch. */
async function copyChangedSinceScan(
  sink: BatchSink,
  client: pg.Client,
  info: TableInfo,
  state: ScanState,
): Promise<void> {
  const started = performance.now();
  const csv = sink.nextCsv();
  const copied = await copyChangedSinceToCsv(client, info, state.xmin, csv);
  if (copied.rows === 0) {
    await Deno.remove(csv).catch(() => {});
    return;
  }
  // Past the last block: a stop after this batch does not read the table again.
  const done: ScanState = { ...state, nextBlock: state.blocks };
  await sink.apply(
    sink.number({
      csv,
      rows: copied.rows,
      started,
      cursorFrom: `block ${state.blocks} of ${state.blocks}`,
      cursorTo: "rows written during the scan",
      covers: { type: "batch_committed", position: null, scan: done },
    }),
    { kind: "upsert" },
  );
}
