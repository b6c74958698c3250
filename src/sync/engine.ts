// Owns scheduling one sync cycle over every configured table: list and plan
// the tables, read the safe horizon once (before any data query), hand them to
// the sync method (sync/sync_method.ts: the cursor method or the WAL method,
// chosen here once), and turn its results into the cycle's summary; the
// Postgres connections every method uses, reused across cycles. A table's
// failure is reported and retried next cycle without stopping the others.
// Never reads the environment or prints: progress leaves as events.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import { configError, type SyncError } from "../core/errors.ts";
import { CheckpointStore } from "../io/state/checkpoint.ts";
import type { EventSink, SyncMode } from "../core/events.ts";
import { connectPg, listRelations, readHorizon } from "../io/postgres/mod.ts";
import { BatchConverter } from "../io/duckdb/parquet_batch.ts";
import { WarehouseFile } from "../io/duckdb/warehouse_file.ts";
import { removePartials } from "../io/state/batch_files.ts";
import { Mutex } from "../core/mutex.ts";
import { isTableScoped, planTables, type TablePlan } from "../core/table_plan.ts";
import type { TableCycleResult, TableSyncContext } from "./context.ts";
import type { Horizon } from "../core/scan_state.ts";
import { listTargetTables } from "./table_guards.ts";
import { selectOnly, shellWord, sourceName, sourceTable } from "../core/selector.ts";
import { classifyError, classifyLocalError } from "../core/classify_error.ts";
import { SourceCatalog } from "../io/postgres/source_catalog.ts";
import { CdcSession } from "./cdc/cdc_session.ts";
import { CursorMethod } from "./cursor/cursor_method.ts";
import type { Connections, SyncMethod, TableFailure } from "./sync_method.ts";
import { serverOrigin } from "../io/postgres/server_origin.ts";

export interface EngineOptions {
  readonly config: Config;
  readonly emit: EventSink;
  readonly secrets: readonly string[];
  readonly now?: () => Date;
}

export type { TableFailure } from "./sync_method.ts";

export interface CycleSummary {
  readonly rows: number;
  readonly batches: number;
  /** Nothing was written for any table. */
  readonly idle: boolean;
  /** The mode of the last table synced (one table: its mode). */
  readonly mode: SyncMode;
  readonly tables: number;
  readonly failures: readonly TableFailure[];
}

export class SyncEngine {
  readonly #config: Config;
  readonly #emit: EventSink;
  readonly #secrets: string[];
  readonly #now: () => Date;
  #store: CheckpointStore;
  /** Idle Postgres connections (and since when), reused across cycles. */
  #idle: { client: pg.Client; since: number }[] = [];
  #converter: Promise<BatchConverter> | null = null;
  readonly #writer = new Mutex();
  /** Tables whose DuckDB table was seen to exist (see targetExists in table_sync.ts). */
  readonly #targetsSeen = new Set<string>();
  /** The DuckDB file's size and times when the last cycle ended (see #forgetSeenTargets). */
  #warehouseStamp: string | null = null;
  readonly warehouseFile: WarehouseFile;
  /** This cycle's number, counted across runs in the checkpoint. */
  #cycles = 0;
  #toldLookback = false;
  #toldSkipped = new Set<string>();
  /** How tables are read: by their cursor, or from the write-ahead log (one decision, here). */
  readonly #method: SyncMethod;

  private constructor(options: EngineOptions, store: CheckpointStore) {
    this.#config = options.config;
    this.#emit = options.emit;
    this.#secrets = [...options.secrets];
    this.#now = options.now ?? (() => new Date());
    this.#store = store;
    this.warehouseFile = new WarehouseFile(
      options.config.duckdbPath,
      options.config.duckdbMemoryLimit,
    );
    const connections: Connections = {
      acquire: () => this.#acquire(),
      release: (client, broken) => this.#release(client, broken),
      classify: (error, source) => this.#classify(error, source),
      secrets: this.#secrets,
    };
    this.#method = options.config.method === "cdc"
      ? new CdcSession(connections)
      : new CursorMethod(connections, (id, message) => this.#noticeOnce(id, message));
  }

  /** Opens the checkpoint store (fails fast on an unwritable or corrupt state). */
  static async create(options: EngineOptions): Promise<SyncEngine> {
    const store = CheckpointStore.open(options.config.stateDir);
    try {
      await Deno.mkdir(options.config.parquetDir, { recursive: true });
      await removePartials(options.config.parquetDir);
    } catch (error) {
      store.close();
      throw classifyLocalError(error, options.config) ?? error;
    }
    return new SyncEngine(options, store);
  }

  get store(): CheckpointStore {
    return this.#store;
  }

  /**
   * An open Postgres connection (a reused one when idle and still alive: the
   * server may have closed it since); give it back with #release.
   */
  async #acquire(): Promise<pg.Client> {
    let idle: { client: pg.Client; since: number } | undefined;
    while ((idle = this.#idle.pop())) {
      // Released a moment ago (within this cycle): no need to ask the server.
      if (performance.now() - idle.since < 1000) return idle.client;
      try {
        await idle.client.query("SELECT 1");
        return idle.client;
      } catch {
        await idle.client.end().catch(() => {});
      }
    }
    return await connectPg(this.#config, this.#secrets);
  }

  #release(client: pg.Client, broken: boolean): void {
    if (broken) client.end().catch(() => {});
    else this.#idle.push({ client, since: performance.now() });
  }

  async close(): Promise<void> {
    await this.#method.close();
    const clients = this.#idle;
    this.#idle = [];
    await Promise.all(clients.map((c) => c.client.end().catch(() => {})));
    const converter = this.#converter;
    this.#converter = null;
    if (converter) (await converter.catch(() => null))?.close();
    this.#store.close();
  }

  /** Runs one cycle over every table. Between batches, `signal` stops it cleanly. */
  async runCycle(signal?: AbortSignal): Promise<CycleSummary> {
    const started = performance.now();
    this.#cycles = this.#store.cycleCount() + 1;
    const config = this.#config;
    const { plans, horizon, origin } = await this.#plan();
    const ctx: TableSyncContext = {
      config: { ...config, pgOrigin: origin },
      emit: this.#emit,
      now: this.#now,
      store: this.#store,
      warehouseFile: this.warehouseFile,
      targetsSeen: this.#targetsSeen,
      targetTables: once(() => listTargetTables(this.warehouseFile, signal)),
      converter: () => this.#converter ??= BatchConverter.create(),
      writer: this.#writer,
      signal,
      connectPg: () => connectPg(config, this.#secrets),
    };
    const catalog = new SourceCatalog(plans, config.pg.database);
    await this.#forgetSeenTargets();
    const closeWarehouse = this.warehouseFile.keepOpen();
    let outcome;
    try {
      outcome = await this.#method.cycle({
        ctx,
        catalog,
        plans,
        horizon,
        cycle: this.#cycles,
        failed: (failure) => {
          if (plans.length <= 1) return;
          this.#emit({
            type: "table_failed",
            table: failure.table,
            code: failure.error.code,
            message: failure.error.message,
          });
        },
      });
    } catch (error) {
      throw this.#classify(error);
    } finally {
      closeWarehouse();
    }
    this.#warehouseStamp = await fileStamp(config.duckdbPath);
    return this.#summarize(plans, outcome.results, outcome.failures, started);
  }

  /**
   * The cycle's tables, planned from the catalog, and the safe horizon read
   * before any data query (a transaction open now is either seen here or
   * committed before every snapshot this cycle reads); which server it is.
   */
  async #plan(): Promise<{ plans: readonly TablePlan[]; horizon: Horizon; origin: string }> {
    const config = this.#config;
    let client: pg.Client;
    try {
      client = await this.#acquire();
    } catch (error) {
      // What the method holds open goes too: a server shutting down waits for
      // its walsenders' clients, and a replication stream left open would hold it.
      await this.#method.interrupt();
      throw this.#classify(error);
    }
    let planned;
    let horizon: Horizon;
    let origin = config.pgOrigin;
    try {
      origin = await serverOrigin(client, config.pgOrigin);
      const schemas = [...new Set(config.tables.map((t) => t.schema))];
      planned = planTables(config, await listRelations(client, schemas));
      if (planned.plans.length === 0 && planned.unmatched.length > 0) {
        throw configError(
          "TABLE_MISSING",
          `No table to sync: ${
            planned.unmatched.join(", ")
          } matches no table in database ${config.pg.database} (check the schema name in POSTGRES_TABLES${
            config.syncFile ? ` or the "include" of ${config.syncFile}` : ""
          }, and that ${config.pg.user} has USAGE on it)`,
        );
      }
      horizon = await readHorizon(client, config.lookbackSeconds);
    } catch (error) {
      const classified = this.#classify(error);
      this.#release(client, true);
      await this.#method.interrupt();
      throw classified;
    }
    this.#release(client, false);
    for (const line of planned.unmatched) {
      this.#noticeOnce(`unmatched:${line}`, `${line} matches no table`);
    }
    for (const line of planned.skipped) this.#noticeOnce(`skip:${line}`, `skipped ${line}`);
    this.#noticeForgotten(planned.plans);
    // The horizon bounds the cursor method's checkpoint; the WAL method never uses it.
    if (horizon.usedLookback && !this.#toldLookback && config.method !== "cdc") {
      this.#toldLookback = true;
      this.#emit({
        type: "notice",
        message:
          `Cannot see other roles' open transactions (grant pg_read_all_stats to ${config.pg.user} to fix); the checkpoint stays SYNC_LOOKBACK_SECONDS=${config.lookbackSeconds}s behind and that window is re-read each cycle`,
      });
    }
    return { plans: planned.plans, horizon, origin };
  }

  /** The cycle's summary event and result; every table failing is the cycle failing. */
  #summarize(
    plans: readonly TablePlan[],
    results: readonly TableCycleResult[],
    failures: readonly TableFailure[],
    started: number,
  ): CycleSummary {
    if (failures.length > 0) {
      // The loop's rules then apply (a transient failure is retried with
      // backoff, a setting to fix ends it). If any of them is transient the
      // cycle is retried, so a permanently failing table never stops the
      // others for good. Otherwise the others went on.
      const wholeRun = failures.find((f) => !isTableScoped(f.error));
      if (results.length === 0 || wholeRun) {
        const transient = failures.find((f) => f.error.transient);
        throw (wholeRun ?? transient ?? failures[0]!).error;
      }
    }
    if (results.length > 0) this.#store.setCycleCount(this.#cycles);
    const summary = {
      rows: results.reduce((n, r) => n + r.rows, 0),
      batches: results.reduce((n, r) => n + r.batches, 0),
      idle: results.every((r) => r.idle),
      mode: results.at(-1)?.mode ?? "incremental",
      tables: results.length + failures.length,
      failures,
    };
    this.#emit({
      type: "cycle_summary",
      tables: summary.tables,
      table: plans.length === 1 ? plans[0]!.target : null,
      upToDate: results.filter((r) => r.idle).length,
      failed: failures.length,
      rows: summary.rows,
      batches: summary.batches,
      durationMs: performance.now() - started,
    });
    return summary;
  }

  /**
   * Idle cycles trust that a table seen before is still there, until the DuckDB
   * file changes behind this process (another program dropped a table, say):
   * then the next cycle lists the tables again (without waiting for a lock).
   */
  async #forgetSeenTargets(): Promise<void> {
    const stamp = await fileStamp(this.#config.duckdbPath);
    if (stamp !== this.#warehouseStamp) this.#targetsSeen.clear();
  }

  /** Tables with a checkpoint that are no longer selected (or were dropped) keep their copy. */
  #noticeForgotten(plans: readonly TablePlan[]): void {
    const targets = new Set(plans.map((p) => p.target));
    for (const checkpoint of this.#store.list()) {
      if (targets.has(checkpoint.table)) continue;
      const now = plans.find((p) =>
        checkpoint.source !== "" && p.source === sourceName(checkpoint.source)
      );
      if (now) {
        // The sync file's "target" changed: the old table is not the new one's to drop.
        this.#noticeOnce(
          `renamed:${checkpoint.table}`,
          `${now.source} now lands in DuckDB table ${now.target}; its old table ${checkpoint.table} in ${this.#config.duckdbPath} is left behind as it was and no longer synced (drop it and its checkpoint with \`reset --yes --target ${
            shellWord(checkpoint.table)
          }\`)`,
        );
        continue;
      }
      if (!this.#config.multiTable) continue;
      this.#noticeOnce(
        `forgotten:${checkpoint.table}`,
        `${checkpoint.table} (from ${
          sourceName(checkpoint.source)
        }) has a checkpoint but is no longer selected or no longer exists: its DuckDB table is kept as it is and not synced (select it again, or remove it with \`${
          selectOnly(sourceTable(checkpoint.source))
        } reset --yes\`)`,
      );
    }
  }

  #noticeOnce(id: string, message: string): void {
    if (this.#toldSkipped.has(id)) return;
    this.#toldSkipped.add(id);
    this.#emit({ type: "notice", message });
  }

  #classify(error: unknown, source?: string): SyncError {
    return classifyError(error, { settings: this.#config, secrets: this.#secrets, source });
  }
}

/** The size and modification time of a DuckDB file and its WAL, as one text. */
async function fileStamp(path: string): Promise<string> {
  const parts: string[] = [];
  for (const file of [path, `${path}.wal`]) {
    try {
      const s = await Deno.stat(file);
      parts.push(`${s.size}@${s.mtime?.getTime()}/${s.ino}`);
    } catch {
      parts.push("-");
    }
  }
  return parts.join(" ");
}

/** `fn`'s first result, shared by every later call. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | null = null;
  return () => result ??= fn();
}
