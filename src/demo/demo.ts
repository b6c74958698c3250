// Owns the demo decision and lifecycle from the driver's side: whether the user
// configured a Postgres at all, starting the embedded database in its own
// worker, and the configuration that points the sync at it.

import { type Config, type ConfigFlags, loadConfig } from "../core/config.ts";
import { CONNECTION_SETTINGS, SETTINGS } from "../core/settings.ts";
import { SyncError } from "../core/errors.ts";
import { join } from "node:path";
import { DEMO_PORT_FILE, type DemoWorkerMessage } from "./demo_files.ts";

const DEMO_ORIGIN = "embedded demo database";

/** The port of a demo database another process is serving from this STATE_DIR, if any. */
export async function runningDemoPort(stateDir: string): Promise<number | null> {
  try {
    const port = Number((await Deno.readTextFile(join(stateDir, DEMO_PORT_FILE))).trim());
    if (!Number.isInteger(port) || port <= 0) return null;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return port;
  } catch {
    return null;
  }
}

/** Any variable or flag that names a real Postgres, when set, means "not the demo". */
export function postgresConfigured(
  env: (name: string) => string | undefined,
  flags: ConfigFlags,
): boolean {
  return CONNECTION_SETTINGS.some((name) => {
    const flag = SETTINGS[name].flag;
    return (env(name) ?? "") !== "" || (flag !== null && flags[flag] !== undefined);
  });
}

/** The config pointed at the embedded database on `port` (its superuser, no password). */
export function demoConfig(
  env: (name: string) => string | undefined,
  flags: ConfigFlags,
  port: number,
): Config {
  const overlay: Record<string, string> = {
    POSTGRES_HOST: "127.0.0.1",
    POSTGRES_PORT: String(port),
    POSTGRES_USER: "postgres",
    POSTGRES_PASSWORD: "",
    POSTGRES_DB: "postgres",
    DATABASE_URL: "",
    POSTGRES_URL: "",
  };
  const config = loadConfig((name) => overlay[name] ?? env(name), flags);
  // The demo's port changes every start; its identity does not.
  return Object.freeze({ ...config, pgOrigin: DEMO_ORIGIN });
}

export interface DemoDatabase {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the embedded demo database in a worker; data lives in stateDir. */
export async function startDemoDatabase(stateDir: string): Promise<DemoDatabase> {
  // Two PGlite instances on one data directory would corrupt it.
  const running = await runningDemoPort(stateDir);
  if (running !== null) {
    throw new SyncError(
      "DEMO_FAILED",
      `Cannot start the embedded demo database: another copy of the program is serving it from ${stateDir} on port ${running} (quit that one, or set STATE_DIR to another directory)`,
    );
  }
  const worker = new Worker(new URL("./demo_postgres_worker.ts", import.meta.url).href, {
    type: "module",
  });
  const next = () =>
    new Promise<DemoWorkerMessage>((resolve, reject) => {
      worker.onmessage = (m: MessageEvent<DemoWorkerMessage>) => resolve(m.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
    });
  const started = next();
  worker.postMessage({ type: "start", stateDir });
  const message = await started.catch((error) =>
    ({ type: "failed", message: String(error) }) as const
  );
  if (message.type !== "started") {
    worker.terminate();
    throw new SyncError(
      "DEMO_FAILED",
      `Cannot start the embedded demo database in ${stateDir}: ${
        message.type === "failed" ? message.message : "no answer"
      } (is another copy running with the same STATE_DIR?)`,
    );
  }
  return {
    port: message.port,
    async stop() {
      const stopped = next();
      worker.postMessage({ type: "stop" });
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5000))]).catch(() => {});
      worker.terminate();
    },
  };
}
