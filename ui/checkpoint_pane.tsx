// The Checkpoint pane: per table its mode (bootstrap progress or incremental),
// the exact cursor and key, rows copied, lag and the countdown to the next cycle.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, compactNumber, cursorTime, formatDuration } from "./format.ts";
import type { UiState } from "./state.ts";

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
    default:
      return state.nextCycleAt === null
        ? "-"
        : `next in ${formatDuration(Math.max(0, state.nextCycleAt - state.now))}`;
  }
}

export function CheckpointPane({ state, width, height }: CheckpointPaneProps) {
  const inner = width - 4;
  const tables = Object.values(state.tables);
  const lines: { text: string; color?: string }[] = [];
  if (tables.length === 0) lines.push({ text: "waiting for the first cycle…", color: "gray" });
  for (const t of tables) {
    const lagMs = cursorTime(t.cursor);
    lines.push({ text: t.table });
    lines.push({
      text: t.mode === "bootstrap"
        ? `bootstrap ${bootstrapProgress(t.rowsCopied, t.estimatedRows)}`
        : "incremental",
      color: t.mode === "bootstrap" ? "yellow" : "green",
    });
    lines.push({ text: `cursor ${t.cursor ?? "-"}` });
    lines.push({
      text: `key ${t.key ? t.key.join(", ") : "-"}  rows ${t.rowsCopied.toLocaleString("en-US")}`,
    });
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
