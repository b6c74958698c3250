// Owns the full refresh of one table that has no cursor column (or is configured
// so): the whole table is copied in one Postgres snapshot (COPY -> CSV ->
// Parquet) and swapped in atomically through a staging table, every
// `refreshEvery` cycles. The schema is whatever the source has now; the changes
// are still written to the drift log.

import { join } from "node:path";
import type pg from "pg";
import { copyTableToCsv, type TableDescription } from "../io/postgres.ts";
import { mapColumn } from "../core/type_map.ts";
import { diffForRefresh } from "../core/drift.ts";
import type { DriftRecord } from "../core/events.ts";
import { batchFileName, fileSafe, partialPath, pruneBatchFiles } from "../io/batch_files.ts";
import { announceCheckpoint } from "./batch_runner.ts";
import {
  checkOrigin,
  claimTarget,
  type TableCycleResult,
  type TableSyncContext,
} from "./table_sync.ts";
import type { TablePlan } from "../core/table_plan.ts";
import { fenceReplay } from "./replay.ts";

/** Copies the table whole and replaces the DuckDB table with it. */
export async function syncFullRefresh(
  ctx: TableSyncContext,
  client: pg.Client,
  plan: TablePlan,
  description: TableDescription,
  key: readonly string[],
): Promise<TableCycleResult> {
  const { config } = ctx;
  const table = plan.target;
  const started = performance.now();
  checkOrigin(ctx, table);
  ctx.emit({
    type: "cycle_started",
    table,
    mode: "full_refresh",
    at: ctx.now().toISOString(),
    estimatedRows: description.estimatedRows,
  });
  const mappings = description.columns.map((c) =>
    mapColumn(c, { wideNumeric: config.wideNumeric })
  );
  const seq = ctx.store.lastBatchSeq(table) + 1;
  const name = batchFileName(table, seq, null, "full-refresh");
  const csv = partialPath(config.parquetDir, `${fileSafe(table)}__refresh.csv`);
  const parquetTmp = partialPath(config.parquetDir, name);
  const parquet = join(config.parquetDir, name);
  ctx.emit({ type: "batch_started", table, seq, cursorFrom: null });
  let rows = 0;
  let bytes = 0;
  try {
    rows = (await copyTableToCsv(client, description, mappings, csv)).rows;
    const warehouse = await ctx.warehouseFile.acquire({
      lockWaitSeconds: config.lockWaitSeconds,
      signal: ctx.signal,
      onWait: (message) => ctx.emit({ type: "notice", message }),
    });
    try {
      await claimTarget(ctx, warehouse, table);
      await ctx.writer.run(async () => {
        const converter = await ctx.converter();
        bytes = await converter.csvToParquet(csv, parquetTmp, mappings, plan);
        await Deno.rename(parquetTmp, parquet);
        const before = await warehouse.columns(table);
        await fenceReplay(ctx.store, config.parquetDir, table);
        await warehouse.replaceFromParquet(table, parquet, mappings, key);
        const at = ctx.now().toISOString();
        const records: DriftRecord[] = before
          ? diffForRefresh(mappings, before).map((c) => ({
            at,
            table,
            kind: c.kind,
            column: c.column,
            detail: c.detail,
            ddl: null,
          }))
          : [];
        const snapshot = {
          pgTypes: Object.fromEntries(mappings.map((m) => [m.name, m.pgType])),
          attnums: Object.fromEntries(mappings.map((m) => [m.name, m.attnum ?? 0])),
          dropped: [],
        };
        ctx.store.recordDrift(records, snapshot, table);
        for (const drift of records) ctx.emit({ type: "drift_applied", drift });
      });
    } finally {
      warehouse.close();
    }
  } finally {
    await Deno.remove(csv).catch(() => {});
    await Deno.remove(parquetTmp).catch(() => {});
  }
  const durationMs = performance.now() - started;
  const finishedAt = ctx.now().toISOString();
  const saved = ctx.store.advance({
    table,
    source: plan.source,
    origin: config.pgOrigin,
    mode: "full_refresh",
    cursor: null,
    key: null,
    batch: {
      table,
      seq,
      finishedAt,
      rows,
      bytes,
      durationMs,
      cursorFrom: null,
      cursorTo: "full-refresh",
      file: name,
    },
    rowsCopied: rows,
  });
  ctx.emit({
    type: "batch_finished",
    table,
    seq,
    mode: "full_refresh",
    rows,
    bytes,
    durationMs,
    cursorFrom: null,
    cursorTo: "full refresh",
    file: name,
  });
  announceCheckpoint(ctx, table, "full_refresh", saved);
  // Each file is the whole table: older ones are superseded, keep only the latest.
  await pruneBatchFiles(config.parquetDir, table, Math.min(config.parquetKeepBatches, 1));
  ctx.emit({
    type: "cycle_finished",
    table,
    mode: "full_refresh",
    rows,
    batches: 1,
    durationMs,
    idle: false,
  });
  return { rows, batches: 1, idle: false, mode: "full_refresh" };
}
