import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  classifyError,
  classifyLocalError,
  classifyOpenError,
  type ErrorContext,
  isRetryable,
  ruleFor,
} from "../../src/core/classify_error.ts";
import { ERROR_RULES, type ErrorSettings } from "../../src/core/error_rules.ts";
import { type ErrorCode, SyncError } from "../../src/core/errors.ts";
import { FileWriteError } from "../../src/core/local_io.ts";
import { mapColumn } from "../../src/core/type_map.ts";
import { UnconvertibleValue } from "../../src/core/unconvertible.ts";

const settings: ErrorSettings = {
  pg: { connectionString: null, user: "sync" },
  pgDisplay: "db.example.com:5432/app (user sync)",
  multiTable: false,
  schema: "sales",
  table: "orders",
  duckdbMemoryLimit: "1GB",
  parquetDir: "/data/lake/parquet",
  stateDir: "/data/state",
  duckdbPath: "/data/lake/warehouse.duckdb",
};

const context: ErrorContext = { settings, secrets: ["pw-secret"] };

/** What node-postgres throws for an error the server reports (a DatabaseError). */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), {
    name: "error",
    code,
    severity: "ERROR",
    length: 100,
    file: "aclchk.c",
    routine: "aclcheck_error",
  });
}

/** What Node's net and tls modules throw. */
function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -111, syscall: "connect" });
}

interface Case {
  /** The rule's name in ERROR_RULES. */
  readonly rule: string;
  readonly error: unknown;
  readonly context?: ErrorContext;
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;
  readonly transient: boolean;
  /** What the message must say: the fix, or what failed when retrying is the fix. */
  readonly says: RegExp;
}

const cases: Case[] = [
  {
    rule: "disk full in a known place",
    error: new Error(
      'TransactionContext Error: Failed to commit: Could not write file "/data/lake/warehouse.duckdb.wal": No space left on device',
    ),
    code: "DISK_FULL",
    exitCode: 1,
    transient: true,
    says:
      /^No space left for DUCKDB_PATH \/data\/lake\/warehouse\.duckdb in \/data\/lake .*move the DuckDB file to a disk with room and set DUCKDB_PATH to it; nothing is lost/,
  },
  {
    rule: "disk full somewhere",
    error: systemError("ENOSPC", "No space left on device (os error 28)"),
    code: "DISK_FULL",
    exitCode: 1,
    transient: true,
    says:
      /^No space left on device \(No space left on device \(os error 28\)\) in PARQUET_DIR \/data\/lake\/parquet, STATE_DIR \/data\/state or DUCKDB_PATH .*point its setting at a disk with room/,
  },
  {
    rule: "local place not writable",
    error: new FileWriteError(
      "/data/lake/parquet/orders__next-1.csv.partial",
      systemError("EACCES", "Permission denied (os error 13)"),
    ),
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    says:
      /^Cannot write PARQUET_DIR \/data\/lake\/parquet: Cannot write \/data\/lake\/parquet\/orders__next-1\.csv\.partial: Permission denied \(os error 13\) \(\/data\/lake\/parquet is on a read-only file system or not writable by this user: make it writable, e\.g\. mount it read-write, or set PARQUET_DIR to a writable place; nothing is lost: .*sync --loop retries by itself\)$/,
  },
  {
    rule: "local file not written",
    error: new FileWriteError(
      "/data/lake/parquet/orders__next-1.csv.partial",
      systemError("EIO", "Input/output error (os error 5)"),
    ),
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: false,
    says:
      /^Cannot write \/data\/lake\/parquet\/orders__next-1\.csv\.partial: Input\/output error \(os error 5\) \(in PARQUET_DIR \/data\/lake\/parquet: check the disk and the directory's permissions, or set PARQUET_DIR to another directory\)$/,
  },
  {
    rule: "local file operation failed",
    error: Object.assign(
      new Error(
        "No such file or directory (os error 2): stat '/data/lake/parquet/public_big__next-15.csv.partial'",
      ),
      { code: "ENOENT" },
    ),
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    says:
      /^A local file operation failed: No such file or directory \(os error 2\).*\(check the disk, and that no other sync uses STATE_DIR .* at the same time\)$/,
  },
  {
    rule: "checkpoint not written",
    error: Object.assign(new Error("attempt to write a readonly database"), {
      code: "ERR_SQLITE_ERROR",
      errcode: 8,
      errstr: "attempt to write a readonly database",
    }),
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: false,
    says:
      /^Cannot update the checkpoint in STATE_DIR \/data\/state: attempt to write a readonly database \(check the disk and the directory's permissions\)$/,
  },
  {
    rule: "DuckDB file still locked after LOCK_WAIT_SECONDS",
    error: new Error(
      'IO Error: Could not set lock on file "/data/lake/warehouse.duckdb": Conflicting lock is held in /usr/bin/deno (PID 4242) by user sync. See also https://duckdb.org/docs/stable/connect/concurrency',
    ),
    context: { settings, from: "duckdb_open" },
    code: "DUCKDB_LOCKED",
    exitCode: 1,
    transient: true,
    says:
      /^Cannot open DuckDB file \/data\/lake\/warehouse\.duckdb: it is locked by \/usr\/bin\/deno \(PID 4242\) \(close that program or wait for its sync cycle, then retry; LOCK_WAIT_SECONDS sets how long to wait\)$/,
  },
  {
    rule: "DuckDB file not writable",
    error: new Error(
      'IO Error: Cannot open file "/data/lake/warehouse.duckdb": Read-only file system\n\nLINE 1',
    ),
    context: { settings, from: "duckdb_open" },
    code: "LOCAL_IO_ERROR",
    exitCode: 1,
    transient: true,
    says:
      /^Cannot write DUCKDB_PATH \/data\/lake\/warehouse\.duckdb: IO Error: Cannot open file "\/data\/lake\/warehouse\.duckdb": Read-only file system \(\/data\/lake is on a read-only file system or not writable by this user: make it writable, e\.g\. mount it read-write, or set DUCKDB_PATH to a writable place; nothing is lost/,
  },
  {
    rule: "DuckDB file not opened",
    error: new Error(
      'IO Error: The file "/data/lake/warehouse.duckdb" exists, but it is not a valid DuckDB database file!\n\nLINE 1',
    ),
    context: { settings, from: "duckdb_open" },
    code: "DUCKDB_ERROR",
    exitCode: 1,
    transient: false,
    says:
      /^Cannot open DuckDB file \/data\/lake\/warehouse\.duckdb: IO Error: The file "\/data\/lake\/warehouse\.duckdb" exists, but it is not a valid DuckDB database file!$/,
  },
  {
    rule: "value DuckDB cannot hold",
    error: new UnconvertibleValue(
      { schema: "sales", table: "orders" },
      {
        column: mapColumn({
          name: "placed_at",
          pgType: "timestamp with time zone",
          baseTypeName: "timestamptz",
          baseType: "timestamp with time zone",
          category: "D",
          notNull: false,
        }),
        value: "294277-01-01 00:00:00+00",
      },
      new Error(
        "Conversion Error: Could not convert string '294277-01-01 00:00:00+00' to TIMESTAMP WITH TIME ZONE",
      ),
    ),
    code: "VALUE_UNSUPPORTED",
    exitCode: 2,
    transient: false,
    says:
      /^Cannot load sales\.orders: column "placed_at" \(timestamp with time zone, TIMESTAMP WITH TIME ZONE in DuckDB\) holds '294277-01-01 00:00:00\+00': DuckDB's timestamps end at 294247-01-10; nothing of the batch was applied \(replace the value in PostgreSQL, or make the column text \(ALTER TABLE "sales"\."orders" ALTER COLUMN "placed_at" TYPE text\)\)$/,
  },
  {
    rule: "DuckDB file locked",
    error: new Error(
      'IO Error: Could not set lock on file "/data/lake/warehouse.duckdb": Conflicting lock is held in /usr/bin/duckdb (PID 77)',
    ),
    code: "DUCKDB_LOCKED",
    exitCode: 1,
    transient: true,
    says: /^DuckDB file is locked: IO Error: Could not set lock .*PID 77/,
  },
  {
    rule: "server refuses SSL",
    error: new Error("The server does not support SSL connections"),
    context: { ...context, from: "postgres" },
    code: "PG_SSL_FAILED",
    exitCode: 2,
    transient: false,
    says:
      /^The server at db\.example\.com:5432\/app \(user sync\) does not accept SSL connections \(set PGSSLMODE=disable, or enable ssl on the server\)$/,
  },
  {
    rule: "plain connection refused by pg_hba.conf",
    error: pgError(
      "28000",
      'no pg_hba.conf entry for host "10.0.0.5", user "sync", database "app", no encryption',
    ),
    code: "PG_AUTH_FAILED",
    exitCode: 2,
    transient: false,
    says:
      /refused the connection: no pg_hba\.conf entry .* \(if the server accepts only SSL connections, set PGSSLMODE=no-verify; otherwise add a pg_hba\.conf entry for this host, user and database\)$/,
  },
  {
    rule: "server certificate not verified",
    error: systemError("CERT_HAS_EXPIRED", "certificate has expired"),
    code: "PG_SSL_FAILED",
    exitCode: 2,
    transient: false,
    says:
      /^The server certificate at .* failed verification \(certificate has expired\): renew the server's certificate, or set PGSSLMODE=no-verify to encrypt without verifying the certificate$/,
  },
  {
    rule: "authentication failed",
    error: pgError("28P01", 'password authentication failed for user "sync"'),
    code: "PG_AUTH_FAILED",
    exitCode: 2,
    transient: false,
    says: /\(check POSTGRES_USER and POSTGRES_PASSWORD, or DATABASE_URL\)$/,
  },
  {
    rule: "rows filtered by row-level security",
    error: pgError(
      "42501",
      'query would be affected by row-level security policy for table "orders"',
    ),
    context: { ...context, source: "sales.orders" },
    code: "PG_ROW_SECURITY",
    exitCode: 2,
    transient: false,
    says: /^Postgres would filter the rows of sales\.orders .*ALTER ROLE sync BYPASSRLS/,
  },
  {
    rule: "permission denied",
    error: pgError("42501", "permission denied for schema sales"),
    code: "PG_PERMISSION_DENIED",
    exitCode: 2,
    transient: false,
    says: /e\.g\. GRANT USAGE ON SCHEMA sales TO sync; GRANT SELECT ON sales\.orders TO sync\)$/,
  },
  {
    rule: "database missing",
    error: pgError("3D000", 'database "app" does not exist'),
    code: "PG_DATABASE_MISSING",
    exitCode: 2,
    transient: false,
    says: /\(check POSTGRES_DB, or DATABASE_URL\)$/,
  },
  {
    rule: "server unreachable",
    error: systemError("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.5:5432"),
    code: "PG_UNREACHABLE",
    exitCode: 1,
    transient: true,
    says:
      /^Cannot reach Postgres at .*: connect ECONNREFUSED 10\.0\.0\.5:5432 \(is the server running\? check POSTGRES_HOST and POSTGRES_PORT, or DATABASE_URL\)$/,
  },
  {
    rule: "statement timeout",
    error: pgError("57014", "canceling statement due to statement timeout"),
    code: "PG_ERROR",
    exitCode: 2,
    transient: false,
    says:
      /^Postgres cancelled a statement at its statement_timeout: canceling statement due to statement timeout \(.*ALTER ROLE sync SET statement_timeout = 0\)$/,
  },
  {
    rule: "connection lost",
    error: pgError("57P01", "terminating connection due to administrator command"),
    code: "PG_CONNECTION_LOST",
    exitCode: 1,
    transient: true,
    says: /^Lost the Postgres connection: terminating connection due to administrator command$/,
  },
  {
    rule: "Postgres error of a passing kind",
    error: pgError("40001", "could not serialize access due to concurrent update"),
    code: "PG_ERROR",
    exitCode: 1,
    transient: true,
    says: /^Postgres error: could not serialize access due to concurrent update$/,
  },
  {
    rule: "other Postgres error",
    error: pgError("42P01", 'relation "sales.orders" does not exist'),
    code: "PG_ERROR",
    exitCode: 1,
    transient: false,
    says: /^Postgres error: relation "sales\.orders" does not exist$/,
  },
  {
    rule: "DuckDB out of memory",
    error: new Error(
      "Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)\n\nPossible solutions: ...",
    ),
    code: "DUCKDB_ERROR",
    exitCode: 2,
    transient: false,
    says:
      /^DuckDB ran out of memory \(DUCKDB_MEMORY_LIMIT=1GB\): Out of Memory Error: could not allocate .* \(raise DUCKDB_MEMORY_LIMIT, e.g. DUCKDB_MEMORY_LIMIT=1GB\)$/,
  },
  {
    rule: "other DuckDB error",
    error: new Error('Constraint Error: Duplicate key "id: 1" violates primary key constraint.'),
    code: "DUCKDB_ERROR",
    exitCode: 1,
    transient: false,
    says: /^DuckDB error: Constraint Error: Duplicate key "id: 1"/,
  },
];

for (const c of cases) {
  Deno.test(`classifyError() rule "${c.rule}": ${c.code}, exit ${c.exitCode}${c.transient ? ", retried" : ""}`, () => {
    const ctx = c.context ?? context;
    assertEquals(ruleFor(c.error, ctx)?.name, c.rule);
    const e = classifyError(c.error, ctx);
    assertEquals([e.code, e.exitCode, e.transient], [c.code, c.exitCode, c.transient]);
    assertMatch(e.message, c.says);
    assertEquals(e.cause, c.error);
    assertEquals(isRetryable(e), c.transient);
  });
}

Deno.test("every rule of ERROR_RULES has a case above, and names are unique", () => {
  const names = ERROR_RULES.map((r) => r.name);
  assertEquals(new Set(names).size, names.length);
  assertEquals(cases.map((c) => c.rule).sort(), [...names].sort());
});

Deno.test("classifyError() passes a SyncError through unchanged", () => {
  const own = new SyncError("TABLE_MISSING", "x", { exitCode: 2 });
  assert(classifyError(own, context) === own);
  assert(!isRetryable(own));
  assert(!isRetryable(new Error("x")));
});

Deno.test("classifyError() scrubs the secrets out of every message", () => {
  const e = classifyError(
    pgError("28P01", 'password authentication failed for user "sync" (password pw-secret)'),
    context,
  );
  assert(!e.message.includes("pw-secret"), e.message);
  const duck = classifyError(new Error("Binder Error: pw-secret"), context);
  assert(!duck.message.includes("pw-secret"), duck.message);
});

Deno.test("classifyError() takes a code-less failure for DuckDB's unless the caller says Postgres", () => {
  const error = new Error("Query read timeout");
  assertEquals(classifyError(error, context).code, "DUCKDB_ERROR");
  assertEquals(
    classifyError(error, { ...context, from: "postgres" }).code,
    "PG_CONNECTION_LOST",
  );
  // Speaking of its connection makes it a Postgres one.
  assertEquals(
    classifyError(new Error("Connection terminated unexpectedly"), context).code,
    "PG_CONNECTION_LOST",
  );
});

Deno.test("classifyError() calls a lock error DuckDB's even when it carries a code", () => {
  const error = Object.assign(new Error("IO Error: Could not set lock on file"), { code: "EX" });
  assertEquals(classifyError(error, context).code, "DUCKDB_LOCKED");
});

Deno.test("classifyError() tries the local rules first: a full disk mid-COPY is not a Postgres error", () => {
  const error = systemError("ENOSPC", "No space left on device (os error 28)");
  assertEquals(classifyError(error, { ...context, from: "postgres" }).code, "DISK_FULL");
});

Deno.test("classifyError() suggests the URL's sslmode when DATABASE_URL is used", () => {
  const url = { ...settings, pg: { connectionString: "postgres://sync@db/app", user: "sync" } };
  const e = classifyError(systemError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), {
    settings: url,
  });
  assertMatch(
    e.message,
    /add sslrootcert=\/path\/to\/ca\.pem naming the CA that signed it, or set sslmode=require in DATABASE_URL/,
  );
});

Deno.test("classifyLocalError() is null for what is not a local file's failure", () => {
  assertEquals(classifyLocalError(pgError("42P01", "x"), settings), null);
  assertEquals(classifyLocalError(new Error("Catalog Error: x"), settings), null);
  assertEquals(classifyLocalError(new SyncError("PG_ERROR", "x"), settings), null);
});

Deno.test("classifyOpenError() names the file being opened", () => {
  const e = classifyOpenError(
    new Error("IO Error: Conflicting lock is held in x (PID 1)"),
    "/tmp/a.duckdb",
  );
  assertEquals([e.code, e.transient], ["DUCKDB_LOCKED", true]);
  assertMatch(e.message, /^Cannot open DuckDB file \/tmp\/a\.duckdb: it is locked by x \(PID 1\)/);
});

Deno.test("classifyError(): DuckDB's 'unterminated quote' is DuckDB's, not a lost Postgres connection", () => {
  const e = classifyError(
    new Error(
      "Invalid Input Error: CSV Error on Line: 1\nValue with unterminated quote found.",
    ),
    { settings },
  );
  assertEquals([e.code, e.transient], ["DUCKDB_ERROR", false]);
  const lost = classifyError(new Error("Connection terminated unexpectedly"), { settings });
  assertEquals([lost.code, lost.transient], ["PG_CONNECTION_LOST", true]);
});

Deno.test("classifyError(): a refused connection is Postgres unreachable, not a local file's failure", () => {
  const e = classifyError(
    Object.assign(new Error("Connection refused (os error 111)"), { code: "ECONNREFUSED" }),
    { settings },
  );
  assertEquals(e.code, "PG_UNREACHABLE");
});
