// Owns the headless output: engine events turned into one human line each (or
// JSON lines) for stderr. Pure: returns the line, or null for events that are
// not worth a line.

import type { LogFormat } from "./config.ts";
import type { EngineEvent } from "./events.ts";
import { assertNever } from "./events.ts";
import { count } from "./counts.ts";

export function formatRate(rows: number, ms: number): string {
  if (ms <= 0) return "-";
  return `${Math.round(rows / (ms / 1000)).toLocaleString("en-US")} rows/s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  // Just under 1 MiB rounds to "1024.0 KiB" at one decimal: say MiB there.
  if (bytes < 1024 * 1023.95) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatEvent(event: EngineEvent, format: LogFormat, at: Date): string | null {
  const line = formatEventText(event, format, at);
  // One event, one line: server messages may carry DETAIL lines.
  return line === null || format === "json" ? line : line.replace(/\s*\n\s*/g, " ");
}

function formatEventText(event: EngineEvent, format: LogFormat, at: Date): string | null {
  if (format === "json") {
    if (event.type === "batch_started") return null;
    return JSON.stringify({ time: at.toISOString(), ...event });
  }
  const time = at.toISOString();
  switch (event.type) {
    case "batch_finished":
      return `${time} batch ${event.table} #${event.seq} ${event.mode}: ${
        count(event.rows, "row")
      }, ${event.cursorFrom ?? "start"} .. ${event.cursorTo}, ${Math.round(event.durationMs)} ms, ${
        formatRate(event.rows, event.durationMs)
      }, ${formatBytes(event.bytes)}`;
    case "cycle_started":
      return null;
    case "batch_started":
      return null;
    case "checkpoint_advanced":
      return null;
    case "drift_applied":
      return `${time} drift ${event.drift.table}: ${event.drift.kind} ${event.drift.column}: ${event.drift.detail}${
        event.drift.ddl ? ` [${event.drift.ddl}]` : ""
      }`;
    case "cycle_finished":
      // An idle table is counted in the cycle's summary line instead.
      return event.idle
        ? null
        : `${time} cycle ${event.table} ${event.mode}: ${count(event.rows, "row")} in ${
          count(event.batches, "batch", "batches")
        }, ${Math.round(event.durationMs)} ms`;
    case "cycle_summary":
      return formatSummary(event, time);
    case "cycle_idle":
      return null;
    case "notice":
      return `${time} notice: ${event.message}`;
    case "table_failed":
      return `${time} error ${event.code} in table ${event.table}: ${event.message}`;
    case "error":
      return `${time} error ${event.code}: ${event.message}${
        event.retryInSeconds === null ? "" : ` (retrying in ${event.retryInSeconds}s)`
      }`;
    default:
      return assertNever(event);
  }
}

/**
 * One line per cycle: the tables that did nothing are counted, not listed (a
 * loop over hundreds of idle tables writes one line a cycle). A one-table
 * cycle that did something already has its table's line.
 */
function formatSummary(
  event: Extract<EngineEvent, { type: "cycle_summary" }>,
  time: string,
): string | null {
  const ms = `${Math.round(event.durationMs)} ms`;
  if (event.tables === 0) return null;
  if (event.upToDate === event.tables) {
    return event.table !== null && event.tables === 1
      ? `${time} cycle ${event.table}: up to date (${ms})`
      : `${time} cycle: ${count(event.tables, "table")} up to date (${ms})`;
  }
  if (event.tables === 1) return null;
  const synced = event.tables - event.upToDate - event.failed;
  return `${time} cycle: ${count(event.tables, "table")}: ${synced} synced (${
    count(event.rows, "row")
  } in ${
    count(event.batches, "batch", "batches")
  }), ${event.upToDate} up to date, ${event.failed} failed (${ms})`;
}
