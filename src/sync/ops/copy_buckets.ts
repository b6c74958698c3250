// Owns the Postgres side of verify's bucket pass read the way a sync reads
// rows: Postgres streams the compared columns by COPY, an ordinary table in
// block ranges of about 250,000 rows, all inside the caller's REPEATABLE READ
// transaction (one snapshot); DuckDB parses each range as a batch is parsed and
// adds up its per-bucket counts and row hashes (core/table_compare.ts,
// typedBucketSql). So Postgres does no more work than a COPY, and the hashing
// runs in DuckDB, on its threads. The next range is read while DuckDB counts
// one; each range's file is removed once counted, so disk and memory stay at
// about two ranges.

import type pg from "pg";
import { qualified, quoteIdent } from "../../core/sql.ts";
import { type Bucket, type CompareShape, typedBucketSql } from "../../core/table_compare.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import { fileSafe, partialPath } from "../../io/state/batch_files.ts";
import { copyQueryToCsv } from "../../io/postgres/mod.ts";
import { readCsvSql, selectAsFromParquet, withLineSize } from "../../io/duckdb/parquet_batch.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";

/** Rows per range read by one COPY (by the planner's rows per block). */
const RANGE_ROWS = 250_000;

/** The rows compared (a ComparePlan is one). */
export interface ComparedRows {
  readonly shape: CompareShape;
  /** FROM clause in Postgres, the rows counted, and those among them that go in buckets. */
  readonly pgFrom: string;
  readonly pgWhere: string;
  readonly pgBucketWhere: string;
}

/** Where and what verify reads by COPY. */
export interface CopySource {
  /**
   * The Postgres relation; an ordinary heap table is read by block ranges
   * (on PostgreSQL 14 and later, which can scan a range alone).
   */
  readonly relation: {
    readonly schema: string;
    readonly table: string;
    readonly kind?: string;
    readonly accessMethod?: string;
  };
  /** The directory the ranges' CSV files are written to while they are counted. */
  readonly dir: string;
  /** Names the files (the DuckDB table). */
  readonly name: string;
}

/**
 * Whether rows of `columns` can be compared this way: every value parsed from
 * the CSV is what a batch file brings (see selectAsFromParquet).
 */
export function comparableByCopy(columns: readonly ColumnMapping[]): boolean {
  return selectAsFromParquet(columns) !== null;
}

/**
 * The Postgres rows' buckets as typedBucketSql counts them, each count and
 * sum as text. Runs inside the caller's transaction on `client`.
 */
export async function postgresBucketsByCopy(
  client: pg.Client,
  warehouse: Warehouse,
  compare: ComparedRows,
  prefix: number,
  source: CopySource,
): Promise<Map<string, Bucket>> {
  const columns = compare.shape.columns;
  const ranges = await blockRanges(client, source.relation);
  const select = columns.map((m) => m.pgSelect).join(", ");
  const where = `(${compare.pgWhere}) AND (${compare.pgBucketWhere})`;
  const sums = quoteIdent(`verify_${crypto.randomUUID().slice(0, 8)}`);
  const files = new Set<string>();
  const read = (i: number) => {
    const range = ranges[i]!;
    const path = partialPath(source.dir, `${fileSafe(source.name)}__verify-${i + 1}.csv`);
    files.add(path);
    const inRange = range
      ? `ctid >= '(${range.from},0)'::tid AND ctid < '(${range.to},0)'::tid AND `
      : "";
    const copied = copyQueryToCsv(
      client,
      `SELECT ${select} FROM ${compare.pgFrom} WHERE ${inRange}${where}`,
      path,
    ).then(() => path);
    copied.catch(() => {}); // surfaced when awaited
    return copied;
  };
  await warehouse.run(`CREATE TEMP TABLE ${sums} (bucket VARCHAR, n HUGEINT, s HUGEINT)`);
  let ahead: Promise<string> | null = null;
  try {
    ahead = ranges.length > 0 ? read(0) : null;
    for (let i = 0; ahead; i++) {
      const path = await ahead;
      ahead = i + 1 < ranges.length ? read(i + 1) : null;
      await countRange(warehouse, sums, path, columns, compare, prefix);
      await Deno.remove(path).catch(() => {});
      files.delete(path);
    }
    const reader = await warehouse.connection.runAndReadAll(
      `SELECT bucket, CAST(sum(n) AS VARCHAR) AS n, CAST(sum(s) AS VARCHAR) AS s
       FROM ${sums} GROUP BY bucket`,
    );
    return new Map(
      reader.getRowsJson().map((r) => [String(r[0]), { n: String(r[1]), s: String(r[2]) }]),
    );
  } finally {
    // A range still being read holds the connection and writes its file.
    await ahead?.catch(() => {});
    await warehouse.run(`DROP TABLE IF EXISTS ${sums}`).catch(() => {});
    for (const path of files) await Deno.remove(path).catch(() => {});
  }
}

/** Adds one range's rows, parsed as a batch is, into `sums`. */
async function countRange(
  warehouse: Warehouse,
  sums: string,
  path: string,
  columns: readonly ColumnMapping[],
  compare: ComparedRows,
  prefix: number,
): Promise<void> {
  const size = (await Deno.stat(path)).size;
  if (size === 0) return;
  // Each value as a batch file would bring it, cast to the type DuckDB holds
  // it as, so that both sides hash alike.
  const parsed = selectAsFromParquet(columns)!;
  const typed = columns.map((c) =>
    `CAST(${quoteIdent(c.name)} AS ${c.duckType}) AS ${quoteIdent(c.name)}`
  ).join(", ");
  // Folded into the sums so far at once: the table stays at one row a bucket.
  await withLineSize(size, (lineSize) =>
    warehouse.run(
      `CREATE OR REPLACE TEMP TABLE ${sums} AS
       SELECT bucket, sum(n) AS n, sum(s) AS s FROM (
         SELECT * FROM ${sums} UNION ALL ${
        typedBucketSql(
          `(SELECT ${typed} FROM (SELECT ${parsed} FROM ${readCsvSql(path, columns, lineSize)}))`,
          "true",
          compare.shape,
          prefix,
        )
      }) GROUP BY bucket`,
    ));
}

/**
 * An ordinary table's block ranges of about RANGE_ROWS rows, as of the
 * transaction's snapshot (a row it sees lies below the size read in it);
 * [null] (one read of everything) for any other relation.
 */
async function blockRanges(
  client: pg.Client,
  relation: CopySource["relation"],
): Promise<({ from: number; to: number } | null)[]> {
  if (relation.kind !== "r" || (relation.accessMethod ?? "heap") !== "heap") return [null];
  const r = await client.query(
    `SELECT current_setting('server_version_num')::int AS version,
            (pg_relation_size(c.oid) / current_setting('block_size')::int8)::int8 AS blocks,
            c.reltuples::float8 AS tuples, c.relpages::int8 AS pages
     FROM pg_class c WHERE c.oid = $1::regclass`,
    [qualified(relation.schema, relation.table)],
  );
  if (Number(r.rows[0]!.version) < 140000) return [null];
  const blocks = Number(r.rows[0]!.blocks);
  const tuples = Number(r.rows[0]!.tuples);
  const pages = Number(r.rows[0]!.pages);
  const perBlock = tuples > 0 && pages > 0 ? tuples / pages : 100;
  const step = Math.max(1, Math.ceil(RANGE_ROWS / perBlock));
  const ranges: { from: number; to: number }[] = [];
  for (let from = 0; from < blocks; from += step) {
    ranges.push({ from, to: Math.min(blocks, from + step) });
  }
  return ranges;
}
