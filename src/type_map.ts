// Owns the pure mapping from a PostgreSQL column type to how it travels: the
// expression Postgres selects into COPY CSV, the type DuckDB reads that CSV text
// as, and the DuckDB column type it lands in. Exactness first: numeric stays
// DECIMAL or exact text, never a float; integers stay integers.

import { quoteIdent } from "./sql.ts";

/** A source column as introspected from the PostgreSQL catalog. */
export interface SourceColumn {
  readonly name: string;
  /** format_type() of the declared type, e.g. "numeric(12,2)", "my_domain". */
  readonly pgType: string;
  /** Base type name (domains resolved), e.g. "int8", "numeric", "_int4". */
  readonly baseTypeName: string;
  /** format_type() of the base type, e.g. "numeric(12,2)". */
  readonly baseType: string;
  /** pg_type.typcategory of the base type ("A" = array, "E" = enum, ...). */
  readonly category: string;
  readonly notNull: boolean;
  /** pg_attribute.attnum: a dropped and re-added (or renamed) column gets a new one. */
  readonly attnum?: number;
}

export interface ColumnMapping {
  readonly name: string;
  readonly attnum?: number;
  readonly pgType: string;
  /** DuckDB column type in the warehouse table. */
  readonly duckType: string;
  /** Expression selected from Postgres into COPY CSV. */
  readonly pgSelect: string;
  /** Type DuckDB reads the CSV field as. */
  readonly csvType: string;
  /** Expression turning the CSV column into the DuckDB type (identity when null). */
  readonly fromCsv: string | null;
}

// DuckDB types are spelled as information_schema reports them, so that a
// mapped type compares equal to the type of an existing target column.
const SIMPLE: Record<string, string> = {
  int2: "SMALLINT",
  int4: "INTEGER",
  int8: "BIGINT",
  float4: "FLOAT",
  float8: "DOUBLE",
  bool: "BOOLEAN",
  text: "VARCHAR",
  varchar: "VARCHAR",
  bpchar: "VARCHAR",
  name: "VARCHAR",
  citext: "VARCHAR",
  date: "DATE",
  time: "TIME",
  timetz: "TIME WITH TIME ZONE",
  timestamp: "TIMESTAMP",
  timestamptz: "TIMESTAMP WITH TIME ZONE",
  uuid: "UUID",
  json: "JSON",
  jsonb: "JSON",
  oid: "BIGINT",
};

/** Types whose text may carry Postgres' " BC" suffix. */
const TIME_POINTS = new Set(["date", "timestamp", "timestamptz"]);

/** DuckDB's widest DECIMAL precision. */
export const MAX_DECIMAL_PRECISION = 38;

/** Parses "numeric(12,2)" -> {precision: 12, scale: 2}; null when unconstrained. */
export function numericTypmod(
  formatted: string,
): { precision: number; scale: number } | null {
  const match = /^numeric\((\d+)(?:,\s*(-?\d+))?\)$/.exec(formatted.trim());
  if (!match) return null;
  return { precision: Number(match[1]), scale: Number(match[2] ?? "0") };
}

export function mapColumn(column: SourceColumn): ColumnMapping {
  const ident = quoteIdent(column.name);
  const base = {
    name: column.name,
    ...(column.attnum === undefined ? {} : { attnum: column.attnum }),
    pgType: column.pgType,
    pgSelect: ident,
    fromCsv: null,
  };
  if (column.baseTypeName === "numeric") {
    const mod = numericTypmod(column.baseType);
    if (
      mod && mod.precision <= MAX_DECIMAL_PRECISION && mod.scale >= 0 &&
      mod.scale <= mod.precision
    ) {
      const duckType = `DECIMAL(${mod.precision},${mod.scale})`;
      return { ...base, duckType, csvType: duckType };
    }
    // Unconstrained or wider than DuckDB's DECIMAL: keep the exact text.
    return { ...base, duckType: "VARCHAR", csvType: "VARCHAR", pgSelect: `${ident}::text` };
  }
  if (column.baseTypeName === "bytea") {
    return {
      ...base,
      duckType: "BLOB",
      csvType: "VARCHAR",
      pgSelect: `encode(${ident}, 'hex')`,
      fromCsv: `unhex(${ident})`,
    };
  }
  const simple = SIMPLE[column.baseTypeName];
  if (simple && TIME_POINTS.has(column.baseTypeName)) {
    // DuckDB's CSV reader turns a date it cannot parse into NULL, and reads
    // Postgres' "... BC" as AD. Read the text and CAST it strictly (an
    // out-of-range value fails the batch loudly), moving " BC" where DuckDB
    // expects "(BC)": "0044-03-15 (BC) 12:00:00+00".
    return {
      ...base,
      duckType: simple,
      csvType: "VARCHAR",
      fromCsv: `CAST(CASE WHEN ends_with(${ident}, ' BC') THEN regexp_replace(${ident}, ` +
        `'^(\\d+-\\d\\d-\\d\\d)(.*) BC$', '\\1 (BC)\\2') ELSE ${ident} END AS ${simple})`,
    };
  }
  if (simple) return { ...base, duckType: simple, csvType: simple };
  // Enums, arrays, intervals, ranges, network and geometric types, money, xml,
  // tsvector...: Postgres' own text form, exactly.
  return { ...base, duckType: "VARCHAR", csvType: "VARCHAR", pgSelect: `${ident}::text` };
}

const INTEGER_RANK: Record<string, number> = {
  SMALLINT: 1,
  INTEGER: 2,
  BIGINT: 3,
};

/** True when every value of type `from` fits `to` without loss. */
export function isWidening(from: string, to: string): boolean {
  if (from === to) return true;
  const fromInt = INTEGER_RANK[from];
  const toInt = INTEGER_RANK[to];
  if (fromInt !== undefined && toInt !== undefined) return toInt >= fromInt;
  const fromDec = /^DECIMAL\((\d+),(\d+)\)$/.exec(from);
  const toDec = /^DECIMAL\((\d+),(\d+)\)$/.exec(to);
  if (fromInt !== undefined && toDec) {
    const digits = [0, 5, 10, 19][fromInt]!;
    return Number(toDec[1]) - Number(toDec[2]) >= digits;
  }
  if (fromDec && toDec) {
    const fromWhole = Number(fromDec[1]) - Number(fromDec[2]);
    const toWhole = Number(toDec[1]) - Number(toDec[2]);
    return toWhole >= fromWhole && Number(toDec[2]) >= Number(fromDec[2]);
  }
  if (from === "FLOAT" && to === "DOUBLE") return true;
  if (to === "VARCHAR") return true;
  return false;
}
