// Owns the engine's life, the same in the terminal UI's Web Worker and in the
// headless `sync` (host/headless.ts): opens the engine (a loop that finds a
// disk full waits and retries), runs the loop or one cycle, answers the
// driver's commands (sync now, pause, resume, seed changes, run a query, shut
// down) and posts every event, fatal errors included, through scrubEvent. With
// METRICS_PORT set, a loop also serves its metrics and health (metrics_server.ts)
// from the events it posts. It knows nothing of the UI; the driver knows
// nothing of pg or DuckDB.

import { seedDemoChanges } from "../demo/seed_session.ts";
import type { Config } from "../core/config.ts";
import { errorMessage, SyncError } from "../core/errors.ts";
import { formatSelector } from "../core/selector.ts";
import { type CycleSummary, SyncEngine } from "../sync/engine.ts";
import { backoffSeconds, LoopControl, runLoop } from "../sync/loop.ts";
import { assertNever, type WorkerCommand, type WorkerEvent } from "./protocol.ts";
import { runQuery } from "../io/duckdb/warehouse_query.ts";
import type { DuckDBConnection } from "@duckdb/node-api";
import { fatalEvent, scrubEvent } from "./scrub_event.ts";
import { MetricsServer } from "./metrics_server.ts";

const QUERY_ROWS_SENT = 500;

export interface EngineHostOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
  readonly post: (event: WorkerEvent) => void;
  /** "once": one cycle, then stop (TABLES_FAILED when a table failed). Default "loop". */
  readonly run?: "loop" | "once";
  /** Starts the loop with a notice naming what it syncs, where and how often (the log's first line). */
  readonly announce?: boolean;
}

export class EngineHost {
  readonly #options: EngineHostOptions;
  readonly #control = new LoopControl();
  readonly #abort = new AbortController();
  #engine: SyncEngine | null = null;
  #finished: Promise<void> | null = null;
  /** The prompt's query running now, which cancel_query interrupts. */
  #running: { id: number; connection: DuckDBConnection; cancelled: boolean } | null = null;
  #metrics: MetricsServer | null = null;

  constructor(options: EngineHostOptions) {
    this.#options = options;
  }

  /** Everything the host sends leaves through here, scrubbed. */
  #post(event: WorkerEvent): void {
    const scrubbed = scrubEvent(event, this.#options.secrets);
    this.#metrics?.observe(scrubbed);
    this.#options.post(scrubbed);
  }

  /** Starts the loop; resolves when it has stopped (shutdown or fatal error). */
  start(): Promise<void> {
    this.#finished ??= this.#run();
    return this.#finished;
  }

  async #run(): Promise<void> {
    const { config, secrets } = this.#options;
    const emit = (event: WorkerEvent) => this.#post(event);
    try {
      if (config.metricsPort !== null && this.#options.run !== "once") {
        // Before any sync work: a port in use is a setting to fix, found at once.
        this.#metrics = MetricsServer.start(config);
        emit({
          type: "notice",
          message:
            `serving metrics on ${this.#metrics.url}/metrics and health on ${this.#metrics.url}/healthz`,
        });
      }
      this.#engine = await this.#open();
      if (!this.#engine) return;
      this.#post({
        type: "ready",
        connection: config.pgDisplay,
        duckdbPath: config.duckdbPath,
        demo: this.#options.demo,
        tables: this.#engine.store.list().map((t) => ({
          table: t.table,
          mode: t.mode,
          cursor: t.cursor,
          key: t.key,
          rowsCopied: t.rowsCopied,
        })),
        drift: this.#engine.store.recentDrift(50),
      });
      this.#post({ type: "loop_state", state: "running" });
      if (this.#options.run === "once") {
        throwFailures(await this.#engine.runCycle(this.#abort.signal));
        return;
      }
      // Streaming the WAL, a cycle applies what arrived: the loop's pace is CDC_FLUSH_MS.
      const intervalSeconds = config.method === "cdc"
        ? config.cdc.flushMs / 1000
        : config.intervalSeconds;
      if (this.#options.announce) {
        emit({
          type: "notice",
          message: `syncing ${
            config.tables.map((t) => formatSelector(t.schema, t.table)).join(", ")
          } from ${config.pgDisplay} to ${config.duckdbPath} ${
            config.method === "cdc"
              ? "from the write-ahead log"
              : `every ${config.intervalSeconds}s`
          }`,
        });
      }
      await runLoop(this.#engine, {
        intervalSeconds,
        signal: this.#abort.signal,
        emit,
        control: this.#control,
      });
    } catch (error) {
      this.#post(fatalEvent(error, secrets));
    } finally {
      await this.#engine?.close().catch(() => {});
      this.#post({ type: "loop_state", state: "stopped" });
      await this.#metrics?.close();
    }
  }

  /**
   * Opens the engine; a loop that finds a disk full (e.g. STATE_DIR) waits and
   * tries again as it does mid-run, rather than stopping. Null when shut down first.
   */
  async #open(): Promise<SyncEngine | null> {
    const { config, secrets } = this.#options;
    const emit = (event: WorkerEvent) => this.#post(event);
    const signal = this.#abort.signal;
    for (let failures = 1;; failures++) {
      try {
        return await SyncEngine.create({ config, emit, secrets });
      } catch (error) {
        const retry = this.#options.run !== "once" && error instanceof SyncError &&
          error.code === "DISK_FULL";
        if (!retry) throw error;
        const wait = backoffSeconds(failures, 60);
        emit({
          type: "error",
          code: error.code,
          message: error.message,
          transient: true,
          retryInSeconds: wait,
        });
        await this.#control.sleep(wait * 1000, signal);
        if (signal.aborted) return null;
      }
    }
  }

  async handle(command: WorkerCommand): Promise<void> {
    switch (command.type) {
      case "sync_now":
        this.#control.syncNow();
        return;
      case "pause":
        this.#control.pause();
        this.#post({ type: "loop_state", state: "paused" });
        return;
      case "resume":
        this.#control.resume();
        this.#post({ type: "loop_state", state: "running" });
        return;
      case "seed_changes":
        await this.#seed(command);
        return;
      case "run_query":
        await this.#query(command.id, command.sql);
        return;
      case "cancel_query":
        if (this.#running?.id === command.id) {
          this.#running.cancelled = true;
          this.#running.connection.interrupt();
        }
        return;
      case "shutdown":
        this.#post({ type: "loop_state", state: "stopping" });
        this.#abort.abort();
        await this.#finished;
        return;
      default:
        assertNever(command);
    }
  }

  async #seed(counts: { inserts: number; updates: number; deletes: number }): Promise<void> {
    const { config, secrets } = this.#options;
    try {
      const r = await seedDemoChanges(config, secrets, counts);
      this.#post({
        type: "seed_result",
        ok: true,
        message: `seeded: inserted ${idList(r.inserted)}, updated ${
          idList(r.updated)
        }, soft-deleted ${idList(r.deleted)}`,
      });
      this.#control.syncNow();
    } catch (error) {
      this.#post({
        type: "seed_result",
        ok: false,
        message: `seed failed: ${errorMessage(error)}`,
      });
    }
  }

  async #query(id: number, sql: string): Promise<void> {
    const started = performance.now();
    const engine = this.#engine;
    if (!engine) {
      this.#post({ type: "query_error", id, message: "the engine is not ready yet", elapsedMs: 0 });
      return;
    }
    try {
      // Shares the engine's one DuckDB instance: a long query runs on its own
      // connection and does not stop a cycle from writing.
      const warehouse = await engine.warehouseFile.acquire({
        lockWaitSeconds: this.#options.config.lockWaitSeconds,
      });
      this.#running = { id, connection: warehouse.connection, cancelled: false };
      try {
        const result = await runQuery(warehouse.connection, sql, QUERY_ROWS_SENT);
        this.#post({
          type: "query_result",
          id,
          columns: result.columns,
          rows: result.rows,
          rowCount: result.rowCount,
          truncated: result.truncated,
          elapsedMs: performance.now() - started,
        });
      } finally {
        warehouse.close();
      }
    } catch (error) {
      const cancelled = this.#running?.id === id && this.#running.cancelled;
      this.#post({
        type: "query_error",
        id,
        // The whole of DuckDB's message: its later lines point at the mistake.
        message: cancelled ? "query cancelled" : errorMessage(error) || "query failed",
        elapsedMs: performance.now() - started,
      });
    } finally {
      if (this.#running?.id === id) this.#running = null;
    }
  }
}

/** One cycle's failed tables as the one error a `sync --once` ends with. */
function throwFailures(summary: CycleSummary): void {
  const failures = summary.failures;
  if (failures.length === 0) return;
  throw new SyncError(
    "TABLES_FAILED",
    `${failures.length} of ${summary.tables} tables failed: ${
      failures.map((f) => `${f.table} (${f.error.code})`).join(", ")
    }; the others are synced (see the errors above)`,
    { exitCode: failures.every((f) => f.error.exitCode === 2) ? 2 : 1 },
  );
}

/** Seeded rows by key, so they never read as counts: "id 10001", "ids 3, 7", "none". */
function idList(ids: readonly unknown[]): string {
  if (ids.length === 0) return "none";
  return `${ids.length === 1 ? "id" : "ids"} ${ids.join(", ")}`;
}
