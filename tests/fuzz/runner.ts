// Owns running one fuzz case against the real program: a fresh database and temp
// dir, the case's schema, then each operation in turn (SQL through a pg client;
// syncs, verify --repair, reset, replay as main.ts subprocesses with a time bound;
// faults: SIGKILL mid-sync, a PostgreSQL restart, a full tmpfs), the oracle after
// every sync, and a shrinker that cuts a failing case down by delta debugging.

import pg from "pg";
import { createTestDb, MAIN, REPO, type TestDb } from "../support/fixture.ts";
import type { PgCluster } from "../support/pg_cluster.ts";
import type { ColumnSpec, FuzzCase, Op, TableSpec, Values } from "./generate.ts";
import { quoteIdent, tableSql } from "./generate.ts";
import { compareTable, type Difference, pgKey, sourceColumns, textClient } from "./oracle.ts";
import { SETUP_SQL, TYPES } from "./values.ts";

export interface RunOptions {
  readonly cluster: PgCluster;
  /** Bound on each main.ts run (ms); longer counts as a hang. */
  readonly commandTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** Whether tmpfs mounts are possible (root). */
  readonly canMount?: boolean;
}

export interface Failure {
  readonly opIndex: number;
  readonly op: Op;
  /** A short stable description used to tell failures apart. */
  readonly signature: string;
  readonly detail: string;
}

export interface CaseResult {
  readonly failure: Failure | null;
  readonly opsRun: number;
  readonly checks: number;
  readonly ms: number;
}

interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

async function runCommand(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
  killAfterMs?: number,
): Promise<CommandResult> {
  const keep: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) keep[name] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...keep, NO_COLOR: "1", ...env },
    clearEnv: true,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = killAfterMs === undefined;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, killAfterMs ?? timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.signal ? null : out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    timedOut,
  };
}

function errorLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  return lines.findLast((l) => /error [A-Z_]+/.test(l)) ?? lines.at(-1) ?? "";
}

function errorCode(stderr: string): string {
  return /error ([A-Z_]+)/.exec(errorLine(stderr))?.[1] ?? "NO_CODE";
}

const where = (key: Values): string =>
  Object.entries(key).map(([c, v]) => `${quoteIdent(c)} = ${v}`).join(" AND ");

/** The SQL of a data or schema operation, given the columns a table has now. */
export function opSql(op: Op, columns: ReadonlySet<string>): string | null {
  const t = "table" in op ? `public.${quoteIdent(op.table)}` : "";
  const has = (c: string) => columns.has(c);
  switch (op.kind) {
    case "insert": {
      if (op.rows.length === 0) return null;
      const names = [...new Set(op.rows.flatMap((r) => Object.keys(r)))].filter(has);
      const rows = op.rows.map((r) => `(${names.map((n) => r[n] ?? "DEFAULT").join(", ")})`);
      return `INSERT INTO ${t} (${names.map(quoteIdent).join(", ")}) VALUES ${
        rows.join(",\n  ")
      } ON CONFLICT DO NOTHING`;
    }
    case "update":
    case "update_all": {
      const set = Object.entries(op.set).filter(([c]) => has(c));
      if (set.length === 0) return null;
      const assign = set.map(([c, v]) => `${quoteIdent(c)} = ${v}`).join(", ");
      return `UPDATE ${t} SET ${assign}${op.kind === "update" ? ` WHERE ${where(op.key)}` : ""}`;
    }
    case "key_change":
      return `UPDATE ${t} SET ${
        Object.entries(op.newKey).map(([c, v]) => `${quoteIdent(c)} = ${v}`).join(", ")
      } WHERE ${where(op.key)}`;
    case "soft_delete":
      return `UPDATE ${t} SET deleted_at = now() WHERE ${where(op.key)}`;
    case "delete":
      return `DELETE FROM ${t} WHERE ${where(op.key)}`;
    case "truncate":
      return `TRUNCATE ${t}`;
    case "add_column":
      return `ALTER TABLE ${t} ADD COLUMN ${quoteIdent(op.column.name)} ${
        TYPES[op.column.type]!.decl
      }${op.default ? ` DEFAULT ${op.default}` : ""}`;
    case "drop_column":
      return has(op.column) ? `ALTER TABLE ${t} DROP COLUMN ${quoteIdent(op.column)}` : null;
    case "alter_type": {
      if (!has(op.column)) return null;
      const decl = TYPES[op.to]!.decl;
      return `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(op.column)} TYPE ${decl} USING ${
        quoteIdent(op.column)
      }::${decl}`;
    }
    case "rename_column":
      return has(op.column)
        ? `ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(op.column)} TO ${quoteIdent(op.to)}`
        : null;
    default:
      return null;
  }
}

/** Applies a successful DDL operation to the tracked column set. */
function trackColumns(op: Op, columns: Set<string>): void {
  if (op.kind === "add_column") columns.add(op.column.name);
  if (op.kind === "drop_column") columns.delete(op.column);
  if (op.kind === "rename_column") {
    columns.delete(op.column);
    columns.add(op.to);
  }
}

function allColumns(t: TableSpec): string[] {
  return [
    ...t.keys.map((k) => k.name),
    ...t.columns.map((c) => c.name),
    ...(t.mode === "incremental" ? ["updated_at"] : []),
    ...(t.softDelete ? ["deleted_at"] : []),
  ];
}

function isRoot(): boolean {
  return Deno.uid() === 0;
}

async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  await Deno.mkdir(dir, { recursive: true });
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stdout: "null",
    stderr: "piped",
  }).output();
  return out.success;
}

async function umount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: ["-l", dir], stdout: "null", stderr: "null" }).output();
}

/** Runs one case; returns the first failure (or null) and counts. */
export async function runCase(c: FuzzCase, options: RunOptions): Promise<CaseResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const timeout = options.commandTimeoutMs ?? 120_000;
  const db = await createTestDb(options.cluster, { demo: false });
  const cols = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set(allColumns(t))]));
  const goneKeys = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set()]));
  const env = db.env({
    ...c.env,
    POSTGRES_TABLES: c.tables.map((t) => selector(t.name)).join(","),
    LOCK_WAIT_SECONDS: "30",
  });
  const mounts: string[] = [];
  let opsRun = 0;
  let checks = 0;
  const fail = (opIndex: number, signature: string, detail: string): CaseResult => ({
    failure: { opIndex, op: c.ops[opIndex]!, signature, detail },
    opsRun,
    checks,
    ms: performance.now() - started,
  });
  try {
    await runSql(db.url, SETUP_SQL + c.tables.map((t) => tableSql(t)).join("\n"));
    let strict = false;
    /** Postgres changed since the last sync that passed the oracle. */
    let dirty = true;
    for (let i = 0; i < c.ops.length; i++) {
      const op = c.ops[i]!;
      opsRun = i + 1;
      const expectOk = async (
        args: string[],
        what: string,
        extraEnv: Record<string, string> = {},
      ): Promise<CaseResult | null> => {
        const r = await runCommand(args, { ...env, ...extraEnv }, timeout);
        if (r.timedOut) return fail(i, `hang:${what}`, `${what} did not end within ${timeout} ms`);
        if (r.code !== 0) {
          return fail(
            i,
            `exit:${what}:${errorCode(r.stderr)}`,
            `${what} exited ${r.code}: ${errorLine(r.stderr)}`,
          );
        }
        return null;
      };
      const check = async (): Promise<CaseResult | null> => {
        checks += 1;
        const lenient = !strict && c.env.RECONCILE_DELETES_EVERY !== "1";
        for (const t of c.tables) {
          const diffs = await compareTable(db.url, env.DUCKDB_PATH!, {
            name: t.name,
            keys: t.keys.map((k) => k.name),
          }, { goneKeys: lenient && t.mode === "incremental" ? goneKeys.get(t.name) : undefined });
          if (diffs.length > 0) return fail(i, signature(diffs), describe(diffs));
        }
        strict = false;
        dirty = false;
        return null;
      };
      log(`  op ${i + 1}/${c.ops.length}: ${opLabel(op)}`);
      let result: CaseResult | null = null;
      switch (op.kind) {
        case "sync":
          result = (await expectOk(["sync", "--once"], "sync")) ?? (await check());
          break;
        case "repair": {
          let r = await runCommand(["verify", "--repair"], env, timeout);
          if (!r.timedOut && /SYNC_NEEDED/.test(r.stdout + r.stderr)) {
            // A column changed type since the last sync: the advice is to sync
            // first, then repair; followed, it must work.
            result = await expectOk(["sync", "--once"], "sync a repair asked for");
            if (result) break;
            dirty = false;
            r = await runCommand(["verify", "--repair"], env, timeout);
          }
          if (r.timedOut) result = fail(i, "hang:verify --repair", "verify --repair hung");
          else if (r.code !== 0 && errorCode(r.stderr) !== "VERIFY_DIFFERS") {
            result = fail(
              i,
              `exit:repair:${errorCode(r.stderr)}`,
              `verify --repair exited ${r.code}: ${errorLine(r.stderr)}`,
            );
          } else {
            strict = true;
            for (const s of goneKeys.values()) s.clear();
            // verify leaves rows changed since the last sync alone: a sync brings those.
            if (dirty) result = await expectOk(["sync", "--once"], "sync after repair");
            result ??= await check();
            if (!result && r.code !== 0) {
              result = fail(
                i,
                "repair:exit1-but-equal",
                `verify --repair exited 1 though the oracle finds the copy equal: ${
                  errorLine(r.stderr)
                }`,
              );
            }
          }
          break;
        }
        case "reset":
          result = (await expectOk(["reset", "--yes"], "reset")) ??
            (await expectOk(["sync", "--once"], "sync after reset"));
          if (!result) {
            strict = true;
            for (const s of goneKeys.values()) s.clear();
            result = await check();
          }
          break;
        case "replay": {
          // On a fresh copy, replaying kept batch files must change nothing.
          result = await expectOk(["sync", "--once"], "sync before replay");
          if (result) break;
          dirty = false;
          const a = c.tables[0]!;
          const prefix = `public_${a.name}__`;
          let files: string[] = [];
          try {
            for await (const e of Deno.readDir(env.PARQUET_DIR!)) {
              if (e.name.startsWith(prefix) && e.name.endsWith(".parquet")) {
                files.push(`${env.PARQUET_DIR}/${e.name}`);
              }
            }
          } catch { /* no directory yet */ }
          const only = {
            POSTGRES_TABLES: "",
            POSTGRES_SCHEMA: "public",
            POSTGRES_TABLE: a.name,
          };
          const first = await runCommand(["replay", ...files.sort()], { ...env, ...only }, timeout);
          // Files older than a change made without a newer cursor are refused
          // whole; the advice names the first batch that may be replayed.
          const from = /REPLAY_UNSAFE.*from #(\d+) on/.exec(first.stderr)?.[1];
          if (from !== undefined) {
            files = files.filter((f) => Number(/__(\d{8,})__/.exec(f)?.[1]) >= Number(from));
            if (files.length === 0) break;
          } else if (first.code === 0 || files.length === 0) {
            result = await check();
            break;
          }
          result = (await expectOk(["replay", ...files], "replay", only)) ?? (await check());
          break;
        }
        case "kill": {
          const r = await runCommand(["sync", "--once"], env, timeout, op.afterMs);
          log(`    killed after ${op.afterMs} ms (exit ${r.code ?? "signal"})`);
          result = (await expectOk(["sync", "--once"], "sync after kill")) ?? (await check());
          break;
        }
        case "late_commit": {
          const inner = op.inner;
          const sql = "table" in inner ? opSql(inner, cols.get(inner.table)!) : null;
          if (sql === null) break;
          dirty = true;
          const writer = new pg.Client({ connectionString: db.url });
          await writer.connect();
          try {
            await writer.query("BEGIN");
            await writer.query(sql).catch((e: unknown) =>
              log(`    skipped: ${String(e).slice(0, 100)}`)
            );
            const running = runCommand(["sync", "--once"], env, timeout);
            await new Promise((done) => setTimeout(done, op.afterMs));
            await writer.query("COMMIT").catch(() => {});
            const r = await running;
            if (r.timedOut) result = fail(i, "hang:sync during a write", "sync --once hung");
            else if (r.code !== 0) {
              result = fail(
                i,
                `exit:sync during a write:${errorCode(r.stderr)}`,
                `sync during an open write exited ${r.code}: ${errorLine(r.stderr)}`,
              );
            }
          } finally {
            await writer.end();
          }
          result ??= (await expectOk(["sync", "--once"], "sync after a late commit")) ??
            (await check());
          break;
        }
        case "pg_restart": {
          await options.cluster.pause();
          const r = await runCommand(["sync", "--once"], env, timeout);
          await options.cluster.resume();
          if (r.timedOut) {
            result = fail(i, "hang:sync with Postgres down", "sync --once hung with Postgres down");
          } else if (r.code === 0) {
            result = fail(
              i,
              "exit0:sync with Postgres down",
              "sync --once exited 0 with Postgres down",
            );
          } else {
            result = (await expectOk(["sync", "--once"], "sync after restart")) ?? (await check());
          }
          break;
        }
        case "disk_full": {
          if (!(options.canMount ?? isRoot())) {
            log("    skipped: a tmpfs needs root");
            break;
          }
          const dir = `${db.dir}/tiny`;
          const onDuck = op.where === "duckdb";
          const duckPath = env.DUCKDB_PATH!;
          // The DuckDB file moves onto a tmpfs with little room beyond its size.
          const size = onDuck ? (await Deno.stat(duckPath)).size + 4096 : 8 * 1024;
          if (!(await mountTmpfs(dir, `${Math.ceil(size / 4096) * 4}k`))) {
            log("    skipped: mount failed");
            break;
          }
          mounts.push(dir);
          const tinyEnv = onDuck
            ? { ...env, DUCKDB_PATH: `${dir}/warehouse.duckdb` }
            : { ...env, PARQUET_DIR: dir };
          if (onDuck) await Deno.copyFile(duckPath, `${dir}/warehouse.duckdb`);
          // Every row changes, so the sync has batches to write.
          for (const t of c.tables) {
            if (t.mode === "incremental") {
              dirty = true;
              await runSql(db.url, `UPDATE public.${quoteIdent(t.name)} SET updated_at = now()`)
                .catch(() => {});
            }
          }
          const r = await runCommand(["sync", "--once"], tinyEnv, 60_000);
          log(`    on a full ${op.where ?? "parquet"} disk: exit ${r.code} ${errorLine(r.stderr)}`);
          if (onDuck) {
            // Whatever the failed sync left in the file is what the next one starts from.
            await Deno.copyFile(`${dir}/warehouse.duckdb`, duckPath);
            await Deno.remove(`${duckPath}.wal`).catch(() => {});
            await Deno.copyFile(`${dir}/warehouse.duckdb.wal`, `${duckPath}.wal`).catch(() => {});
          }
          await umount(dir);
          mounts.pop();
          if (r.timedOut) {
            result = fail(i, "hang:sync on a full disk", "sync --once hung on a full PARQUET_DIR");
          } else if (r.code === 0) {
            log("    the batches fitted in the tmpfs");
          } else if (/^\s*at |Uncaught|panic/m.test(r.stderr)) {
            result = fail(
              i,
              "full-disk:unclean error",
              `sync on a full disk failed without a one-line error: ${r.stderr.slice(0, 400)}`,
            );
          }
          result ??= (await expectOk(["sync", "--once"], "sync after disk freed")) ??
            (await check());
          break;
        }
        default: {
          const columns = cols.get((op as { table: string }).table)!;
          const sql = opSql(op, columns);
          if (sql === null) break;
          try {
            if (op.kind === "delete" || op.kind === "key_change" || op.kind === "truncate") {
              await recordGone(
                db.url,
                c.tables.find((t) => t.name === op.table)!,
                op.kind === "truncate" ? {} : op.key,
                goneKeys,
              );
            }
            dirty = true;
            await runSql(db.url, sql);
            trackColumns(op, columns);
          } catch (e) {
            log(
              `    skipped (Postgres refused: ${
                String(e instanceof Error ? e.message : e).slice(0, 120)
              })`,
            );
          }
        }
      }
      if (result) return result;
    }
    return { failure: null, opsRun, checks, ms: performance.now() - started };
  } catch (e) {
    return fail(
      Math.max(0, opsRun - 1),
      `harness:${e instanceof Error ? e.message.slice(0, 60) : String(e)}`,
      e instanceof Error ? e.stack ?? e.message : String(e),
    );
  } finally {
    for (const m of mounts) await umount(m);
    await db.cleanup();
    await dropDb(options.cluster, db).catch(() => {});
  }
}

async function dropDb(cluster: PgCluster, db: TestDb): Promise<void> {
  await cluster.psql(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  await cluster.psql(`DROP ROLE IF EXISTS ${db.user}`);
}

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function recordGone(
  url: string,
  t: TableSpec,
  key: Values,
  gone: Map<string, Set<string>>,
): Promise<void> {
  const client = await textClient(url);
  try {
    const columns = await sourceColumns(client, t.name);
    const keyCols = t.keys.map((k) => columns.find((c) => c.name === k.name)!);
    const r = await client.query({
      text: `SELECT ${keyCols.map((k) => quoteIdent(k.name)).join(", ")} FROM public.${
        quoteIdent(t.name)
      }${Object.keys(key).length > 0 ? ` WHERE ${where(key)}` : ""}`,
      rowMode: "array",
    });
    for (const row of r.rows as (string | null)[][]) {
      gone.get(t.name)!.add(pgKey(keyCols.map((k) => k.kind), row));
    }
  } finally {
    await client.end();
  }
}

function signature(diffs: readonly Difference[]): string {
  const d = diffs.find((x) => x.what === "differs") ?? diffs[0]!;
  const tags: string[] = [];
  const v = `${d.pg ?? ""}`;
  if (v.includes("\uFEFF")) tags.push("feff");
  if (v.includes("\r")) tags.push("cr");
  if (/^-0$|[{,]-0[,}]/.test(v)) tags.push("-0");
  if (/BC/.test(v)) tags.push("bc");
  if (/infinity/i.test(v)) tags.push("infinity");
  if (/NaN/.test(v)) tags.push("nan");
  return `diff:${d.what}${d.type ? `:${d.type}` : ""}${tags.length ? `:${tags.join("+")}` : ""}`;
}

function describe(diffs: readonly Difference[]): string {
  const lines = diffs.slice(0, 8).map((d) =>
    `${d.table}: ${d.what}${d.key ? ` key=${d.key}` : ""}${
      d.column ? ` column ${JSON.stringify(d.column)}` : ""
    }${d.what === "differs" ? ` postgres=${JSON.stringify(d.pg)} duckdb=${d.duck}` : ""}`
  );
  if (diffs.length > 8) lines.push(`… and ${diffs.length - 8} more`);
  return lines.join("\n");
}

export function opLabel(op: Op): string {
  switch (op.kind) {
    case "insert":
      return `insert ${op.rows.length} row(s) into ${op.table}`;
    case "update":
    case "update_all":
    case "soft_delete":
    case "delete":
    case "truncate":
    case "key_change":
      return `${op.kind} ${op.table}`;
    case "add_column":
      return `add column ${JSON.stringify(op.column.name)} ${
        TYPES[op.column.type]!.decl
      } to ${op.table}`;
    case "drop_column":
      return `drop column ${JSON.stringify(op.column)} of ${op.table}`;
    case "alter_type":
      return `alter column ${JSON.stringify(op.column)} of ${op.table} to ${TYPES[op.to]!.decl}`;
    case "rename_column":
      return `rename column ${JSON.stringify(op.column)} of ${op.table} to ${
        JSON.stringify(op.to)
      }`;
    case "kill":
      return `kill -9 a sync after ${op.afterMs} ms, then sync`;
    case "late_commit":
      return `${
        opLabel(op.inner)
      } in a transaction committed ${op.afterMs} ms into a sync, then sync`;
    default:
      return op.kind;
  }
}

// ---- shrinking ----

/** Removes a column of an initial table and every reference to it. */
function withoutColumn(c: FuzzCase, table: string, column: string): FuzzCase {
  const tables = c.tables.map((t) =>
    t.name === table ? { ...t, columns: t.columns.filter((x) => x.name !== column) } : t
  );
  const strip = (v: Values): Values =>
    Object.fromEntries(Object.entries(v).filter(([k]) => k !== column));
  const ops: Op[] = [];
  for (const op of c.ops) {
    if (!("table" in op) || op.table !== table) {
      ops.push(op);
      continue;
    }
    if (op.kind === "insert") ops.push({ ...op, rows: op.rows.map(strip) });
    else if (op.kind === "update" || op.kind === "update_all") {
      ops.push({ ...op, set: strip(op.set) });
    } else if (
      (op.kind === "drop_column" || op.kind === "alter_type" || op.kind === "rename_column") &&
      op.column === column
    ) continue;
    else ops.push(op);
  }
  return { ...c, tables, ops };
}

export interface ShrinkOptions extends RunOptions {
  /** Stop shrinking after this long (ms). */
  readonly budgetMs: number;
}

/** Delta debugging over operations, then columns, then rows, keeping the same signature. */
export async function shrink(
  c: FuzzCase,
  failure: Failure,
  options: ShrinkOptions,
): Promise<{ case: FuzzCase; failure: Failure; runs: number }> {
  const deadline = performance.now() + options.budgetMs;
  let best = { ...c, ops: c.ops.slice(0, failure.opIndex + 1) };
  let bestFailure = failure;
  let runs = 0;
  const quiet: RunOptions = { ...options, log: undefined };
  const tryCase = async (candidate: FuzzCase): Promise<boolean> => {
    if (performance.now() > deadline) return false;
    runs += 1;
    const r = await runCase(candidate, quiet);
    if (r.failure && r.failure.signature === failure.signature) {
      best = { ...candidate, ops: candidate.ops.slice(0, r.failure.opIndex + 1) };
      bestFailure = r.failure;
      options.log?.(`  shrink: ${best.ops.length} ops still fail (${runs} runs)`);
      return true;
    }
    return false;
  };
  // Operations: ddmin.
  let n = 2;
  while (best.ops.length >= 2 && performance.now() < deadline) {
    const size = Math.ceil(best.ops.length / n);
    let reduced = false;
    for (let start = 0; start < best.ops.length; start += size) {
      const ops = [...best.ops.slice(0, start), ...best.ops.slice(start + size)];
      if (ops.length === 0) continue;
      if (await tryCase({ ...best, ops })) {
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= best.ops.length) break;
      n = Math.min(n * 2, best.ops.length);
    }
  }
  // Columns of the initial tables.
  for (const t of best.tables) {
    for (const col of t.columns) {
      if (performance.now() > deadline) break;
      await tryCase(withoutColumn(best, t.name, col.name));
    }
  }
  // Second table.
  if (best.tables.length > 1 && performance.now() < deadline) {
    const drop = best.tables[1]!.name;
    await tryCase({
      ...best,
      tables: [best.tables[0]!],
      ops: best.ops.filter((o) => !("table" in o) || o.table !== drop),
    });
  }
  // Rows inside inserts, one at a time.
  for (let i = 0; i < best.ops.length; i++) {
    const op = best.ops[i]!;
    if (op.kind !== "insert") continue;
    for (let j = op.rows.length - 1; j >= 0 && performance.now() < deadline; j--) {
      const cur = best.ops[i];
      if (!cur || cur.kind !== "insert" || j >= cur.rows.length) continue;
      const rows = cur.rows.filter((_, k) => k !== j);
      const ops = [...best.ops];
      ops[i] = { ...cur, rows };
      await tryCase({ ...best, ops });
    }
  }
  return { case: best, failure: bestFailure, runs };
}

/** A reproduction as SQL and commands. */
export function reproduction(c: FuzzCase): string {
  const lines: string[] = [];
  lines.push(
    `-- seed ${c.seed}; settings: ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  );
  lines.push(`-- POSTGRES_TABLES='${c.tables.map((t) => selector(t.name)).join(",")}'`);
  lines.push(SETUP_SQL.trim());
  for (const t of c.tables) lines.push(tableSql(t).trim());
  const cols = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set(allColumns(t))]));
  for (const op of c.ops) {
    if (op.kind === "late_commit" && "table" in op.inner) {
      const sql = opSql(op.inner, cols.get(op.inner.table)!);
      lines.push(
        `-- $ (a session) BEGIN; ${sql};  -- main.ts sync --once starts; COMMIT after ${op.afterMs} ms; sync ends; main.ts sync --once  (then compare)`,
      );
    } else if ("table" in op) {
      const set = cols.get(op.table)!;
      const sql = opSql(op, set);
      if (sql) lines.push(`${sql};`);
      trackColumns(op, set);
    } else {
      lines.push(`-- $ ${commandOf(op)}`);
    }
  }
  return lines.join("\n");
}

function commandOf(op: Op): string {
  switch (op.kind) {
    case "sync":
      return "main.ts sync --once  (then compare)";
    case "repair":
      return "main.ts verify --repair  (then compare)";
    case "reset":
      return "main.ts reset --yes && main.ts sync --once  (then compare)";
    case "replay":
      return "POSTGRES_TABLE=<first table> main.ts replay $PARQUET_DIR/<target>__*.parquet  (then compare)";
    case "kill":
      return `main.ts sync --once, SIGKILL after ${op.afterMs} ms; main.ts sync --once  (then compare)`;
    case "pg_restart":
      return "stop PostgreSQL; main.ts sync --once (must fail); start PostgreSQL; main.ts sync --once  (then compare)";
    case "disk_full":
      return op.where === "duckdb"
        ? "copy the DuckDB file onto a tmpfs 4 KB larger than it, main.ts sync --once there (must fail cleanly), copy it back; main.ts sync --once  (then compare)"
        : "PARQUET_DIR on an 8 KB tmpfs: main.ts sync --once (must fail cleanly); then main.ts sync --once  (then compare)";
    default:
      return op.kind;
  }
}

export type { ColumnSpec };

/** A table of the public schema in the selection syntax, its name double-quoted. */
function selector(name: string): string {
  return `public."${name.replaceAll('"', '""')}"`;
}
