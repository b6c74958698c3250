// Owns the engine's event vocabulary: what a sync reports as it runs (cycles,
// batches, checkpoints, drift, notices, errors), one discriminated union on
// `type`. The worker protocol (host/protocol.ts) carries these events.

import type { DriftKind } from "./drift.ts";

/** bootstrap -> incremental for tables with a cursor; full_refresh for the others. */
export type SyncMode = "bootstrap" | "incremental" | "full_refresh";

export interface DriftRecord {
  readonly at: string;
  readonly table: string;
  readonly kind: DriftKind;
  readonly column: string;
  readonly detail: string;
  readonly ddl: string | null;
}

export interface ChangeCounts {
  readonly inserts: number;
  readonly updates: number;
  readonly deletes: number;
}

export type EngineEvent =
  | {
    readonly type: "cycle_started";
    readonly table: string;
    readonly mode: SyncMode;
    readonly at: string;
    /** Planner estimate of the source rows, for bootstrap progress. */
    readonly estimatedRows: number | null;
  }
  | {
    readonly type: "batch_started";
    readonly table: string;
    readonly seq: number;
    readonly cursorFrom: string | null;
  }
  | {
    readonly type: "batch_finished";
    readonly table: string;
    readonly seq: number;
    readonly mode: SyncMode;
    readonly rows: number;
    readonly bytes: number;
    readonly durationMs: number;
    readonly cursorFrom: string | null;
    readonly cursorTo: string;
    readonly file: string;
    /** SYNC_METHOD=cdc: the changes the batch applied, by kind (before folding per key). */
    readonly changes?: ChangeCounts;
    /**
     * SYNC_METHOD=cdc: milliseconds from the commit in Postgres of the batch's
     * oldest transaction to the batch's commit in DuckDB (the batch's worst lag).
     */
    readonly commitLagMs?: number;
  }
  | {
    readonly type: "checkpoint_advanced";
    readonly table: string;
    readonly mode: SyncMode;
    readonly cursor: string | null;
    readonly key: readonly string[] | null;
    readonly rowsCopied: number;
    /** SYNC_METHOD=cdc: the WAL position (a commit) the table now includes. */
    readonly lsn?: string;
  }
  | { readonly type: "drift_applied"; readonly drift: DriftRecord }
  | {
    readonly type: "cycle_finished";
    readonly table: string;
    readonly mode: SyncMode;
    readonly rows: number;
    readonly batches: number;
    readonly durationMs: number;
    /** No batches and no drift: nothing was opened for writing. */
    readonly idle: boolean;
    /**
     * When the cycle ended caught up: the time it started (every change committed
     * in Postgres before then is in DuckDB). Null while a first copy is unfinished.
     * A table's freshness is the age of the last such time, not of its cursor.
     */
    readonly inSyncAsOf: string | null;
  }
  | {
    /** After a cycle over every table: what it did in all (one log line per cycle). */
    readonly type: "cycle_summary";
    /** Tables synced or checked (skipped ones are not counted). */
    readonly tables: number;
    /** The table, when the cycle has only one. */
    readonly table: string | null;
    readonly upToDate: number;
    readonly failed: number;
    readonly rows: number;
    readonly batches: number;
    readonly durationMs: number;
  }
  | {
    readonly type: "cycle_idle";
    /** Seconds until the next cycle starts. */
    readonly nextInSeconds: number;
  }
  | {
    /** One table failed this cycle; the others went on and it is retried next cycle. */
    readonly type: "table_failed";
    readonly table: string;
    readonly code: string;
    readonly message: string;
  }
  | { readonly type: "notice"; readonly message: string }
  | {
    readonly type: "error";
    readonly code: string;
    readonly message: string;
    readonly transient: boolean;
    /** When the loop will retry, in seconds; null when it gives up. */
    readonly retryInSeconds: number | null;
  };

export type EngineEventType = EngineEvent["type"];

export type EventSink = (event: EngineEvent) => void;

export function assertNever(value: never): never {
  throw new TypeError(`Cannot handle message: ${JSON.stringify(value)}`);
}
