// Owns the pure side of comparing a Postgres table with its DuckDB copy without
// moving rows: the canonical row text (the same bytes on both sides, built from
// each column's pgCanonical / duckCanonical), per-bucket checksums over the md5
// of the key, and the diff of buckets and of rows. verify and hard-delete
// reconciliation both stand on it.

import { quoteIdent } from "./sql.ts";
import type { ColumnMapping } from "./type_map.ts";

/** Which side an expression is written for. */
export type Side = "pg" | "duck";

/** One column as text, length-prefixed so that no two rows can run together. */
function part(side: Side, m: ColumnMapping): string {
  const e = side === "pg" ? m.pgCanonical : m.duckCanonical;
  const length = side === "pg" ? `length(${e})::text` : `CAST(length(${e}) AS VARCHAR)`;
  // || yields NULL when either side is NULL, on both engines.
  return `coalesce('V' || ${length} || ':' || ${e}, 'N')`;
}

/** The canonical text of `columns` of a row: identical bytes in Postgres and DuckDB. */
export function rowText(side: Side, columns: readonly ColumnMapping[]): string {
  if (columns.length === 0) return "''";
  return columns.map((m) => part(side, m)).join(" || '|' || ");
}

/** A 60-bit integer from the first 15 hex digits of an md5, on either engine. */
function hashInt(side: Side, md5: string): string {
  return side === "pg"
    ? `('x' || substr(${md5}, 1, 15))::bit(60)::int8`
    : `CAST('0x' || substr(${md5}, 1, 15) AS BIGINT)`;
}

/**
 * A predicate picking the rows whose key hashes (as listed by `hashedRows`)
 * are among `rows`: how listed differences are re-copied or removed.
 */
export function keyHashIn(
  side: Side,
  key: readonly ColumnMapping[],
  rows: readonly { readonly kh: string }[],
): string {
  const list = rows.map((r) => `'${r.kh.replace(/[^0-9a-f]/g, "")}'`).join(", ");
  return `md5(${rowText(side, key)}) IN (${list})`;
}

/** Key columns as "a=1, b=x" text for people to read. */
function keyLabel(side: Side, key: readonly ColumnMapping[]): string {
  if (key.length === 0) return "''";
  return key.map((m) => {
    const v = side === "pg"
      ? `${quoteIdent(m.name)}::text`
      : `CAST(${quoteIdent(m.name)} AS VARCHAR)`;
    return `'${m.name.replaceAll("'", "''")}=' || coalesce(${v}, 'NULL')`;
  }).join(" || ', ' || ");
}

export interface CompareShape {
  /** Key columns; empty for a keyless table (rows are then bucketed by their own hash). */
  readonly key: readonly ColumnMapping[];
  /** Every compared column (key included). */
  readonly columns: readonly ColumnMapping[];
}

/**
 * SELECT kh (md5 of the key text), rh (md5 of the row text) and the key label
 * for every row of `from` matching `where`. With `keyOnly`, rh hashes the key.
 */
export function hashedRows(
  side: Side,
  from: string,
  where: string,
  shape: CompareShape,
  keyOnly = false,
  extra = "",
): string {
  const row = `md5(${rowText(side, keyOnly ? shape.key : shape.columns)})`;
  const key = shape.key.length > 0 ? `md5(${rowText(side, shape.key)})` : row;
  return `SELECT ${key} AS kh, ${row} AS rh, ${keyLabel(side, shape.key)} AS label${extra}
          FROM ${from} WHERE ${where}`;
}

/** Count and checksum per key-hash prefix of `prefix` hex digits. */
export function bucketSql(side: Side, rows: string, prefix: number): string {
  const sum = side === "pg"
    ? `coalesce(sum(${hashInt(side, "rh")}), 0)::text`
    : `CAST(coalesce(sum(${hashInt(side, "rh")}), 0) AS VARCHAR)`;
  const n = side === "pg" ? "count(*)::int8::text" : "CAST(count(*) AS VARCHAR)";
  return `SELECT substr(kh, 1, ${prefix}) AS bucket, ${n} AS n, ${sum} AS s
          FROM (${rows}) AS hashed GROUP BY 1`;
}

/**
 * DuckDB only, for a comparison whose both sides DuckDB reads (the Postgres
 * rows parsed from a COPY, and the table): per key-hash prefix (the same
 * buckets as bucketSql), the count and the sum of a 64-bit hash of each row's
 * typed values, as BIGINT and HUGEINT (partial sums add up). A keyless table
 * is bucketed by its rows' text hash.
 */
export function typedBucketSql(
  rows: string,
  where: string,
  shape: CompareShape,
  prefix: number,
): string {
  const key = md5Key(shape);
  const values = shape.columns.map((c) => quoteIdent(c.name)).join(", ");
  return `SELECT substr(${key}, 1, ${prefix}) AS bucket, count(*) AS n, sum(hash(${values})) AS s
          FROM ${rows} WHERE ${where} GROUP BY 1`;
}

/** The md5 of the key's text (of the whole row's, for a keyless table), in DuckDB. */
function md5Key(shape: CompareShape): string {
  return `md5(${rowText("duck", shape.key.length > 0 ? shape.key : shape.columns)})`;
}

/** The rows of `rows` whose key hash starts with one of `buckets`. */
export function rowsInBucketsSql(rows: string, buckets: readonly string[], prefix: number): string {
  const list = buckets.map((b) => `'${b.replace(/[^0-9a-f]/g, "")}'`).join(", ");
  return `SELECT * FROM (${rows}) AS hashed WHERE substr(kh, 1, ${prefix}) IN (${list})`;
}

export interface Bucket {
  readonly n: string;
  readonly s: string;
}

/** Hex digits of key-hash prefix so that a bucket holds about 1,000 rows (0..6). */
export function prefixFor(rows: number): number {
  let prefix = 0;
  while (prefix < 6 && rows / 16 ** prefix > 1000) prefix += 1;
  return prefix;
}

/** Buckets whose count or checksum differ (present on one side only included). */
export function differingBuckets(
  a: ReadonlyMap<string, Bucket>,
  b: ReadonlyMap<string, Bucket>,
): string[] {
  const out: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y || x.n !== y.n || x.s !== y.s) out.push(name);
  }
  return out.sort();
}

export interface HashedRow {
  readonly kh: string;
  readonly rh: string;
  readonly label: string;
  /** Postgres only: the row changed after the checkpoint (not a difference yet). */
  readonly pending?: boolean;
  /** DuckDB only: reconciliation marked the row deleted. */
  readonly marked?: boolean;
}

export interface RowDiff {
  /** In Postgres, not in DuckDB. */
  readonly missing: HashedRow[];
  /** In DuckDB, not in Postgres. */
  readonly extra: HashedRow[];
  /** On both sides with different values (the Postgres row). */
  readonly changed: HashedRow[];
  /** Differences explained by changes after the checkpoint. */
  readonly pending: HashedRow[];
}

/** Pairs rows by key hash; for a keyless table (kh = rh) only missing/extra arise. */
export function diffRows(pg: readonly HashedRow[], duck: readonly HashedRow[]): RowDiff {
  const count = (rows: readonly HashedRow[]) => {
    const m = new Map<string, HashedRow[]>();
    for (const r of rows) m.set(r.kh, [...(m.get(r.kh) ?? []), r]);
    return m;
  };
  const p = count(pg);
  const d = count(duck);
  const diff: RowDiff = { missing: [], extra: [], changed: [], pending: [] };
  for (const [kh, pgRows] of p) {
    const duckRows = d.get(kh) ?? [];
    for (let i = 0; i < Math.max(pgRows.length, duckRows.length); i++) {
      const x = pgRows[i];
      const y = duckRows[i];
      if (x && y && x.rh === y.rh) continue;
      if (x?.pending) diff.pending.push(x);
      else if (x && y) diff.changed.push(x);
      else if (x) diff.missing.push(x);
      else if (y) diff.extra.push(y);
    }
  }
  for (const [kh, duckRows] of d) if (!p.has(kh)) diff.extra.push(...duckRows);
  return diff;
}
