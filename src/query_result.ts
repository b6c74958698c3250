// Owns the pure rendering of a query result as an aligned text table, CSV or
// JSON. Values arrive as DuckDB's exact JSON form (bigints and decimals as text).

export type QueryFormat = "table" | "csv" | "json";

export interface QueryResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (isInterval(value)) return intervalText(value);
  return JSON.stringify(value);
}

interface IntervalJson {
  readonly months: number;
  readonly days: number;
  readonly micros: number | string;
}

function isInterval(value: unknown): value is IntervalJson {
  if (typeof value !== "object" || value === null) return false;
  const keys = Object.keys(value).sort().join(",");
  return keys === "days,micros,months";
}

/** An INTERVAL as DuckDB prints it: "1 year 2 months -3 days 04:05:06.5". */
export function intervalText(value: IntervalJson): string {
  const parts: string[] = [];
  const years = Math.trunc(value.months / 12);
  const months = value.months % 12;
  const unit = (n: number, name: string) => `${n} ${name}${Math.abs(n) === 1 ? "" : "s"}`;
  if (years !== 0) parts.push(unit(years, "year"));
  if (months !== 0) parts.push(unit(months, "month"));
  if (value.days !== 0) parts.push(unit(value.days, "day"));
  let micros = BigInt(value.micros);
  if (micros !== 0n || parts.length === 0) {
    const sign = micros < 0n ? "-" : "";
    if (micros < 0n) micros = -micros;
    const seconds = micros / 1_000_000n;
    const fraction = (micros % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
    const pad = (n: bigint) => n.toString().padStart(2, "0");
    parts.push(
      `${sign}${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}${
        fraction ? `.${fraction}` : ""
      }`,
    );
  }
  return parts.join(" ");
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

export function formatJson(result: QueryResult): string {
  return result.rows.map((row) =>
    JSON.stringify(Object.fromEntries(result.columns.map((c, i) => [c, row[i] ?? null])))
  ).join("\n");
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
