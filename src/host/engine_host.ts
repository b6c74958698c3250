// Owns the engine's life inside the Web Worker (or in-process for tests): runs
// the loop, answers the driver's commands (sync now, pause, resume, seed
// changes, run a query, shut down) and posts every event. It knows nothing of
// the UI; the driver knows nothing of pg or DuckDB.

import type { Config } from "../core/config.ts";
import { errorMessage, SyncError } from "../core/errors.ts";
import { SyncEngine } from "../sync/engine.ts";
import { LoopControl, runLoop } from "../sync/loop.ts";
import { assertNever, type WorkerCommand, type WorkerEvent } from "./protocol.ts";
import { classifyPgError, connectPg } from "../io/postgres.ts";
import { seedChanges } from "../demo/seed.ts";
import { runQuery } from "../io/warehouse_query.ts";
import { scrub } from "../core/secrets.ts";

export const QUERY_ROWS_SENT = 500;

export interface EngineHostOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
  readonly post: (event: WorkerEvent) => void;
}

export class EngineHost {
  readonly #options: EngineHostOptions;
  readonly #control = new LoopControl();
  readonly #abort = new AbortController();
  #engine: SyncEngine | null = null;
  #finished: Promise<void> | null = null;

  constructor(options: EngineHostOptions) {
    this.#options = options;
  }

  #post(event: WorkerEvent): void {
    this.#options.post(event);
  }

  /** Starts the loop; resolves when it has stopped (shutdown or fatal error). */
  start(): Promise<void> {
    this.#finished ??= this.#run();
    return this.#finished;
  }

  async #run(): Promise<void> {
    const { config, secrets } = this.#options;
    const emit = (event: WorkerEvent) => {
      if (event.type === "error" || event.type === "notice") {
        this.#post({ ...event, message: scrub(event.message, [...secrets]) });
      } else {
        this.#post(event);
      }
    };
    try {
      this.#engine = await SyncEngine.create({ config, emit, secrets });
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
      await runLoop(this.#engine, {
        intervalSeconds: config.intervalSeconds,
        signal: this.#abort.signal,
        emit,
        control: this.#control,
      });
    } catch (error) {
      const e = error instanceof SyncError
        ? error
        : new SyncError("INTERNAL", errorMessage(error), { cause: error });
      this.#post({
        type: "fatal",
        code: e.code,
        message: scrub(e.message, [...secrets]),
        exitCode: e.exitCode,
      });
    } finally {
      await this.#engine?.close().catch(() => {});
      this.#post({ type: "loop_state", state: "stopped" });
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
      // Its own connection: the sync's connection may be mid-cycle.
      const client = await connectPg(config, [...secrets]);
      try {
        const r = await seedChanges(client, config, counts).catch((error) => {
          throw classifyPgError(error, config, [...secrets]);
        });
        this.#post({
          type: "seed_result",
          ok: true,
          message: `seeded: inserted ${idList(r.inserted)}, updated ${
            idList(r.updated)
          }, soft-deleted ${idList(r.deleted)}`,
        });
      } finally {
        await client.end().catch(() => {});
      }
      this.#control.syncNow();
    } catch (error) {
      this.#post({
        type: "seed_result",
        ok: false,
        message: `seed failed: ${scrub(errorMessage(error), [...secrets])}`,
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
      this.#post({
        type: "query_error",
        id,
        message: errorMessage(error).split("\n")[0] ?? "query failed",
        elapsedMs: performance.now() - started,
      });
    }
  }
}

/** Seeded rows by key, so they never read as counts: "id 10001", "ids 3, 7", "none". */
function idList(ids: readonly unknown[]): string {
  if (ids.length === 0) return "none";
  return `${ids.length === 1 ? "id" : "ids"} ${ids.join(", ")}`;
}
