// Owns `verify` (and `verify --repair`): for every configured table, Postgres
// and DuckDB each compute per-bucket counts and checksums of the same canonical
// row text (buckets are md5 prefixes of the key); only the rows of differing
// buckets are then listed, as hashes, to name the keys that differ. Rows never
// travel whole; repair re-copies just the differing keys.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import { errorMessage, SyncError } from "../core/errors.ts";
import { classifyError } from "../core/classify_error.ts";
import { CheckpointStore } from "../io/checkpoint.ts";
import {
  connectPg,
  copyQueryToCsv,
  describeTable,
  listRelations,
  shapeOf,
  type TableDescription,
} from "../io/postgres.ts";
import { type Warehouse, WarehouseFile } from "../io/warehouse.ts";
import { decideSync, planTables, type SyncDecision, type TablePlan } from "../core/table_plan.ts";
import { type ColumnMapping, mapColumn } from "../core/type_map.ts";
import { afterPredicate, type KeysetColumns } from "../core/keyset.ts";
import { quoteIdent, sourceFrom } from "../core/sql.ts";
import {
  type Bucket,
  bucketSql,
  type CompareShape,
  differingBuckets,
  diffRows,
  type HashedRow,
  hashedRows,
  keyHashIn,
  prefixFor,
  rowsInBucketsSql,
} from "../core/table_compare.ts";
import { BatchConverter } from "../io/parquet_batch.ts";
import { withScratchFiles } from "../io/batch_files.ts";
import type { TargetColumn } from "../core/drift.ts";
import { count } from "../core/counts.ts";
import { refuseOtherSource } from "./table_guards.ts";
import { fenceReplay } from "./replay.ts";

/** Differing buckets whose rows are listed per query. */
const BUCKETS_PER_QUERY = 64;
/** Rows (both sides) listed at most per table and pass; beyond it the verdict is partial. */
const MAX_ROWS_LISTED = 250_000;
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
  /** Rows changed in Postgres after the checkpoint (or with a NULL cursor): not differences yet. */
  readonly pending: number;
  /** Rows gone from Postgres that reconciliation marked deleted in DuckDB (RECONCILE_DELETES_MODE=mark). */
  readonly markedDeleted: number;
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
  /** Every Postgres column DuckDB has (compared or not): what a repair copies. */
  readonly repairColumns: readonly ColumnMapping[];
  /** Every Postgres column: what a keyless table's repair (a full refresh) copies. */
  readonly allColumns: readonly ColumnMapping[];
  /** The planner's row estimate of the Postgres table, for sizing buckets. */
  readonly expectedRows: number | null;
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
  let pendingExpr: string | null = null;
  if (decision.kind === "incremental") {
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
    pgBucketWhere: decision.kind === "incremental"
      ? `${quoteIdent(plan.cursorColumn)} IS NOT NULL`
      : "true",
    duckWhere: "true",
    pendingExpr,
    markedExpr,
    uncompared,
    repairColumns: mappings.filter((m) => targetTypes.has(m.name)),
    allColumns: mappings,
    expectedRows: description.estimatedRows,
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
    // Both sides work at once (each on its own core).
    const [pgResult, duckResult] = await Promise.all([
      client.query(bucketSql("pg", pgBucketRows, prefix)),
      warehouse.connection.runAndReadAll(bucketSql("duck", duckRows, prefix)),
    ]);
    const pgBuckets = bucketsOf(pgResult.rows);
    const duckBuckets = bucketsOf(duckResult.getRowObjectsJson() as Record<string, unknown>[]);
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
  const file = new WarehouseFile(config.duckdbPath, config.duckdbMemoryLimit);
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
      const verdict = await verifyOne(client, warehouse, store, plan, options).catch((error) => {
        // A Postgres refusal (SQLSTATE) gets the same code and advice as in sync.
        const failure = typeof (error as { code?: unknown }).code === "string" &&
            /^[0-9A-Z]{5}$/.test((error as { code: string }).code)
          ? classifyError(error, {
            settings: config,
            secrets: options.secrets,
            source: plan.source,
            from: "postgres",
          })
          : error;
        // The one table asked for is not there, or cannot be read whole: the
        // same error (and exit 2) as sync.
        if (
          !config.multiTable && failure instanceof SyncError &&
          ["TABLE_MISSING", "SOURCE_CHANGED", "PG_ROW_SECURITY"].includes(failure.code)
        ) {
          throw failure;
        }
        const message = errorMessage(failure).split("\n")[0] ?? "";
        return blank(
          plan,
          "error",
          failure instanceof SyncError ? `${failure.code}: ${message}` : message,
        );
      });
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
    markedDeleted: 0,
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
  // Comparing (let alone repairing) a copy against another database than the
  // one it was made from would report, or write, the other database's rows.
  refuseOtherSource(
    options.config,
    plan.target,
    checkpoint?.origin,
    `verify compares a copy only with its own source (configure ${checkpoint?.origin}, or use another STATE_DIR and DUCKDB_PATH for this source)`,
  );
  const target = await warehouse.columns(plan.target);
  if (checkpoint && checkpoint.rowsCopied > 0 && !target) {
    return blank(
      plan,
      "not_synced",
      `its DuckDB table is missing from ${options.config.duckdbPath} although the checkpoint says ${
        count(checkpoint.rowsCopied, "row")
      } were copied (restore the file, or run \`reset --yes\` to copy it again)`,
    );
  }
  if (!checkpoint && target) {
    const owner = await warehouse.owner(plan.target);
    if (owner && owner.stateId !== store?.stateId()) {
      return blank(
        plan,
        "not_synced",
        `${options.config.stateDir} has no checkpoint for it: its DuckDB table belongs to another STATE_DIR (its copy of ${owner.origin}); verify with that STATE_DIR`,
      );
    }
  }
  if (!checkpoint || !target) {
    return blank(plan, "not_synced", "run sync --once first");
  }
  if (
    decision.kind === "incremental" && checkpoint.cursor === null &&
    checkpoint.mode !== "incremental"
  ) {
    // Nothing is settled yet: every row would count as "not copied yet".
    return blank(
      plan,
      "not_synced",
      checkpoint.mode === "full_refresh"
        ? "it was copied by full refresh and now syncs incrementally: run sync --once first"
        : checkpoint.rowsCopied > 0
        ? `its first copy is not finished (${
          count(checkpoint.rowsCopied, "row")
        } copied so far): run sync to finish it`
        : "no batch of it has been checkpointed yet (run sync --once)",
    );
  }
  const compare = comparePlan(plan, description, decision, target, options.config, checkpoint);
  let result = await compareTable(client, warehouse, compare);
  let repaired = 0;
  if (options.repair && differs(result)) {
    // Rows re-copied or removed without a newer cursor: older batch files
    // must not be replayed over them.
    if (store) await fenceReplay(store, options.config.parquetDir, plan.target);
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
    markedDeleted: result.marked,
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
  await Deno.mkdir(config.parquetDir, { recursive: true });
  const converter = await BatchConverter.create();
  try {
    return await withScratchFiles(
      config.parquetDir,
      `${plan.target}__repair`,
      async (csv, parquet) => {
        if (shape.key.length === 0) {
          // No key to re-copy rows by: the table is refreshed whole.
          const copied = await copyQueryToCsv(
            client,
            `SELECT ${compare.allColumns.map((m) => m.pgSelect).join(", ")} FROM ${compare.pgFrom}`,
            csv,
          );
          await converter.csvToParquet(csv, parquet, compare.allColumns, plan);
          await warehouse.replaceFromParquet(plan.target, parquet, compare.allColumns, []);
          return copied.rows;
        }
        const recopy = [...result.missing, ...result.changed];
        const remove = result.extra;
        // Every column DuckDB has from Postgres is re-copied (also those left
        // out of the comparison); columns only DuckDB has keep their values.
        const columns = compare.repairColumns;
        const keyNames = shape.key.map((k) => k.name);
        const names = columns.map((c) => quoteIdent(c.name)).join(", ");
        const source = `read_parquet('${parquet.replaceAll("'", "''")}')`;
        const on = keyNames.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
        const set = columns.filter((c) => !keyNames.includes(c.name))
          .map((c) => `${quoteIdent(c.name)} = s.${quoteIdent(c.name)}`).join(", ");
        if (recopy.length > 0) {
          const select = columns.map((m) => m.pgSelect).join(", ");
          await copyQueryToCsv(
            client,
            `SELECT ${select} FROM ${compare.pgFrom} WHERE ${keyHashIn("pg", shape.key, recopy)}`,
            csv,
          );
          await converter.csvToParquet(csv, parquet, columns, plan);
        }
        await warehouse.transaction(async () => {
          if (remove.length > 0) {
            await warehouse.run(
              `DELETE FROM ${compare.duckFrom} WHERE ${keyHashIn("duck", shape.key, remove)}`,
            );
          }
          if (recopy.length > 0) {
            if (set) {
              await warehouse.run(
                `UPDATE ${compare.duckFrom} AS t SET ${set} FROM ${source} AS s WHERE ${on}`,
              );
            }
            await warehouse.run(
              `INSERT INTO ${compare.duckFrom} (${names}) SELECT ${names} FROM ${source} AS s
               WHERE NOT EXISTS (SELECT 1 FROM ${compare.duckFrom} AS t WHERE ${on})`,
            );
          }
        });
        return new Set([...recopy, ...remove].map((r) => r.kh)).size;
      },
    );
  } finally {
    converter.close();
  }
}

/** One line per table for people. */
export function formatVerdict(v: TableVerdict): string {
  const rows = (n: number | null) => (n === null ? "?" : n.toLocaleString("en-US"));
  const keys = (list: readonly string[]) =>
    list.every((k) => k === "")
      ? "(no key to name them)"
      : `[${list.slice(0, KEYS_SHOWN).join("; ")}${list.length > KEYS_SHOWN ? "; …" : ""}]`;
  const notes: string[] = [];
  if (v.pending > 0) {
    notes.push(
      `${
        count(v.pending, "row")
      } changed since the last sync (or with a NULL cursor), not compared`,
    );
  }
  if (v.markedDeleted > 0) {
    notes.push(`${count(v.markedDeleted, "row")} gone from Postgres and marked deleted in DuckDB`);
  }
  if (v.uncompared.length > 0) notes.push(`columns not compared: ${v.uncompared.join(", ")}`);
  if (v.repaired > 0) notes.push(`repaired ${count(v.repaired, "row")}`);
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
