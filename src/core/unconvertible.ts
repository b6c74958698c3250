// Owns the facts of a value DuckDB cannot hold (the table, the column and the
// text Postgres sent) and, per DuckDB type, why it cannot and the fix that
// works. The error table turns them into VALUE_UNSUPPORTED; the probe that
// finds the value is unsupported_value.ts's. Pure.

import { errorMessage } from "./errors.ts";
import { qualified, quoteIdent, quoteLiteral } from "./sql.ts";
import type { ColumnMapping } from "./type_map.ts";

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

/** A batch that failed to convert because of `found` (the failure is its cause). */
export class UnconvertibleValue extends Error {
  readonly table: SourceTable;
  readonly found: Unconvertible;
  constructor(table: SourceTable, found: Unconvertible, cause?: unknown) {
    super(cause === undefined ? "Cannot convert a value" : errorMessage(cause), { cause });
    this.name = "UnconvertibleValue";
    this.table = table;
    this.found = found;
  }
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

/** The one-line message for a value DuckDB cannot hold, naming the fix. */
export function unsupportedValueMessage(table: SourceTable, found: Unconvertible): string {
  const { reason, fix } = reasonAndFix(table, found);
  const { column } = found;
  return `Cannot load ${table.schema}.${table.table}: column ${
    quoteIdent(column.name)
  } (${column.pgType}, ` +
    `${column.duckType} in DuckDB) holds ${shown(found.value)}: ${reason}; ` +
    `nothing of the batch was applied (${fix})`;
}
