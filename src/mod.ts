// The engine's surface: everything main.ts and the terminal UI (ui/) use of
// src/, besides the worker protocol (host/protocol.ts). Layers below it are
// free to change shape as long as this stays.

// First: sets DuckDB's allocator options before any module loads DuckDB.
import "./io/duckdb/allocator.ts";
export type { Config } from "./core/config.ts";
export { cellText } from "./core/query_result.ts";
export { formatBytes } from "./core/event_log.ts";
export { runCli, type RunCliOptions } from "./cli/run.ts";
export type { StartTui, TuiOptions } from "./cli/context.ts";
