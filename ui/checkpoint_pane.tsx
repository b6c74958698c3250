// The Checkpoint pane: per table its mode (bootstrap progress or incremental),
// the exact cursor and key, rows copied, lag and the countdown to the next cycle;
// five lines per table when they fit, else two (mode and age; cursor and key),
// else one.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, compactNumber, cursorTime, formatDuration } from "./format.ts";
import type { TableView, UiState } from "./state.ts";

export interface CheckpointPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
}

export function bootstrapProgress(rowsCopied: number, estimatedRows: number | null): string {
  if (!estimatedRows) return `${compactNumber(rowsCopied)} rows`;
  const pct = Math.min(100, Math.floor((rowsCopied / estimatedRows) * 100));
  return `${compactNumber(rowsCopied)} / ~${compactNumber(estimatedRows)} rows (${pct}%)`;
}

export function countdown(state: UiState): string {
  switch (state.status) {
    case "syncing":
      return "syncing now";
    case "paused":
      return "paused";
    case "starting":
      return "starting";
    case "stopping":
      return "stopping";
    case "stopped":
      return "stopped";
    default:
      return state.nextCycleAt === null
        ? "-"
        : `next in ${formatDuration(Math.max(0, state.nextCycleAt - state.now))}`;
  }
}

function modeText(t: TableView): string {
  switch (t.mode) {
    case "bootstrap":
      return `bootstrap ${bootstrapProgress(t.rowsCopied, t.estimatedRows)}`;
    case "full_refresh":
      return "full refresh";
    default:
      return "incremental";
  }
}

function modeColor(mode: TableView["mode"]): string {
  return mode === "bootstrap" ? "yellow" : mode === "full_refresh" ? "cyan" : "green";
}

/**
 * The key and the rows copied so far. Re-reads of recent rows count again, so
 * this is not the table's size and is not labelled "rows".
 */
export function keyLine(t: TableView): string {
  return `key ${t.key ? t.key.join(", ") : "-"}  copied ${t.rowsCopied.toLocaleString("en-US")}`;
}

/** One line per table when they do not fit in full: name, mode, rows, cursor age. */
export function compactLine(t: TableView, now: number): string {
  const lagMs = cursorTime(t.cursor);
  const mode = t.mode === "bootstrap"
    ? `boot ${bootstrapProgress(t.rowsCopied, t.estimatedRows)}`
    : t.mode === "full_refresh"
    ? `refresh ${compactNumber(t.rowsCopied)} rows`
    : `incr ${compactNumber(t.rowsCopied)} copied`;
  if (t.error) return `${t.table}  FAILED ${t.error}`;
  const age = lagMs === null ? "" : ` age ${formatDuration(now - lagMs)}`;
  return `${t.table}  ${mode}${age}`;
}

export function CheckpointPane({ state, width, height }: CheckpointPaneProps) {
  const inner = width - 4;
  const tables = Object.values(state.tables);
  const lines: { text: string; color?: string }[] = [];
  if (tables.length === 0) {
    lines.push({
      text: state.status === "stopped" || state.status === "stopping"
        ? `${countdown(state)} before the first cycle`
        : "waiting for the first cycle…",
      color: "gray",
    });
  }
  const room = Math.max(0, height - 3);
  const detailed = tables.length * 5 <= Math.max(5, room);
  // Two lines per table when five do not fit but two do: the cursor stays in view.
  const twoLine = !detailed && tables.length * 2 <= room;
  if (twoLine) {
    for (const t of tables) {
      lines.push({ text: compactLine(t, state.now), color: t.error ? "red" : modeColor(t.mode) });
      lines.push({ text: `  cursor ${t.cursor ?? "-"}  ${keyLine(t)}` });
    }
  }
  if (!detailed && !twoLine) {
    // One line per table (the countdown is on the status line too); failures first.
    const ordered = [...tables.filter((t) => t.error), ...tables.filter((t) => !t.error)];
    const shown = ordered.length > room ? ordered.slice(0, Math.max(0, room - 1)) : ordered;
    for (const t of shown) {
      lines.push({ text: compactLine(t, state.now), color: t.error ? "red" : modeColor(t.mode) });
    }
    if (shown.length < ordered.length) {
      lines.push({ text: `+${ordered.length - shown.length} more tables`, color: "gray" });
    }
  }
  for (const t of detailed ? tables : []) {
    const lagMs = cursorTime(t.cursor);
    lines.push({ text: t.table });
    lines.push({ text: modeText(t), color: modeColor(t.mode) });
    if (t.error) lines.push({ text: `failed ${t.error}`, color: "red" });
    lines.push({ text: `cursor ${t.cursor ?? "-"}` });
    lines.push({ text: keyLine(t) });
    lines.push({
      text: `cursor age ${lagMs === null ? "-" : formatDuration(state.now - lagMs)}  ${
        countdown(state)
      }`,
    });
  }
  return (
    <Pane title="Checkpoint" width={width} height={height}>
      {lines.slice(0, Math.max(0, height - 3)).map((l, i) => (
        <Text key={i} color={l.color} wrap="truncate">{clip(l.text, inner)}</Text>
      ))}
    </Pane>
  );
}
