// Owns explaining a batch DuckDB could not convert from CSV: finding the first
// column and value it cannot hold (one more scan of the CSV, only after a
// failure) and the one-line VALUE_UNSUPPORTED error that names the table, the
// column, the value and a fix that works. DuckDB's own text ("This type was
// auto-detected ... sample_size=-1") suggests CSV settings that do not apply:
// the batch's types are never auto-detected.

import type { DuckDBConnection } from "@duckdb/node-api";
import { errorMessage, SyncError } from "../core/errors.ts";
import { qualified, quoteIdent, quoteLiteral } from "../core/sql.ts";
import type { ColumnMapping } from "../core/type_map.ts";

/** A value of the batch that DuckDB cannot hold as its column's type. */
export interface Unconvertible {
  readonly column: ColumnMapping;
  /** The column's CSV text (what Postgres sent). */
  readonly value: string;
}

/** The Postgres table a batch comes from. */
export interface SourceTable {
  readonly schema: string;
  readonly table: string;
}

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
export async function findUnconvertible(
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

const MAX_SHOWN = 80;

function shown(value: string): string {
  const clipped = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN - 1)}…` : value;
  return quoteLiteral(clipped.replace(/[\r\n\0]/g, " "));
}

/** The reason DuckDB cannot hold the value, and the fix, for the value's column type. */
function reasonAndFix(table: SourceTable, found: Unconvertible): { reason: string; fix: string } {
  const { column, value } = found;
  const source = qualified(table.schema, table.table);
  const col = quoteIdent(column.name);
  const decimal = /^DECIMAL\(\d+,\d+\)(\[\])?$/.exec(column.duckType);
  if (decimal && /\bnan\b/i.test(value)) {
    const array = decimal[1] !== undefined;
    return {
      reason: "DuckDB's DECIMAL has no NaN",
      fix: `make the column an unconstrained numeric in PostgreSQL (ALTER TABLE ${source} ` +
        `ALTER COLUMN ${col} TYPE numeric${array ? "[]" : ""}): it then arrives as ` +
        `${array ? "VARCHAR[]" : "VARCHAR"} with PostgreSQL's exact text, or as ` +
        `${array ? "DOUBLE[]" : "DOUBLE"} with NUMERIC_WIDE=double in a table copied anew ` +
        "(reset); or replace the NaN values (" +
        (array
          ? `UPDATE ${source} SET ${col} = array_replace(${col}, 'NaN', NULL) WHERE 'NaN' = ANY(${col})`
          : `UPDATE ${source} SET ${col} = NULL WHERE ${col} = 'NaN'`) +
        ")",
    };
  }
  if (/^TIMESTAMP/.test(column.duckType)) {
    return {
      reason: "DuckDB's timestamps end at 294247-01-10",
      fix: `replace the value in PostgreSQL, or make the column text (ALTER TABLE ${source} ` +
        `ALTER COLUMN ${col} TYPE text)`,
    };
  }
  return {
    reason: `DuckDB cannot convert it to ${column.duckType}`,
    fix: "replace the value in PostgreSQL",
  };
}

/** The one-line error for a value DuckDB cannot hold (exit 2: a value or type to change). */
export function unsupportedValueError(
  table: SourceTable,
  found: Unconvertible,
  cause?: unknown,
): SyncError {
  const { reason, fix } = reasonAndFix(table, found);
  const { column } = found;
  return new SyncError(
    "VALUE_UNSUPPORTED",
    `Cannot load ${table.schema}.${table.table}: column ${
      quoteIdent(column.name)
    } (${column.pgType}, ` +
      `${column.duckType} in DuckDB) holds ${shown(found.value)}: ${reason}; ` +
      `nothing of the batch was applied (${fix})`,
    { exitCode: 2, cause },
  );
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
