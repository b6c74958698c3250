// Owns the pure rendering of a query result as an aligned text table, CSV or
// JSON lines. Values arrive as exact cells (see duckdb_cells.ts): every value
// that is not a JSON boolean or number is a string in one form (value_text.ts),
// and all three formats print that same text.

import { jsonText } from "./value_text.ts";

export type QueryFormat = "table" | "csv" | "json";

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** A cell's text in the table and CSV formats: a string as itself, anything else as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  return jsonText(value);
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = cellText(value);
  return /[",\n\r]/.test(text) || text === "" ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * An aligned text table; values longer than `maxWidth` are cut with "…", and
 * the row count line then says so and names the formats that keep them whole.
 */
export function formatTable(result: QueryResult, maxWidth = 60): string {
  let cut = false;
  const clip = (s: string) => {
    if (s.length > maxWidth) cut = true;
    return (s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s).replace(/\s/g, " ");
  };
  const cells = result.rows.map((row) => row.map((v) => clip(cellText(v))));
  const widths = result.columns.map((c, i) =>
    Math.max(clip(c).length, ...cells.map((r) => r[i]?.length ?? 0))
  );
  const line = (values: readonly string[]) =>
    values.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ").trimEnd();
  const out = [
    line(result.columns.map(clip)),
    widths.map((w) => "-".repeat(w)).join("-+-"),
    ...cells.map(line),
    `(${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${
      cut ? `; values over ${maxWidth} characters cut, --format csv or json shows them whole` : ""
    })`,
  ];
  return out.join("\n");
}

export function formatCsv(result: QueryResult): string {
  const lines = [result.columns.map(csvField).join(",")];
  for (const row of result.rows) lines.push(row.map(csvField).join(","));
  return lines.join("\n");
}

/** One JSON object per row, keys in column order (a repeated column name is written twice). */
export function formatJson(result: QueryResult): string {
  const keys = result.columns.map((c) => `${JSON.stringify(c)}:`);
  return result.rows.map((row) => `{${keys.map((k, i) => k + jsonText(row[i] ?? null)).join(",")}}`)
    .join("\n");
}

export function formatResult(result: QueryResult, format: QueryFormat): string {
  switch (format) {
    case "table":
      return formatTable(result);
    case "csv":
      return formatCsv(result);
    case "json":
      return formatJson(result);
  }
}
