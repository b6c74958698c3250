// The command line: the only place that reads Deno.args and the environment.
// Picks a command, builds the Config, runs the engine in-process and turns its
// events into stderr lines, and maps every failure to one line and an exit code
// (2 = configuration, 1 = runtime).

import { parseArgs } from "node:util";
import {
  type Config,
  type ConfigFlags,
  FLAG_TO_ENV,
  loadConfig,
  secretsOf,
} from "./src/core/config.ts";
import { optionsUsage } from "./src/core/settings.ts";
import { errorMessage, SyncError } from "./src/core/errors.ts";
import { scrub } from "./src/core/secrets.ts";
import { type EngineOptions, SyncEngine } from "./src/sync/engine.ts";
import { backoffSeconds, LoopControl, runLoop } from "./src/sync/loop.ts";
import { formatEvent } from "./src/core/event_log.ts";
import type { EngineEvent } from "./src/core/events.ts";
import { CHECKPOINT_FILE, CheckpointStore } from "./src/io/checkpoint.ts";
import { queryWarehouse } from "./src/io/warehouse_query.ts";
import { formatResult, type QueryFormat } from "./src/core/query_result.ts";
import { classifyPgError, connectPg } from "./src/io/postgres.ts";
import { seedChanges } from "./src/demo/seed.ts";
import { Warehouse } from "./src/io/warehouse.ts";
import { quoteIdent } from "./src/core/sql.ts";
import { formatSelector, sourceName } from "./src/core/selector.ts";
import { listBatchFiles } from "./src/io/batch_files.ts";
import {
  demoConfig,
  postgresConfigured,
  runningDemoPort,
  startDemoDatabase,
} from "./src/demo/demo.ts";
import { join } from "node:path";
import type { ScanState } from "./src/io/block_scan.ts";
import { formatVerdict, verifyTables } from "./src/sync/verify.ts";
import { count } from "./src/core/counts.ts";
import { closest } from "./src/core/did_you_mean.ts";
import { sameOrigin } from "./src/core/origin.ts";
import { replayBatchFiles } from "./src/sync/replay.ts";

const USAGE = `postgres-duckdb-sync: keep a DuckDB copy of live PostgreSQL tables

Usage: deno run -A main.ts [command] [options]

Commands:
  (none) or tui            the terminal UI (the headless loop when not on a terminal);
                           with no Postgres configured it runs the embedded demo database
  demo                     the terminal UI on the embedded demo database, always
  sync --once              one cycle (bootstrap on first run, incremental after)
  sync --loop              a cycle every SYNC_INTERVAL_SECONDS until SIGINT/SIGTERM
  status [--json]          per table: mode, cursor, key, rows copied, last batch
  verify [--json] [--repair]
                           compare every table with Postgres by key-bucket checksums;
                           exit 1 naming the tables that differ; --repair re-copies them
  query "SQL" [--format table|csv|json]
                           run SQL on the DuckDB file (read-only)
  seed-changes [--inserts N --updates N --deletes N]
                           live changes into the demo table
  reset [--yes] [--force]  remove the state so the next run bootstraps again (--force: also
                           a DuckDB table this STATE_DIR has no checkpoint for)
  replay FILE...           re-apply Parquet batch files (never regresses a newer row)

Options (each overrides its environment variable; see the README's Configuration):
${optionsUsage()}`;

class UsageError extends SyncError {
  constructor(message: string) {
    super("CONFIG_INVALID", message, { exitCode: 2 });
  }
}

/** Options of the commands themselves (the configuration flags are FLAG_TO_ENV). */
const COMMAND_OPTIONS = {
  once: { type: "boolean" },
  loop: { type: "boolean" },
  json: { type: "boolean" },
  repair: { type: "boolean" },
  force: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  format: { type: "string" },
  inserts: { type: "string" },
  updates: { type: "string" },
  deletes: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function parse(args: string[]) {
  const configOptions = Object.fromEntries(
    Object.keys(FLAG_TO_ENV).map((flag) => [flag, { type: "string" as const }]),
  );
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...configOptions, ...COMMAND_OPTIONS },
    });
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec(errorMessage(error))?.[1];
    if (unknown) {
      const known = [...Object.keys(FLAG_TO_ENV), ...Object.keys(COMMAND_OPTIONS)];
      const near = closest(unknown.replace(/^-+/, "").split("=")[0]!, known);
      throw new UsageError(
        `Unknown option ${unknown}${
          near ? ` (did you mean --${near}?)` : ""
        }; run with --help for usage`,
      );
    }
    throw new UsageError(`${errorMessage(error)} (run with --help for usage)`);
  }
}

type Parsed = ReturnType<typeof parse>;

function flagsFrom(parsed: Parsed): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const flag of Object.keys(FLAG_TO_ENV) as (keyof typeof FLAG_TO_ENV)[]) {
    const value = (parsed.values as Record<string, unknown>)[flag];
    if (typeof value === "string") flags[flag] = value;
  }
  return flags;
}

const envLookup = (name: string) => Deno.env.get(name);

const readText = (path: string) => Deno.readTextFileSync(path);

function configFrom(parsed: Parsed): Config {
  return loadConfig(envLookup, flagsFrom(parsed), readText);
}

/**
 * The embedded demo database when no Postgres is configured (or `demo` forces
 * it). Any explicit configuration means a real server: never a silent switch.
 */
async function withDemo<T>(
  parsed: Parsed,
  force: boolean,
  run: (config: Config, demo: boolean) => Promise<T>,
): Promise<T> {
  const flags = flagsFrom(parsed);
  const base = loadConfig(envLookup, flags, readText);
  if (!force && postgresConfigured(envLookup, flags)) return await run(base, false);
  const demo = await startDemoDatabase(base.stateDir);
  try {
    return await run(demoConfig(envLookup, flags, demo.port), true);
  } finally {
    await demo.stop();
  }
}

function seedCount(
  parsed: Parsed,
  name: "inserts" | "updates" | "deletes",
  fallback: number,
): number {
  const raw = parsed.values[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 1_000_000) {
    throw new UsageError(
      `--${name}=${JSON.stringify(raw)} is not a whole number from 0 to 1000000`,
    );
  }
  return Number(raw);
}

function logger(config: Config, secrets: string[]) {
  return (event: EngineEvent) => {
    const line = formatEvent(event, config.logFormat, new Date());
    if (line !== null) console.error(scrub(line, secrets));
  };
}

async function commandSync(parsed: Parsed, config = configFrom(parsed)): Promise<number> {
  const secrets = secretsOf(config);
  const emit = logger(config, secrets);
  const loop = parsed.values.loop === true;
  if (loop && parsed.values.once) throw new UsageError("Choose one of --once or --loop");
  const controller = new AbortController();
  let stops = 0;
  const stop = () => {
    stops += 1;
    if (stops > 1) Deno.exit(130);
    emit({ type: "notice", message: "stopping after the batch in flight" });
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const engine = await openEngine({ config, emit, secrets }, loop, controller.signal);
  if (!engine) {
    // Stopped while waiting for space.
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    return 0;
  }
  try {
    if (loop) {
      emit({
        type: "notice",
        message: `syncing ${
          describeTables(config)
        } from ${config.pgDisplay} to ${config.duckdbPath} every ${config.intervalSeconds}s`,
      });
      await runLoop(engine, {
        intervalSeconds: config.intervalSeconds,
        signal: controller.signal,
        emit,
      });
    } else {
      const summary = await engine.runCycle(controller.signal);
      if (summary.failures.length > 0) {
        throw new SyncError(
          "TABLES_FAILED",
          `${summary.failures.length} of ${summary.tables} tables failed: ${
            summary.failures.map((f) => `${f.table} (${f.error.code})`).join(", ")
          }; the others are synced (see the errors above)`,
          { exitCode: summary.failures.every((f) => f.error.exitCode === 2) ? 2 : 1 },
        );
      }
    }
  } finally {
    await engine.close();
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  return 0;
}

/**
 * Opens the engine; a loop that finds a disk full (e.g. STATE_DIR) waits and
 * tries again as it does mid-run, rather than exiting. Null when stopped first.
 */
async function openEngine(
  options: EngineOptions,
  loop: boolean,
  signal: AbortSignal,
): Promise<SyncEngine | null> {
  const control = new LoopControl();
  for (let failures = 1;; failures++) {
    try {
      return await SyncEngine.create(options);
    } catch (error) {
      if (!loop || !(error instanceof SyncError) || error.code !== "DISK_FULL") throw error;
      const wait = backoffSeconds(failures, 60);
      options.emit({
        type: "error",
        code: error.code,
        message: error.message,
        transient: true,
        retryInSeconds: wait,
      });
      await control.sleep(wait * 1000, signal);
      if (signal.aborted) return null;
    }
  }
}

function describeTables(config: Config): string {
  return config.tables.map((t) => formatSelector(t.schema, t.table)).join(", ");
}

async function commandVerify(parsed: Parsed): Promise<number> {
  const config = configFrom(parsed);
  const secrets = secretsOf(config);
  const json = parsed.values.json === true;
  const verdicts = await verifyTables({
    config,
    secrets,
    repair: parsed.values.repair === true,
    onTable: (v) => {
      if (!json) console.log(scrub(formatVerdict(v), secrets));
    },
  });
  if (json) console.log(scrub(JSON.stringify(verdicts, null, 2), secrets));
  const bad = verdicts.filter((v) => v.status !== "equal" && v.status !== "skipped");
  if (verdicts.length === 0) {
    throw new SyncError(
      "TABLE_MISSING",
      `verify found no tables to compare in ${describeTables(config)}`,
    );
  }
  if (bad.length > 0) {
    throw new SyncError(
      "VERIFY_DIFFERS",
      `${bad.length} of ${
        verdicts.filter((v) => v.status !== "skipped").length
      } tables are not equal: ${
        bad.map((v) => `${v.table} (${v.status.replace("_", " ")})`).join(", ")
      }${
        parsed.values.repair || !bad.some((v) => v.status === "differs")
          ? ""
          : " (run verify --repair to re-copy the differing rows)"
      }`,
    );
  }
  return 0;
}

/** "block 221 of 3421 (6%)" while a first copy by block ranges is under way. */
function firstCopyProgress(scan: ScanState | null): string | null {
  if (!scan) return null;
  const percent = scan.blocks > 0 ? Math.floor((scan.nextBlock / scan.blocks) * 100) : 100;
  return `block ${scan.nextBlock} of ${scan.blocks} (${percent}%)`;
}

function commandStatus(parsed: Parsed): number {
  const config = configFrom(parsed);
  const store = CheckpointStore.openExisting(config.stateDir, { readOnly: true });
  const tables = store?.list() ?? [];
  // With Postgres configured, a checkpoint made from another server or
  // database is named as such (sync would refuse it: SOURCE_CHANGED).
  const configured = postgresConfigured(envLookup, flagsFrom(parsed));
  const rows = tables.map((t) => ({
    table: t.table,
    source: t.source,
    origin: t.origin,
    fromConfiguredSource: configured && t.origin ? sameOrigin(t.origin, config.pgOrigin) : null,
    mode: t.mode,
    cursor: t.cursor,
    key: t.key,
    rowsCopied: t.rowsCopied,
    batches: t.batches,
    lastBatchAt: t.lastBatchAt,
    firstCopy: firstCopyProgress(store?.scan(t.table) ?? null),
  }));
  store?.close();
  if (parsed.values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    console.log(`No checkpoint in ${config.stateDir} yet: the next sync bootstraps.`);
    return 0;
  }
  for (const r of rows) {
    console.log(
      `${r.table} (${sourceName(r.source)} on ${r.origin ?? "unknown server"}): ${r.mode}, cursor ${
        r.cursor ?? "-"
      }, key ${r.key ? r.key.join(", ") : "-"}, ${count(r.rowsCopied, "row")} copied in ${
        count(r.batches, "batch", "batches")
      }, last batch ${r.lastBatchAt ?? "never"}${
        r.firstCopy ? `, first copy at ${r.firstCopy}` : ""
      }${
        r.fromConfiguredSource === false
          ? `; NOT the configured source ${config.pgOrigin} (sync would refuse it: SOURCE_CHANGED)`
          : ""
      }`,
    );
  }
  return 0;
}

async function commandQuery(parsed: Parsed): Promise<number> {
  const config = configFrom(parsed);
  const sql = parsed.positionals.slice(1).join(" ").trim();
  if (!sql) {
    throw new UsageError(
      'query needs SQL, e.g. main.ts query "SELECT count(*) FROM analytics_subscriptions"',
    );
  }
  const format = (parsed.values.format ?? "table") as QueryFormat;
  if (!["table", "csv", "json"].includes(format)) {
    throw new UsageError(`--format=${JSON.stringify(format)} must be table, csv or json`);
  }
  const result = await queryWarehouse(config.duckdbPath, sql, Math.min(config.lockWaitSeconds, 30));
  console.log(formatResult(result, format));
  return 0;
}

async function commandSeed(parsed: Parsed): Promise<number> {
  const flags = flagsFrom(parsed);
  let config = configFrom(parsed);
  if (!postgresConfigured(envLookup, flags)) {
    // Nothing configured: seed the demo database. A running demo (the UI) is
    // reached on its port; otherwise the embedded database is opened here.
    const port = await runningDemoPort(config.stateDir);
    if (port !== null) {
      config = demoConfig(envLookup, flags, port);
    } else {
      return await withDemo(parsed, true, (demoConfig) => seedWith(parsed, demoConfig));
    }
  }
  return await seedWith(parsed, config);
}

/** Up to ten ids, then "…". */
function ids(list: readonly string[]): string {
  return list.length > 10 ? `${list.slice(0, 10).join(",")},…` : list.join(",");
}

async function seedWith(parsed: Parsed, config: Config): Promise<number> {
  const secrets = secretsOf(config);
  const counts = {
    inserts: seedCount(parsed, "inserts", 1),
    updates: seedCount(parsed, "updates", 1),
    deletes: seedCount(parsed, "deletes", 1),
  };
  const client = await connectPg(config, secrets);
  try {
    const result = await seedChanges(client, config, counts).catch((error) => {
      throw classifyPgError(error, config, secrets);
    });
    console.log(
      `seeded ${config.schema}.${config.table}: inserted ${result.inserted.length} [${
        ids(result.inserted)
      }], updated ${result.updated.length} [${
        ids(result.updated)
      }], soft-deleted ${result.deleted.length} [${ids(result.deleted)}]`,
    );
  } finally {
    await client.end().catch(() => {});
  }
  return 0;
}

/** The DuckDB tables `reset` removes: the one table, or every checkpointed one. */
/** The one selected table's DuckDB name (a sync file's target, or DUCKDB_TABLE). */
function singleTarget(config: Config): string {
  return config.overrides[formatSelector(config.schema, config.table)]?.target ??
    config.duckdbTable;
}

function resetTargets(config: Config): string[] {
  if (!config.multiTable) return [singleTarget(config)];
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    const tables = store?.list().map((t) => t.table) ?? [];
    store?.close();
    return tables;
  } catch {
    return [];
  }
}

/**
 * Whether STATE_DIR holds a checkpoint for `table` (a corrupt checkpoint file
 * counts: it may hold it, and reset removes it whole).
 */
function hasCheckpoint(config: Config, table: string): boolean {
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    const found = store?.get(table) != null;
    store?.close();
    return found;
  } catch {
    return true;
  }
}

/** Whether the DuckDB file exists and has `table`. */
async function warehouseHas(config: Config, table: string): Promise<boolean> {
  try {
    await Deno.stat(config.duckdbPath);
  } catch {
    return false;
  }
  const warehouse = await Warehouse.open(config.duckdbPath, {
    lockWaitSeconds: config.lockWaitSeconds,
    memoryLimit: config.duckdbMemoryLimit,
  });
  try {
    return (await warehouse.columns(table)) !== null;
  } finally {
    warehouse.close();
  }
}

async function commandReset(parsed: Parsed): Promise<number> {
  const config = configFrom(parsed);
  const targets = resetTargets(config);
  // Without this STATE_DIR's checkpoint, a DuckDB table of that name (and its
  // Parquet files) may be another STATE_DIR's copy: never drop it from here.
  const target = singleTarget(config);
  if (!config.multiTable && !hasCheckpoint(config, target) && !parsed.values.force) {
    if (await warehouseHas(config, target)) {
      throw new UsageError(
        `Nothing reset: ${config.stateDir} holds no checkpoint for ${target}, so its DuckDB table in ${config.duckdbPath} may be another STATE_DIR's copy (check STATE_DIR; \`reset --yes --force\` drops it anyway)`,
      );
    }
    console.log(`reset: nothing to reset, ${config.stateDir} holds no checkpoint for ${target}`);
    return 0;
  }
  if (!parsed.values.yes) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        "reset deletes the checkpoint and the DuckDB table: pass --yes to confirm",
      );
    }
    const answer = prompt(
      `Delete the checkpoint of ${
        targets.join(", ") || "every table"
      } in ${config.stateDir}, the table(s) in ${config.duckdbPath} and their Parquet batches? [y/N]`,
    );
    if (!answer || !/^y(es)?$/i.test(answer.trim())) {
      console.error("reset cancelled");
      return 1;
    }
  }
  // Only these tables' checkpoints go; other tables in STATE_DIR keep theirs.
  // A corrupt checkpoint file cannot be edited, so it is removed whole.
  let checkpointNote = `checkpoint of ${
    targets.length === 1 ? "this table" : "these tables"
  } removed`;
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    for (const table of targets) store?.removeTable(table);
    store?.close();
  } catch (error) {
    if (!(error instanceof SyncError) || error.code !== "CHECKPOINT_CORRUPT") throw error;
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(join(config.stateDir, CHECKPOINT_FILE + suffix)).catch(() => {});
    }
    checkpointNote = "corrupt checkpoint file removed (it held every table's state)";
  }
  const dropped: string[] = [];
  try {
    await Deno.stat(config.duckdbPath);
    const warehouse = await Warehouse.open(config.duckdbPath, {
      lockWaitSeconds: config.lockWaitSeconds,
      memoryLimit: config.duckdbMemoryLimit,
    });
    try {
      for (const table of targets) {
        if (await warehouse.columns(table)) {
          await warehouse.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
          await warehouse.disown(table);
          dropped.push(table);
        }
      }
    } finally {
      warehouse.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let files = 0;
  for (const table of targets) {
    const names = await listBatchFiles(config.parquetDir, table);
    for (const f of names) await Deno.remove(join(config.parquetDir, f)).catch(() => {});
    files += names.length;
  }
  console.log(
    `reset: ${checkpointNote}${
      dropped.length > 0
        ? `, DuckDB table${dropped.length === 1 ? "" : "s"} ${dropped.join(", ")} dropped`
        : ""
    }, ${count(files, "Parquet batch file")} removed; the next sync bootstraps`,
  );
  return 0;
}

async function commandReplay(parsed: Parsed): Promise<number> {
  const config = configFrom(parsed);
  const files = parsed.positionals.slice(1);
  if (files.length === 0) {
    throw new UsageError("replay needs Parquet batch files, e.g. parquet/*.parquet");
  }
  for (const file of files) {
    try {
      await Deno.stat(file);
    } catch {
      throw new UsageError(`replay: no such file ${file}`);
    }
  }
  await replayBatchFiles(config, files, (line) => console.log(line));
  return 0;
}

/** The terminal UI when stdin and stdout are terminals; otherwise the headless loop. */
async function commandTui(parsed: Parsed, forceDemo: boolean): Promise<number> {
  return await withDemo(parsed, forceDemo, async (config, demo) => {
    if (demo) {
      console.error(
        `notice: no Postgres configured: using the embedded demo database (data in ${config.stateDir}/demo-postgres); set DATABASE_URL or POSTGRES_HOST to sync a real one`,
      );
    }
    if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
      console.error(
        `notice: stdin or stdout is not a terminal; running headless (sync ${
          parsed.values.once ? "--once" : "--loop"
        }) instead of the terminal UI`,
      );
      if (!parsed.values.once) parsed.values.loop = true;
      return await commandSync(parsed, config);
    }
    const { runTui } = await import("./ui/tui.tsx");
    return await runTui({ config, secrets: secretsOf(config), demo });
  });
}

async function main(args: string[]): Promise<number> {
  const parsed = parse(args);
  const command = parsed.positionals[0];
  if (parsed.values.help || command === "help") {
    console.log(USAGE);
    return 0;
  }
  switch (command) {
    case "sync":
      return await commandSync(parsed);
    case "status":
      return commandStatus(parsed);
    case "verify":
      return await commandVerify(parsed);
    case "query":
      return await commandQuery(parsed);
    case "seed-changes":
      return await commandSeed(parsed);
    case "reset":
      return await commandReset(parsed);
    case "replay":
      return await commandReplay(parsed);
    case undefined:
    case "tui":
      return await commandTui(parsed, false);
    case "demo":
      return await commandTui(parsed, true);
    default:
      throw new UsageError(`Unknown command "${command}" (run with --help for usage)`);
  }
}

/**
 * With no Postgres configured, `sync`, `verify` and the like use the docker
 * compose defaults (localhost:5437); a refused connection there most likely
 * means the user expected the demo or their own server.
 */
function defaultsHint(error: SyncError): string {
  if (error.code !== "PG_UNREACHABLE") return "";
  try {
    if (postgresConfigured(envLookup, flagsFrom(parse(Deno.args)))) return "";
  } catch {
    return "";
  }
  return "; nothing is configured, so this is the docker compose database's address: start it " +
    "(docker compose up -d postgres), set DATABASE_URL for your own server, or use `deno task start` " +
    "for the embedded demo";
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    let secrets: string[] = [];
    try {
      secrets = secretsOf(loadConfig((name) => Deno.env.get(name), {}, readText));
    } catch { /* config itself was bad */ }
    const e = error instanceof SyncError
      ? error
      : new SyncError("INTERNAL", errorMessage(error), { cause: error });
    const message = scrub(e.message.replaceAll("\n", " "), secrets) + defaultsHint(e);
    const json = Deno.env.get("LOG_FORMAT") === "json" ||
      Deno.args.some((a, i) =>
        a === "--log-format=json" || (a === "--log-format" && Deno.args[i + 1] === "json")
      );
    console.error(
      json
        ? JSON.stringify({
          time: new Date().toISOString(),
          type: "fatal",
          code: e.code,
          message,
          exitCode: e.exitCode,
        })
        : `error ${e.code}: ${message}`,
    );
    code = e.exitCode;
  }
  Deno.exit(code);
}
