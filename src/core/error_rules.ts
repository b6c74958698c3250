// Owns the table of failures a user can act on: one ordered list of rules, each
// a matcher, the stable code, the exit code, whether a loop retries it, and a
// message that names the fix, for local files (a full disk, a file or the
// checkpoint that cannot be written), PostgreSQL (SQLSTATEs, network and TLS
// codes) and DuckDB (a file locked or not opened, memory, a value it cannot
// hold, anything else). classify_error.ts applies it. Pure: the IO modules only
// report what failed.

import { dirname } from "node:path";
import { type ErrorCode, errorMessage } from "./errors.ts";
import { sqlName } from "./sql.ts";
import { sourceTable } from "./selector.ts";
import {
  FileWriteError,
  isDiskFull,
  isSqliteError,
  type LocalPlaces,
  type LocalSetting,
  placeOf,
} from "./local_io.ts";
import { UnconvertibleValue, unsupportedValueMessage } from "./unconvertible.ts";

/** The settings messages name (a Config has them all). */
export interface ErrorSettings extends LocalPlaces {
  readonly pg: { readonly connectionString: string | null; readonly user: string };
  /** Where Postgres is, password masked. */
  readonly pgDisplay: string;
  readonly multiTable: boolean;
  /** The one table, when not multiTable. */
  readonly schema: string;
  readonly table: string;
  readonly duckdbMemoryLimit: string;
}

/** What the rules look at: the error, its code and its scrubbed text. */
export interface ErrorFacts {
  readonly error: unknown;
  /** The error's string `code` (a SQLSTATE, ECONNREFUSED, CERT_HAS_EXPIRED...). */
  readonly code: string | undefined;
  /** The error's message with the secrets scrubbed out. */
  readonly text: string;
  readonly settings: ErrorSettings;
  readonly source: string | undefined;
}

/** Which failures a rule can apply to. */
export type RuleScope = "local" | "postgres" | "duckdb" | "duckdb_open";

export interface ErrorRule {
  /** Names the rule in tests. */
  readonly name: string;
  readonly scope: RuleScope;
  readonly code: ErrorCode;
  /** 2: a setting, a grant or the data must change; 1: a runtime failure. */
  readonly exitCode: 1 | 2;
  /** True when a loop retries it (it can pass on its own). */
  readonly transient: boolean;
  readonly matches: (facts: ErrorFacts) => boolean;
  readonly message: (facts: ErrorFacts) => string;
}

/** The first line of the message, trimmed (DuckDB and SQLite add context lines). */
function firstLine(facts: ErrorFacts): string {
  return (facts.text.split("\n")[0] ?? "").trim();
}

function pathOf(setting: LocalSetting, places: LocalPlaces): string {
  return setting === "PARQUET_DIR"
    ? places.parquetDir
    : setting === "STATE_DIR"
    ? places.stateDir
    : places.duckdbPath;
}

const RESUME = "nothing is lost: the next run resumes from the last checkpoint";

export function diskFullMessage(setting: LocalSetting, path: string, detail: string): string {
  return setting === "PARQUET_DIR"
    ? `No space left in PARQUET_DIR ${path} (${detail}): free space there, or set PARQUET_DIR to a directory on a disk with room; ${RESUME}`
    : setting === "STATE_DIR"
    ? `No space left in STATE_DIR ${path} (${detail}): free space there, or move its files to a disk with room and set STATE_DIR to that directory; the checkpoint is intact and ${RESUME}`
    : `No space left for DUCKDB_PATH ${path} in ${
      dirname(path)
    } (${detail}): free space there, or move the DuckDB file to a disk with room and set DUCKDB_PATH to it; ${RESUME}`;
}

const NOT_WRITABLE_CODES = ["EROFS", "EACCES", "EPERM"];

/** A write refused by the file system: read-only, or not permitted (Deno's and DuckDB's words). */
function isNotWritable(f: ErrorFacts): boolean {
  return NOT_WRITABLE_CODES.includes(f.code ?? "") ||
    /Read-only file system|Permission denied|os error (30|13|1)\)/.test(f.text);
}

function notWritableMessage(setting: LocalSetting, f: ErrorFacts): string {
  const path = pathOf(setting, f.settings);
  const where = setting === "DUCKDB_PATH" ? dirname(path) : path;
  return `Cannot write ${setting} ${path}: ${
    firstLine(f)
  } (${where} is on a read-only file system or not writable by this user: make it writable, e.g. mount it read-write, or set ${setting} to a writable place; ${RESUME}, and sync --loop retries by itself)`;
}

/** node-postgres' names for a certificate that failed verification. */
const CERTIFICATE_CODES = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
];

const UNREACHABLE_CODES = [
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "57P03", // cannot_connect_now: starting up, shutting down, in recovery
];

/** Deno's codes for a file operation that failed (not the disk being full). */
const LOCAL_FILE_CODES = ["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EROFS", "EIO"];

/** admin_shutdown, crash_shutdown, and sockets closed under us. */
const CONNECTION_LOST_CODES = ["57P01", "57P02", "ECONNRESET", "EPIPE"];

/**
 * How to set an sslmode: in the URL (see pgConnectionUrl in config.ts), or
 * PGSSLMODE, which node-postgres reads itself without a URL and where its
 * require means verify-full (its no-verify is libpq's require).
 */
function sslmode(settings: ErrorSettings, mode: string): string {
  return settings.pg.connectionString
    ? `sslmode=${mode} in DATABASE_URL`
    : `PGSSLMODE=${mode === "require" ? "no-verify" : mode}`;
}

function certificateFix(code: string | undefined): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return "connect by a host name the certificate lists, use sslmode=verify-ca with sslrootcert=/path/to/ca.pem to skip the host name check";
  }
  return /^CERT_(HAS_EXPIRED|NOT_YET_VALID)$/.test(code ?? "")
    ? "renew the server's certificate"
    : "add sslrootcert=/path/to/ca.pem naming the CA that signed it";
}

/** The GRANTs a role refused access (42501) needs, for the table being synced when known. */
function grantFor(facts: ErrorFacts): string {
  const { settings, source, text } = facts;
  const named = source ? sourceTable(source) : settings.multiTable ? null : settings;
  // Postgres names the schema unquoted; the table's own schema is the exact one.
  const denied = /permission denied for schema (\S+)/.exec(text)?.[1];
  const schema = denied && named ? sqlName(named.schema) : denied;
  const table = named ? `${sqlName(named.schema)}.${sqlName(named.table)}` : null;
  const select = `GRANT SELECT ON ${table ?? "<schema>.<table>"} TO ${settings.pg.user}`;
  return schema ? `GRANT USAGE ON SCHEMA ${schema} TO ${settings.pg.user}; ${select}` : select;
}

/** Every rule, in the order they are tried: the first that matches wins. */
export const ERROR_RULES: readonly ErrorRule[] = [
  // Local files first: a full disk is not a Postgres or DuckDB problem.
  {
    name: "disk full in a known place",
    scope: "local",
    code: "DISK_FULL",
    exitCode: 1,
    transient: true,
    matches: (f) => isDiskFull(f.error) && placeOf(f.error, f.settings) !== null,
    message: (f) => {
      const setting = placeOf(f.error, f.settings)!;
      return diskFullMessage(setting, pathOf(setting, f.settings), firstLine(f));
    },
  },
  {
    name: "disk full somewhere",
    scope: "local",
    code: "DISK_FULL",
    exitCode: 1,
    transient: true,
    matches: (f) => isDiskFull(f.error),
    message: (f) =>
      `No space left on device (${
        firstLine(f)
      }) in PARQUET_DIR ${f.settings.parquetDir}, STATE_DIR ${f.settings.stateDir} or DUCKDB_PATH ${f.settings.duckdbPath}: free space on the full one, or point its setting at a disk with room; ${RESUME}`,
  },
  {
    // A read-only file system (a volume mounted read-only, a disk the kernel
    // remounted read-only after errors) or a directory the sync may not write.
    name: "local place not writable",
    scope: "local",
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    matches: (f) => isNotWritable(f) && placeOf(f.error, f.settings) !== null,
    message: (f) => notWritableMessage(placeOf(f.error, f.settings)!, f),
  },
  {
    name: "local file not written",
    scope: "local",
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: false,
    matches: (f) => f.error instanceof FileWriteError,
    message: (f) => {
      const setting = placeOf(f.error, f.settings) ?? "PARQUET_DIR";
      return `${firstLine(f)} (in ${setting} ${
        pathOf(setting, f.settings)
      }: check the disk and the directory's permissions, or set ${setting} to another directory)`;
    },
  },
  {
    // Deno's own file errors end in "(os error N)": a batch file that vanished
    // (another process removed it: two syncs sharing a STATE_DIR), a directory
    // that cannot be read. Never a Postgres error, whatever else is going on.
    name: "local file operation failed",
    scope: "local",
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    matches: (f) => LOCAL_FILE_CODES.includes(f.code ?? "") && /\(os error \d+\)/.test(f.text),
    message: (f) =>
      `A local file operation failed: ${
        firstLine(f)
      } (check the disk, and that no other sync uses STATE_DIR ${f.settings.stateDir} or PARQUET_DIR ${f.settings.parquetDir} at the same time)`,
  },
  {
    name: "checkpoint not written",
    scope: "local",
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: false,
    matches: (f) => isSqliteError(f.error),
    message: (f) =>
      `Cannot update the checkpoint in STATE_DIR ${f.settings.stateDir}: ${
        firstLine(f)
      } (check the disk and the directory's permissions)`,
  },
  {
    name: "DuckDB file still locked after LOCK_WAIT_SECONDS",
    scope: "duckdb_open",
    code: "DUCKDB_LOCKED",
    exitCode: 1,
    transient: true,
    matches: (f) => isLockError(f.error),
    message: (f) =>
      `Cannot open DuckDB file ${f.settings.duckdbPath}: it is locked by ${
        lockHolder(f.error)
      } (close that program or wait for its sync cycle, then retry; LOCK_WAIT_SECONDS sets how long to wait)`,
  },
  {
    name: "DuckDB file not writable",
    scope: "duckdb_open",
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    matches: isNotWritable,
    message: (f) => notWritableMessage("DUCKDB_PATH", f),
  },
  {
    name: "DuckDB file not opened",
    scope: "duckdb_open",
    code: "DUCKDB_ERROR",
    exitCode: 1,
    transient: false,
    matches: () => true,
    message: (f) => `Cannot open DuckDB file ${f.settings.duckdbPath}: ${f.text.split("\n")[0]}`,
  },
  {
    name: "value DuckDB cannot hold",
    scope: "duckdb",
    code: "VALUE_UNSUPPORTED",
    // A value or a column type to change in Postgres.
    exitCode: 2,
    transient: false,
    matches: (f) => f.error instanceof UnconvertibleValue,
    message: (f) => {
      const { table, found } = f.error as UnconvertibleValue;
      return unsupportedValueMessage(table, found);
    },
  },
  {
    name: "DuckDB file locked",
    scope: "duckdb",
    code: "DUCKDB_LOCKED",
    exitCode: 1,
    transient: true,
    matches: (f) => isLockError(f.error),
    message: (f) => `DuckDB file is locked: ${f.text}`,
  },
  {
    name: "server refuses SSL",
    scope: "postgres",
    code: "PG_SSL_FAILED",
    exitCode: 2,
    transient: false,
    matches: (f) => /does not support SSL/i.test(f.text),
    message: (f) =>
      `The server at ${f.settings.pgDisplay} does not accept SSL connections (set ${
        sslmode(f.settings, "disable")
      }, or enable ssl on the server)`,
  },
  {
    // Postgres says "no encryption" in every refusal of a plain connection by
    // pg_hba.conf: SSL may be required, or there is simply no entry.
    name: "plain connection refused by pg_hba.conf",
    scope: "postgres",
    code: "PG_AUTH_FAILED",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "28000" && /no encryption/i.test(f.text),
    message: (f) =>
      `Postgres at ${f.settings.pgDisplay} refused the connection: ${f.text} (if the server accepts only SSL connections, set ${
        sslmode(f.settings, "require")
      }; otherwise add a pg_hba.conf entry for this host, user and database)`,
  },
  {
    name: "server certificate not verified",
    scope: "postgres",
    code: "PG_SSL_FAILED",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code !== undefined && CERTIFICATE_CODES.includes(f.code),
    message: (f) =>
      `The server certificate at ${f.settings.pgDisplay} failed verification (${
        f.text.replace(/[:\s]+$/, "")
      }): ${certificateFix(f.code)}, or set ${
        sslmode(f.settings, "require")
      } to encrypt without verifying the certificate`,
  },
  {
    name: "authentication failed",
    scope: "postgres",
    code: "PG_AUTH_FAILED",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "28P01" || f.code === "28000",
    message: (f) =>
      `Cannot connect to Postgres at ${f.settings.pgDisplay}: ${f.text} (check POSTGRES_USER and POSTGRES_PASSWORD, or DATABASE_URL)`,
  },
  {
    name: "rows filtered by row-level security",
    scope: "postgres",
    code: "PG_ROW_SECURITY",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "42501" && /row-level security/i.test(f.text),
    message: (f) => {
      const table = f.source ?? /for table "([^"]+)"/.exec(f.text)?.[1] ?? "the table";
      const role = f.settings.pg.user ? sqlName(f.settings.pg.user) : "the sync role";
      return `Postgres would filter the rows of ${table} by a row-level security policy for role ${role}, so the copy would silently miss rows (let the role read every row: ALTER ROLE ${role} BYPASSRLS, run as a superuser; or sync as the table's owner when the table does not FORCE ROW LEVEL SECURITY)`;
    },
  },
  {
    name: "permission denied",
    scope: "postgres",
    code: "PG_PERMISSION_DENIED",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "42501",
    message: (f) =>
      `Postgres refused access: ${f.text} (the sync role needs USAGE on the schema and SELECT on the table, e.g. ${
        grantFor(f)
      })`,
  },
  {
    name: "database missing",
    scope: "postgres",
    code: "PG_DATABASE_MISSING",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "3D000",
    message: (f) =>
      `Cannot connect to Postgres at ${f.settings.pgDisplay}: ${f.text} (check POSTGRES_DB, or DATABASE_URL)`,
  },
  {
    name: "server unreachable",
    scope: "postgres",
    code: "PG_UNREACHABLE",
    exitCode: 1,
    transient: true,
    matches: (f) => f.code !== undefined && UNREACHABLE_CODES.includes(f.code),
    message: (f) =>
      `Cannot reach Postgres at ${f.settings.pgDisplay}: ${f.text} (is the server running? check POSTGRES_HOST and POSTGRES_PORT, or DATABASE_URL)`,
  },
  {
    // The sync pins statement_timeout = 0 on its sessions (io/postgres/connection.ts),
    // so this comes from something that undid it (a pooler resetting the session):
    // retrying the same statement would be cancelled again.
    name: "statement timeout",
    scope: "postgres",
    code: "PG_ERROR",
    exitCode: 2,
    transient: false,
    matches: (f) => f.code === "57014" && /statement timeout/i.test(f.text),
    message: (f) =>
      `Postgres cancelled a statement at its statement_timeout: ${f.text} (the sync sets statement_timeout = 0 on its own sessions; something reset it, e.g. a connection pooler: connect the sync directly, or lift the limit for its role: ALTER ROLE ${f.settings.pg.user} SET statement_timeout = 0)`,
  },
  {
    name: "connection lost",
    scope: "postgres",
    code: "PG_CONNECTION_LOST",
    exitCode: 1,
    transient: true,
    matches: (f) =>
      (f.code !== undefined && CONNECTION_LOST_CODES.includes(f.code)) ||
      /\bterminated\b|Connection ended|not queryable|\btimeout\b|\bclosed\b/i.test(f.text),
    message: (f) => `Lost the Postgres connection: ${f.text}`,
  },
  {
    // Connection exceptions, insufficient resources, operator intervention and
    // transaction rollbacks (serialization, deadlock) pass on their own.
    name: "Postgres error of a passing kind",
    scope: "postgres",
    code: "PG_ERROR",
    exitCode: 1,
    transient: true,
    matches: (f) => /^(08|53|57|40)/.test(f.code ?? ""),
    message: (f) => `Postgres error: ${f.text}`,
  },
  {
    name: "other Postgres error",
    scope: "postgres",
    code: "PG_ERROR",
    exitCode: 1,
    transient: false,
    matches: () => true,
    message: (f) => `Postgres error: ${f.text}`,
  },
  {
    // A setting to change, so exit 2 (and a loop does not retry it).
    name: "DuckDB out of memory",
    scope: "duckdb",
    code: "DUCKDB_ERROR",
    exitCode: 2,
    transient: false,
    matches: (f) => /Out of Memory Error/i.test(f.text),
    message: (f) => {
      const limit = f.settings.duckdbMemoryLimit;
      return `DuckDB ran out of memory${limit ? ` (DUCKDB_MEMORY_LIMIT=${limit})` : ""}: ${
        f.text.split("\n")[0]
      } (raise DUCKDB_MEMORY_LIMIT, e.g. DUCKDB_MEMORY_LIMIT=1GB)`;
    },
  },
  {
    name: "other DuckDB error",
    scope: "duckdb",
    code: "DUCKDB_ERROR",
    exitCode: 1,
    transient: false,
    matches: () => true,
    message: (f) => `DuckDB error: ${f.text}`,
  },
];

/** True for DuckDB's refusal to open a file another process holds. */
export function isLockError(error: unknown): boolean {
  return /Could not set lock|Conflicting lock/i.test(errorMessage(error));
}

/** Who holds a DuckDB file's lock, from DuckDB's message: "path (PID n)", else "another process". */
export function lockHolder(error: unknown): string {
  const holder = /held in (.*?) \(PID (\d+)\)/.exec(errorMessage(error));
  return holder ? `${holder[1]} (PID ${holder[2]})` : "another process";
}
