// Owns `verify` (and `verify --repair`): for every selected table, a verdict
// from comparing it with its DuckDB copy (compare_tables.ts: rows never travel
// whole), and with --repair the differing keys re-copied (repair.ts).

import type pg from "pg";
import { comparePlan, compareTable, type ComparisonResult } from "./compare_tables.ts";
import { repairTable } from "./repair.ts";
import type { Config } from "../../core/config.ts";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { classifyError } from "../../core/classify_error.ts";
import { CheckpointStore } from "../../io/state/checkpoint.ts";
import { connectPg, describeTable, listRelations, shapeOf } from "../../io/postgres/mod.ts";
import { shellWord } from "../../core/selector.ts";
import { serverOrigin } from "../../io/postgres/server_origin.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";
import { WarehouseFile } from "../../io/duckdb/warehouse_file.ts";
import { decideSync, planTables, type TablePlan } from "../../core/table_plan.ts";
import { cdcDecision, cdcNames } from "../../core/cdc_plan.ts";
import { settleDifferences } from "./verify_settle.ts";
import { replicaIdentity } from "../../io/postgres/cdc_catalog.ts";
import { type HashedRow } from "../../core/table_compare.ts";
import { count } from "../../core/counts.ts";
import { refuseOtherSource } from "../table_guards.ts";
import { fenceReplay } from "./replay.ts";

/** Keys named per kind of difference in the text output. */
const KEYS_SHOWN = 10;

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
  /**
   * Rows changed in Postgres after the checkpoint (or with a NULL cursor), or
   * under CDC after the applied position: not differences yet.
   */
  readonly pending: number;
  /** Rows gone from Postgres that reconciliation marked deleted in DuckDB (RECONCILE_DELETES_MODE=mark). */
  readonly markedDeleted: number;
  /** More buckets differed than were listed: the key lists are partial. */
  readonly partial: boolean;
  /** Columns left out of the comparison, with why. */
  readonly uncompared: readonly string[];
  /** Rows re-copied or removed by --repair. */
  readonly repaired: number;
  /** How the table syncs (SYNC_METHOD): what its pending rows are. */
  readonly method?: "cursor" | "cdc";
  readonly message: string | null;
}

export interface VerifyOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly repair: boolean;
  /** Called once per table as soon as it is done. */
  readonly onTable?: (verdict: TableVerdict) => void;
}

/** Verifies (and with `repair`, fixes) every configured table. */
export async function verifyTables(given: VerifyOptions): Promise<TableVerdict[]> {
  let options = given;
  let config = options.config;
  try {
    await Deno.stat(config.duckdbPath);
  } catch {
    throw new SyncError(
      "TARGET_MISSING",
      `No DuckDB file at ${config.duckdbPath} yet (run \`sync --once\` first, or set DUCKDB_PATH)`,
    );
  }
  const client = await connectPg(config, [...options.secrets]);
  // The checkpoint records the server by its identifier too (io/postgres/server_origin.ts).
  config = { ...config, pgOrigin: await serverOrigin(client, config.pgOrigin) };
  options = { ...options, config };
  const store = CheckpointStore.openExisting(config.stateDir);
  const file = new WarehouseFile(config.duckdbPath, config.duckdbMemoryLimit);
  const acquire = () =>
    file.acquire({ readOnly: !options.repair, lockWaitSeconds: config.lockWaitSeconds });
  // Under CDC verify lets go of the file for a moment (verify_settle.ts).
  const held: HeldWarehouse = {
    warehouse: null,
    release() {
      this.warehouse?.close();
      this.warehouse = null;
    },
    async reacquire() {
      this.warehouse = await acquire();
      return this.warehouse;
    },
  };
  const verdicts: TableVerdict[] = [];
  try {
    held.warehouse = await acquire();
    const schemas = [...new Set(config.tables.map((t) => t.schema))];
    const { plans } = planTables(config, await listRelations(client, schemas));
    for (const plan of plans) {
      const verdict = await verifyOne(client, held, store, plan, options).catch((error) => {
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
    held.release();
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

/** The DuckDB file as verify holds it, let go of and taken again under CDC. */
interface HeldWarehouse {
  warehouse: Warehouse | null;
  release(): void;
  reacquire(): Promise<Warehouse>;
}

async function verifyOne(
  client: pg.Client,
  held: HeldWarehouse,
  store: CheckpointStore | null,
  plan: TablePlan,
  options: VerifyOptions,
): Promise<TableVerdict> {
  // Taken again when a table before this one could not retake it.
  let warehouse = held.warehouse ?? await held.reacquire();
  const description = await describeTable(client, plan, options.config.pg.database);
  // Each method's own decision: CDC streams (or skips) tables the cursor method
  // would copy whole or skip, and the other way round.
  const decision = options.config.method === "cdc"
    ? cdcDecision(plan, shapeOf(description), (await replicaIdentity(client, plan)).identity)
    : decideSync(plan, shapeOf(description));
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
      } were copied (restore the file, or run \`reset --yes --target ${
        shellWord(plan.target)
      }\` to copy it again)`,
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
  const config = options.config;
  let unsettled: string | null = null;
  // Under CDC, what the comparison lists is looked at again once the stream
  // has applied what was committed before it (verify_settle.ts).
  const compareNow = async (): Promise<ComparisonResult> => {
    const first = await compareTable(client, warehouse, compare);
    if (config.method !== "cdc" || !store) return first;
    const settled = await settleDifferences(first, {
      client,
      compare,
      ...cdcNames(config.cdc, store.stateId()),
      table: plan,
      release: () => held.release(),
      reacquire: async () => warehouse = await held.reacquire(),
      timeoutMs: Math.min(600, Math.max(30, 3 * config.intervalSeconds)) * 1000,
    });
    unsettled = settled.settled === "inactive"
      ? "no sync is streaming and the slot could not be read: rows changed since the last sync count as differences (run sync --once first, then verify)"
      : settled.settled === "timeout"
      ? "the stream did not apply in time what was committed before the comparison: differences may be changes not applied yet (run verify again)"
      : null;
    return settled.result;
  };
  let result = await compareNow();
  let repaired = 0;
  if (options.repair && differs(result) && compare.unrepairable.length > 0) {
    throw new SyncError(
      "SYNC_NEEDED",
      `Cannot repair ${plan.target}: ${
        compare.unrepairable.join(", ")
      } changed type in Postgres since the last sync (run sync --once first, which applies the change, then verify --repair)`,
    );
  }
  if (options.repair && differs(result)) {
    // Rows re-copied or removed without a newer cursor: older batch files
    // must not be replayed over them.
    if (store) await fenceReplay(store, options.config.parquetDir, plan.target);
    repaired = await repairTable(client, warehouse, plan, compare, result, options.config);
    result = await compareNow();
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
    ...(config.method === "cdc" ? { method: "cdc" as const } : {}),
    message: unsettled,
  };
}

function differs(r: ComparisonResult): boolean {
  return r.missing.length + r.extra.length + r.changed.length > 0 || r.partial;
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
      v.method === "cdc"
        ? `${
          count(v.pending, "row")
        } changed since the last sync, after the position the stream had applied: left to the stream`
        : `${
          count(v.pending, "row")
        } changed since the last sync (or with a NULL cursor), not compared`,
    );
  }
  if (v.markedDeleted > 0) {
    notes.push(`${count(v.markedDeleted, "row")} gone from Postgres and marked deleted in DuckDB`);
  }
  if (v.uncompared.length > 0) notes.push(`columns not compared: ${v.uncompared.join(", ")}`);
  if (v.repaired > 0) notes.push(`repaired ${count(v.repaired, "row")}`);
  if (v.status === "differs" && v.message) notes.push(v.message);
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
