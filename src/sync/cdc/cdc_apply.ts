// Owns what SYNC_METHOD=cdc does to one table between stream messages: a
// batch of its net changes applied through the batch sink (the CSV, the
// change load, the position it reaches), and following a schema change the
// stream announced (the table described again, drift applied to DuckDB).

import { formatLsn, type Lsn } from "../../core/lsn.ts";
import { mapColumn } from "../../core/type_map.ts";
import { describeTable, tableInfoOf } from "../../io/postgres/mod.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";
import { acquireWarehouse, type TableSyncContext } from "../context.ts";
import { BatchSink } from "../batch_sink.ts";
import { applySchema } from "../schema_sync.ts";
import type { CdcTable } from "./cdc_table.ts";
import type { NetChange } from "../../core/change_set.ts";
import type { Connections } from "../sync_method.ts";

/** Failures of one table's batch that leave the other tables streaming. */
const TABLE_ALONE = new Set<string>([
  "VALUE_UNSUPPORTED",
  "DUCKDB_ERROR",
  "KEY_NOT_UNIQUE",
  "INTERNAL",
]);

export function failsTableAlone(code: string): boolean {
  return TABLE_ALONE.has(code);
}

/** The engine's connections (sync_method.ts). */
export type CdcDeps = Connections;

/**
 * Applies a table's batch of net changes through the batch sink; the table's
 * position moves to `end` (the batch's last whole commit) when it is newer.
 * A batch DuckDB has no memory for (a few rows of large values kept from the
 * table, say) is applied in halves, each its own transaction, down to single
 * rows before the error stands; the position moves with the last part only,
 * so a crash in between re-applies the whole batch, which changes nothing.
 * Returns the rows (keys) written or deleted.
 */
export async function applyTableBatch(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  table: CdcTable,
  end: { commitLsn: Lsn } | null,
  committedSince: Date | null,
): Promise<number> {
  const changes = table.changes;
  const all = [...changes.changes()];
  const lsn = end && (table.lsn === null || end.commitLsn > table.lsn) ? end.commitLsn : null;
  const parts: NetChange[][] = [all];
  let first = true;
  while (parts.length > 0) {
    const part = parts.shift()!;
    const last = parts.length === 0;
    try {
      await applyPart(ctx, warehouse, table, part, {
        truncate: first && changes.truncated,
        lsn: last ? lsn : null,
        committedSince,
      });
      first = false;
    } catch (error) {
      if (part.length <= 1 || !isOutOfMemory(error)) throw error;
      const half = Math.ceil(part.length / 2);
      parts.unshift(part.slice(0, half), part.slice(half));
      ctx.emit({
        type: "notice",
        message: `${table.plan.source}: DuckDB had no memory for a batch of ${
          part.length.toLocaleString("en-US")
        } changes (DUCKDB_MEMORY_LIMIT), applying it in two parts`,
      });
    }
  }
  if (lsn !== null) table.lsn = lsn;
  table.resetChanges();
  return all.length;
}

function isOutOfMemory(error: unknown): boolean {
  return /Out of Memory Error/i.test(error instanceof Error ? error.message : String(error));
}

async function applyPart(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  table: CdcTable,
  part: readonly NetChange[],
  options: { truncate: boolean; lsn: Lsn | null; committedSince: Date | null },
): Promise<void> {
  const target = table.plan.target;
  const changes = table.changes;
  const { csv, kept } = table.batchCsv(part);
  const sink = new BatchSink(ctx, warehouse, {
    target,
    from: table.description,
    columns: table.sinkColumns(),
    lastSeq: ctx.store.lastBatchSeq(target),
  });
  const path = sink.nextCsv();
  await Deno.writeTextFile(path, csv);
  const { lsn, committedSince } = options;
  const soft = ctx.config.reconcileDeletesMode === "mark" &&
      table.mappings.some((m) => m.name === table.plan.softDeleteColumn)
    ? table.plan.softDeleteColumn
    : null;
  const whole = part.length === changes.size;
  await sink.apply(
    sink.number({
      csv: path,
      rows: part.length,
      started: performance.now(),
      cursorFrom: table.lsn === null ? null : `lsn ${formatLsn(table.lsn)}`,
      cursorTo: `lsn ${formatLsn(lsn ?? table.lsn ?? 0n)}`,
      covers: { type: "batch_committed", position: null },
      ...(lsn === null ? {} : { lsn: formatLsn(lsn) }),
      ...(whole
        ? {
          changes: { inserts: changes.inserts, updates: changes.updates, deletes: changes.deletes },
        }
        : {}),
      ...(committedSince ? { committedSince } : {}),
    }),
    {
      kind: "changes",
      changes: {
        columns: table.mappings.map((m) => m.name),
        key: table.key,
        truncate: options.truncate,
        kept,
        markColumn: soft,
      },
    },
  );
}

/** A schema change in the stream: DuckDB follows the table as it is now. */
export async function followSchema(
  ctx: TableSyncContext,
  deps: Pick<CdcDeps, "acquire" | "release">,
  table: CdcTable,
): Promise<void> {
  const client = await deps.acquire();
  let broken = false;
  try {
    const description = await describeTable(client, table.plan, ctx.config.pg.database);
    const mappings = description.columns.map((c) =>
      mapColumn(c, { wideNumeric: ctx.config.wideNumeric })
    );
    const info = tableInfoOf(description, table.key[0]!, table.key, {
      wideNumeric: ctx.config.wideNumeric,
    });
    const warehouse = await acquireWarehouse(ctx);
    try {
      const checkpoint = ctx.store.get(table.plan.target);
      await applySchema(
        ctx,
        table.plan,
        warehouse,
        client,
        info,
        checkpoint?.rowsCopied ?? 0,
        ctx.store.schema(table.plan.target),
      );
    } finally {
      warehouse.close();
    }
    table.remap(description, mappings);
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    deps.release(client, broken);
  }
}
