// Owns the declaration of every setting, once: its environment variable, its
// flag, its default, how its text is read and checked (core/setting_readers.ts),
// and its help line. The
// flag map, the defaults, the usage text and the "is a real Postgres
// configured" test are derived from this table, and a test holds the README's
// configuration table against it. Pure.

import {
  byteSize,
  decimal,
  exact,
  memorySize,
  name,
  oneOf,
  optionalPort,
  type Setting,
  text,
  wholeNumber,
} from "./setting_readers.ts";

export type { ReadSetting, Setting } from "./setting_readers.ts";

/** Every setting, in the order of the README's configuration table. */
export const SETTINGS = {
  POSTGRES_HOST: {
    flag: "host",
    default: "localhost",
    value: "HOST",
    help: "PostgreSQL server host",
    connection: true,
    read: text,
  },
  POSTGRES_PORT: {
    flag: "port",
    default: "5437",
    value: "N",
    help: "PostgreSQL server port",
    connection: true,
    read: wholeNumber(1, 65535, "5432"),
  },
  POSTGRES_USER: {
    flag: "user",
    default: "analyst",
    value: "ROLE",
    help: "role to connect as",
    connection: true,
    read: exact,
  },
  POSTGRES_PASSWORD: {
    // No flag on purpose: command lines are visible to other users.
    flag: null,
    default: "analyst",
    value: "",
    help: "the role's password (environment only)",
    connection: true,
    read: exact,
  },
  POSTGRES_DB: {
    flag: "db",
    default: "analyst",
    value: "DB",
    help: "database",
    connection: true,
    read: exact,
  },
  DATABASE_URL: {
    flag: "database-url",
    default: "",
    shownDefault: "unset",
    value: "URL",
    help: "postgres://user:password@host:port/db, overrides the five above",
    connection: true,
    read: exact,
  },
  POSTGRES_URL: {
    // Another name for DATABASE_URL (used when DATABASE_URL is unset).
    flag: null,
    default: "",
    shownDefault: "unset",
    value: "",
    help: "another name for DATABASE_URL",
    connection: true,
    read: exact,
  },
  POSTGRES_SCHEMA: {
    flag: "schema",
    default: "analytics",
    value: "S",
    help: "schema of the source table",
    read: name,
  },
  POSTGRES_TABLE: {
    flag: "table",
    default: "subscriptions",
    value: "T",
    help: "the source table",
    read: name,
  },
  POSTGRES_PRIMARY_KEY: {
    flag: "primary-key",
    default: "",
    shownDefault: "read from the catalog",
    value: "a,b",
    help: "key columns when the table has no primary key",
    read: text,
  },
  CURSOR_COLUMN: {
    flag: "cursor-column",
    default: "updated_at",
    value: "C",
    help: "last-modified column that every change sets",
    read: name,
  },
  SOFT_DELETE_COLUMN: {
    flag: "soft-delete-column",
    default: "deleted_at",
    value: "C",
    help: "soft-delete column",
    read: text,
  },
  BATCH_SIZE: {
    flag: "batch-size",
    default: "10000",
    value: "N",
    help: "rows per batch",
    read: wholeNumber(1, 10_000_000, "10000"),
  },
  BOOTSTRAP_BATCH_SIZE: {
    flag: "bootstrap-batch-size",
    default: "250000",
    value: "N",
    help: "rows per batch during a first copy",
    read: wholeNumber(1, 10_000_000, "250000"),
  },
  DUCKDB_PATH: {
    flag: "duckdb-path",
    default: "lake/warehouse.duckdb",
    value: "PATH",
    help: "the DuckDB file",
    read: name,
  },
  DUCKDB_TABLE: {
    flag: "duckdb-table",
    default: "",
    shownDefault: "`<schema>_<table>`",
    value: "T",
    help: "the DuckDB table (one table selected)",
    read: text,
  },
  PARQUET_DIR: {
    flag: "parquet-dir",
    default: "parquet",
    value: "DIR",
    help: "one Parquet file per batch",
    read: name,
  },
  STATE_DIR: {
    flag: "state-dir",
    default: "state",
    value: "DIR",
    help: "where checkpoint.sqlite lives",
    read: name,
  },
  SYNC_INTERVAL_SECONDS: {
    flag: "interval",
    default: "30",
    value: "N",
    help: "seconds between loop cycles",
    read: decimal(0.1, "30"),
  },
  SYNC_LOOKBACK_SECONDS: {
    flag: "lookback",
    default: "300",
    value: "N",
    help: "safe-horizon fallback when open transactions cannot be seen",
    read: decimal(0, "300"),
  },
  PARQUET_KEEP_BATCHES: {
    flag: "parquet-keep",
    default: "100",
    value: "N",
    help: "newest batch files kept per table",
    read: wholeNumber(0, 1_000_000, "100"),
  },
  LOCK_WAIT_SECONDS: {
    flag: "lock-wait",
    default: "10",
    value: "N",
    help: "seconds to wait for a DuckDB file another program holds",
    read: decimal(0, "10"),
  },
  DUCKDB_MEMORY_LIMIT: {
    flag: "duckdb-memory-limit",
    default: "128MB",
    shownDefault: "`128MB` (DuckDB's own is 80% of RAM)",
    value: "SIZE",
    help: "DuckDB's memory_limit for the warehouse file, e.g. 512MB",
    read: memorySize,
  },
  LOG_FORMAT: {
    flag: "log-format",
    default: "text",
    value: "text|json",
    help: "log lines as text or JSON",
    read: oneOf(["text", "json"], "text or json"),
  },
  POSTGRES_TABLES: {
    flag: "tables",
    default: "",
    shownDefault: "unset",
    value: "LIST",
    help: "several tables: schema.table, schema.* or table, comma-separated",
    read: text,
  },
  SYNC_CONFIG: {
    flag: "config",
    default: "",
    shownDefault: "unset",
    value: "FILE",
    help: "a JSON sync file with per-table overrides",
    read: text,
  },
  SYNC_CONCURRENCY: {
    flag: "concurrency",
    default: "2",
    value: "N",
    help: "tables synced at once",
    read: wholeNumber(1, 16, "2"),
  },
  FULL_REFRESH_EVERY: {
    flag: "full-refresh-every",
    default: "1",
    value: "N",
    help: "copy tables without a cursor column whole every N cycles",
    read: wholeNumber(1, 1_000_000, "1"),
  },
  RECONCILE_DELETES_EVERY: {
    flag: "reconcile-deletes-every",
    default: "0",
    shownDefault: "`0` (off)",
    value: "N",
    help: "find rows deleted outright every N cycles (0: never)",
    read: wholeNumber(0, 1_000_000, "10"),
  },
  RECONCILE_DELETES_MODE: {
    flag: "reconcile-deletes-mode",
    default: "delete",
    value: "delete|mark",
    help: "delete such rows, or mark them in the soft-delete column",
    read: oneOf(["delete", "mark"], "delete or mark"),
  },
  NUMERIC_WIDE: {
    flag: "numeric-wide",
    default: "varchar",
    value: "varchar|double",
    help: "unconstrained or wide numeric as exact text or as double",
    read: oneOf(["varchar", "double"], "varchar (exact text) or double"),
  },
  SYNC_METHOD: {
    flag: "method",
    default: "cursor",
    value: "cursor|cdc",
    help: "read changes by the cursor column, or from the write-ahead log (logical replication)",
    read: oneOf(["cursor", "cdc"], "cursor or cdc"),
  },
  CDC_SLOT: {
    flag: "cdc-slot",
    default: "",
    shownDefault: "empty (`pds_` and the STATE_DIR's id)",
    value: "NAME",
    help: "replication slot (created when missing)",
    read: text,
  },
  CDC_PUBLICATION: {
    flag: "cdc-publication",
    default: "",
    shownDefault: "empty (`pds_` and the STATE_DIR's id)",
    value: "NAME",
    help: "publication (created for the selected tables when missing)",
    read: text,
  },
  CDC_BATCH_ROWS: {
    flag: "cdc-batch-rows",
    default: "10000",
    value: "N",
    help: "changed rows applied to DuckDB in one batch at most",
    read: wholeNumber(1, 10_000_000, "10000"),
  },
  CDC_BATCH_BYTES: {
    flag: "cdc-batch-bytes",
    default: "64MB",
    value: "SIZE",
    help: "bytes of changed values applied to DuckDB in one batch at most",
    read: byteSize,
  },
  CDC_FLUSH_MS: {
    flag: "cdc-flush-ms",
    default: "1000",
    value: "MS",
    help: "longest wait before changes received are applied",
    read: wholeNumber(10, 600_000, "1000"),
  },
  CDC_MAX_RETAINED_WAL: {
    flag: "cdc-max-retained-wal",
    default: "1GB",
    value: "SIZE",
    help: "WAL the slot may hold back before a warning",
    read: byteSize,
  },
  METRICS_PORT: {
    flag: "metrics-port",
    default: "",
    shownDefault: "unset (off)",
    value: "N",
    help: "serve /metrics and /healthz on this port (sync --loop and the UI)",
    read: optionalPort,
  },
  METRICS_HOST: {
    flag: "metrics-host",
    default: "127.0.0.1",
    value: "ADDR",
    help: "address the metrics server listens on",
    read: name,
  },
  BOOTSTRAP_PARALLELISM: {
    flag: "bootstrap-parallelism",
    default: "1",
    value: "N",
    help: "Postgres connections reading a first copy's block ranges at once",
    read: wholeNumber(1, 16, "2"),
  },
  BOOTSTRAP_PARQUET: {
    flag: "bootstrap-parquet",
    default: "on",
    value: "on|off",
    help: "write a Parquet file for each batch of a first copy too",
    read: oneOf(["on", "off"], "on or off"),
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** A flag name, as typed after "--". */
export type FlagName = NonNullable<(typeof SETTINGS)[SettingName]["flag"]>;

/** Every setting as [name, declaration], in declaration order. */
export function settingEntries(): [SettingName, Setting][] {
  return Object.entries(SETTINGS) as [SettingName, Setting][];
}

/** Command-line flag -> the environment variable it overrides. */
export const FLAG_TO_ENV: Readonly<Record<FlagName, SettingName>> = Object.fromEntries(
  settingEntries().filter(([, s]) => s.flag !== null).map(([env, s]) => [s.flag, env]),
) as Record<FlagName, SettingName>;

/** Every environment variable the program reads, with its default. */
export const ENV_DEFAULTS: Readonly<Record<SettingName, string>> = Object.fromEntries(
  settingEntries().map(([env, s]) => [env, s.default]),
) as Record<SettingName, string>;

/** The settings that name a real PostgreSQL server. */
export const CONNECTION_SETTINGS: readonly SettingName[] = settingEntries()
  .filter(([, s]) => s.connection === true).map(([env]) => env);

/** The options part of the usage text: each flag, its variable and its help, within 100 columns. */
export function optionsUsage(): string {
  const column = 30;
  const lines: string[] = [];
  for (const [env, s] of settingEntries()) {
    if (s.flag === null) continue;
    const left = `  --${s.flag} ${s.value}`;
    const words = `${env}: ${s.help}`.split(" ");
    const wrapped: string[] = [""];
    for (const word of words) {
      const line = wrapped[wrapped.length - 1]!;
      if (line && column + line.length + 1 + word.length > 100) wrapped.push(word);
      else wrapped[wrapped.length - 1] = line ? `${line} ${word}` : word;
    }
    if (left.length + 2 > column) lines.push(left);
    wrapped.forEach((line, i) => {
      const head = i === 0 && left.length + 2 <= column ? left : "";
      lines.push(`${head.padEnd(column)}${line}`);
    });
  }
  const envOnly = settingEntries().filter(([, s]) => s.flag === null)
    .map(([env, s]) => `${env} (${s.help})`);
  lines.push(`  Environment only: ${envOnly.join(", ")}`);
  return lines.join("\n");
}
