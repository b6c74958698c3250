// The help pane shown by `?`.

import { Text } from "ink";
import { Pane } from "./pane.tsx";

export const HELP_LINES = [
  "s      seed changes into Postgres (insert, update, soft-delete one row)",
  "r      sync now          p   pause / resume syncing",
  "Tab    focus the Query prompt and back; Esc leaves the prompt",
  "Enter  run the SQL in DuckDB; ↑/↓ recall history; PgUp/PgDn scroll; Ctrl+U clears",
  "←/→    (outside the prompt) scroll a wide result's columns",
  "q      quit (the batch in flight finishes)   Ctrl+C quit from anywhere",
  "?      close this help",
];

export function HelpOverlay({ width }: { readonly width: number }) {
  return (
    <Pane title="Help" width={width} focused>
      {HELP_LINES.map((l, i) => <Text key={i} wrap="truncate">{l}</Text>)}
    </Pane>
  );
}
