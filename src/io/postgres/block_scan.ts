// Owns the bootstrap's physical scan of a plain table: instead of paging through
// the (cursor, key) index, which visits the heap in random order, the first copy
// reads the table in ranges of heap blocks (`ctid` ranges, a TID Range Scan on
// PostgreSQL 14+), i.e. sequentially. Why that is exact:
//
// - The safe horizon H was read before the scan started, so every change
//   committed after that carries a cursor >= H (the tool's cursor rule).
// - Every row committed before the scan started sits in a block below the
//   relation size read at the start, unless it changed since, and then its
//   cursor is >= H.
// - So after the scan, the keyset catch-up from the last position before H
//   (cursor < H) copies whatever moved, was added or changed meanwhile.
//
// A table rewritten during the scan (VACUUM FULL, CLUSTER, TRUNCATE, a
// rewriting ALTER) gets a new relfilenode: the block positions mean nothing any
// more and the scan starts over. This module holds the Postgres queries and the
// pure arithmetic of block ranges; table_sync.ts drives the batches.

import type pg from "pg";
import type { TableInfo } from "./mod.ts";
import type { Horizon, ScanState } from "../../core/scan_state.ts";
import { copyQueryToCsv, horizonValue, lastPositionWhere, whereHorizon } from "./mod.ts";
import type { CopyResult } from "./mod.ts";
import type { Position } from "../../core/keyset.ts";
import { qualified, quoteIdent, quoteLiteral, sourceFrom } from "../../core/sql.ts";

export type { ScanState } from "../../core/scan_state.ts";

/** The PostgreSQL release that has TID Range Scans (a ctid range read sequentially). */
const MIN_SCAN_SERVER_VERSION = 140000;

/**
 * Whether a bootstrap may scan blocks: an ordinary heap table (not
 * partitioned, no inheritance children, whose rows a ctid range would mix
 * with the parent's block count; no other access method, whose ctids are not
 * block numbers) with a timestamp cursor (so a horizon exists) on
 * PostgreSQL 14+.
 */
export function canScan(info: TableInfo, serverVersion: number): boolean {
  return info.kind === "r" && info.hasChildren === false && info.accessMethod === "heap" &&
    info.cursorIsTime && info.partitions === undefined &&
    serverVersion >= MIN_SCAN_SERVER_VERSION;
}

/** Rows whose size estimates how many fit in a full block. */
const SIZE_SAMPLE_ROWS = 1000;

/**
 * Rows of `rowBytes` (pg_column_size of the row) that fit in one heap block:
 * each takes its size rounded up to 8 bytes plus a 4-byte line pointer, after
 * the 24-byte page header. 0 when unknown (an empty table).
 */
export function rowsPerFullBlock(blockSize: number, rowBytes: number): number {
  if (!(rowBytes > 0) || !(blockSize > 0)) return 0;
  return Math.floor((blockSize - 24) / (Math.ceil(rowBytes / 8) * 8 + 4));
}

/** Blocks counted to estimate rows per block when the statistics are missing. */
const SAMPLE_BLOCKS = 16;

/** Blocks per batch for about `batchRows` rows at `rowsPerBlock`. */
export function blocksFor(batchRows: number, rowsPerBlock: number): number {
  const perBlock = Number.isFinite(rowsPerBlock) && rowsPerBlock > 0 ? rowsPerBlock : 50;
  return Math.max(1, Math.round(batchRows / perBlock));
}

/**
 * The next batch's block count from the last one's yield: aim at `batchRows`,
 * but never more than 8x the last step, nor more blocks than would hold twice
 * `batchRows` at the densest rows per block known (`densest`): after a sparse
 * stretch of dead tuples (a big UPDATE before the first sync), the next dense
 * stretch must not turn one batch into millions of rows. (Twice: a safety
 * bound, not a target, so an estimate a little denser than the table does
 * not shrink every batch.)
 */
export function nextBlocksPerBatch(
  batchRows: number,
  previousBlocks: number,
  rowsSeen: number,
  densest = 0,
): number {
  const grown = rowsSeen <= 0
    ? previousBlocks * 2
    : Math.min(blocksFor(batchRows, rowsSeen / previousBlocks), previousBlocks * 8);
  const dense = Math.max(densest, rowsSeen / previousBlocks);
  return Math.max(1, dense > 0 ? Math.min(grown, blocksFor(2 * batchRows, dense)) : grown);
}

/** The densest rows per block known after a batch of `blocks` blocks that held `rows`. */
export function densestAfter(densest: number | undefined, blocks: number, rows: number): number {
  return Math.max(densest ?? 0, blocks > 0 ? rows / blocks : 0);
}

/** The half-open block range [from, to) of the next batch, or null when done. */
export function nextRange(state: ScanState): { from: number; to: number } | null {
  if (state.nextBlock >= state.blocks) return null;
  // A remainder of up to a quarter batch joins the last batch.
  const rest = state.blocks - state.nextBlock;
  const take = rest <= state.blocksPerBatch * 1.25 ? rest : state.blocksPerBatch;
  return { from: state.nextBlock, to: state.nextBlock + take };
}

export async function serverVersion(client: pg.Client): Promise<number> {
  const r = await client.query("SELECT current_setting('server_version_num')::int AS v");
  return Number(r.rows[0]!.v);
}

/** Starts a scan: the relation's file, size in blocks and a first batch size. */
export async function beginScan(
  client: pg.Client,
  info: TableInfo,
  horizon: Horizon,
  batchRows: number,
): Promise<ScanState> {
  const r = await client.query(
    `SELECT pg_relation_filenode(c.oid)::text AS filenode,
            (${horizonValue(info, horizon)} - interval '1 hour')::text AS recent_from,
            (pg_snapshot_xmin(pg_current_snapshot())::text::int8 % 4294967296)::text AS xmin,
            (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8 AS blocks,
            c.reltuples::float8 AS tuples, c.relpages::int8 AS pages,
            current_setting('block_size')::int8 AS block_size,
            (SELECT avg(pg_column_size(s.*))::float8 FROM (SELECT * FROM ${
      sourceFrom(info)
    } LIMIT ${SIZE_SAMPLE_ROWS}) s) AS row_bytes
     FROM pg_class c WHERE c.oid = $1::regclass`,
    [qualified(info.schema, info.table)],
  );
  const row = r.rows[0]!;
  const blocks = Number(row.blocks);
  // Rows per block from the statistics, or when they are missing (never
  // analyzed) from the first few blocks; later batches adapt to what they saw.
  let perBlock = Number(row.pages) > 0 && Number(row.tuples) > 0
    ? Number(row.tuples) / Number(row.pages)
    : NaN;
  const sample = Math.min(blocks, SAMPLE_BLOCKS);
  if (!(perBlock > 0) && sample > 0) {
    const counted = await client.query(
      `SELECT count(*)::int8 AS n FROM ${sourceFrom(info)}
       WHERE ctid < '(${sample},0)'::tid`,
    );
    perBlock = Number(counted.rows[0]!.n) / sample;
  }
  const fitting = rowsPerFullBlock(Number(row.block_size), Number(row.row_bytes));
  const densest = Math.max(perBlock > 0 ? perBlock : 0, fitting);
  return {
    horizon,
    filenode: String(row.filenode),
    blocks,
    nextBlock: 0,
    blocksPerBatch: densest > 0
      ? Math.min(blocksFor(batchRows, perBlock), blocksFor(2 * batchRows, densest))
      : blocksFor(batchRows, perBlock),
    recentFrom: String(row.recent_from),
    xmin: String(row.xmin),
    ...(densest > 0 ? { densest } : {}),
  };
}

/** The relation's current file: differs from ScanState.filenode after a rewrite. */
export async function currentFilenode(client: pg.Client, info: TableInfo): Promise<string> {
  const r = await client.query("SELECT pg_relation_filenode($1::regclass)::text AS filenode", [
    qualified(info.schema, info.table),
  ]);
  return String(r.rows[0]!.filenode);
}

/**
 * Copies the rows in blocks [from, to) with a non-null cursor as CSV into
 * `path`, and returns the relation's filenode as seen while the COPY's lock was
 * still held (so no rewrite can slip in between). With `snapshot` (a name
 * from pg_export_snapshot(), whose exporting transaction is still open) the
 * rows are read as of that snapshot, as every other range of the scan is.
 */
export async function copyBlocksToCsv(
  client: pg.Client,
  info: TableInfo,
  range: { from: number; to: number },
  path: string,
  snapshot?: string,
): Promise<CopyResult & { filenode: string }> {
  const select = info.mappings.map((m) => m.pgSelect).join(", ");
  const table = sourceFrom(info);
  await client.query(snapshot ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
  try {
    if (snapshot) await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshot)}`);
    const copied = await copyQueryToCsv(
      client,
      `SELECT ${select} FROM ${table}
       WHERE ctid >= '(${range.from},0)'::tid AND ctid < '(${range.to},0)'::tid
         AND ${quoteIdent(info.keyset.cursor.name)} IS NOT NULL`,
      path,
    );
    const filenode = await currentFilenode(client, info);
    await client.query("COMMIT");
    return { ...copied, filenode };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * Whether the server runs one transaction at a time (the embedded demo's
 * PGlite: a second connection waits while another is inside a transaction),
 * so that a snapshot held open on one connection would block every other.
 */
export async function oneTransactionAtATime(client: pg.Client): Promise<boolean> {
  const r = await client.query("SELECT version() LIKE '%PGlite%' AS serial");
  return r.rows[0]!.serial === true;
}

/**
 * Opens a transaction on `client` and exports its snapshot, for other
 * connections to read block ranges as of one moment; the snapshot lasts until
 * `release` ends that transaction. (While it lasts, VACUUM keeps the row
 * versions it can see, as it would for one long COPY.)
 */
export async function exportSnapshot(
  client: pg.Client,
): Promise<{ snapshot: string; release: () => Promise<void> }> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const r = await client.query("SELECT pg_export_snapshot() AS s");
    return {
      snapshot: String(r.rows[0]!.s),
      release: async () => {
        await client.query("COMMIT");
      },
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * Copies every row version written since the scan began (one more sequential
 * read): an UPDATE that leaves the cursor alone can still move a row from a
 * block not yet read into one already read, and the keyset catch-up, which
 * only looks at newer cursors, would never see it.
 */
export async function copyChangedSinceToCsv(
  client: pg.Client,
  info: TableInfo,
  xmin: string,
  path: string,
): Promise<CopyResult> {
  const select = info.mappings.map((m) => m.pgSelect).join(", ");
  return await copyQueryToCsv(
    client,
    `SELECT ${select} FROM ${sourceFrom(info)}
     WHERE age(xmin) <= age(${quoteLiteral(xmin)}::xid)
       AND ${quoteIdent(info.keyset.cursor.name)} IS NOT NULL`,
    path,
  );
}

/**
 * The last (cursor, key) position whose cursor is before the scan's horizon:
 * the keyset catch-up starts after it. Null when no row is that old.
 */
export async function lastPositionBefore(
  client: pg.Client,
  info: TableInfo,
  horizon: Horizon,
): Promise<Position | null> {
  return await lastPositionWhere(client, info, whereHorizon(info, horizon));
}
