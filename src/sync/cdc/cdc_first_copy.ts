// Owns a streamed table's first copy: the whole table read in one Postgres
// snapshot that is exactly the stream's state at a known position (the one
// the replication slot exported when it was created, or for a table added
// later, re-copied after a break or cut short, one a temporary slot exported),
// so changes at or before that position are skipped and later ones applied;
// handed to the batch sink as the batch that replaces the DuckDB table.

import type pg from "pg";
import { formatLsn, type Lsn } from "../../core/lsn.ts";
import { keysetOf } from "../../core/keyset.ts";
import { copyTableToCsv, tableInfoOf } from "../../io/postgres/mod.ts";
import { BatchSink } from "../batch_sink.ts";
import { acquireWarehouse, type TableSyncContext } from "../context.ts";
import { claimTarget } from "../table_guards.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";
import type { CdcTable } from "./cdc_table.ts";

/**
 * Copies the table whole; from now on its changes come from `lsn` on.
 * `describe` (when given) reads the table's shape inside the snapshot, so the
 * copy and its columns are of one moment; it returns the table to copy.
 */
export async function cdcFirstCopy(
  ctx: TableSyncContext,
  client: pg.Client,
  table: CdcTable,
  snapshot: string | null,
  lsn: Lsn,
  describe?: (client: pg.Client) => Promise<CdcTable>,
): Promise<{ rows: number; table: CdcTable }> {
  const { config, store } = ctx;
  const target = table.plan.target;
  const state = store.state(target);
  if (state.kind !== "not_synced" && state.kind !== "incremental") {
    store.commit({ table: target, event: { type: "restarted" } });
  }
  let warehouse: Warehouse | null = null;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    let rows: number;
    let sink: BatchSink;
    let csv: string;
    const started = performance.now();
    try {
      if (snapshot) await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
      if (describe) table = await describe(client);
      ctx.emit({
        type: "cycle_started",
        table: target,
        mode: "bootstrap",
        at: ctx.now().toISOString(),
        estimatedRows: table.description.estimatedRows,
      });
      warehouse = await acquireWarehouse(ctx);
      await claimTarget(ctx, warehouse, target);
      sink = new BatchSink(ctx, warehouse, {
        target,
        from: table.description,
        columns: table.mappings,
        lastSeq: store.lastBatchSeq(target),
      });
      csv = sink.nextCsv();
      rows = (await copyTableToCsv(client, table.description, table.mappings, csv)).rows;
    } finally {
      await client.query("COMMIT").catch(() => {});
    }
    await sink.apply(
      sink.number({
        csv,
        rows,
        started,
        cursorFrom: null,
        cursorTo: `lsn ${formatLsn(lsn)}`,
        covers: { type: "caught_up" },
        rowsCopied: rows,
        lsn: formatLsn(lsn),
      }),
      { kind: "replace_table", key: table.key },
    );
    store.saveSchema(
      target,
      {
        ...(table.description.oid ? { relid: table.description.oid } : {}),
        ...(table.description.storage ? { storage: table.description.storage } : {}),
        pgTypes: Object.fromEntries(table.mappings.map((m) => [m.name, m.pgType])),
        attnums: Object.fromEntries(table.mappings.map((m) => [m.name, m.attnum ?? 0])),
        dropped: [],
        keyset: keysetOf(
          tableInfoOf(table.description, table.key[0]!, table.key, {
            wideNumeric: config.wideNumeric,
          }),
        ),
      },
      table.plan.source,
      config.pgOrigin,
    );
    store.setInfo(recopyKey(target), null);
    table.lsn = lsn;
    return { rows, table };
  } finally {
    warehouse?.close();
  }
}

/** The store key marking a table whose next cycle must copy it again (its stream broke). */
export function recopyKey(target: string): string {
  return `cdc_recopy:${target}`;
}
