// Owns `verify` (and `verify --repair`): for every configured table, Postgres
// and DuckDB each compute per-bucket counts and checksums of the same canonical
// row text (buckets are md5 prefixes of the key); only the rows of differing
// buckets are then listed, as hashes, to name the keys that differ. Rows never
// travel whole; repair re-copies just the differing keys.

import type pg from "pg";
import type { Config } from "./config.ts";
import { errorMessage, SyncError } from "./errors.ts";
import { CheckpointStore } from "./checkpoint.ts";
import {
  connectPg,
  copyQueryToCsv,
  copyTableToCsv,
  describeTable,
  listRelations,
  shapeOf,
  type TableDescription,
} from "./pg_source.ts";
import { type Warehouse, WarehouseFile } from "./duckdb_target.ts";
import { decideSync, planTables, type SyncDecision, type TablePlan } from "./table_plan.ts";
import { type ColumnMapping, mapColumn } from "./type_map.ts";
import { afterPredicate, type KeysetColumns } from "./keyset.ts";
import { qualified, quoteIdent } from "./sql.ts";
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
  rowText,
} from "./table_compare.ts";
import { BatchConverter } from "./parquet_batch.ts";
import { partialPath } from "./batch_files.ts";
import type { TargetColumn } from "./drift.ts";

/** Buckets whose rows are listed at most, per table and pass. */
const MAX_BUCKETS_LISTED = 64;
/** Keys named per kind of difference in the text output. */
export const KEYS_SHOWN = 10;

export type VerifyStatus = "equal" | "differs" | "not_synced" | "skipped" | "error";

export interface TableVerdict {
  readonly table: string;
  readonly source: string;
  readonly status: VerifyStatus;
  readonly postgresRows: number | null;
  readonly duckdbRows: number | null;
  /** Keys (as "col=value") in Postgres but not in DuckDB. */
  readonly missing: readonly string[];
  /** Keys only in DuckDB (deleted in Postgres). */
  readonly extra: readonly string[];
  /** Keys whose values differ. */
  readonly changed: readonly string[];
  /** Rows changed in Postgres after the checkpoint: not differences yet. */
  readonly pending: number;
  /** More buckets differed than were listed: the key lists are partial. */
  readonly partial: boolean;
  /** Columns left out of the comparison, with why. */
  readonly uncompared: readonly string[];
  /** Rows re-copied or removed by --repair. */
  readonly repaired: number;
  readonly message: string | null;
}

/** The rows and columns to compare for one table, on both sides. */
export interface ComparePlan {
  readonly shape: CompareShape;
  /** FROM clause on each side. */
  readonly pgFrom: string;
  readonly duckFrom: string;
  /** Postgres rows that are meant to be in DuckDB. */
  readonly pgWhere: string;
  /** Postgres expression: true for a row changed after the checkpoint. */
  readonly pendingExpr: string | null;
  readonly uncompared: readonly string[];
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
  const columns: ColumnMapping[] = [];
  for (const m of mappings) {
    const duckType = targetTypes.get(m.name);
    if (duckType === undefined) uncompared.push(`${m.name} (not in DuckDB yet)`);
    else if (duckType !== m.duckType) {
      uncompared.push(`${m.name} (DuckDB keeps ${duckType}, Postgres maps to ${m.duckType})`);
    } else columns.push(m);
  }
  const key = decision.key.map((k) => columns.find((c) => c.name === k));
  if (key.some((k) => !k)) {
    throw new SyncError(
      "DUCKDB_ERROR",
      `Cannot compare ${plan.source}: its key columns differ in type between Postgres and DuckDB`,
    );
  }
  let pgWhere = "true";
  let pendingExpr: string | null = null;
  if (decision.kind === "incremental") {
    const byName = new Map(description.columns.map((c) => [c.name, c]));
    const keyset: KeysetColumns = {
      cursor: { name: plan.cursorColumn, pgType: byName.get(plan.cursorColumn)!.pgType },
      key: decision.key.map((k) => ({ name: k, pgType: byName.get(k)!.pgType })),
    };
    pgWhere = `${quoteIdent(plan.cursorColumn)} IS NOT NULL`;
    pendingExpr = checkpoint?.cursor != null && checkpoint.key
      ? `(${afterPredicate(keyset, { cursor: checkpoint.cursor, key: checkpoint.key })})`
      : "true";
  }
  return {
    shape: { key: key as ColumnMapping[], columns },
    pgFrom: qualified(plan.schema, plan.table),
    duckFrom: quoteIdent(plan.target),
    pgWhere,
    pendingExpr,
    uncompared,
  };
}

export interface ComparisonResult {
  readonly postgresRows: number;
  readonly duckdbRows: number;
  readonly missing: HashedRow[];
  readonly extra: HashedRow[];
  readonly changed: HashedRow[];
  readonly pending: number;
  readonly partial: boolean;
}

function bucketsOf(rows: Record<string, unknown>[]): Map<string, Bucket> {
  return new Map(rows.map((r) => [String(r.bucket), { n: String(r.n), s: String(r.s) }]));
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
  const prefix = prefixFor(duckCount);
  const pendingColumn = compare.pendingExpr ? `, ${compare.pendingExpr} AS pending` : "";
  const pgRows = hashedRows("pg", compare.pgFrom, compare.pgWhere, shape, keyOnly, pendingColumn);
  const duckRows = hashedRows("duck", compare.duckFrom, "true", shape, keyOnly);
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const pgBuckets = bucketsOf((await client.query(bucketSql("pg", pgRows, prefix))).rows);
    const duckBuckets = bucketsOf(
      (await warehouse.connection.runAndReadAll(bucketSql("duck", duckRows, prefix)))
        .getRowObjectsJson() as Record<string, unknown>[],
    );
    const total = (b: Map<string, Bucket>) => [...b.values()].reduce((n, x) => n + Number(x.n), 0);
    const differing = differingBuckets(pgBuckets, duckBuckets);
    const listed = differing.slice(0, MAX_BUCKETS_LISTED);
    let diff = { missing: [] as HashedRow[], extra: [] as HashedRow[], changed: [] as HashedRow[] };
    let pending = 0;
    if (listed.length > 0) {
      const pgList = (await client.query(rowsInBucketsSql(pgRows, listed, prefix))).rows.map((
        r: Record<string, unknown>,
      ) => ({
        kh: String(r.kh),
        rh: String(r.rh),
        label: String(r.label),
        pending: r.pending === true,
      }));
      const duckList = (await warehouse.connection.runAndReadAll(
        rowsInBucketsSql(duckRows, listed, prefix),
      )).getRowObjectsJson().map((r) => ({
        kh: String(r.kh),
        rh: String(r.rh),
        label: String(r.label),
      }));
      const rows = diffRows(pgList, duckList);
      diff = rows;
      pending = rows.pending.length;
    }
    return {
      postgresRows: total(pgBuckets),
      duckdbRows: total(duckBuckets),
      ...diff,
      pending,
      partial: differing.length > listed.length,
    };
  } finally {
    await client.query("COMMIT").catch(() => {});
  }
}

export interface VerifyOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly repair: boolean;
  /** Called once per table as soon as it is done. */
  readonly onTable?: (verdict: TableVerdict) => void;
}

/** Verifies (and with `repair`, fixes) every configured table. */
export async function verifyTables(options: VerifyOptions): Promise<TableVerdict[]> {
  const { config } = options;
  try {
    await Deno.stat(config.duckdbPath);
  } catch {
    throw new SyncError(
      "TARGET_MISSING",
      `No DuckDB file at ${config.duckdbPath} yet (run \`sync --once\` first, or set DUCKDB_PATH)`,
    );
  }
  const client = await connectPg(config, [...options.secrets]);
  const store = CheckpointStore.openExisting(config.stateDir);
  const file = new WarehouseFile(config.duckdbPath);
  let warehouse: Warehouse | null = null;
  const verdicts: TableVerdict[] = [];
  try {
    warehouse = await file.acquire({
      readOnly: !options.repair,
      lockWaitSeconds: config.lockWaitSeconds,
    });
    const schemas = [...new Set(config.tables.map((t) => t.schema))];
    const { plans } = planTables(config, await listRelations(client, schemas));
    for (const plan of plans) {
      const verdict = await verifyOne(client, warehouse, store, plan, options).catch((error) =>
        blank(plan, "error", errorMessage(error).split("\n")[0] ?? "")
      );
      verdicts.push(verdict);
      options.onTable?.(verdict);
    }
  } finally {
    warehouse?.close();
    store?.close();
    await client.end().catch(() => {});
  }
  return verdicts;
}

function blank(plan: TablePlan, status: VerifyStatus, message: string | null): TableVerdict {
  return {
    table: plan.target,
    source: plan.source,
    status,
    postgresRows: null,
    duckdbRows: null,
    missing: [],
    extra: [],
    changed: [],
    pending: 0,
    partial: false,
    uncompared: [],
    repaired: 0,
    message,
  };
}

async function verifyOne(
  client: pg.Client,
  warehouse: Warehouse,
  store: CheckpointStore | null,
  plan: TablePlan,
  options: VerifyOptions,
): Promise<TableVerdict> {
  const description = await describeTable(client, plan, options.config.pg.database);
  const decision = decideSync(plan, shapeOf(description));
  if (decision.kind === "skip") return blank(plan, "skipped", decision.reason);
  const checkpoint = store?.get(plan.target) ?? null;
  const target = await warehouse.columns(plan.target);
  if (!checkpoint || !target) {
    return blank(plan, "not_synced", "not synced yet (run sync --once)");
  }
  const compare = comparePlan(plan, description, decision, target, options.config, checkpoint);
  let result = await compareTable(client, warehouse, compare);
  let repaired = 0;
  if (options.repair && differs(result)) {
    repaired = await repairTable(client, warehouse, plan, compare, result, options.config);
    result = await compareTable(client, warehouse, compare);
  }
  const labels = (rows: readonly HashedRow[]) => rows.map((r) => r.label).sort();
  return {
    table: plan.target,
    source: plan.source,
    status: differs(result) ? "differs" : "equal",
    postgresRows: result.postgresRows,
    duckdbRows: result.duckdbRows,
    missing: labels(result.missing),
    extra: labels(result.extra),
    changed: labels(result.changed),
    pending: result.pending,
    partial: result.partial,
    uncompared: compare.uncompared,
    repaired,
    message: null,
  };
}

function differs(r: ComparisonResult): boolean {
  return r.missing.length + r.extra.length + r.changed.length > 0 || r.partial;
}

/**
 * Re-copies the differing rows from Postgres and removes the rows Postgres no
 * longer has, in one DuckDB transaction. A keyless table is replaced whole.
 */
async function repairTable(
  client: pg.Client,
  warehouse: Warehouse,
  plan: TablePlan,
  compare: ComparePlan,
  result: ComparisonResult,
  config: Config,
): Promise<number> {
  const { shape } = compare;
  const converter = await BatchConverter.create();
  const csv = partialPath(config.parquetDir, `${plan.target}__repair.csv`);
  const parquet = partialPath(config.parquetDir, `${plan.target}__repair.parquet`);
  await Deno.mkdir(config.parquetDir, { recursive: true });
  try {
    if (shape.key.length === 0) {
      const copied = await copyTableToCsv(client, plan.schema, plan.table, shape.columns, csv);
      await converter.csvToParquet(csv, parquet, shape.columns);
      await warehouse.replaceFromParquet(plan.target, parquet, shape.columns, []);
      return copied.rows;
    }
    const hashes = (rows: readonly HashedRow[]) =>
      rows.map((r) => `'${r.kh.replace(/[^0-9a-f]/g, "")}'`);
    const recopy = hashes([...result.missing, ...result.changed]);
    const remove = hashes([...result.extra, ...result.changed]);
    const names = shape.columns.map((c) => quoteIdent(c.name)).join(", ");
    if (recopy.length > 0) {
      const select = shape.columns.map((m) => m.pgSelect).join(", ");
      await copyQueryToCsv(
        client,
        `SELECT ${select} FROM ${compare.pgFrom} WHERE md5(${rowText("pg", shape.key)}) IN (${
          recopy.join(", ")
        })`,
        csv,
      );
      await converter.csvToParquet(csv, parquet, shape.columns);
    }
    await warehouse.run("BEGIN TRANSACTION");
    try {
      if (remove.length > 0) {
        await warehouse.run(
          `DELETE FROM ${compare.duckFrom} WHERE md5(${rowText("duck", shape.key)}) IN (${
            remove.join(", ")
          })`,
        );
      }
      if (recopy.length > 0) {
        await warehouse.run(
          `INSERT OR REPLACE INTO ${compare.duckFrom} (${names}) SELECT ${names} FROM read_parquet('${
            parquet.replaceAll("'", "''")
          }')`,
        );
      }
      await warehouse.run("COMMIT");
    } catch (error) {
      await warehouse.run("ROLLBACK").catch(() => {});
      throw error;
    }
    return new Set([...recopy, ...remove]).size;
  } finally {
    converter.close();
    await Deno.remove(csv).catch(() => {});
    await Deno.remove(parquet).catch(() => {});
  }
}

/** One line per table for people. */
export function formatVerdict(v: TableVerdict): string {
  const rows = (n: number | null) => (n === null ? "?" : n.toLocaleString("en-US"));
  const keys = (list: readonly string[]) =>
    `[${list.slice(0, KEYS_SHOWN).join("; ")}${list.length > KEYS_SHOWN ? "; …" : ""}]`;
  const notes: string[] = [];
  if (v.pending > 0) notes.push(`${v.pending} row(s) changed since the last sync, not compared`);
  if (v.uncompared.length > 0) notes.push(`columns not compared: ${v.uncompared.join(", ")}`);
  if (v.repaired > 0) notes.push(`repaired ${v.repaired} row(s)`);
  const tail = notes.length > 0 ? ` (${notes.join("; ")})` : "";
  switch (v.status) {
    case "equal":
      return `${v.table}: equal, ${rows(v.postgresRows)} rows${tail}`;
    case "differs": {
      const parts: string[] = [];
      if (v.missing.length > 0) {
        parts.push(`${v.missing.length} missing in DuckDB ${keys(v.missing)}`);
      }
      if (v.changed.length > 0) {
        parts.push(`${v.changed.length} with other values ${keys(v.changed)}`);
      }
      if (v.extra.length > 0) {
        parts.push(`${v.extra.length} only in DuckDB (gone from Postgres) ${keys(v.extra)}`);
      }
      if (v.partial) {
        parts.push("more differences in buckets not listed (run again after --repair)");
      }
      return `${v.table}: DIFFERS: Postgres ${rows(v.postgresRows)} rows, DuckDB ${
        rows(v.duckdbRows)
      }; ${parts.join("; ")}${tail}`;
    }
    default:
      return `${v.table}: ${v.status.replace("_", " ")}${v.message ? `: ${v.message}` : ""}`;
  }
}
