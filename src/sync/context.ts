// Owns what every table's sync shares with the engine (the context a cycle of
// one table runs in) and what such a cycle reports back.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import type { EventSink, SyncMode } from "../core/events.ts";
import type { Mutex } from "../core/mutex.ts";
import type { CheckpointStore } from "../io/state/checkpoint.ts";
import type { WarehouseFile } from "../io/duckdb/warehouse_file.ts";
import type { Warehouse } from "../io/duckdb/warehouse.ts";
import type { BatchConverter } from "../io/duckdb/parquet_batch.ts";

export interface TableSyncContext {
  readonly config: Config;
  readonly emit: EventSink;
  readonly now: () => Date;
  readonly store: CheckpointStore;
  readonly warehouseFile: WarehouseFile;
  /** Tables whose DuckDB table this process has seen exist (checked once, even by idle cycles). */
  readonly targetsSeen: Set<string>;
  /**
   * The tables of the DuckDB file's main schema, listed once per cycle (one
   * open of the file for every table that asks), or null when another program
   * holds the file.
   */
  readonly targetTables: () => Promise<ReadonlySet<string> | null>;
  /** The shared CSV -> Parquet converter (use it only while holding `writer`). */
  readonly converter: () => Promise<BatchConverter>;
  /** The one DuckDB writer: held for every write to the warehouse. */
  readonly writer: Mutex;
  readonly signal?: AbortSignal;
  /** Opens another Postgres connection (a first copy's parallel readers); the caller ends it. */
  readonly connectPg?: () => Promise<pg.Client>;
}

export interface TableCycleResult {
  readonly rows: number;
  readonly batches: number;
  readonly idle: boolean;
  readonly mode: SyncMode;
}

/** The DuckDB file for a cycle's writes: waits LOCK_WAIT_SECONDS for another holder, saying so. */
export function acquireWarehouse(ctx: TableSyncContext): Promise<Warehouse> {
  return ctx.warehouseFile.acquire({
    lockWaitSeconds: ctx.config.lockWaitSeconds,
    signal: ctx.signal,
    onWait: (message) => ctx.emit({ type: "notice", message }),
  });
}
