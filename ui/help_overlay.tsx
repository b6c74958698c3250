// The help shown by `?` in place of the events and query panes; the status
// line stays visible below it.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, positionInfo } from "./format.ts";

const HELP_LINES = [
  "Tab / Shift+Tab  next / previous pane; 1 Tables, 2 Events, 3 results; / or : the prompt",
  "j/k ↑/↓          move in the focused pane; PgUp/PgDn a page; g/G or Home/End first/last",
  "Enter            details: a table's checkpoint, health and history; an event whole; a row",
  "f                filter the Events pane by table (again: next table, then all)",
  "←/→              scroll a wide result's columns (the first column stays)",
  "s                seed changes into the demo table (insert, update, soft-delete one row)",
  "r                sync now          p   pause / resume syncing",
  "In the prompt:   Enter runs · Alt+Enter new line · ↑/↓ history (kept in STATE_DIR)",
  "                 ←/→ Home/End Ctrl+A/E · Alt+B/F words · Ctrl+W/U/K delete · Esc leaves",
  "Esc              close this help or a detail view",
  "Esc, Ctrl+C      while a query runs: cancel it in DuckDB (the sync goes on)",
  "q                quit (the batch in flight finishes)   Ctrl+C quits from anywhere",
];

export function HelpOverlay(
  { width, height, scroll = 0 }: {
    readonly width: number;
    readonly height: number;
    readonly scroll?: number;
  },
) {
  const rows = Math.max(1, height - 2);
  const start = Math.max(0, Math.min(scroll, HELP_LINES.length - rows));
  const more = HELP_LINES.length > rows
    ? `${positionInfo(start, rows, HELP_LINES.length)} j/k · `
    : "";
  return (
    <Pane title="Help" info={`${more}? or Esc closes`} width={width} height={height} focused>
      {HELP_LINES.slice(start, start + rows).map((l, i) => (
        <Text key={i} wrap="truncate">{clip(l, width - 4)}</Text>
      ))}
    </Pane>
  );
}
