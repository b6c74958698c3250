// Owns connecting to PostgreSQL: the session every connection sets up (UTC,
// ISO dates, exact floats, hex bytea, no timeouts, row security off), pinned
// as pg_dump pins its own; errors turned into SyncErrors that name the fix
// (core/error_rules.ts); and a connection given up mid-COPY.

import pg from "pg";
import type { Config } from "../../core/config.ts";
import { SyncError } from "../../core/errors.ts";
import { classifyError } from "../../core/classify_error.ts";

/**
 * Run on every connection (COPY, keyset reads, verify, the replication
 * connection), after the server applied the role's and database's own
 * settings (ALTER ROLE ... SET), which it overrides: the stream's values are
 * the types' text output under these settings, and must read the same as the
 * first copy's whatever a DBA set for the role.
 */
export const SESSION_SETUP = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET extra_float_digits = 3",
  "SET standard_conforming_strings = on",
  // Streamed bytea values are the type's output: hex, never 'escape'.
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  // A first copy's statement can run for hours and its snapshot's exporter
  // sits idle in its transaction while others read: a role's timeouts would
  // cancel them half-way (57014) or end the exporter ("invalid snapshot
  // identifier"), as pg_dump pins them off.
  "SET statement_timeout = 0",
  "SET lock_timeout = 0",
  "SET idle_in_transaction_session_timeout = 0",
  // Exists from PostgreSQL 14 on: a loop's connection waits between cycles.
  "SELECT set_config('idle_session_timeout', '0', false) " +
  "WHERE current_setting('server_version_num')::int >= 140000",
  // A role subject to a row-level security policy would read a silent subset
  // of the table; with row_security off Postgres refuses instead (42501), as
  // pg_dump does, and the refusal is reported with its fix.
  "SET row_security = off",
].join("; ");

/**
 * Turns a pg / network error into a SyncError that names the fix (the Postgres
 * rules of the error table; see classifyError).
 */
export function classifyPgError(
  error: unknown,
  config: Config,
  secrets: readonly string[],
  /** The table being synced (a TablePlan's source), for the GRANT to suggest. */
  source?: string,
): SyncError {
  return classifyError(error, { settings: config, secrets, source, from: "postgres" });
}

/**
 * An open, set-up connection. `replication` opens a logical replication
 * connection (a walsender that also runs SQL), whose decoded values take the
 * same session settings.
 */
export async function connectPg(
  config: Config,
  secrets: string[],
  { replication = false }: { replication?: boolean } = {},
): Promise<pg.Client> {
  const options: pg.ClientConfig = config.pg.connectionString
    ? { connectionString: config.pg.connectionString }
    : {
      host: config.pg.host,
      port: config.pg.port,
      user: config.pg.user,
      password: config.pg.password,
      database: config.pg.database,
    };
  const client = new pg.Client({
    ...options,
    application_name: "postgres-duckdb-sync",
    connectionTimeoutMillis: 10_000,
    ...(replication ? { replication: "database" } : {}),
  } as pg.ClientConfig);
  // An idle client whose server goes away emits 'error'; without a listener that
  // would crash the process. The next query on it fails and is classified then.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(SESSION_SETUP);
  } catch (error) {
    await client.end().catch(() => {});
    throw classifyPgError(error, config, secrets);
  }
  return client;
}

/**
 * Closes the socket of a client whose COPY was left unread (a full disk, an
 * error in a chunk): the client would wait forever for the COPY to end, and
 * the server would keep its transaction open, blocked writing to us. Closed,
 * the server aborts the transaction and queued queries fail at once.
 */
export function abandonConnection(client: pg.Client): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream
    .destroy();
}

/** True once the client's socket is closed (it must not be reused). */
export function isClosed(client: pg.Client): boolean {
  return (client as unknown as { connection: { stream: { destroyed?: boolean } } }).connection
    .stream.destroyed === true;
}
