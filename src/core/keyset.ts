// Owns the pure keyset arithmetic: positions (cursor text + key texts) and the SQL
// predicates that page through a table on (cursor, key) in a stable total order.
// Values are inlined as quoted literals cast to the column type, so the same text
// works in plain queries and inside COPY (which cannot take parameters).

import { quoteIdent, quoteLiteral } from "./sql.ts";

/** A point in the (cursor, key...) order, every value as Postgres' exact text. */
export interface Position {
  readonly cursor: string;
  readonly key: readonly string[];
}

export interface KeysetColumns {
  readonly cursor: { readonly name: string; readonly pgType: string };
  readonly key: readonly { readonly name: string; readonly pgType: string }[];
}

function tuple(columns: KeysetColumns): string {
  return `(${[columns.cursor, ...columns.key].map((c) => quoteIdent(c.name)).join(", ")})`;
}

function literalTuple(columns: KeysetColumns, position: Position): string {
  if (position.key.length !== columns.key.length) {
    throw new RangeError(
      `Cannot build keyset: position has ${position.key.length} key values, table has ${columns.key.length} key columns`,
    );
  }
  const all = [
    { value: position.cursor, type: columns.cursor.pgType },
    ...position.key.map((value, i) => ({ value, type: columns.key[i]!.pgType })),
  ];
  return `(${all.map((v) => `${quoteLiteral(v.value)}::${v.type}`).join(", ")})`;
}

/** Rows strictly after `after` (all rows with a non-null cursor when null). */
export function afterPredicate(columns: KeysetColumns, after: Position | null): string {
  if (after === null) return `${quoteIdent(columns.cursor.name)} IS NOT NULL`;
  return `${tuple(columns)} > ${literalTuple(columns, after)}`;
}

/** Rows at or before `upTo`. */
export function upToPredicate(columns: KeysetColumns, upTo: Position): string {
  return `${tuple(columns)} <= ${literalTuple(columns, upTo)}`;
}

/** Rows in (after, upTo], or after `after` when there is no upper bound. */
export function rangePredicate(
  columns: KeysetColumns,
  after: Position | null,
  upTo?: Position,
): string {
  const lower = afterPredicate(columns, after);
  return upTo ? `${lower} AND ${upToPredicate(columns, upTo)}` : lower;
}

export function orderBy(columns: KeysetColumns, descending = false): string {
  const dir = descending ? " DESC" : "";
  return [columns.cursor, ...columns.key].map((c) => `${quoteIdent(c.name)}${dir}`).join(", ");
}

/** The select list that reads a position back as exact text. */
export function positionSelect(columns: KeysetColumns): string {
  return [columns.cursor, ...columns.key].map((c, i) => `${quoteIdent(c.name)}::text AS p${i}`)
    .join(", ");
}

export function positionFromRow(row: Record<string, unknown>, keyCount: number): Position {
  const key: string[] = [];
  for (let i = 1; i <= keyCount; i++) key.push(String(row[`p${i}`]));
  return { cursor: String(row.p0), key };
}

/** Safe file-name fragment for a cursor value: "2024-01-02T03-04-05.123456Z". */
export function cursorFileToken(cursor: string | null): string {
  if (cursor === null) return "start";
  const ts = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)(\+00)?$/.exec(cursor);
  if (ts) return `${ts[1]}T${ts[2]}-${ts[3]}-${ts[4]}${ts[5] ? "Z" : ""}`;
  return cursor.replace(/[^A-Za-z0-9.-]+/g, "_").slice(0, 60);
}

/** The cursor and key column names a checkpoint's position is made of. */
export function keysetOf(table: { readonly keyset: KeysetColumns }): {
  cursor: string;
  key: string[];
} {
  return { cursor: table.keyset.cursor.name, key: table.keyset.key.map((k) => k.name) };
}

export function sameKeyset(
  a: { readonly cursor: string; readonly key: readonly string[] },
  b: { readonly cursor: string; readonly key: readonly string[] },
): boolean {
  return a.cursor === b.cursor && a.key.length === b.key.length &&
    a.key.every((k, i) => k === b.key[i]);
}
