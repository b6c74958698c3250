// Owns the typed messages between the sync engine and whoever drives it (the CLI
// in-process, or the terminal UI through a Web Worker). One discriminated union
// per direction, switched on `type`.

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
  }
  | {
    readonly type: "checkpoint_advanced";
    readonly table: string;
    readonly mode: SyncMode;
    readonly cursor: string | null;
    readonly key: readonly string[] | null;
    readonly rowsCopied: number;
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

/** Commands a driver sends to the engine worker. */
export type WorkerCommand =
  | { readonly type: "sync_now" }
  | { readonly type: "pause" }
  | { readonly type: "resume" }
  | {
    readonly type: "seed_changes";
    readonly inserts: number;
    readonly updates: number;
    readonly deletes: number;
  }
  | { readonly type: "run_query"; readonly id: number; readonly sql: string }
  | { readonly type: "shutdown" };

export function assertNever(value: never): never {
  throw new TypeError(`Cannot handle message: ${JSON.stringify(value)}`);
}

/** Events only the worker sends (beyond the engine's own). */
export type WorkerOnlyEvent =
  | {
    readonly type: "ready";
    readonly connection: string;
    readonly duckdbPath: string;
    readonly demo: boolean;
    readonly tables: readonly {
      readonly table: string;
      readonly mode: SyncMode;
      readonly cursor: string | null;
      readonly key: readonly string[] | null;
      readonly rowsCopied: number;
    }[];
    /** The latest schema changes recorded in the checkpoint, oldest first. */
    readonly drift: readonly DriftRecord[];
  }
  | { readonly type: "loop_state"; readonly state: "running" | "paused" | "stopping" | "stopped" }
  | {
    readonly type: "query_result";
    readonly id: number;
    readonly columns: readonly string[];
    /** The first rows only (see truncated), values as exact cells (src/duckdb_cells.ts). */
    readonly rows: readonly (readonly unknown[])[];
    readonly rowCount: number;
    readonly truncated: boolean;
    readonly elapsedMs: number;
  }
  | {
    readonly type: "query_error";
    readonly id: number;
    readonly message: string;
    readonly elapsedMs: number;
  }
  | { readonly type: "seed_result"; readonly ok: boolean; readonly message: string }
  | {
    readonly type: "fatal";
    readonly code: string;
    readonly message: string;
    readonly exitCode: number;
  };

export type WorkerEvent = EngineEvent | WorkerOnlyEvent;

/** The first message to the worker: everything it needs, no environment access. */
export interface WorkerInit {
  readonly type: "init";
  readonly config: import("./config.ts").Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
}
