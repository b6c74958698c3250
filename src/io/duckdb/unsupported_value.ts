// Owns explaining a batch DuckDB could not convert from CSV: finding the first
// column and value it cannot hold (one more scan of the CSV, only after a
// failure), which the error table (ERROR_RULES) turns into the one-line VALUE_UNSUPPORTED
// error naming the table, the column, the value and a fix that works. DuckDB's
// own text ("This type was auto-detected ... sample_size=-1") suggests CSV
// settings that do not apply: the batch's types are never auto-detected.

import type { DuckDBConnection } from "@duckdb/node-api";
import { errorMessage } from "../../core/errors.ts";
import { unsupportedValueError } from "../../core/classify_error.ts";
import { quoteIdent } from "../../core/sql.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import type { SourceTable, Unconvertible } from "../../core/unconvertible.ts";

export type { SourceTable, Unconvertible };

/** Our own refusals (error() in a column's fromCsv) already name the column and the fix. */
const OWN_REFUSAL = /Cannot load column "/;

/**
 * The column's conversion with its deliberate refusals (error(...) branches)
 * yielding NULL instead, so that TRY can run it: NULL for a non-NULL text then
 * means DuckDB cannot hold that value.
 */
function conversion(column: ColumnMapping): string | null {
  const ident = quoteIdent(column.name);
  if (column.fromCsv) {
    return `TRY(${column.fromCsv.replace(/\berror\('(?:[^']|'')*'\)/g, "NULL")})`;
  }
  return column.csvType === "VARCHAR" ? null : `TRY_CAST(${ident} AS ${column.csvType})`;
}

/**
 * SQL over `readAllVarchar` (the batch's read_csv with every column read as
 * VARCHAR) giving, per column, the least text DuckDB cannot convert, or NULL.
 */
export function unconvertibleSql(
  readAllVarchar: string,
  columns: readonly ColumnMapping[],
): string | null {
  const checks = columns.flatMap((c, i) => {
    const converted = conversion(c);
    const ident = quoteIdent(c.name);
    return converted === null
      ? []
      : [`min(${ident}) FILTER (WHERE ${ident} IS NOT NULL AND ${converted} IS NULL) AS c${i}`];
  });
  return checks.length === 0 ? null : `SELECT ${checks.join(", ")} FROM ${readAllVarchar}`;
}

/** The first column (in table order) with a value DuckDB cannot convert, or null. */
async function findUnconvertible(
  connection: DuckDBConnection,
  readAllVarchar: string,
  columns: readonly ColumnMapping[],
): Promise<Unconvertible | null> {
  const sql = unconvertibleSql(readAllVarchar, columns);
  if (sql === null) return null;
  const reader = await connection.runAndReadAll(sql);
  const row = reader.getRowObjectsJson()[0] ?? {};
  for (const [i, column] of columns.entries()) {
    const value = row[`c${i}`];
    if (typeof value === "string") return { column, value };
  }
  return null;
}

/**
 * The error to raise for a failed CSV -> Parquet conversion: VALUE_UNSUPPORTED
 * naming the first value DuckDB cannot hold, or the original error when none is
 * found (a full disk, our own refusals, which already name the column and fix).
 */
export async function explainConversionError(
  error: unknown,
  connection: DuckDBConnection,
  readAllVarchar: string,
  columns: readonly ColumnMapping[],
  table: SourceTable,
): Promise<unknown> {
  if (OWN_REFUSAL.test(errorMessage(error))) return error;
  try {
    const found = await findUnconvertible(connection, readAllVarchar, columns);
    return found ? unsupportedValueError(table, found, error) : error;
  } catch {
    return error;
  }
}
