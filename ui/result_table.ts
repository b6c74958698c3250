// Owns the pure layout of a query result inside the Query pane: aligned
// columns (numbers right, text left, NULL as its column), wide values clipped,
// columns that do not fit dropped with a marker, a window of rows starting at
// the scroll offset.

import { cellText } from "../src/mod.ts";
import { clip } from "./format.ts";
import type { QueryView } from "./state.ts";

export const MAX_CELL_WIDTH = 30;

export function resultLines(
  result: QueryView,
  width: number,
  height: number,
  scroll: number,
  firstColumn = 0,
): string[] {
  if (height <= 0) return [];
  if (firstColumn > 0) {
    // Columns scrolled off to the left are simply not laid out.
    result = {
      ...result,
      columns: result.columns.slice(firstColumn),
      rows: result.rows.map((row) => row.slice(firstColumn)),
    };
  }
  const visibleRows = result.rows.slice(scroll, scroll + Math.max(0, height - 2));
  const cells = visibleRows.map((row) => row.map((v) => clip(cellText(v), MAX_CELL_WIDTH)));
  const headers = result.columns.map((c) => clip(c, MAX_CELL_WIDTH));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  // Keep as many whole columns as fit; mark the rest.
  let used = 0;
  let shown = 0;
  for (const w of widths) {
    const next = used + (shown > 0 ? 3 : 0) + w;
    if (next > width - 2 && shown > 0) break;
    used = next;
    shown += 1;
  }
  const hidden = widths.length - shown;
  // Numbers align right, like in every SQL shell, and NULL follows its column. A
  // column is numeric when it has a value and all its values (over every kept
  // row, so scrolling keeps the alignment) are numbers.
  const numeric = headers.map((_, i) => {
    const values = result.rows.map((row) => row[i]).filter((v) => v !== null && v !== undefined);
    return values.length > 0 && values.every((v) => /^-?\d+(\.\d+)?$/.test(cellText(v)));
  });
  const pad = (v: string, i: number, isHeader: boolean) =>
    numeric[i] && !isHeader ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0);
  const line = (values: readonly string[], isHeader = false) => {
    const text = values.slice(0, shown).map((v, i) => pad(v, i, isHeader)).join(" │ ");
    return clip(hidden > 0 ? `${text} …` : text, width).trimEnd();
  };
  return [
    line(headers, true),
    clip(widths.slice(0, shown).map((w) => "─".repeat(w)).join("─┼─"), width),
    ...cells.map((row) => line(row)),
  ].slice(0, height);
}
