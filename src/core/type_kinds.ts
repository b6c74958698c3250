// Owns how values of each (non-array) PostgreSQL type land in DuckDB and
// compare: the DuckDB type, the expression that reads Postgres' text when a
// plain read would be wrong, and a canonical text both databases compute alike.
// core/type_map.ts chooses a kind per column (and per array element).

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

/**
 * How values of one (non-array) type land and compare. Every expression takes
 * the SQL of the value: a quoted column, or an array element.
 */
export interface Kind {
  /** DuckDB type, spelled as information_schema reports it (so drift compares equal). */
  readonly duckType: string;
  /**
   * DuckDB expression turning Postgres' text of a value into duckType, when a
   * plain CSV read (or CAST) of that text would be wrong; absent otherwise.
   */
  readonly fromText?: (e: string) => string;
  readonly pgCanonical: (e: string) => string;
  readonly duckCanonical: (e: string) => string;
}

const text = (e: string) => `${e}::text`;
const varchar = (e: string) => `${e}::VARCHAR`;

/** Plain types whose text Postgres and DuckDB write alike. */
function plain(duckType: string): Kind {
  return { duckType, pgCanonical: text, duckCanonical: varchar };
}

/**
 * Floats compare by their IEEE bits (as a signed integer): texts differ ("NaN"
 * vs "nan", "-0" vs "-0.0", "1e+20" vs "1e20"...). Every NaN is one "NaN", and
 * every zero one "0": DuckDB keeps no zero's sign for sure (a column segment
 * whose values compare equal, 0 and -0, is stored as one constant when it is
 * checkpointed; its upsert drops a list element's sign), see docs/types.md.
 */
function float(bits: 32 | 64): Kind {
  const pgInt = bits === 64 ? "int8" : "int4";
  const send = bits === 64 ? "float8send" : "float4send";
  return {
    duckType: bits === 64 ? "DOUBLE" : "FLOAT",
    pgCanonical: (e) =>
      `CASE WHEN ${e} = 'NaN' THEN 'NaN' WHEN ${e} = 0 THEN '0' ELSE ` +
      `(('x' || encode(${send}(${e}), 'hex'))::bit(${bits})::${pgInt})::text END`,
    duckCanonical: (e) =>
      `CASE WHEN isnan(${e}) THEN 'NaN' WHEN ${e} = 0 THEN '0' ELSE ` +
      `CAST(CAST(${e} AS BIT) AS ${bits === 64 ? "BIGINT" : "INTEGER"})::VARCHAR END`,
  };
}

/**
 * DuckDB reads a date it cannot parse as NULL, and Postgres' "... BC" as AD:
 * cast the text strictly (out of range fails the batch loudly), moving " BC"
 * where DuckDB expects "(BC)": "0044-03-15 (BC) 12:00:00+00".
 */
function strictTimePoint(duckType: string): (e: string) => string {
  return (e) =>
    `CAST(CASE WHEN ends_with(${e}, ' BC') THEN regexp_replace(${e}, ` +
    `'^(\\d+-\\d\\d-\\d\\d)(.*) BC$', '\\1 (BC)\\2') ELSE ${e} END AS ${duckType})`;
}

/** Infinities compare as their text ("infinity", "-infinity") on both sides. */
const finiteOr = (e: string, finite: string, infinite: string) =>
  `CASE WHEN isfinite(${e}) THEN ${finite} ELSE ${infinite} END`;

/** Dates compare as days since 1970-01-01. */
const DATE: Kind = {
  duckType: "DATE",
  fromText: strictTimePoint("DATE"),
  pgCanonical: (e) => finiteOr(e, `(${e} - DATE '1970-01-01')::text`, `${e}::text`),
  duckCanonical: (e) => finiteOr(e, `(${e} - DATE '1970-01-01')::VARCHAR`, `${e}::VARCHAR`),
};

/** Timestamps compare as microseconds since the epoch (UTC for timestamptz). */
function timestamp(duckType: string): Kind {
  return {
    duckType,
    fromText: strictTimePoint(duckType),
    pgCanonical: (e) =>
      finiteOr(e, `(extract(epoch FROM ${e}) * 1000000)::int8::text`, `${e}::text`),
    duckCanonical: (e) => finiteOr(e, `epoch_us(${e})::VARCHAR`, `${e}::VARCHAR`),
  };
}

const DAY_US = "86400000000";

/**
 * Postgres' interval parts: months, days, microseconds (never mixed). An
 * infinite interval (PostgreSQL 17) has no parts (extract() gives NULL for
 * some): it travels as 'infinity' / '-infinity', which DuckDB refuses.
 */
export const pgIntervalParts = (e: string) =>
  finiteOr(
    e,
    `(extract(year FROM ${e}) * 12 + extract(month FROM ${e}))::int8 || ' months ' || ` +
      `extract(day FROM ${e})::int8 || ' days ' || (extract(hour FROM ${e}) * 3600000000 + ` +
      `extract(minute FROM ${e}) * 60000000 + extract(microseconds FROM ${e}))::int8 || ` +
      `' microseconds'`,
    `${e}::text`,
  );

/** Everything else: Postgres' own text form (::text), as VARCHAR. */
export const TEXT_FORM: Kind = { duckType: "VARCHAR", pgCanonical: text, duckCanonical: (e) => e };

export const KINDS = new Map<string, Kind>(Object.entries({
  int2: plain("SMALLINT"),
  int4: plain("INTEGER"),
  int8: plain("BIGINT"),
  oid: plain("BIGINT"),
  float4: float(32),
  float8: float(64),
  bool: plain("BOOLEAN"),
  text: TEXT_FORM,
  varchar: TEXT_FORM,
  name: TEXT_FORM,
  citext: TEXT_FORM,
  // char(n) travels blank-padded (its output form); ::text would trim it.
  bpchar: {
    duckType: "VARCHAR",
    pgCanonical: (e) => `bpcharout(${e})::text`,
    duckCanonical: (e) => e,
  },
  date: DATE,
  timestamp: timestamp("TIMESTAMP"),
  timestamptz: timestamp("TIMESTAMP WITH TIME ZONE"),
  // DuckDB holds every Postgres time, '24:00:00' included (its CSV reader
  // rejects what it cannot hold). Compared as microseconds since midnight.
  time: {
    duckType: "TIME",
    pgCanonical: (e) => `(extract(epoch FROM ${e}) * 1000000)::int8::text`,
    duckCanonical: (e) => `epoch_us(${e})::VARCHAR`,
  },
  // The Parquet batch keeps the instant, not the offset: a timetz arrives at
  // +00. Compared as microseconds since midnight UTC, modulo one day.
  timetz: {
    duckType: "TIME WITH TIME ZONE",
    pgCanonical: (e) =>
      `(((extract(epoch FROM ${e}) * 1000000)::int8 % ${DAY_US} + ${DAY_US}) % ${DAY_US})::text`,
    duckCanonical: (e) =>
      `(((epoch_us(${e}) - datepart('timezone', ${e}) * 1000000) % ${DAY_US} + ${DAY_US}) % ` +
      `${DAY_US})::VARCHAR`,
  },
  uuid: plain("UUID"),
  json: plain("JSON"),
  jsonb: plain("JSON"),
}));

export function decimalKind(precision: number, scale: number): Kind {
  const kind = plain(`DECIMAL(${precision},${scale})`);
  // DuckDB writes DECIMAL(3,3) 0.5 as ".500"; Postgres as "0.500".
  return scale < precision ? kind : {
    ...kind,
    duckCanonical: (e) => `regexp_replace(${e}::VARCHAR, '^(-?)\\.', '\\10.')`,
  };
}

/** numeric(p,s) DuckDB can hold exactly, or null. */
export function decimalTypmod(formatted: string): { precision: number; scale: number } | null {
  const mod = numericTypmod(formatted);
  return mod && mod.precision <= MAX_DECIMAL_PRECISION && mod.scale >= 0 &&
      mod.scale <= mod.precision
    ? mod
    : null;
}

/** A numeric converted to DOUBLE by Postgres (the wideNumeric "double" choice). */
const wideDouble = float(64);
export const asFloat8 = (e: string) => `(${e})::float8`;
export const WIDE_DOUBLE: Kind = {
  duckType: "DOUBLE",
  pgCanonical: (e) => wideDouble.pgCanonical(asFloat8(e)),
  duckCanonical: wideDouble.duckCanonical,
};
