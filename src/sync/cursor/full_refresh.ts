// Owns the full-refresh change source, for a table that has no cursor column
// (or is configured so): the whole table is copied in one Postgres snapshot and
// handed to the batch sink as one batch that replaces the DuckDB table
// atomically (through a staging table), every `refreshEvery` cycles. The
// schema is whatever the source has now; the changes still go to the drift log.

import type pg from "pg";
import { copyTableToCsv, type TableDescription } from "../../io/postgres/mod.ts";
import { type ColumnMapping, mapColumn } from "../../core/type_map.ts";
import { diffForRefresh, type TargetColumn } from "../../core/drift.ts";
import type { DriftRecord } from "../../core/events.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import { BatchSink } from "../batch_sink.ts";
import { acquireWarehouse, type TableCycleResult, type TableSyncContext } from "../context.ts";
import { checkOrigin, claimTarget } from "../table_guards.ts";

/** Copies the table whole and replaces the DuckDB table with it. */
export async function syncFullRefresh(
  ctx: TableSyncContext,
  client: pg.Client,
  plan: TablePlan,
  description: TableDescription,
  key: readonly string[],
): Promise<TableCycleResult> {
  const { config } = ctx;
  const target = plan.target;
  const started = performance.now();
  checkOrigin(ctx, target, plan.source);
  const startedAt = ctx.now().toISOString();
  ctx.emit({
    type: "cycle_started",
    table: target,
    mode: "full_refresh",
    at: startedAt,
    estimatedRows: description.estimatedRows,
  });
  const mappings = description.columns.map((c) =>
    mapColumn(c, { wideNumeric: config.wideNumeric })
  );
  const warehouse = await acquireWarehouse(ctx);
  let rows = 0;
  try {
    await claimTarget(ctx, warehouse, target);
    const sink = new BatchSink(ctx, warehouse, {
      target,
      from: description,
      columns: mappings,
      lastSeq: ctx.store.lastBatchSeq(target),
      // Each file is the whole table: older ones are superseded.
      keepFiles: 1,
    });
    const csv = sink.nextCsv();
    const batchStarted = performance.now();
    rows = (await copyTableToCsv(client, description, mappings, csv)).rows;
    await sink.apply(
      sink.number({
        csv,
        rows,
        started: batchStarted,
        cursorFrom: null,
        cursorTo: "full-refresh",
        covers: { type: "refreshed" },
        rowsCopied: rows,
      }),
      {
        kind: "replace_table",
        key,
        // The schema is whatever the source has now; the changes still go to the drift log.
        replaced: (before) => recordRefreshDrift(ctx, target, mappings, before),
      },
    );
  } finally {
    warehouse.close();
  }
  const durationMs = performance.now() - started;
  ctx.emit({
    type: "cycle_finished",
    table: target,
    mode: "full_refresh",
    rows,
    batches: 1,
    durationMs,
    idle: false,
    inSyncAsOf: startedAt,
  });
  return { rows, batches: 1, idle: false, mode: "full_refresh" };
}

function recordRefreshDrift(
  ctx: TableSyncContext,
  table: string,
  mappings: readonly ColumnMapping[],
  before: readonly TargetColumn[] | null,
): void {
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
}
