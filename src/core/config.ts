// Owns configuration: environment variables and command-line flags become one
// frozen Config. Every bad value is named in a single one-line error that says
// how to fix it. Pure: callers pass in the env and flags.

import { configError } from "./errors.ts";
import { maskUrl, urlPasswords } from "./secrets.ts";
import {
  originOf,
  type PgConnectionConfig,
  pgConnectionUrl,
  type ReadText,
  urlPart,
} from "./pg_url.ts";
import { parseSyncFile, type TableOverride } from "./sync_file.ts";
import { readSelector, splitSelectors, suggestSelector, type TableSelector } from "./selector.ts";
import {
  ENV_DEFAULTS,
  FLAG_TO_ENV,
  type FlagName,
  type Setting,
  type SettingName,
  SETTINGS,
} from "./settings.ts";

export type LogFormat = "text" | "json";

export type { TableSelector } from "./selector.ts";
export { pgConnectionUrl } from "./pg_url.ts";
export type { PgConnectionConfig, ReadText } from "./pg_url.ts";
export { parseSelector } from "./selector.ts";

/** What a large numeric (precision over 38, or unconstrained) becomes in DuckDB. */
export type WideNumeric = "varchar" | "double";

/** What hard-delete reconciliation does with a row that is gone from Postgres. */
export type ReconcileMode = "delete" | "mark";

export interface Config {
  readonly pg: PgConnectionConfig;
  /** Connection shown to humans, password masked. */
  readonly pgDisplay: string;
  /** Which server and database rows come from, recorded in the checkpoint ("host:port/db"). */
  readonly pgOrigin: string;
  readonly schema: string;
  readonly table: string;
  /** Explicit key columns, or null to read the primary key from the catalog. */
  readonly primaryKey: readonly string[] | null;
  readonly cursorColumn: string;
  readonly softDeleteColumn: string;
  readonly batchSize: number;
  /** Rows per batch while bootstrapping (bigger batches amortise per-batch costs). */
  readonly bootstrapBatchSize: number;
  /** Postgres connections reading a first copy's block ranges at once (sharing one snapshot). */
  readonly bootstrapParallelism: number;
  /** Whether a first copy's batches get Parquet files too (later batches always do). */
  readonly bootstrapParquet: boolean;
  readonly duckdbPath: string;
  readonly duckdbTable: string;
  readonly parquetDir: string;
  readonly stateDir: string;
  readonly intervalSeconds: number;
  /** Fallback horizon when open transactions cannot be seen (seconds). */
  readonly lookbackSeconds: number;
  /** Parquet batch files kept per table; 0 keeps none after they are loaded. */
  readonly parquetKeepBatches: number;
  /** How long to wait for a DuckDB file lock held by another process. */
  readonly lockWaitSeconds: number;
  /** DuckDB's memory_limit for the warehouse file. */
  readonly duckdbMemoryLimit: string;
  readonly logFormat: LogFormat;
  /** The tables to sync (POSTGRES_TABLES, the sync file's include, or POSTGRES_SCHEMA.POSTGRES_TABLE). */
  readonly tables: readonly TableSelector[];
  /** True when more than the one POSTGRES_TABLE is selected (a list or a wildcard). */
  readonly multiTable: boolean;
  /** True when CURSOR_COLUMN was set (a table without it is then an error, not a full refresh). */
  readonly cursorColumnExplicit: boolean;
  /** Path of the sync file, or null. */
  readonly syncFile: string | null;
  /** Per-table overrides from the sync file, keyed by formatSelector(schema, table). */
  readonly overrides: Readonly<Record<string, TableOverride>>;
  /** Tables synced at the same time (one DuckDB writer regardless). */
  readonly concurrency: number;
  /** Tables without a cursor column are refreshed whole every N cycles. */
  readonly fullRefreshEvery: number;
  /** Every N cycles, rows deleted outright in Postgres are found and handled; 0 = off. */
  readonly reconcileDeletesEvery: number;
  readonly reconcileDeletesMode: ReconcileMode;
  readonly wideNumeric: WideNumeric;
  /** Where changes come from: the cursor column, or the write-ahead log. */
  readonly method: "cursor" | "cdc";
  readonly cdc: CdcConfig;
  /** Port of the /metrics and /healthz server, or null for none. */
  readonly metricsPort: number | null;
  /** Address that server listens on. */
  readonly metricsHost: string;
}

export interface CdcConfig {
  /** Slot and publication names as set; empty: derived from the STATE_DIR's id. */
  readonly slot: string;
  readonly publication: string;
  readonly batchRows: number;
  /** Bytes of changed values a batch holds at most (large values make few rows heavy). */
  readonly batchBytes: number;
  readonly flushMs: number;
  /** Retained WAL above this many bytes is warned about. */
  readonly maxRetainedWalBytes: number;
}

/** Flag values from the command line; each overrides its environment variable. */
export type ConfigFlags = Partial<Record<FlagName, string>>;

export { ENV_DEFAULTS, FLAG_TO_ENV } from "./settings.ts";

export const CONFIG_ENV_NAMES: readonly string[] = Object.keys(SETTINGS);

type Lookup = (name: string) => string | undefined;

/** The Postgres connection: DATABASE_URL (or POSTGRES_URL) or the POSTGRES_* settings. */
function readConnection(
  { get, read, problems }: Reader,
  env: Lookup,
  readText: ReadText,
): { pg: PgConnectionConfig; url: string } {
  const urlVariable = get("DATABASE_URL") ? "DATABASE_URL" : "POSTGRES_URL";
  const url = get("DATABASE_URL") || env("POSTGRES_URL") || "";
  if (url && !/^postgres(ql)?:\/\//i.test(url)) {
    problems.push(
      `${urlVariable} must start with postgres:// or postgresql:// (got ${
        JSON.stringify(maskUrl(url))
      })`,
    );
  }
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    // Everything up to the last "@" is user:password; an unencoded "@", "/",
    // "#" or "?" in it makes drivers read part of the password as the host.
    const userinfo = /^[a-z]+:\/\/(.*)@[^@]*$/i.exec(url)?.[1] ?? "";
    let parses = true;
    try {
      new URL(url);
    } catch {
      parses = false;
    }
    if (/[@/#?]/.test(userinfo) || !parses) {
      problems.push(
        `${urlVariable} is not a valid URL: percent-encode special characters in the user name and password (@ as %40, / as %2F, # as %23, ? as %3F)`,
      );
    }
  }
  const pg: PgConnectionConfig = {
    connectionString: url ? pgConnectionUrl(url, urlVariable, problems, readText) : null,
    host: read("POSTGRES_HOST"),
    port: read("POSTGRES_PORT"),
    user: urlPart(url, "user") ?? read("POSTGRES_USER"),
    password: read("POSTGRES_PASSWORD"),
    database: urlPart(url, "database") ?? read("POSTGRES_DB"),
  };
  return { pg, url };
}

/** The tables selected (POSTGRES_TABLES, the sync file's "include", or one table) and their overrides. */
function readSelection({ get, read, problems }: Reader, flags: ConfigFlags, readText: ReadText) {
  const schema = read("POSTGRES_SCHEMA");
  const table = read("POSTGRES_TABLE");
  const keyRaw = read("POSTGRES_PRIMARY_KEY");
  const primaryKey = keyRaw === "" ? null : keyRaw.split(",").map((k) => k.trim());
  if (primaryKey && primaryKey.some((k) => k === "")) {
    problems.push(
      `POSTGRES_PRIMARY_KEY=${
        JSON.stringify(keyRaw)
      } has an empty column name (e.g. POSTGRES_PRIMARY_KEY=id or tenant_id,id)`,
    );
  }
  const syncFilePath = read("SYNC_CONFIG");
  let syncFile = { include: null as readonly string[] | null, tables: {} };
  if (syncFilePath) {
    let text: string | null = null;
    try {
      text = readText(syncFilePath);
    } catch (error) {
      problems.push(
        `The sync file ${JSON.stringify(syncFilePath)} (--config / SYNC_CONFIG) cannot be read (${
          error instanceof Error ? error.message : String(error)
        }); point --config at a JSON sync file`,
      );
    }
    if (text !== null) syncFile = parseSyncFile(text, syncFilePath, problems);
  }
  const tablesRaw = read("POSTGRES_TABLES");
  const selectorTexts = tablesRaw ? splitSelectors(tablesRaw) : syncFile.include ?? null;
  const tables: TableSelector[] = [];
  for (const text of selectorTexts ?? []) {
    const read = readSelector(text, schema);
    if (!read.ok) {
      problems.push(
        tablesRaw
          ? selectionProblem(text, read.problem, flags.tables === undefined)
          : includeProblem(text, read.problem, syncFilePath),
      );
    } else if (
      !tables.some((t) => t.schema === read.selector.schema && t.table === read.selector.table)
    ) tables.push(read.selector);
  }
  if (selectorTexts === null) tables.push({ schema, table });
  const multiTable = tables.length > 1 || tables.some((t) => t.table === "*");
  if (selectorTexts !== null && selectorTexts.length === 0) {
    problems.push(
      `${syncFilePath}: "include" lists no table (name tables like "public.orders" or "public.*")`,
    );
  }
  if (multiTable && get("POSTGRES_PRIMARY_KEY").trim()) {
    problems.push(
      `POSTGRES_PRIMARY_KEY names one table's key but several tables are selected (set "key" per table in the sync file; tables with a primary key need none)`,
    );
  }
  if (multiTable && get("DUCKDB_TABLE").trim()) {
    problems.push(
      "DUCKDB_TABLE names one target but several tables are selected (name targets per table in the sync file instead)",
    );
  }
  return { schema, table, primaryKey, tables, multiTable, syncFilePath, syncFile };
}

/** A setting's text (flags win over the environment) and its value read by its declaration. */
interface Reader {
  readonly get: (name: SettingName) => string;
  readonly read: <N extends SettingName>(name: N) => ReturnType<(typeof SETTINGS)[N]["read"]>;
  readonly problems: string[];
}

function readerOf(env: Lookup, flags: ConfigFlags): Reader {
  const problems: string[] = [];
  const get = (name: SettingName): string => {
    const flag = (SETTINGS[name] as Setting).flag as FlagName | null;
    const fromFlag = flag ? flags[flag] : undefined;
    return fromFlag ?? env(name) ?? ENV_DEFAULTS[name];
  };
  const read = <N extends SettingName>(
    name: N,
  ): ReturnType<(typeof SETTINGS)[N]["read"]> =>
    (SETTINGS[name].read as Setting["read"])(get(name), name, problems) as ReturnType<
      (typeof SETTINGS)[N]["read"]
    >;
  return { get, read, problems };
}

/** Builds the Config from environment variables and flags (flags win). */
export function loadConfig(
  env: Lookup,
  flags: ConfigFlags = {},
  readText: ReadText = () => {
    throw new Error("no file reader");
  },
): Config {
  const reader = readerOf(env, flags);
  const { read, problems } = reader;
  const { pg, url } = readConnection(reader, env, readText);
  const selection = readSelection(reader, flags, readText);
  const { schema, table, primaryKey, tables, multiTable, syncFilePath, syncFile } = selection;
  const logFormat = read("LOG_FORMAT");
  const wideNumeric = read("NUMERIC_WIDE");
  const reconcileMode = read("RECONCILE_DELETES_MODE");
  const single = tables.length === 1 && !multiTable ? tables[0]! : { schema, table };
  const config: Config = {
    pg,
    pgOrigin: originOf(url, pg),
    pgDisplay: url
      ? maskUrl(url)
      : `postgres://${pg.user}:***@${pg.host}:${pg.port}/${pg.database}`,
    schema: single.schema,
    table: single.table,
    primaryKey,
    cursorColumn: read("CURSOR_COLUMN"),
    softDeleteColumn: read("SOFT_DELETE_COLUMN"),
    batchSize: read("BATCH_SIZE"),
    bootstrapBatchSize: read("BOOTSTRAP_BATCH_SIZE"),
    bootstrapParallelism: read("BOOTSTRAP_PARALLELISM"),
    bootstrapParquet: read("BOOTSTRAP_PARQUET") === "on",
    duckdbPath: read("DUCKDB_PATH"),
    duckdbTable: read("DUCKDB_TABLE") || `${single.schema}_${single.table}`,
    parquetDir: read("PARQUET_DIR"),
    stateDir: read("STATE_DIR"),
    intervalSeconds: read("SYNC_INTERVAL_SECONDS"),
    lookbackSeconds: read("SYNC_LOOKBACK_SECONDS"),
    parquetKeepBatches: read("PARQUET_KEEP_BATCHES"),
    lockWaitSeconds: read("LOCK_WAIT_SECONDS"),
    duckdbMemoryLimit: read("DUCKDB_MEMORY_LIMIT"),
    logFormat,
    tables,
    multiTable,
    cursorColumnExplicit: (flags["cursor-column"] ?? env("CURSOR_COLUMN")) !== undefined,
    syncFile: syncFilePath || null,
    overrides: syncFile.tables,
    concurrency: read("SYNC_CONCURRENCY"),
    fullRefreshEvery: read("FULL_REFRESH_EVERY"),
    reconcileDeletesEvery: read("RECONCILE_DELETES_EVERY"),
    reconcileDeletesMode: reconcileMode,
    wideNumeric,
    method: read("SYNC_METHOD"),
    cdc: {
      slot: read("CDC_SLOT"),
      publication: read("CDC_PUBLICATION"),
      batchRows: read("CDC_BATCH_ROWS"),
      batchBytes: read("CDC_BATCH_BYTES"),
      flushMs: read("CDC_FLUSH_MS"),
      maxRetainedWalBytes: read("CDC_MAX_RETAINED_WAL"),
    },
    metricsPort: read("METRICS_PORT"),
    metricsHost: read("METRICS_HOST"),
  };
  if (problems.length > 0) {
    const named = problems.map((problem) => asFlag(problem, flags));
    throw configError("CONFIG_INVALID", `Invalid configuration: ${named.join("; ")}`);
  }
  return Object.freeze(config);
}

/** A bad POSTGRES_TABLES (or --tables) entry, with the quoted form when one is likely meant. */
function selectionProblem(text: string, problem: string, fromEnv: boolean): string {
  const name = fromEnv ? "POSTGRES_TABLES" : "--tables";
  const meant = suggestSelector(text);
  return `${name} entry ${shown(text)} is not schema.table or schema.* (${problem}; ${
    meant ? `write it as ${meant}, ` : ""
  }e.g. ${name}='public.orders,sales.*,"SalesEU"."order items"')`;
}

/** A bad entry of the sync file's "include" (a JSON string, so shown and suggested as one). */
function includeProblem(text: string, problem: string, path: string): string {
  const meant = suggestSelector(text);
  return `${path}: "include" entry ${
    JSON.stringify(text)
  } is not schema.table or schema.* (${problem}; ${
    meant ? `write it as ${JSON.stringify(meant)}, ` : ""
  }e.g. "public.orders", "sales.*" or "\\"SalesEU\\".\\"order items\\"")`;
}

/** An entry as typed, in backquotes (JSON-escaped when it holds control characters). */
function shown(text: string): string {
  const plain = [...text].every((c) => c >= " " && c !== "\x7f" && c !== "`");
  return plain ? `\`${text}\`` : JSON.stringify(text);
}

/**
 * A problem with a value given as a flag names the flag the user typed
 * ("--batch-size=\"0\" ..."), not the environment variable it stands for.
 */
function asFlag(problem: string, flags: ConfigFlags): string {
  for (const [flag, name] of Object.entries(FLAG_TO_ENV)) {
    if (flags[flag as keyof ConfigFlags] !== undefined && problem.startsWith(`${name}=`)) {
      return problem.replaceAll(`${name}=`, `--${flag}=`);
    }
  }
  return problem;
}

/** Secrets that must never appear in output. */
export function secretsOf(config: Config): string[] {
  const secrets = [config.pg.password];
  if (config.pg.connectionString) secrets.push(...urlPasswords(config.pg.connectionString));
  // A password equal to a visible name (the demo's analyst/analyst) is no secret,
  // and scrubbing it would garble every table and user name in the output.
  const visible = new Set([config.pg.user, config.pg.database, config.schema, config.table]);
  return secrets.filter((s) => s.length > 0 && !visible.has(s));
}
