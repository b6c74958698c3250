// Owns running the sync engine in-process against a test database: the Config
// from the test's environment (as `sync` reads it), a sink that keeps every
// event in order, one cycle or several on one engine, and the checkpoint
// store's state after each cycle. The real PostgreSQL and a real DuckDB file;
// the CLI's own tests run main.ts as a subprocess instead (fixture.ts).

import { type Config, loadConfig } from "../../src/core/config.ts";
import type { EngineEvent } from "../../src/core/events.ts";
import type { TableCheckpoint } from "../../src/io/state/checkpoint.ts";
import { type CycleSummary, SyncEngine } from "../../src/sync/engine.ts";
import type { TestDb } from "./fixture.ts";

export interface CycleRun {
  readonly summary: CycleSummary;
  /** This cycle's events, in the order they were emitted. */
  readonly events: EngineEvent[];
  /** The checkpoint store's tables right after the cycle. */
  readonly checkpoints: TableCheckpoint[];
}

export interface EngineRun {
  readonly engine: SyncEngine;
  readonly config: Config;
  /** Every event since the engine was opened (a failed cycle's too). */
  readonly events: EngineEvent[];
  /** Runs one cycle; rejects as runCycle does when the cycle fails. */
  cycle(signal?: AbortSignal): Promise<CycleRun>;
  close(): Promise<void>;
}

export interface OpenEngineOptions {
  /** Settings over db.env()'s. */
  readonly env?: Record<string, string>;
  /** Sees each event as it is emitted (after it is recorded); may throw into the engine. */
  readonly onEvent?: (event: EngineEvent, run: EngineRun) => void;
}

/** The Config `sync` would build from exactly this environment. */
export function configFor(db: TestDb, extraEnv: Record<string, string> = {}): Config {
  const env = db.env(extraEnv);
  return loadConfig((name) => env[name], {}, (path) => Deno.readTextFileSync(path));
}

/** Opens an engine on the test database; close it (or use syncOnce). */
export async function openEngine(db: TestDb, options: OpenEngineOptions = {}): Promise<EngineRun> {
  const config = configFor(db, options.env);
  const events: EngineEvent[] = [];
  let run: EngineRun | null = null;
  const engine = await SyncEngine.create({
    config,
    secrets: [db.password],
    emit: (event) => {
      events.push(event);
      if (run) options.onEvent?.(event, run);
    },
  });
  run = {
    engine,
    config,
    events,
    async cycle(signal?: AbortSignal): Promise<CycleRun> {
      const from = events.length;
      const summary = await engine.runCycle(signal);
      return { summary, events: events.slice(from), checkpoints: engine.store.list() };
    },
    close: () => engine.close(),
  };
  return run;
}

/** One cycle on a fresh engine (what `sync --once` runs), closed afterwards. */
export async function syncOnce(
  db: TestDb,
  extraEnv: Record<string, string> = {},
): Promise<CycleRun> {
  const run = await openEngine(db, { env: extraEnv });
  try {
    return await run.cycle();
  } finally {
    await run.close();
  }
}
