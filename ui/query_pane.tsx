// The Query pane: a DuckDB prompt (the SQL runs in the worker) and the result
// as an aligned table with row count and elapsed time; errors in red, wrapped
// over the lines the result would use.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, wrap } from "./format.ts";
import { resultLines } from "./result_table.ts";
import type { UiState } from "./state.ts";

/** One inverse-video cell marks the prompt's cursor (an empty Text renders nothing). */
const CURSOR_CELL = " ";

export interface QueryPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
}

export function QueryPane({ state, width, height }: QueryPaneProps) {
  const inner = width - 4;
  const focused = state.focus === "prompt";
  const prompt = `duckdb> ${state.input}`;
  const visiblePrompt = prompt.length + 1 > inner ? `…${prompt.slice(-(inner - 2))}` : prompt;
  const bodyHeight = Math.max(0, height - 5);
  const r = state.result;
  const lines = r ? resultLines(r, inner, bodyHeight, state.scroll, state.column) : [];
  const hiddenColumns = lines[0]?.endsWith("…") ?? false;
  let footer = "";
  if (state.queryRunning) footer = "running…";
  else if (state.queryError) footer = "the app keeps running; fix the SQL and press Enter";
  else if (r) {
    footer = `${r.rowCount.toLocaleString("en-US")} row${r.rowCount === 1 ? "" : "s"} in ${
      Math.round(r.elapsedMs)
    } ms${r.truncated ? ` (first ${r.rows.length} kept)` : ""}${
      r.rows.length > bodyHeight - 2
        ? `, rows ${state.scroll + 1}-${
          Math.min(r.rows.length, state.scroll + bodyHeight - 2)
        } (PgUp/PgDn)`
        : ""
    }${
      state.column > 0 || hiddenColumns
        ? `, column ${state.column + 1}/${r.columns.length} (←/→ in the panes)`
        : ""
    }${state.lastQuery ? ` · ${state.lastQuery}` : ""}`;
  } else if (!focused) {
    footer = exampleHint(Object.keys(state.tables));
  }
  return (
    <Pane title="Query" width={width} height={height} focused={focused}>
      <Text color={focused ? "white" : "gray"} wrap="truncate">
        {visiblePrompt}
        {focused ? <Text inverse>{CURSOR_CELL}</Text> : ""}
      </Text>
      {state.queryError
        ? wrap(`error: ${state.queryError}`, inner, Math.max(1, bodyHeight)).map((l, i) => (
          <Text key={i} color="red" wrap="truncate">{l}</Text>
        ))
        : r
        ? lines.map((l, i) => <Text key={i} wrap="truncate">{l}</Text>)
        : null}
      <Text color="gray" wrap="truncate">{clip(footer, inner)}</Text>
    </Pane>
  );
}

/** The idle hint, with a table that is actually synced. */
export function exampleHint(tables: readonly string[]): string {
  if (tables.includes("analytics_subscriptions") || tables.length === 0) {
    return "Tab to type SQL, e.g. SELECT plan, count(*) FROM analytics_subscriptions GROUP BY ALL";
  }
  const table = [...tables].sort()[0]!;
  const name = /^[a-z_][a-z0-9_]*$/.test(table) ? table : `"${table.replaceAll('"', '""')}"`;
  return `Tab to type SQL, e.g. SELECT count(*) FROM ${name}`;
}
