// Owns the pure layout of a query result inside the Query pane: column widths
// fixed for the whole result (so paging never shifts them), measured in
// terminal cells (CJK and emoji take two), numbers and their NULLs right, text
// left; the first column frozen while the others scroll right; columns that do
// not fit dropped with a marker; a window of rows around the selected one.

import { cellText } from "../src/mod.ts";
import { clipWidth, displayWidth, padEndWidth, padStartWidth, windowStart } from "./format.ts";
import type { QueryView } from "./state.ts";

/** Cells wider than this are cut in the table; the record view (Enter) shows them whole. */
export const MAX_CELL_WIDTH = 30;

export interface ResultLayout {
  /** Header, rule, then the rows in view. */
  readonly lines: readonly string[];
  /** Index in `lines` of the selected row, or -1. */
  readonly selectedLine: number;
  /** Index of the first row in view. */
  readonly start: number;
  readonly rowsShown: number;
  /** Columns not shown on the right. */
  readonly hiddenRight: number;
}

const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

type Shape = { width: number; numeric: boolean };

// A result is laid out on every render (5 a second); its shapes never change.
const shapesOf = new WeakMap<QueryView, Shape[]>();

/** Per column: its width over the header and every kept row, and whether it is numeric. */
function columnShapes(result: QueryView): Shape[] {
  const known = shapesOf.get(result);
  if (known) return known;
  const shapes = measure(result);
  shapesOf.set(result, shapes);
  return shapes;
}

function measure(result: QueryView): Shape[] {
  return result.columns.map((c, i) => {
    let width = displayWidth(clipWidth(c, MAX_CELL_WIDTH));
    let values = 0;
    let numeric = true;
    for (const row of result.rows) {
      const v = row[i];
      const text = cellText(v);
      width = Math.max(width, displayWidth(clipWidth(text, MAX_CELL_WIDTH)));
      if (v !== null && v !== undefined) {
        values += 1;
        if (numeric && !NUMBER.test(text)) numeric = false;
      }
    }
    return { width, numeric: numeric && values > 0 };
  });
}

/**
 * The result laid out in `width` x `height`: `selected` is the selected row
 * and `skip` how many columns after the first are scrolled off to the left.
 */
export function layoutResult(
  result: QueryView,
  width: number,
  height: number,
  selected: number,
  skip = 0,
): ResultLayout {
  const shapes = columnShapes(result);
  const order = shapes.length === 0 ? [] : [0, ...shapes.map((_, i) => i).slice(1 + skip)];
  let used = 0;
  const shown: number[] = [];
  for (const i of order) {
    const next = used + (shown.length > 0 ? 3 : 0) + shapes[i]!.width;
    if (next > width - 2 && shown.length > 0) break;
    used = next;
    shown.push(i);
  }
  const hiddenRight = order.length - shown.length;
  const bodyRows = Math.max(0, height - 2);
  const start = windowStart(selected, result.rows.length, bodyRows);
  const cell = (text: string, i: number, isHeader: boolean) => {
    const shape = shapes[i]!;
    const v = clipWidth(text, Math.min(MAX_CELL_WIDTH, shape.width));
    return shape.numeric && !isHeader ? padStartWidth(v, shape.width) : padEndWidth(v, shape.width);
  };
  const line = (values: readonly unknown[], isHeader = false) => {
    const text = shown.map((i) =>
      cell(isHeader ? String(values[i]) : cellText(values[i]), i, isHeader)
    ).join(" │ ");
    return clipWidth(hiddenRight > 0 ? `${text} …` : text, width).trimEnd();
  };
  const rule = clipWidth(shown.map((i) => "─".repeat(shapes[i]!.width)).join("─┼─"), width);
  const rows = result.rows.slice(start, start + bodyRows).map((r) => line(r));
  const lines = height <= 0 ? [] : [line(result.columns, true), rule, ...rows].slice(0, height);
  const selectedLine = selected >= start && selected < start + rows.length
    ? 2 + selected - start
    : -1;
  return { lines, selectedLine, start, rowsShown: rows.length, hiddenRight };
}

/** Kept for callers that want only the lines. */
export function resultLines(
  result: QueryView,
  width: number,
  height: number,
  selected: number,
  skip = 0,
): string[] {
  return [...layoutResult(result, width, height, selected, skip).lines];
}
