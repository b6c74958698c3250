// Owns streaming rows out of PostgreSQL with COPY ... TO STDOUT (FORMAT csv)
// straight to a file, chunk by chunk: a batch range, a whole table, the next
// keyset batch (its end position read from its own last row), chosen columns.
// Rows are never parsed in JavaScript.

import pg from "pg";
import { SyncError } from "../../core/errors.ts";
import { FileWriteError } from "../../core/local_io.ts";
import { CsvLastRow, parseCsvRow } from "../../core/csv_tail.ts";
import { quoteIdent, sourceFrom } from "../../core/sql.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import { orderBy, type Position, rangePredicate } from "../../core/keyset.ts";

import type { TableInfo } from "./catalog.ts";
import { copyOut } from "./copy_out.ts";

/** Streams the result of any SELECT as CSV into `path`. */
export async function copyQueryToCsv(
  client: pg.Client,
  select: string,
  path: string,
): Promise<CopyResult> {
  return await streamCopy(client, `COPY (${select}) TO STDOUT WITH (FORMAT csv)`, path);
}

/** Streams the whole table (a full refresh) as CSV into `path`, in one snapshot. */
export async function copyTableToCsv(
  client: pg.Client,
  relation: { readonly schema: string; readonly table: string; readonly kind?: string },
  mappings: readonly ColumnMapping[],
  path: string,
): Promise<CopyResult> {
  const select = mappings.map((m) => m.pgSelect).join(", ");
  return await streamCopy(
    client,
    `COPY (SELECT ${select} FROM ${sourceFrom(relation)}) TO STDOUT WITH (FORMAT csv)`,
    path,
  );
}

export interface CopyResult {
  readonly rows: number;
  readonly bytes: number;
}

/** Streams the rows in (after, upTo] as CSV into `path`; memory stays at one chunk. */
export async function copyRangeToCsv(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  upTo: Position,
  path: string,
  columns: readonly ColumnMapping[] = info.mappings,
  wholeTable = false,
): Promise<CopyResult> {
  const select = columns.map((m) => m.pgSelect).join(", ");
  const where = wholeTable ? "true" : rangePredicate(info.keyset, after, upTo);
  const sql = `COPY (SELECT ${select} FROM ${
    sourceFrom(info)
  } WHERE ${where}) TO STDOUT WITH (FORMAT csv)`;
  return await streamCopy(client, sql, path);
}

/** Runs a COPY ... TO STDOUT and streams it into `path`; memory stays at one block. */
async function streamCopy(
  client: pg.Client,
  sql: string,
  path: string,
  onBlock?: (block: Uint8Array) => void,
): Promise<CopyResult> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true }).catch(
    (error) => {
      throw new FileWriteError(path, error);
    },
  );
  const write = async (data: Uint8Array) => {
    let written = 0;
    try {
      while (written < data.byteLength) written += await file.write(data.subarray(written));
    } catch (error) {
      throw new FileWriteError(path, error);
    }
  };
  let bytes = 0;
  try {
    const rows = await copyOut(client, sql, async (block) => {
      // DuckDB's read_csv drops one byte-order mark at the start of a file: a
      // first value that begins with U+FEFF (Postgres leaves it unquoted)
      // would lose it. A second mark in front is the one dropped. (The first
      // block is the whole output or 1 MiB: it holds the first three bytes.)
      if (bytes === 0 && BOM.every((b, i) => block[i] === b)) await write(BOM);
      bytes += block.byteLength;
      onBlock?.(block);
      await write(block);
    }).catch(async (error) => {
      file.close();
      // A partial file would keep a full disk full.
      await Deno.remove(path).catch(() => {});
      throw error;
    });
    return { rows, bytes };
  } finally {
    try {
      file.close();
    } catch { /* closed above */ }
  }
}

/** U+FEFF in UTF-8. */
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

/**
 * Where the cursor and key columns sit in the COPY output, when their CSV text
 * is exactly Postgres' text form (so a position can be read back from a row);
 * null otherwise (e.g. a bytea key travels as hex).
 */
export function positionFieldIndexes(info: TableInfo): number[] | null {
  const indexes: number[] = [];
  for (const column of [info.keyset.cursor, ...info.keyset.key]) {
    const i = info.mappings.findIndex((m) => m.name === column.name);
    const m = info.mappings[i];
    const ident = quoteIdent(column.name);
    if (!m || (m.pgSelect !== ident && m.pgSelect !== `${ident}::text`)) return null;
    indexes.push(i);
  }
  return indexes;
}

/**
 * Streams the next batch (up to `limit` rows after `after`, in keyset order)
 * into `path` with one COPY ... ORDER BY ... LIMIT, and reads the batch's end
 * position from its last row: no separate query to find where it ends.
 */
export async function copyNextBatchToCsv(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  limit: number,
  path: string,
  fields: readonly number[],
  upTo?: Position,
): Promise<CopyResult & { end: Position | null }> {
  const select = info.mappings.map((m) => m.pgSelect).join(", ");
  const sql = `COPY (SELECT ${select} FROM ${sourceFrom(info)} WHERE ${
    rangePredicate(info.keyset, after, upTo)
  } ORDER BY ${orderBy(info.keyset)} LIMIT ${limit}) TO STDOUT WITH (FORMAT csv)`;
  const tracker = new CsvLastRow();
  const copied = await streamCopy(client, sql, path, (block) => tracker.push(block));
  const last = tracker.lastRow();
  if (copied.rows === 0 || last === null) return { ...copied, end: null };
  // ignoreBOM keeps a leading U+FEFF: a key that starts with one is a
  // different key (dropped, the next batch would start before this row again).
  const values = parseCsvRow(new TextDecoder("utf-8", { ignoreBOM: true }).decode(last));
  const texts = fields.map((i) => values[i]);
  if (texts.some((t) => t === null || t === undefined)) {
    throw new SyncError("INTERNAL", `Cannot read the batch end position of ${info.source}`);
  }
  const [cursor, ...key] = texts as string[];
  return { ...copied, end: { cursor: cursor!, key } };
}

/** Copies key columns plus the given columns of every row (for backfilling added columns). */
export async function copyColumnsToCsv(
  client: pg.Client,
  info: TableInfo,
  columns: readonly ColumnMapping[],
  path: string,
): Promise<CopyResult> {
  return await copyRangeToCsv(
    client,
    info,
    null,
    { cursor: "", key: [] },
    path,
    columns,
    true,
  );
}
