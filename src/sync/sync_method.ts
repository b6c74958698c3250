// Owns the seam between the engine and a way of reading changes: a sync
// method runs one cycle over the planned tables and reports each table's
// result or failure. The cursor method (sync/cursor/) reads each table by
// its keyset on connections of its own; the WAL method (sync/cdc/) reads every
// table from one replication stream. The engine schedules cycles and decides
// nothing about how a table is read; connections come from one place.

import type pg from "pg";
import type { SyncError } from "../core/errors.ts";
import type { TablePlan } from "../core/table_plan.ts";
import type { Horizon } from "../core/scan_state.ts";
import type { SourceCatalog } from "../io/postgres/source_catalog.ts";
import type { TableCycleResult, TableSyncContext } from "./context.ts";

export interface TableFailure {
  readonly table: string;
  readonly error: SyncError;
}

/** What a cycle gives a method: the tables, their catalog, the safe horizon read first. */
export interface MethodCycle {
  readonly ctx: TableSyncContext;
  readonly catalog: SourceCatalog;
  readonly plans: readonly TablePlan[];
  readonly horizon: Horizon;
  /** This cycle's number, counted across runs (full refreshes and reconciles are spaced by it). */
  readonly cycle: number;
  /** Told of each table's failure as it happens (the result lists it too). */
  readonly failed: (failure: TableFailure) => void;
}

export interface SyncMethod {
  /** One cycle: a result for each table synced (or up to date), a failure for each that failed. */
  cycle(input: MethodCycle): Promise<{ results: TableCycleResult[]; failures: TableFailure[] }>;
  /** The server went away: drop what the method holds open (it reconnects next cycle). */
  interrupt(): Promise<void>;
  close(): Promise<void>;
}

/** The engine's Postgres connections, shared by every method: reused across cycles. */
export interface Connections {
  readonly acquire: () => Promise<pg.Client>;
  readonly release: (client: pg.Client, broken: boolean) => void;
  readonly classify: (error: unknown, source?: string) => SyncError;
  readonly secrets: string[];
}
