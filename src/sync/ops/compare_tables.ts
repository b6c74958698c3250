// Owns comparing a Postgres table with its DuckDB copy without moving rows:
// both sides compute per-bucket counts and checksums of the same canonical row
// text (buckets are md5 prefixes of the key); only the rows of differing
// buckets are then listed, as hashes, to name the keys that differ. Used by
// verify and by hard-delete reconciliation.

import type pg from "pg";
import type { Config } from "../../core/config.ts";
import { SyncError } from "../../core/errors.ts";
import { type TableDescription } from "../../io/postgres/mod.ts";
import { type Warehouse } from "../../io/duckdb/warehouse.ts";
import { type SyncDecision, type TablePlan } from "../../core/table_plan.ts";
import { type ColumnMapping, isWidening, mapColumn } from "../../core/type_map.ts";
import { afterPredicate, type KeysetColumns } from "../../core/keyset.ts";
import { quoteIdent, sourceFrom } from "../../core/sql.ts";
import {
  type Bucket,
  bucketSql,
  type CompareShape,
  differingBuckets,
  diffRows,
  type HashedRow,
  hashedRows,
  prefixFor,
  rowsInBucketsSql,
  typedBucketSql,
} from "../../core/table_compare.ts";
import type { TargetColumn } from "../../core/drift.ts";
import { comparableByCopy, type CopySource, postgresBucketsByCopy } from "./copy_buckets.ts";

/** Differing buckets whose rows are listed per query. */
const BUCKETS_PER_QUERY = 64;
/** Rows (both sides) listed at most per table and pass; beyond it the verdict is partial. */
const MAX_ROWS_LISTED = 250_000;

/** The rows and columns to compare for one table, on both sides. */
export interface ComparePlan {
  readonly shape: CompareShape;
  /** FROM clause on each side. */
  readonly pgFrom: string;
  readonly duckFrom: string;
  /** Postgres rows that are meant to be in DuckDB. */
  readonly pgWhere: string;
  /**
   * Postgres rows left out of the bucket checksums but still listed (rows with
   * a NULL cursor: never copied, yet their keys exist), so that they do not
   * make every bucket differ.
   */
  readonly pgBucketWhere: string;
  /** DuckDB rows to compare. */
  readonly duckWhere: string;
  /** Postgres expression: true for a row changed after the checkpoint. */
  readonly pendingExpr: string | null;
  /** DuckDB expression: true for a row reconciliation marked deleted. */
  readonly markedExpr: string | null;
  readonly uncompared: readonly string[];
  /**
   * Columns whose DuckDB type cannot hold what Postgres now maps them to (the
   * source changed type and no sync has applied it yet): a repair would fail.
   */
  readonly unrepairable: readonly string[];
  /** Every Postgres column DuckDB has (compared or not): what a repair copies. */
  readonly repairColumns: readonly ColumnMapping[];
  /** Every Postgres column: what a keyless table's repair (a full refresh) copies. */
  readonly allColumns: readonly ColumnMapping[];
  /** The planner's row estimate of the Postgres table, for sizing buckets. */
  readonly expectedRows: number | null;
  /**
   * When set, the bucket pass reads the Postgres rows by COPY and DuckDB
   * hashes both sides (copy_buckets.ts); otherwise each side hashes its own.
   */
  readonly copy?: CopySource;
}

/** Works out which columns can be compared and which Postgres rows count. */
export function comparePlan(
  plan: TablePlan,
  description: TableDescription,
  decision: Exclude<SyncDecision, { kind: "skip" }>,
  target: readonly TargetColumn[],
  config: Config,
  checkpoint: { cursor: string | null; key: readonly string[] | null } | null,
): ComparePlan {
  const mappings = description.columns.map((c) =>
    mapColumn(c, { wideNumeric: config.wideNumeric })
  );
  const targetTypes = new Map(target.map((c) => [c.name, c.duckType]));
  const uncompared: string[] = [];
  const unrepairable: string[] = [];
  const columns: ColumnMapping[] = [];
  for (const m of mappings) {
    const duckType = targetTypes.get(m.name);
    if (duckType === undefined) uncompared.push(`${m.name} (not in DuckDB yet)`);
    else if (
      duckType !== m.duckType && decision.key.includes(m.name) &&
      integerWidening(m.duckType, duckType)
    ) {
      // A narrowed integer key DuckDB keeps wider (the drift rules): the
      // values and their text are the same, so the key is compared as it is
      // (no sync makes the types equal again).
      columns.push({ ...m, duckType });
    } else if (duckType !== m.duckType) {
      const kept = `${m.name} (DuckDB keeps ${duckType}, Postgres maps to ${m.duckType})`;
      uncompared.push(kept);
      if (!isWidening(m.duckType, duckType)) unrepairable.push(kept);
    } else columns.push(m);
  }
  const key = decision.key.map((k) => columns.find((c) => c.name === k));
  if (key.some((k) => !k)) {
    const changed = uncompared.filter((u) => decision.key.some((k) => u.startsWith(`${k} (`)));
    throw new SyncError(
      "SYNC_NEEDED",
      `Cannot compare ${plan.source}: its key ${
        changed.join(", ")
      } changed type in Postgres since the last sync (run sync --once first, which applies the change, then verify)`,
    );
  }
  let pendingExpr: string | null = null;
  // The cursor method copies rows up to its checkpoint's cursor: a row after it
  // (or with a NULL cursor) is not copied yet. Under CDC the copy is the table
  // at the applied position, every row of it, whatever its cursor column.
  const byCursor = decision.kind === "incremental" && config.method !== "cdc";
  if (byCursor) {
    const byName = new Map(description.columns.map((c) => [c.name, c]));
    const keyset: KeysetColumns = {
      cursor: { name: plan.cursorColumn, pgType: byName.get(plan.cursorColumn)!.pgType },
      key: decision.key.map((k) => ({ name: k, pgType: byName.get(k)!.pgType })),
    };
    // A row with a NULL cursor is never copied; one after the checkpoint is
    // not copied yet. Both are in the comparison (so their keys are known to
    // exist) but a difference in them is not an error.
    pendingExpr = checkpoint?.cursor != null && checkpoint.key
      ? `(${quoteIdent(plan.cursorColumn)} IS NULL OR ${
        afterPredicate(keyset, { cursor: checkpoint.cursor, key: checkpoint.key })
      })`
      : "true";
  }
  const soft = plan.softDeleteColumn;
  const markedExpr = config.reconcileDeletesMode === "mark" && soft !== "" &&
      targetTypes.has(soft)
    ? `(${quoteIdent(soft)} IS NOT NULL)`
    : null;
  return {
    shape: { key: key as ColumnMapping[], columns },
    pgFrom: sourceFrom(description),
    duckFrom: quoteIdent(plan.target),
    pgWhere: "true",
    pgBucketWhere: byCursor ? `${quoteIdent(plan.cursorColumn)} IS NOT NULL` : "true",
    duckWhere: "true",
    pendingExpr,
    markedExpr,
    uncompared,
    unrepairable,
    repairColumns: mappings.filter((m) => targetTypes.has(m.name)),
    allColumns: mappings,
    expectedRows: description.estimatedRows,
    copy: { relation: description, dir: config.parquetDir, name: plan.target },
  };
}

export interface ComparisonResult {
  readonly postgresRows: number;
  readonly duckdbRows: number;
  readonly missing: HashedRow[];
  readonly extra: HashedRow[];
  readonly changed: HashedRow[];
  readonly pending: number;
  /** Rows only in DuckDB that reconciliation already marked deleted. */
  readonly marked: number;
  readonly partial: boolean;
}

/** `items` starting at index `start`, wrapping around. */
export function rotate<T>(items: readonly T[], start: number): T[] {
  if (items.length === 0) return [];
  const at = ((start % items.length) + items.length) % items.length;
  return [...items.slice(at), ...items.slice(0, at)];
}

function bucketsOf(rows: Record<string, unknown>[]): Map<string, Bucket> {
  return new Map(rows.map((r) => [String(r.bucket), { n: String(r.n), s: String(r.s) }]));
}

/**
 * Each side's buckets. With `compare.copy` (verify), Postgres only streams its
 * rows and DuckDB hashes both sides' typed values: several times less work for
 * Postgres than hashing each row's text itself (docs/performance.md). If that
 * fails (a value DuckDB cannot parse), or without it (reconciliation, which
 * compares keys only), each side hashes its rows' canonical text, at once.
 */
async function bucketPass(
  client: pg.Client,
  warehouse: Warehouse,
  compare: ComparePlan,
  prefix: number,
  keyOnly: boolean,
  rows: { readonly pg: string; readonly duck: string },
): Promise<{ pgBuckets: Map<string, Bucket>; duckBuckets: Map<string, Bucket> }> {
  if (compare.copy && !keyOnly && comparableByCopy(compare.shape.columns)) {
    try {
      const duckReader = await warehouse.connection.runAndReadAll(
        `SELECT bucket, CAST(n AS VARCHAR) AS n, CAST(s AS VARCHAR) AS s FROM (${
          typedBucketSql(compare.duckFrom, compare.duckWhere, compare.shape, prefix)
        })`,
      );
      const duckBuckets = bucketsOf(duckReader.getRowObjectsJson() as Record<string, unknown>[]);
      const pgBuckets = await postgresBucketsByCopy(
        client,
        warehouse,
        compare,
        prefix,
        compare.copy,
      );
      return { pgBuckets, duckBuckets };
    } catch (error) {
      // A Postgres error (the transaction is aborted), a lost connection or a
      // full disk ends the comparison; DuckDB unable to read a value does not.
      if (error instanceof SyncError || typeof (error as { code?: unknown }).code === "string") {
        throw error;
      }
    }
  }
  // Both sides work at once (each on its own core).
  const [pgResult, duckResult] = await Promise.all([
    client.query(bucketSql("pg", rows.pg, prefix)),
    warehouse.connection.runAndReadAll(bucketSql("duck", rows.duck, prefix)),
  ]);
  return {
    pgBuckets: bucketsOf(pgResult.rows),
    duckBuckets: bucketsOf(duckResult.getRowObjectsJson() as Record<string, unknown>[]),
  };
}

/**
 * Compares one table. The Postgres side reads in one REPEATABLE READ snapshot;
 * the caller holds the DuckDB file, so no sync writes to it meanwhile.
 */
export async function compareTable(
  client: pg.Client,
  warehouse: Warehouse,
  compare: ComparePlan,
  keyOnly = false,
): Promise<ComparisonResult> {
  const { shape } = compare;
  const duckCount = Number(
    (await warehouse.connection.runAndReadAll(`SELECT count(*) FROM ${compare.duckFrom}`))
      .getRowsJson()[0]?.[0] ?? 0,
  );
  // Buckets sized for the larger side, so that one chunk stays small even when
  // DuckDB holds far fewer rows than Postgres (an interrupted bootstrap).
  const prefix = prefixFor(Math.max(duckCount, compare.expectedRows ?? 0));
  const pendingColumn = compare.pendingExpr ? `, ${compare.pendingExpr} AS pending` : "";
  const pgRows = hashedRows("pg", compare.pgFrom, compare.pgWhere, shape, keyOnly, pendingColumn);
  const pgBucketRows = hashedRows(
    "pg",
    compare.pgFrom,
    `(${compare.pgWhere}) AND (${compare.pgBucketWhere})`,
    shape,
    keyOnly,
  );
  const markedColumn = compare.markedExpr ? `, ${compare.markedExpr} AS marked` : "";
  const duckRows = hashedRows(
    "duck",
    compare.duckFrom,
    compare.duckWhere,
    shape,
    keyOnly,
    markedColumn,
  );
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const { pgBuckets, duckBuckets } = await bucketPass(
      client,
      warehouse,
      compare,
      prefix,
      keyOnly,
      { pg: pgBucketRows, duck: duckRows },
    );
    const total = (b: Map<string, Bucket>) => [...b.values()].reduce((n, x) => n + Number(x.n), 0);
    const differing = differingBuckets(pgBuckets, duckBuckets);
    const diff = {
      missing: [] as HashedRow[],
      extra: [] as HashedRow[],
      changed: [] as HashedRow[],
    };
    let pending = 0;
    let marked = 0;
    let examined = 0;
    let listedRows = 0;
    // Differing buckets are listed a chunk at a time (changes since the last
    // sync make buckets differ too), until the row budget is spent.
    // Start at a random bucket: buckets that differ for good reasons (changes
    // since the last sync, rows marked deleted) must not take the whole row
    // budget run after run, or the rest would never be listed.
    const order = rotate(differing, Math.floor(Math.random() * differing.length));
    while (examined < order.length && listedRows < MAX_ROWS_LISTED) {
      const chunk = order.slice(examined, examined + BUCKETS_PER_QUERY);
      examined += chunk.length;
      const [pgChunk, duckChunk] = await Promise.all([
        client.query(rowsInBucketsSql(pgRows, chunk, prefix)),
        warehouse.connection.runAndReadAll(rowsInBucketsSql(duckRows, chunk, prefix)),
      ]);
      const pgList = pgChunk.rows.map((r: Record<string, unknown>) => ({
        kh: String(r.kh),
        rh: String(r.rh),
        label: String(r.label),
        pending: r.pending === true,
      }));
      const duckList = duckChunk.getRowObjectsJson().map((r: Record<string, unknown>) => ({
        kh: String(r.kh),
        rh: String(r.rh),
        label: String(r.label),
        marked: r.marked === true,
      }));
      listedRows += pgList.length + duckList.length;
      const rows = diffRows(pgList, duckList);
      const extra = rows.extra.filter((r) => !r.marked);
      diff.missing.push(...rows.missing);
      diff.changed.push(...rows.changed);
      diff.extra.push(...extra);
      pending += rows.pending.length;
      marked += rows.extra.length - extra.length;
    }
    return {
      postgresRows: total(pgBuckets),
      duckdbRows: total(duckBuckets),
      ...diff,
      pending,
      marked,
      partial: examined < differing.length,
    };
  } finally {
    await client.query("COMMIT").catch(() => {});
  }
}

const INTEGER_WIDTHS = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"];

/** Whether an integer column of type `from` is held by the wider integer type `to`. */
function integerWidening(from: string, to: string): boolean {
  const a = INTEGER_WIDTHS.indexOf(from);
  const b = INTEGER_WIDTHS.indexOf(to);
  return a >= 0 && b > a;
}
