// Owns a streamed table's first copy: the whole table read in one Postgres
// snapshot (the one the replication slot exported when it was created, so the
// stream starts exactly where the copy ends; or, for a table added later or a
// copy cut short, a snapshot taken after the slot's confirmed position, whose
// overlap with the stream the key-by-key replay makes good), handed to the
// batch sink as the batch that replaces the DuckDB table.

import type pg from "pg";
import { formatLsn, type Lsn } from "../../core/lsn.ts";
import { keysetOf } from "../../core/keyset.ts";
import { copyTableToCsv, tableInfoOf } from "../../io/postgres.ts";
import { BatchSink } from "../batch_sink.ts";
import type { TableSyncContext } from "../context.ts";
import { claimTarget } from "../table_guards.ts";
import type { CdcTable } from "./cdc_table.ts";

/** Copies the table whole; from now on its changes come from `lsn` on. */
export async function cdcFirstCopy(
  ctx: TableSyncContext,
  client: pg.Client,
  table: CdcTable,
  snapshot: string | null,
  lsn: Lsn,
): Promise<number> {
  const { config, store } = ctx;
  const target = table.plan.target;
  const state = store.state(target);
  if (state.kind !== "not_synced" && state.kind !== "incremental") {
    store.commit({ table: target, event: { type: "restarted" } });
  }
  ctx.emit({
    type: "cycle_started",
    table: target,
    mode: "bootstrap",
    at: ctx.now().toISOString(),
    estimatedRows: table.description.estimatedRows,
  });
  const warehouse = await ctx.warehouseFile.acquire({
    lockWaitSeconds: config.lockWaitSeconds,
    signal: ctx.signal,
    onWait: (message) => ctx.emit({ type: "notice", message }),
  });
  try {
    await claimTarget(ctx, warehouse, target);
    const sink = new BatchSink(ctx, warehouse, {
      target,
      from: table.description,
      columns: table.mappings,
      lastSeq: store.lastBatchSeq(target),
    });
    const csv = sink.nextCsv();
    const started = performance.now();
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    let rows: number;
    try {
      if (snapshot) await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
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
    const info = tableInfoOf(table.description, table.key[0]!, table.key, {
      wideNumeric: config.wideNumeric,
    });
    store.saveSchema(
      target,
      {
        pgTypes: Object.fromEntries(table.mappings.map((m) => [m.name, m.pgType])),
        attnums: Object.fromEntries(table.mappings.map((m) => [m.name, m.attnum ?? 0])),
        dropped: [],
        keyset: keysetOf(info),
      },
      table.plan.source,
      config.pgOrigin,
    );
    table.lsn = lsn;
    return rows;
  } finally {
    warehouse.close();
  }
}
