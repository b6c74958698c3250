// Owns running one fuzz case against the real program under its sync method: a
// fresh database (its role with REPLICATION under cdc) and temp dir, the case's
// schema, then each operation in turn (SQL through a pg client; syncs, verify
// --repair, reset, replay as main.ts subprocesses with a time bound; faults:
// SIGKILL mid-sync, a PostgreSQL restart, a full tmpfs, a dropped slot; names taken
// away and given back, a table out of the selection), the oracle after every sync,
// and a shrinker that cuts a failing case down by delta debugging.

import pg from "pg";
import { createTestDb, MAIN, REPO, type TestDb } from "../support/fixture.ts";
import type { PgCluster } from "../support/pg_cluster.ts";
import { dropSlots } from "../support/cdc.ts";
import type { ColumnSpec, FuzzCase, Op, TableSpec, Values } from "./generate.ts";
import { quoteIdent, tableSql } from "./generate.ts";
import { compareTable, type Difference, pgKey, sourceColumns, textClient } from "./oracle.ts";
import { quoteLiteral, SETUP_SQL, TYPES } from "./values.ts";

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

/**
 * The SQL of a data or schema operation, given the columns a table has now and,
 * while it is renamed, its qualified name `at`.
 */
export function opSql(op: Op, columns: ReadonlySet<string>, at?: string): string | null {
  const t = at ?? ("table" in op ? `public.${quoteIdent(op.table)}` : "");
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
      const col = quoteIdent(op.column);
      const using = op.using ? `(${op.using.replaceAll("$c", col)})` : `${col}::${decl}`;
      return `ALTER TABLE ${t} ALTER COLUMN ${col} TYPE ${decl} USING ${using}`;
    }
    case "dup_key": {
      if (op.row) {
        const insert = opSql({ kind: "insert", table: op.table, rows: [op.row] }, columns, at);
        return `DO $fz$ DECLARE old tid; BEGIN
SELECT ctid INTO old FROM ${t} WHERE ${where(op.key)} LIMIT 1;
IF old IS NULL THEN RETURN; END IF;
${insert};
DELETE FROM ${t} WHERE ctid = old;
END $fz$`;
      }
      const setKey = (k: Values) =>
        Object.entries(k).map(([c, v]) => `${quoteIdent(c)} = ${v}`).join(", ");
      return `DO $fz$ DECLARE moved tid; BEGIN
UPDATE ${t} SET ${setKey(op.swapWith!)} WHERE ${where(op.key)} RETURNING ctid INTO moved;
IF moved IS NULL THEN RETURN; END IF;
UPDATE ${t} SET ${setKey(op.key)} WHERE ${where(op.swapWith!)} AND ctid <> moved;
END $fz$`;
    }
    case "swap_columns": {
      if (!has(op.a) || !has(op.b)) return null;
      const tmp = quoteIdent("fz swap");
      const [a, b] = [quoteIdent(op.a), quoteIdent(op.b)];
      return `ALTER TABLE ${t} RENAME COLUMN ${a} TO ${tmp}; ALTER TABLE ${t} RENAME COLUMN ${b} TO ${a}; ALTER TABLE ${t} RENAME COLUMN ${tmp} TO ${b}`;
    }
    case "rename_column":
      return has(op.column)
        ? `ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(op.column)} TO ${quoteIdent(op.to)}`
        : null;
    default:
      return null;
  }
}

/** A write with column `from` called `to` (while a column is renamed for a while). */
function renameColumnIn(op: Op, from: string, to: string): Op {
  const re = (v: Values): Values =>
    Object.fromEntries(Object.entries(v).map(([k, x]) => [k === from ? to : k, x]));
  switch (op.kind) {
    case "insert":
      return { ...op, rows: op.rows.map(re) };
    case "update":
      return { ...op, set: re(op.set) };
    default:
      return op;
  }
}

/** The SQL that takes a name away and brings it back, and where the table is meanwhile. */
export function renameSql(
  op: Extract<Op, { kind: "rename_away" }>,
): { away: string; back: string; at: string } {
  const q = quoteIdent;
  const here = `public.${q(op.table)}`;
  if (op.what === "table") {
    return {
      away: `ALTER TABLE ${here} RENAME TO ${q(op.to)}`,
      back: `ALTER TABLE public.${q(op.to)} RENAME TO ${q(op.table)}`,
      at: `public.${q(op.to)}`,
    };
  }
  if (op.what === "schema") {
    return {
      away: `ALTER SCHEMA public RENAME TO ${q(op.to)}`,
      back: `ALTER SCHEMA ${q(op.to)} RENAME TO public`,
      at: `${q(op.to)}.${q(op.table)}`,
    };
  }
  return {
    away: `ALTER TABLE ${here} RENAME COLUMN ${q(op.column!)} TO ${q(op.to)}`,
    back: `ALTER TABLE ${here} RENAME COLUMN ${q(op.to)} TO ${q(op.column!)}`,
    at: here,
  };
}

/** The writes of a rename_away and the column set they see. */
function renamedWrites(
  op: Extract<Op, { kind: "rename_away" }>,
  columns: ReadonlySet<string>,
): { inner: readonly Op[]; columns: Set<string> } {
  if (op.what !== "column") return { inner: op.inner, columns: new Set(columns) };
  const renamed = new Set([...columns].map((c) => c === op.column ? op.to : c));
  return { inner: op.inner.map((o) => renameColumnIn(o, op.column!, op.to)), columns: renamed };
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
  const cdc = c.method === "cdc";
  // The WAL method streams from a replication slot: the role needs REPLICATION.
  if (cdc) await options.cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
  for (const [name, value] of Object.entries(c.roleSettings ?? {})) {
    await options.cluster.psql(`ALTER ROLE ${db.user} SET ${name} = ${quoteLiteral(value)}`);
  }
  const cols = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set(allColumns(t))]));
  const goneKeys = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set()]));
  const keyless = c.tables.filter((t) => t.keyless);
  const syncFile = `${db.dir}/sync.json`;
  if (keyless.length > 0) await Deno.writeTextFile(syncFile, syncFileText(c));
  const env = db.env({
    ...c.env,
    POSTGRES_TABLES: c.tables.map((t) => selector(t.name)).join(","),
    LOCK_WAIT_SECONDS: "30",
    ...(keyless.length > 0 ? { SYNC_CONFIG: syncFile } : {}),
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
      /** The oracle on every table, or on `only` (a table is out of the selection). */
      const check = async (only?: readonly TableSpec[]): Promise<CaseResult | null> => {
        checks += 1;
        // The cursor method brings hard deletes only by reconciliation; the WAL
        // streams them, so under cdc every key gone from Postgres must be gone.
        const lenient = !cdc && !strict && c.env.RECONCILE_DELETES_EVERY !== "1";
        for (const t of only ?? c.tables) {
          const diffs = await compareTable(db.url, env.DUCKDB_PATH!, {
            name: t.name,
            keys: t.keys.map((k) => k.name),
          }, { goneKeys: lenient && t.mode === "incremental" ? goneKeys.get(t.name) : undefined });
          if (diffs.length > 0) return fail(i, signature(diffs), describe(diffs));
        }
        if (only) return null;
        strict = false;
        dirty = false;
        return null;
      };
      const tableOf = (name: string): TableSpec => c.tables.find((t) => t.name === name)!;
      /** Runs a write (at `at` while the table is renamed); Postgres may refuse it. */
      const applyWrite = async (
        w: Op,
        at?: string,
        columns = cols.get((w as { table: string }).table)!,
      ): Promise<void> => {
        const sql = opSql(w, columns, at);
        if (sql === null) return;
        try {
          if (w.kind === "delete" || w.kind === "key_change" || w.kind === "truncate") {
            await recordGone(
              db.url,
              tableOf(w.table),
              w.kind === "truncate" ? {} : w.key,
              goneKeys,
              at,
            );
          }
          dirty = true;
          await runSql(db.url, sql);
          trackColumns(w, columns);
        } catch (e) {
          log(
            `    skipped (Postgres refused: ${
              String(e instanceof Error ? e.message : e).slice(0, 120)
            })`,
          );
        }
      };
      /** A sync whose exit is not checked (a table is away); a hang or a stack trace is a failure. */
      const syncAnyExit = async (what: string): Promise<CaseResult | null> => {
        const r = await runCommand(["sync", "--once"], env, timeout);
        log(`    ${what}: exit ${r.code} ${errorLine(r.stderr)}`);
        if (r.timedOut) return fail(i, `hang:${what}`, `${what} did not end within ${timeout} ms`);
        if (/^\s*at |Uncaught|panic|error INTERNAL/m.test(r.stderr)) {
          return fail(
            i,
            `unclean:${what}`,
            `${what} failed without a one-line error: ${r.stderr.slice(0, 400)}`,
          );
        }
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
          if (cdc) {
            // A streamed table's files hold changes, not row versions: refused by design.
            if (files.length === 0) break;
            const r = await runCommand(["replay", ...files.sort()], { ...env, ...only }, timeout);
            if (r.code !== 2 || !/write-ahead log/.test(r.stderr)) {
              result = fail(
                i,
                `replay:cdc:${r.code === 0 ? "exit0" : errorCode(r.stderr)}`,
                `replay of a streamed table's files was not refused (exit ${r.code}): ${
                  errorLine(r.stderr)
                }`,
              );
              break;
            }
            result = await check();
            break;
          }
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
            await writer.query(WRITER_SESSION + "BEGIN");
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
        case "rename_away": {
          const { away, back, at } = renameSql(op);
          if (op.what === "column" && !cols.get(op.table)!.has(op.column!)) break;
          try {
            await runSql(db.url, away);
          } catch (e) {
            log(`    skipped (Postgres refused: ${String(e).slice(0, 120)})`);
            break;
          }
          dirty = true;
          try {
            const w = renamedWrites(op, cols.get(op.table)!);
            for (const x of w.inner) await applyWrite(x, at, w.columns);
            if (op.syncBetween) result = await syncAnyExit(`sync while the ${op.what} is renamed`);
          } finally {
            await runSql(db.url, back);
          }
          break;
        }
        case "recreate_table": {
          const t = tableOf(op.table);
          const spec: TableSpec = { ...t, columns: op.columns };
          try {
            await recordGone(db.url, t, {}, goneKeys);
            await runSql(
              db.url,
              `DROP TABLE public.${quoteIdent(t.name)} CASCADE;\n${tableSql(spec)}`,
            );
          } catch (e) {
            log(`    skipped (Postgres refused: ${String(e).slice(0, 120)})`);
            break;
          }
          dirty = true;
          const set = cols.get(t.name)!;
          set.clear();
          for (const name of allColumns(spec)) set.add(name);
          for (const w of op.inner) await applyWrite(w);
          break;
        }
        case "drop_slot": {
          if (!cdc) break;
          await dropSlots(db);
          for (const w of op.inner) await applyWrite(w);
          const r = await runCommand(["sync", "--once"], env, timeout);
          log(`    sync after the slot was dropped: exit ${r.code} ${errorLine(r.stderr)}`);
          if (r.timedOut) {
            result = fail(i, "hang:sync after slot dropped", "sync --once hung");
          } else if (r.code !== 0 && errorCode(r.stderr) === "CDC_SLOT_LOST") {
            // The refusal names the fix: reset --yes and a new copy.
            result = (await expectOk(["reset", "--yes"], "reset after slot lost")) ??
              (await expectOk(["sync", "--once"], "sync after reset"));
            if (!result) {
              strict = true;
              for (const s of goneKeys.values()) s.clear();
              result = await check();
            }
          } else if (r.code !== 0) {
            result = fail(
              i,
              `exit:sync after slot dropped:${errorCode(r.stderr)}`,
              `sync after the slot was dropped exited ${r.code}: ${errorLine(r.stderr)}`,
            );
          } else {
            result = await check();
          }
          break;
        }
        case "deselect": {
          const others = c.tables.filter((x) => x.name !== op.table);
          const without = { POSTGRES_TABLES: others.map((x) => selector(x.name)).join(",") };
          result = (await expectOk(["sync", "--once"], "sync without a table", without)) ??
            (await check(others));
          if (result) break;
          for (const w of op.inner) await applyWrite(w);
          result = (await expectOk(["sync", "--once"], "sync without a table", without)) ??
            (await check(others)) ??
            (await expectOk(["sync", "--once"], "sync with the table back")) ??
            (await check());
          break;
        }
        default:
          await applyWrite(op);
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
    // The shared cluster has few slots: a case leaves none behind.
    if (cdc) await dropSlots(db).catch(() => {});
    await db.cleanup();
    await dropDb(options.cluster, db).catch(() => {});
  }
}

async function dropDb(cluster: PgCluster, db: TestDb): Promise<void> {
  await cluster.psql(`DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`);
  await cluster.psql(`DROP ROLE IF EXISTS ${db.user}`);
}

/** The harness's own writes run with fixed session settings, whatever the role's are. */
const WRITER_SESSION =
  "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'; SET statement_timeout = 0; SET bytea_output = 'hex'; ";

async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(WRITER_SESSION + sql);
  } finally {
    await client.end();
  }
}

async function recordGone(
  url: string,
  t: TableSpec,
  key: Values,
  gone: Map<string, Set<string>>,
  at = `public.${quoteIdent(t.name)}`,
): Promise<void> {
  const client = await textClient(url);
  try {
    const columns = await sourceColumns(client, t.name, at);
    const keyCols = t.keys.map((k) => columns.find((c) => c.name === k.name)!);
    const r = await client.query({
      text: `SELECT ${keyCols.map((k) => quoteIdent(k.name)).join(", ")} FROM ${at}${
        Object.keys(key).length > 0 ? ` WHERE ${where(key)}` : ""
      }`,
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
      return `alter column ${JSON.stringify(op.column)} of ${op.table} to ${TYPES[op.to]!.decl}${
        op.using ? ` USING ${op.using}` : ""
      }`;
    case "rename_column":
      return `rename column ${JSON.stringify(op.column)} of ${op.table} to ${
        JSON.stringify(op.to)
      }`;
    case "kill":
      return `kill -9 a sync after ${op.afterMs} ms, then sync`;
    case "rename_away":
      return `rename ${op.what} ${
        op.what === "column" ? `${JSON.stringify(op.column)} of ${op.table}` : op.table
      } to ${JSON.stringify(op.to)}, ${op.inner.length} write(s)${
        op.syncBetween ? ", a sync" : ""
      }, rename it back`;
    case "recreate_table":
      return `drop and create ${op.table} again, insert ${
        op.inner.map((o) => o.kind === "insert" ? o.rows.length : 0).reduce((a, b) => a + b, 0)
      } row(s)`;
    case "swap_columns":
      return `swap the names of columns ${JSON.stringify(op.a)} and ${
        JSON.stringify(op.b)
      } of ${op.table}`;
    case "dup_key":
      return op.swapWith
        ? `swap two keys of ${op.table} in one transaction (a key twice meanwhile)`
        : `insert a row of ${op.table} with a key it has, then delete the old row (one transaction)`;
    case "drop_slot":
      return `drop the replication slot, ${op.inner.length} write(s), sync`;
    case "deselect":
      return `sync without ${op.table}, ${op.inner.length} write(s) to it, sync without it, sync with it`;
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
  if (c.tables.some((t) => t.keyless)) {
    lines.push(`-- SYNC_CONFIG=sync.json: ${syncFileText(c).replaceAll("\n", "")}`);
  }
  for (const [name, value] of Object.entries(c.roleSettings ?? {})) {
    lines.push(`ALTER ROLE <sync role> SET ${name} = ${quoteLiteral(value)};`);
  }
  lines.push(SETUP_SQL.trim());
  for (const t of c.tables) lines.push(tableSql(t).trim());
  const cols = new Map<string, Set<string>>(c.tables.map((t) => [t.name, new Set(allColumns(t))]));
  const writesSql = (ops: readonly Op[], at?: string, columns?: Set<string>) => {
    for (const w of ops) {
      if (!("table" in w)) continue;
      const set = columns ?? cols.get(w.table)!;
      const sql = opSql(w, set, at);
      if (sql) lines.push(`${sql};`);
    }
  };
  for (const op of c.ops) {
    if (op.kind === "rename_away") {
      const { away, back, at } = renameSql(op);
      const w = renamedWrites(op, cols.get(op.table)!);
      lines.push(`${away};`);
      writesSql(w.inner, at, w.columns);
      if (op.syncBetween) lines.push("-- $ main.ts sync --once  (any exit; no hang)");
      lines.push(`${back};`);
    } else if (op.kind === "recreate_table") {
      const spec = { ...c.tables.find((t) => t.name === op.table)!, columns: op.columns };
      lines.push(`DROP TABLE public.${quoteIdent(op.table)} CASCADE;`, tableSql(spec).trim());
      cols.set(op.table, new Set(allColumns(spec)));
      writesSql(op.inner);
    } else if (op.kind === "drop_slot") {
      lines.push(
        "-- $ (superuser) SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots;",
      );
      writesSql(op.inner);
      lines.push(
        "-- $ main.ts sync --once (on CDC_SLOT_LOST: main.ts reset --yes; main.ts sync --once)  (then compare)",
      );
    } else if (op.kind === "deselect") {
      lines.push(
        `-- $ POSTGRES_TABLES=<all but ${op.table}> main.ts sync --once  (then compare the others)`,
      );
      writesSql(op.inner);
      lines.push(
        `-- $ POSTGRES_TABLES=<all but ${op.table}> main.ts sync --once  (then compare the others)`,
      );
      lines.push("-- $ main.ts sync --once  (then compare)");
    } else if (op.kind === "late_commit" && "table" in op.inner) {
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

/** The sync file naming the keys of keyless tables. */
function syncFileText(c: FuzzCase): string {
  const tables: Record<string, { key: string[] }> = {};
  for (const t of c.tables) {
    if (t.keyless) tables[selector(t.name)] = { key: t.keys.map((k) => k.name) };
  }
  return JSON.stringify({ tables }, null, 1);
}

/** A table of the public schema in the selection syntax, its name double-quoted. */
function selector(name: string): string {
  return `public."${name.replaceAll('"', '""')}"`;
}
