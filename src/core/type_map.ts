// Owns the pure mapping from a PostgreSQL column type to how it travels: the
// expression Postgres selects into COPY CSV, the type DuckDB reads that CSV text
// as, the DuckDB column type it lands in, and a canonical text of each value that
// Postgres and DuckDB compute alike (to compare a table with its copy by hash,
// without moving rows). Exactness first: numeric stays DECIMAL or exact text
// (DOUBLE only when asked for), integers stay integers, intervals keep months,
// days and microseconds apart, array elements never pass through a float.

import { quoteIdent, quoteLiteral } from "./sql.ts";
import {
  asFloat8,
  decimalKind,
  decimalTypmod,
  type Kind,
  KINDS,
  pgIntervalParts,
  TEXT_FORM,
  WIDE_DOUBLE,
} from "./type_kinds.ts";

export { MAX_DECIMAL_PRECISION, numericTypmod } from "./type_kinds.ts";

/** A source column as introspected from the PostgreSQL catalog. */
export interface SourceColumn {
  readonly name: string;
  /** format_type() of the declared type, e.g. "numeric(12,2)", "my_domain". */
  readonly pgType: string;
  /** Base type name (domains resolved), e.g. "int8", "numeric", "_int4". */
  readonly baseTypeName: string;
  /** format_type() of the base type, e.g. "numeric(12,2)", "integer[]". */
  readonly baseType: string;
  /** pg_type.typcategory of the base type ("A" = array, "E" = enum, ...). */
  readonly category: string;
  readonly notNull: boolean;
  /** pg_attribute.attnum: a dropped and re-added (or renamed) column gets a new one. */
  readonly attnum?: number;
  /** pg_attribute.atttypid and atttypmod, as a stream's relation message names the type. */
  readonly typeOid?: number;
  readonly typmod?: number;
  /** A GENERATED ALWAYS AS … STORED column (its values are not in the write-ahead log). */
  readonly generated?: boolean;
  /**
   * For an array: its element's base type name (domains resolved, "enum" for an
   * enum) and format_type(), e.g. "int4" and "integer" for an array of a domain
   * over integer. Without them the element is read off baseTypeName/baseType
   * ("_int4", "integer[]"), and an array of a domain lands as VARCHAR[].
   */
  readonly elementBaseTypeName?: string;
  readonly elementBaseType?: string;
  /** pg_attribute.attndims: the dimensions an array column was declared with (0: not said). */
  readonly dimensions?: number;
}

export interface TypeMapOptions {
  /**
   * Where `numeric` without a precision, or wider than DECIMAL(38) (or with a
   * scale DuckDB cannot hold), lands. "varchar" (the default): VARCHAR with
   * Postgres' exact text. "double": DOUBLE, converted by Postgres to the nearest
   * double (digits beyond ~17 are lost; a value outside double's range fails the
   * batch). Never chosen silently: only when asked for.
   */
  readonly wideNumeric?: "varchar" | "double";
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
  /**
   * Expression turning the CSV column into the DuckDB type (identity when null).
   * Its result is what the Parquet batch file holds. An interval stays text there
   * (Parquet intervals have no sign and only milliseconds): the warehouse's
   * INSERT casts that text to INTERVAL, exactly.
   */
  readonly fromCsv: string | null;
  /**
   * Postgres expression over the source column yielding the value's canonical
   * text (NULL for NULL). Assumes the sync's session settings (TimeZone UTC,
   * DateStyle ISO, extra_float_digits 3: text forms depend on them) and
   * PostgreSQL 14+ (extract() returning numeric, exact).
   */
  readonly pgCanonical: string;
  /**
   * DuckDB expression over the warehouse column yielding, for the value loaded
   * from a Postgres value, exactly the text pgCanonical yields for it.
   */
  readonly duckCanonical: string;
  /**
   * "inet": the replication stream carries the type's output, which drops a
   * host address's mask (10.0.0.1), where pgSelect (::text) keeps it
   * (10.0.0.1/32); the stream's values get it back (core/wal_values.ts).
   */
  readonly streamForm?: "inet";
}

/** Array element types that land as a LIST of their own DuckDB type, with format_type(). */
const ELEMENTS = new Map<string, RegExp>(Object.entries({
  int2: /^smallint$/,
  int4: /^integer$/,
  int8: /^bigint$/,
  float4: /^real$/,
  float8: /^double precision$/,
  bool: /^boolean$/,
  text: /^text$/,
  varchar: /^character varying(\(\d+\))?$/,
  bpchar: /^(character(\(\d+\))?|bpchar)$/,
  uuid: /^uuid$/,
  numeric: /^numeric(\(.*\))?$/,
  date: /^date$/,
}));

export function mapColumn(column: SourceColumn, options: TypeMapOptions = {}): ColumnMapping {
  const ident = quoteIdent(column.name);
  const wide = options.wideNumeric === "double" ? "double" : "varchar";
  const base = {
    name: column.name,
    ...(column.attnum === undefined ? {} : { attnum: column.attnum }),
    pgType: column.pgType,
  };
  const scalar = (kind: Kind, pgSelect = ident): ColumnMapping => ({
    ...base,
    duckType: kind.duckType,
    pgSelect,
    csvType: kind.fromText ? "VARCHAR" : kind.duckType,
    fromCsv: kind.fromText ? kind.fromText(ident) : null,
    pgCanonical: kind.pgCanonical(ident),
    duckCanonical: kind.duckCanonical(ident),
  });
  const name = column.baseTypeName;
  if (name === "numeric") {
    const mod = decimalTypmod(column.baseType);
    if (mod) return scalar(decimalKind(mod.precision, mod.scale));
    // Unconstrained or wider than DuckDB's DECIMAL: the exact text, or (asked
    // for) a double converted by Postgres, which fails loudly out of range.
    return wide === "double"
      ? scalar(WIDE_DOUBLE, asFloat8(ident))
      : scalar(TEXT_FORM, `${ident}::text`);
  }
  if (name === "bytea") {
    return scalar({
      duckType: "BLOB",
      fromText: (e) => `unhex(${e})`,
      pgCanonical: (e) => `encode(${e}, 'hex')`,
      duckCanonical: (e) => `lower(hex(${e}))`,
    }, `encode(${ident}, 'hex')`);
  }
  if (name === "interval") {
    // DuckDB cannot parse Postgres' interval text ("-1 days +02:00:00",
    // "2562047788:00:54"), but parses "<m> months <d> days <us> microseconds"
    // exactly. That text also rides in the Parquet file (see ColumnMapping.fromCsv).
    return {
      ...base,
      duckType: "INTERVAL",
      pgSelect: pgIntervalParts(ident),
      csvType: "VARCHAR",
      fromCsv: `CASE WHEN ${ident} IN ('infinity', '-infinity') THEN error(${
        quoteLiteral(`Cannot load column "${column.name}": DuckDB has no infinite interval`)
      }) ELSE ${ident} END`,
      pgCanonical: pgIntervalParts(ident),
      duckCanonical:
        `(datepart('year', ${ident}) * 12 + datepart('month', ${ident}))::VARCHAR || ` +
        `' months ' || datepart('day', ${ident})::VARCHAR || ' days ' || ` +
        `(datepart('hour', ${ident}) * 3600000000 + datepart('minute', ${ident}) * 60000000 + ` +
        `datepart('microseconds', ${ident}))::VARCHAR || ' microseconds'`,
    };
  }
  if (column.category === "A" && name.startsWith("_") && column.baseType.endsWith("[]")) {
    // Declared with more than one dimension (integer[][]): Postgres' own text
    // form ({{1,2},{3,4}}), since a DuckDB LIST has one.
    if ((column.dimensions ?? 1) > 1) return scalar(TEXT_FORM, `${ident}::text`);
    return mapArray(column, base, wide);
  }
  if (name === "xml") return scalar(XML_FORM, XML_FORM.pgCanonical(ident));
  if (name === "inet") return { ...scalar(TEXT_FORM, `${ident}::text`), streamForm: "inet" };
  const kind = KINDS.get(name);
  if (kind) return scalar(kind);
  // Enums, ranges, network and geometric types, money, xml, tsvector, bit...:
  // Postgres' own text form, exactly.
  return scalar(TEXT_FORM, `${ident}::text`);
}

/**
 * xml as its output function writes it, which is all the replication stream
 * carries: ::text would keep a declaration (<?xml version="1.0"?>) that the
 * output drops, so the first copy and the stream would differ.
 */
const XML_FORM: Kind = {
  duckType: "VARCHAR",
  pgCanonical: (e) => `xml_out(${e})::text`,
  duckCanonical: (e) => e,
};

/**
 * A one-dimensional array becomes a LIST. Postgres sends it as a JSON array of
 * each element's text (`to_json(c::text[])`: commas, quotes, braces, NULLs and
 * empty strings survive); DuckDB casts each element from that text, so numeric
 * elements never pass through a float. A multi-dimensional value fails the batch
 * (a column declared multi-dimensional is text instead, see mapColumn).
 */
function mapArray(
  column: SourceColumn,
  base: { name: string; attnum?: number; pgType: string },
  wide: "varchar" | "double",
): ColumnMapping {
  const ident = quoteIdent(column.name);
  const elementName = column.elementBaseTypeName ?? column.baseTypeName.slice(1);
  const elementType = column.elementBaseType ?? column.baseType.slice(0, -2);
  let kind: Kind = TEXT_FORM;
  let pgArray = `${ident}::text[]`;
  // to_json writes each xml element by its output function (see XML_FORM).
  if (elementName === "xml") [kind, pgArray] = [XML_FORM, ident];
  if (ELEMENTS.get(elementName)?.test(elementType)) {
    if (elementName === "numeric") {
      const mod = decimalTypmod(elementType);
      if (mod) kind = decimalKind(mod.precision, mod.scale);
      else if (wide === "double") {
        kind = WIDE_DOUBLE;
        pgArray = `${ident}::float8[]::text[]`;
      }
    } else {
      kind = KINDS.get(elementName)!;
      // bpchar -> text trims the blank padding; bpchar[] keeps it in to_json.
      if (elementName === "bpchar") pgArray = `${ident}::bpchar[]`;
    }
  }
  const duckType = `${kind.duckType}[]`;
  const texts = `CAST(CAST(${ident} AS JSON) AS VARCHAR[])`;
  const list = kind.fromText
    ? `list_transform(${texts}, lambda __e: ${kind.fromText("__e")})`
    : kind.duckType === "VARCHAR"
    ? texts
    : `CAST(${texts} AS ${duckType})`;
  const multi = quoteLiteral(
    `Cannot load column "${column.name}": it holds a multi-dimensional array, and it is ` +
      `declared with one dimension (declare its dimensions to copy it as text: ALTER TABLE ... ` +
      `ALTER COLUMN ${ident} TYPE ${column.baseType}[]; or make its values one-dimensional)`,
  );
  // Each element's canonical text, length-prefixed, NULL as "N": "3:abc,N,0:".
  const pgElements = `SELECT ${kind.pgCanonical("__e")} AS __t, __i ` +
    `FROM unnest(${ident}) WITH ORDINALITY AS __u(__e, __i)`;
  return {
    ...base,
    ...(elementName === "inet" ? { streamForm: "inet" as const } : {}),
    duckType,
    pgSelect: `to_json(${pgArray})::text`,
    csvType: "VARCHAR",
    // to_json of a multi-dimensional array nests ("[[...]]"); DuckDB would
    // read the inner arrays as strings.
    fromCsv: `CASE WHEN starts_with(${ident}, '[[') THEN error(${multi}) ELSE ${list} END`,
    pgCanonical: `CASE WHEN ${ident} IS NULL THEN NULL ELSE coalesce((SELECT ` +
      `string_agg(coalesce(length(__t) || ':' || __t, 'N'), ',' ORDER BY __i) ` +
      `FROM (${pgElements}) AS __v), '') END`,
    duckCanonical: `CASE WHEN ${ident} IS NULL THEN NULL ELSE array_to_string(list_transform(` +
      `list_transform(${ident}, lambda __e: ${kind.duckCanonical("__e")}), ` +
      `lambda __t: coalesce(length(__t)::VARCHAR || ':' || __t, 'N')), ',') END`,
  };
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
  // Lists widen element by element (INTEGER[] -> BIGINT[], any list -> VARCHAR[]).
  if (from.endsWith("[]") && to.endsWith("[]")) {
    return isWidening(from.slice(0, -2), to.slice(0, -2));
  }
  return false;
}
