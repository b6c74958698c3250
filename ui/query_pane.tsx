// The Query pane: a DuckDB prompt (the SQL runs in the worker) that is dimmed
// until focused, keeps a pasted multi-line query as written and shows its
// caret; a running query's timer; the result as an aligned table (see
// result_table.ts) with row count, elapsed time and position; a failed query's
// whole error in red, its SQL left in the prompt to fix.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, clipWidth, displayWidth, formatDuration, sliceWidth, wrapLines } from "./format.ts";
import { layoutResult } from "./result_table.ts";
import type { UiState } from "./state.ts";

export interface QueryPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
  /** The result browser has focus (row selection shown). */
  readonly browsing?: boolean;
}

/** Prompt lines shown at most; a longer query scrolls with its caret. */
const MAX_PROMPT_LINES = 5;

export function promptLineCount(input: string): number {
  return Math.min(MAX_PROMPT_LINES, input.split("\n").length);
}

interface PromptRow {
  readonly before: string;
  readonly caret: string | null;
  readonly after: string;
}

/** The prompt's visible lines: "duckdb> " then "    ..> ", the caret's line kept in view. */
function promptRows(input: string, caret: number, width: number, focused: boolean) {
  const lines = input.split("\n");
  let at = 0;
  let caretLine = 0;
  let caretCol = 0;
  lines.forEach((l, i) => {
    if (caret >= at && caret <= at + l.length) {
      caretLine = i;
      caretCol = caret - at;
    }
    at += l.length + 1;
  });
  const first = Math.max(0, Math.min(caretLine - MAX_PROMPT_LINES + 1, lines.length));
  const rows: PromptRow[] = [];
  for (let i = first; i < Math.min(lines.length, first + MAX_PROMPT_LINES); i++) {
    const prefix = i === 0 ? "duckdb> " : "   ...> ";
    const text = lines[i]!;
    if (!focused || i !== caretLine) {
      rows.push({ before: clipWidth(prefix + text, width), caret: null, after: "" });
      continue;
    }
    let before = text.slice(0, caretCol);
    const atCaret = text.slice(caretCol, caretCol + 1) || " ";
    let after = text.slice(caretCol + 1);
    const room = width - prefix.length - 1;
    // Keep the caret in view on a long line: cut the start with "…".
    if (displayWidth(before) > room - 1) {
      while (displayWidth(before) > room - 2) before = before.slice(1);
      before = `…${before}`;
    }
    after = sliceWidth(after, Math.max(0, room - displayWidth(before)));
    rows.push({ before: prefix + before, caret: atCaret, after });
  }
  return rows;
}

function resultFooter(state: UiState, shown: { start: number; rows: number; hidden: number }) {
  const r = state.result!;
  const count = r.rowCount.toLocaleString("en-US");
  const parts = [
    `${count} row${r.rowCount === 1 ? "" : "s"} in ${Math.round(r.elapsedMs)} ms`,
  ];
  if (r.truncated) {
    parts.push(`first ${r.rows.length.toLocaleString("en-US")} of ${count} kept`);
  }
  if (r.rows.length > shown.rows && shown.rows > 0) {
    parts.push(`rows ${shown.start + 1}-${shown.start + shown.rows}`);
  }
  if (state.column > 0 || shown.hidden > 0) {
    parts.push(`columns ${state.column + 2}+ of ${r.columns.length} (←/→)`);
  }
  return parts.join(" · ");
}

export function QueryPane({ state, width, height, browsing }: QueryPaneProps) {
  const inner = width - 4;
  const focused = state.focus === "prompt";
  const prompt = promptRows(state.input, state.caret, inner, focused);
  const bodyHeight = Math.max(0, height - 2 - prompt.length - 1);
  const r = state.result;
  const shown = r ? layoutResult(r, inner, bodyHeight, state.scroll, state.column) : null;
  let footer = "";
  if (state.queryRunning) {
    footer = `running ${
      formatDuration(Math.max(0, state.now - (state.queryStartedAt ?? state.now)))
    }… (the sync goes on; Esc or Ctrl+C cancels the query)`;
  } else if (state.queryError) {
    footer = "the SQL is still in the prompt: fix it and press Enter";
  } else if (r && shown) {
    footer = resultFooter(state, {
      start: shown.start,
      rows: shown.rowsShown,
      hidden: shown.hiddenRight,
    });
    if (browsing) footer += " · Enter: whole row";
  } else if (!focused) {
    footer = exampleHint(Object.keys(state.tables));
  } else {
    footer = "Enter runs · Alt+Enter new line · ↑/↓ history · Esc leaves";
  }
  return (
    <Pane
      title="3 Query"
      info={focused ? "typing" : "/ to type"}
      width={width}
      height={height}
      focused={focused || browsing}
    >
      {prompt.map((p, i) => (
        <Text key={i} color={focused ? "white" : "gray"} dimColor={!focused} wrap="truncate">
          {p.before}
          {p.caret !== null ? <Text inverse>{p.caret}</Text> : ""}
          {p.after}
        </Text>
      ))}
      {state.queryError
        ? wrapLines(`error: ${state.queryError}`, inner, Math.max(1, bodyHeight)).map((l, i) => (
          <Text key={i} color="red" wrap="truncate">{l}</Text>
        ))
        : shown
        ? shown.lines.map((l, i) => (
          <Text key={i} wrap="truncate" inverse={browsing && i === shown.selectedLine}>
            {browsing && i === shown.selectedLine ? l.padEnd(inner) : l}
          </Text>
        ))
        : null}
      <Text color="gray" wrap="truncate">{clip(footer, inner)}</Text>
    </Pane>
  );
}

/** The idle hint, with a table that is actually synced. */
function exampleHint(tables: readonly string[]): string {
  if (tables.includes("analytics_subscriptions") || tables.length === 0) {
    return "/ to type SQL, e.g. SELECT plan, count(*) FROM analytics_subscriptions GROUP BY ALL";
  }
  const table = [...tables].sort()[0]!;
  const name = /^[a-z_][a-z0-9_]*$/.test(table) ? table : `"${table.replaceAll('"', '""')}"`;
  return `/ to type SQL, e.g. SELECT count(*) FROM ${name}`;
}
