// Owns the typed messages between the sync engine and whoever drives it (the CLI
// in-process, or the terminal UI through a Web Worker): one discriminated union
// per direction, switched on `type`. The engine's own events (core/events.ts)
// are re-exported, so the UI needs this module alone.

import type { Config } from "../core/config.ts";
import type { DriftRecord, EngineEvent, SyncMode } from "../core/events.ts";

export type {
  ChangeCounts,
  DriftRecord,
  EngineEvent,
  EngineEventType,
  EventSink,
  SyncMode,
} from "../core/events.ts";
export { assertNever } from "../core/events.ts";

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
  /** Interrupts query `id` in DuckDB, if it is still running. */
  | { readonly type: "cancel_query"; readonly id: number }
  | { readonly type: "shutdown" };

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
    /** The first rows only (see truncated), values as exact cells (src/io/duckdb/cells.ts). */
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
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
}
