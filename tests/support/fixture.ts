// Owns test fixtures: a fresh database per test (owned by a non-superuser role)
// loaded with postgres/init, a temp working directory for state/lake/parquet,
// and helpers to run main.ts as a real subprocess and read DuckDB back.

import { attachCluster, freePort, type PgCluster, startCluster } from "./pg_cluster.ts";

export const freePortForTest = freePort;
import { DuckDBInstance } from "@duckdb/node-api";
import pg from "pg";
import { DatabaseSync } from "node:sqlite";

export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const MAIN = `${REPO}/main.ts`;

let shared: Promise<PgCluster> | null = null;
let dbCounter = 0;

/** One cluster per test file (process), stopped when the process unloads. */
export function sharedCluster(): Promise<PgCluster> {
  const port = Deno.env.get("TEST_PG_PORT");
  const dataDir = Deno.env.get("TEST_PG_DATADIR");
  if (!shared && port && dataDir) {
    // tests/run.ts started one cluster for the whole run and stops it at the end.
    shared = Promise.resolve(attachCluster(Number(port), dataDir));
  }
  if (!shared) {
    shared = startCluster();
    shared.then((c) => globalThis.addEventListener("unload", () => c.stopSync()));
  }
  return shared;
}

export interface TestDb {
  readonly cluster: PgCluster;
  readonly name: string;
  readonly user: string;
  readonly password: string;
  readonly url: string;
  readonly dir: string;
  /** DUCKDB_PATH, STATE_DIR and PARQUET_DIR of env(), all under dir. */
  readonly duckPath: string;
  readonly stateDir: string;
  readonly parquetDir: string;
  /** Environment for main.ts pointing at this database and temp dir. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Runs SQL as the superuser in this database. */
  sql(text: string): Promise<string>;
  client(): Promise<pg.Client>;
  cleanup(): Promise<void>;
}

export async function createTestDb(
  cluster: PgCluster,
  options: { demo?: boolean; seedRows?: boolean } = {},
): Promise<TestDb> {
  dbCounter += 1;
  const name = `t${crypto.randomUUID().slice(0, 8)}_${dbCounter}`;
  const user = `u_${name}`;
  const password = `pw-${crypto.randomUUID().slice(0, 8)}`;
  await cluster.psql(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  await cluster.psql(`CREATE DATABASE ${name} OWNER ${user}`);
  const url = `postgres://${user}:${password}@127.0.0.1:${cluster.port}/${name}`;
  if (options.demo ?? true) {
    const schemaSql = await Deno.readTextFile(`${REPO}/postgres/init/01_schema.sql`);
    await runAs(url, schemaSql);
    if (options.seedRows ?? true) {
      await runAs(url, await Deno.readTextFile(`${REPO}/postgres/init/02_seed.sql`));
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "pds-test-" });
  const duckPath = `${dir}/lake/warehouse.duckdb`;
  const stateDir = `${dir}/state`;
  const parquetDir = `${dir}/parquet`;
  return {
    cluster,
    name,
    user,
    password,
    url,
    dir,
    duckPath,
    stateDir,
    parquetDir,
    env(extra = {}) {
      // Tests that set BATCH_SIZE count bootstrap batches of that size too.
      const bootstrap: Record<string, string> = extra.BATCH_SIZE && !extra.BOOTSTRAP_BATCH_SIZE
        ? { BOOTSTRAP_BATCH_SIZE: extra.BATCH_SIZE }
        : {};
      return {
        POSTGRES_HOST: "127.0.0.1",
        POSTGRES_PORT: String(cluster.port),
        POSTGRES_USER: user,
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: name,
        DUCKDB_PATH: duckPath,
        PARQUET_DIR: parquetDir,
        STATE_DIR: stateDir,
        ...bootstrap,
        ...extra,
      };
    },
    sql: (text: string) => cluster.psql(text, name),
    async client() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("SET TimeZone = 'UTC'");
      return c;
    },
    async cleanup() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function runAs(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Waits until rows written now are behind the sync's safe horizon, which trails
 * the clock by 200 ms (io/postgres/keyset_queries.ts). A row newer than the
 * horizon is copied but read again by the next cycle (that is how a late commit
 * is never missed), so a test that counts a later cycle's batches waits first.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 400));
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `deno run -A main.ts ...args` with exactly `env` (plus PATH/HOME). */
export async function runMain(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: baseEnv(env),
    clearEnv: true,
    cwd: options.cwd ?? REPO,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  // ignoreBOM: a leading U+FEFF is part of what the program printed.
  const text = new TextDecoder("utf-8", { ignoreBOM: true });
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

export function spawnMain(args: string[], env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: baseEnv(env),
    clearEnv: true,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

function baseEnv(env: Record<string, string>): Record<string, string> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) keep[name] = v;
  }
  return { ...keep, NO_COLOR: "1", ...env };
}

/** Reads rows from a DuckDB file (opened and closed here) as exact JSON values. */
export async function duckRows(
  path: string,
  sql: string,
): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(
    path,
    path === ":memory:" ? {} : { access_mode: "READ_ONLY" },
  );
  try {
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(sql);
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    connection.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

/** Runs SQL on a DuckDB file directly (opened read-write and closed): a change behind the tool's back. */
export async function duckWrite(path: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  try {
    const connection = await instance.connect();
    await connection.run(sql);
    connection.closeSync();
  } finally {
    instance.closeSync();
  }
}

/**
 * The demo table as canonical text lines, ordered by id, from Postgres and from
 * DuckDB, so a test can compare them row for row.
 */
export async function pgDemoRows(db: TestDb, table = "analytics.subscriptions"): Promise<string[]> {
  const client = await db.client();
  try {
    const r = await client.query(
      `SELECT id::text, email, plan, lifetime_value::text AS lv, created_at::text AS c,
              updated_at::text AS u, deleted_at::text AS d FROM ${table} ORDER BY id`,
    );
    return r.rows.map((x: Record<string, unknown>) =>
      [x.id, x.email, x.plan, x.lv, x.c, x.u, x.d ?? "NULL"].join("|")
    );
  } finally {
    await client.end();
  }
}

export async function duckDemoRows(
  path: string,
  table = "analytics_subscriptions",
): Promise<string[]> {
  const rows = await duckRows(
    path,
    `SELECT id::VARCHAR AS id, email, plan, lifetime_value::VARCHAR AS lv,
            strftime(created_at::TIMESTAMPTZ, '%Y-%m-%d %H:%M:%S.%f') AS c, strftime(updated_at::TIMESTAMPTZ, '%Y-%m-%d %H:%M:%S.%f') AS u,
            strftime(deleted_at::TIMESTAMPTZ, '%Y-%m-%d %H:%M:%S.%f') AS d FROM ${table} ORDER BY id`,
  );
  return rows.map((x) =>
    [x.id, x.email, x.plan, x.lv, pgTs(x.c), pgTs(x.u), x.d === null ? "NULL" : pgTs(x.d)].join("|")
  );
}

/** DuckDB strftime "%f" gives 6 digits; Postgres trims trailing zeros and adds +00. */
function pgTs(value: unknown): string {
  const [whole, frac] = String(value).split(".");
  const trimmed = frac ? frac.replace(/0+$/, "") : "";
  return `${whole}${trimmed ? "." + trimmed : ""}+00`;
}

/** A table's mode and rows copied from the checkpoint, read while a sync may be writing it. */
export function checkpointProgress(stateDir: string): { mode: string; rows: number } | null {
  try {
    Deno.statSync(`${stateDir}/checkpoint.sqlite`);
  } catch {
    return null;
  }
  // Read while a sync may be writing: a busy moment just means "look again".
  try {
    const db = new DatabaseSync(`${stateDir}/checkpoint.sqlite`, { readOnly: true });
    try {
      db.exec("PRAGMA busy_timeout = 2000");
      const row = db.prepare("SELECT state, rows_copied FROM tables").get() as
        | Record<string, unknown>
        | undefined;
      // The lifecycle state as the log and status show it (core/table_lifecycle.ts modeOf).
      const state = String(row?.state);
      const mode = state === "incremental" || state === "full_refresh" ? state : "bootstrap";
      return row ? { mode, rows: Number(row.rows_copied) } : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
