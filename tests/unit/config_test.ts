import nodeAssert from "node:assert/strict";
import process from "node:process";
import pg from "pg";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { CONFIG_ENV_NAMES, ENV_DEFAULTS, loadConfig, secretsOf } from "../../src/core/config.ts";
import { SyncError } from "../../src/core/errors.ts";

/** An env lookup over a plain record (nothing leaks in from the real environment). */
function envOf(vars: Record<string, string> = {}): (name: string) => string | undefined {
  return (name) => vars[name];
}

/** Runs loadConfig expecting a CONFIG_INVALID error; returns its message. */
function configErrorMessage(
  vars: Record<string, string>,
  flags: Parameters<typeof loadConfig>[1] = {},
): string {
  let caught: unknown = null;
  try {
    loadConfig(envOf(vars), flags);
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof SyncError, `expected a SyncError, got ${String(caught)}`);
  assertEquals(caught.code, "CONFIG_INVALID");
  assertEquals(caught.exitCode, 2);
  assertEquals(caught.transient, false);
  return caught.message;
}

Deno.test("loadConfig() uses ENV_DEFAULTS when nothing is set", () => {
  const config = loadConfig(envOf());
  assertEquals(config.pg, {
    connectionString: null,
    host: "localhost",
    port: 5437,
    user: "analyst",
    password: "analyst",
    database: "analyst",
  });
  assertEquals(config.schema, "analytics");
  assertEquals(config.table, "subscriptions");
  assertEquals(config.primaryKey, null);
  assertEquals(config.cursorColumn, "updated_at");
  assertEquals(config.softDeleteColumn, "deleted_at");
  assertEquals(config.batchSize, 10000);
  assertEquals(config.duckdbPath, "lake/warehouse.duckdb");
  assertEquals(config.duckdbTable, "analytics_subscriptions");
  assertEquals(config.parquetDir, "parquet");
  assertEquals(config.stateDir, "state");
  assertEquals(config.intervalSeconds, 30);
  assertEquals(config.lookbackSeconds, 300);
  assertEquals(config.parquetKeepBatches, 100);
  assertEquals(config.lockWaitSeconds, 10);
  assertEquals(config.logFormat, "text");
  assertEquals(config.pgDisplay, "postgres://analyst:***@localhost:5437/analyst");
});

Deno.test("loadConfig() returns a frozen Config", () => {
  const config = loadConfig(envOf());
  assert(Object.isFrozen(config));
});

Deno.test("CONFIG_ENV_NAMES lists every ENV_DEFAULTS key", () => {
  assertEquals([...CONFIG_ENV_NAMES].sort(), Object.keys(ENV_DEFAULTS).sort());
  assert(CONFIG_ENV_NAMES.includes("POSTGRES_URL"));
  assert(CONFIG_ENV_NAMES.includes("LOG_FORMAT"));
});

Deno.test("loadConfig() reads values from the environment", () => {
  const config = loadConfig(envOf({
    POSTGRES_HOST: " db.internal ",
    POSTGRES_PORT: "5432",
    POSTGRES_USER: "sync",
    POSTGRES_PASSWORD: "hunter22",
    POSTGRES_DB: "prod",
    POSTGRES_SCHEMA: "public",
    POSTGRES_TABLE: "orders",
    CURSOR_COLUMN: "modified",
    SOFT_DELETE_COLUMN: "",
    BATCH_SIZE: "500",
    DUCKDB_PATH: "/tmp/w.duckdb",
    PARQUET_DIR: "pq",
    STATE_DIR: "st",
    SYNC_INTERVAL_SECONDS: "0.5",
    SYNC_LOOKBACK_SECONDS: "0",
    PARQUET_KEEP_BATCHES: "0",
    LOCK_WAIT_SECONDS: "2.5",
    LOG_FORMAT: "json",
  }));
  assertEquals(config.pg.host, "db.internal");
  assertEquals(config.pg.port, 5432);
  assertEquals(config.pg.user, "sync");
  assertEquals(config.pg.password, "hunter22");
  assertEquals(config.pg.database, "prod");
  assertEquals(config.schema, "public");
  assertEquals(config.table, "orders");
  assertEquals(config.cursorColumn, "modified");
  assertEquals(config.softDeleteColumn, "");
  assertEquals(config.batchSize, 500);
  assertEquals(config.duckdbPath, "/tmp/w.duckdb");
  assertEquals(config.duckdbTable, "public_orders");
  assertEquals(config.parquetDir, "pq");
  assertEquals(config.stateDir, "st");
  assertEquals(config.intervalSeconds, 0.5);
  assertEquals(config.lookbackSeconds, 0);
  assertEquals(config.parquetKeepBatches, 0);
  assertEquals(config.lockWaitSeconds, 2.5);
  assertEquals(config.logFormat, "json");
  assertEquals(config.pgDisplay, "postgres://sync:***@db.internal:5432/prod");
  assertNotMatch(config.pgDisplay, /hunter22/);
});

Deno.test("loadConfig() lets flags override environment variables", () => {
  const config = loadConfig(
    envOf({
      POSTGRES_HOST: "envhost",
      POSTGRES_PORT: "1111",
      POSTGRES_TABLE: "env_table",
      BATCH_SIZE: "7",
      LOG_FORMAT: "text",
    }),
    {
      host: "flaghost",
      port: "2222",
      table: "flag_table",
      "batch-size": "9",
      "log-format": "json",
      "duckdb-table": "wh_table",
      interval: "1.5",
      "parquet-keep": "3",
    },
  );
  assertEquals(config.pg.host, "flaghost");
  assertEquals(config.pg.port, 2222);
  assertEquals(config.table, "flag_table");
  assertEquals(config.batchSize, 9);
  assertEquals(config.logFormat, "json");
  assertEquals(config.duckdbTable, "wh_table");
  assertEquals(config.intervalSeconds, 1.5);
  assertEquals(config.parquetKeepBatches, 3);
});

Deno.test("loadConfig() validates flag values like environment values, naming the flag", () => {
  const message = configErrorMessage({ BATCH_SIZE: "10" }, { "batch-size": "many" });
  assertMatch(message, /--batch-size="many" is not a whole number .*e\.g\. --batch-size=/);
});

Deno.test("loadConfig() uses DATABASE_URL as the connection string and masks it", () => {
  const config = loadConfig(envOf({
    DATABASE_URL: "postgres://app:s3cr3t@db.example.com:6543/appdb?sslmode=require",
  }));
  assertEquals(
    config.pg.connectionString,
    "postgres://app:s3cr3t@db.example.com:6543/appdb?sslmode=require&uselibpqcompat=true",
  );
  assertEquals(config.pgDisplay, "postgres://app:***@db.example.com:6543/appdb?sslmode=require");
});

Deno.test("loadConfig() falls back to POSTGRES_URL when DATABASE_URL is unset", () => {
  const config = loadConfig(envOf({ POSTGRES_URL: "postgresql://u:pw123@h/d" }));
  assertEquals(config.pg.connectionString, "postgresql://u:pw123@h/d");
  assertEquals(config.pgDisplay, "postgresql://u:***@h/d");
});

Deno.test("loadConfig() prefers DATABASE_URL over POSTGRES_URL", () => {
  const config = loadConfig(envOf({
    DATABASE_URL: "postgres://a:pa@first/db1",
    POSTGRES_URL: "postgres://b:pb@second/db2",
  }));
  assertEquals(config.pg.connectionString, "postgres://a:pa@first/db1");
});

Deno.test("loadConfig() lets the --database-url flag override DATABASE_URL", () => {
  const config = loadConfig(
    envOf({ DATABASE_URL: "postgres://a:pa@envhost/db" }),
    { "database-url": "postgres://b:pb@flaghost/db" },
  );
  assertEquals(config.pg.connectionString, "postgres://b:pb@flaghost/db");
});

Deno.test("loadConfig() rejects a non-postgres URL without echoing its password", () => {
  const message = configErrorMessage({ DATABASE_URL: "mysql://root:topsecret@h/db" });
  assertMatch(message, /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//);
  assertMatch(message, /mysql:\/\/root:\*\*\*@h\/db/);
  assertNotMatch(message, /topsecret/);
});

Deno.test("loadConfig() leaves primaryKey null when POSTGRES_PRIMARY_KEY is blank", () => {
  assertEquals(loadConfig(envOf({ POSTGRES_PRIMARY_KEY: "   " })).primaryKey, null);
});

Deno.test("loadConfig() splits a composite POSTGRES_PRIMARY_KEY and trims the parts", () => {
  assertEquals(loadConfig(envOf({ POSTGRES_PRIMARY_KEY: "id" })).primaryKey, ["id"]);
  assertEquals(
    loadConfig(envOf({ POSTGRES_PRIMARY_KEY: " tenant_id , id " })).primaryKey,
    ["tenant_id", "id"],
  );
});

Deno.test("loadConfig() accepts --primary-key as a flag", () => {
  const config = loadConfig(envOf({ POSTGRES_PRIMARY_KEY: "x" }), { "primary-key": "a,b,c" });
  assertEquals(config.primaryKey, ["a", "b", "c"]);
});

Deno.test("loadConfig() rejects an empty column name inside POSTGRES_PRIMARY_KEY", () => {
  const message = configErrorMessage({ POSTGRES_PRIMARY_KEY: "tenant_id,,id" });
  assertMatch(message, /POSTGRES_PRIMARY_KEY="tenant_id,,id" has an empty column name/);
});

Deno.test("loadConfig() defaults DUCKDB_TABLE to <schema>_<table>", () => {
  const config = loadConfig(envOf({ POSTGRES_SCHEMA: "sales", POSTGRES_TABLE: "invoices" }));
  assertEquals(config.duckdbTable, "sales_invoices");
  const blank = loadConfig(envOf({ POSTGRES_SCHEMA: "s", POSTGRES_TABLE: "t", DUCKDB_TABLE: " " }));
  assertEquals(blank.duckdbTable, "s_t");
  const explicit = loadConfig(envOf({ DUCKDB_TABLE: " wh " }));
  assertEquals(explicit.duckdbTable, "wh");
});

Deno.test("loadConfig() rejects bad whole numbers (BATCH_SIZE, POSTGRES_PORT, PARQUET_KEEP_BATCHES)", () => {
  for (
    const [name, value] of [
      ["BATCH_SIZE", "abc"],
      ["BATCH_SIZE", "0"],
      ["BATCH_SIZE", "1.5"],
      ["BATCH_SIZE", "-3"],
      ["BATCH_SIZE", "10000001"],
      ["BATCH_SIZE", ""],
      ["POSTGRES_PORT", "0"],
      ["POSTGRES_PORT", "65536"],
      ["POSTGRES_PORT", "54x"],
      ["PARQUET_KEEP_BATCHES", "-1"],
      ["PARQUET_KEEP_BATCHES", "1e3"],
    ] as const
  ) {
    const message = configErrorMessage({ [name]: value });
    assert(
      message.includes(`${name}=${JSON.stringify(value)} is not a whole number`),
      `${name}=${value}: ${message}`,
    );
  }
});

Deno.test("loadConfig() accepts whole numbers at the edges of their range", () => {
  const config = loadConfig(envOf({
    POSTGRES_PORT: "65535",
    BATCH_SIZE: " 1 ",
    PARQUET_KEEP_BATCHES: "1000000",
  }));
  assertEquals(config.pg.port, 65535);
  assertEquals(config.batchSize, 1);
  assertEquals(config.parquetKeepBatches, 1_000_000);
  assertEquals(loadConfig(envOf({ POSTGRES_PORT: "1" })).pg.port, 1);
  assertEquals(loadConfig(envOf({ BATCH_SIZE: "10000000" })).batchSize, 10_000_000);
});

Deno.test("loadConfig() rejects bad decimal numbers (interval, lookback, lock wait)", () => {
  for (
    const [name, value] of [
      ["SYNC_INTERVAL_SECONDS", "0.05"],
      ["SYNC_INTERVAL_SECONDS", "soon"],
      ["SYNC_INTERVAL_SECONDS", ""],
      ["SYNC_INTERVAL_SECONDS", "Infinity"],
      ["SYNC_LOOKBACK_SECONDS", "-1"],
      ["LOCK_WAIT_SECONDS", "NaN"],
    ] as const
  ) {
    const message = configErrorMessage({ [name]: value });
    assert(
      message.includes(`${name}=${JSON.stringify(value)} is not a number of at least`),
      `${name}=${value}: ${message}`,
    );
  }
  assertEquals(loadConfig(envOf({ SYNC_INTERVAL_SECONDS: "0.1" })).intervalSeconds, 0.1);
  assertEquals(loadConfig(envOf({ LOCK_WAIT_SECONDS: "0" })).lockWaitSeconds, 0);
});

Deno.test("loadConfig() takes DUCKDB_MEMORY_LIMIT as a DuckDB size, 128MB by default", () => {
  assertEquals(loadConfig(envOf({})).duckdbMemoryLimit, "128MB");
  assertEquals(loadConfig(envOf({ DUCKDB_MEMORY_LIMIT: " 512MB " })).duckdbMemoryLimit, "512MB");
  assertEquals(loadConfig(envOf({ DUCKDB_MEMORY_LIMIT: "1.5GiB" })).duckdbMemoryLimit, "1.5GiB");
  for (const bad of ["lots", "512", "-1GB", "1 GB; DROP"]) {
    assertMatch(
      configErrorMessage({ DUCKDB_MEMORY_LIMIT: bad }),
      /DUCKDB_MEMORY_LIMIT=.* is not a memory size \(e\.g\. DUCKDB_MEMORY_LIMIT=512MB/,
    );
  }
});

Deno.test("loadConfig() rejects LOG_FORMAT other than text or json", () => {
  const message = configErrorMessage({ LOG_FORMAT: "xml" });
  assertMatch(message, /LOG_FORMAT="xml" must be text or json/);
  assertEquals(loadConfig(envOf({ LOG_FORMAT: " json " })).logFormat, "json");
});

Deno.test("loadConfig() rejects empty required names", () => {
  for (
    const name of [
      "POSTGRES_SCHEMA",
      "POSTGRES_TABLE",
      "CURSOR_COLUMN",
      "DUCKDB_PATH",
      "PARQUET_DIR",
      "STATE_DIR",
    ]
  ) {
    const message = configErrorMessage({ [name]: "  " });
    assert(message.includes(`${name} is empty`), `${name}: ${message}`);
  }
});

Deno.test("loadConfig() collects every invalid value into one single-line error", () => {
  const message = configErrorMessage({
    BATCH_SIZE: "abc",
    POSTGRES_PORT: "0",
    LOG_FORMAT: "xml",
    SYNC_INTERVAL_SECONDS: "-5",
    POSTGRES_TABLE: "",
    DATABASE_URL: "http://x",
  });
  assertMatch(message, /^Invalid configuration: /);
  assert(!message.includes("\n"), `message has a line break: ${message}`);
  assertMatch(message, /BATCH_SIZE="abc"/);
  assertMatch(message, /POSTGRES_PORT="0"/);
  assertMatch(message, /LOG_FORMAT="xml"/);
  assertMatch(message, /SYNC_INTERVAL_SECONDS="-5"/);
  assertMatch(message, /POSTGRES_TABLE is empty/);
  assertMatch(message, /DATABASE_URL must start with/);
  assertEquals(message.split("; ").length, 6);
});

Deno.test("loadConfig() keeps the error on one line even when a value holds a newline", () => {
  const message = configErrorMessage({ BATCH_SIZE: "1\n2", LOG_FORMAT: "te\nxt" });
  assert(!message.includes("\n"), `message has a line break: ${message}`);
  assertMatch(message, /BATCH_SIZE="1\\n2"/);
});

Deno.test("loadConfig() error messages suggest a fix", () => {
  const message = configErrorMessage({ BATCH_SIZE: "abc" });
  assertMatch(message, /\(e\.g\. BATCH_SIZE=10000\)/);
});

Deno.test("secretsOf() returns the password", () => {
  const config = loadConfig(envOf({ POSTGRES_PASSWORD: "hunter22" }));
  assertEquals(secretsOf(config), ["hunter22"]);
});

Deno.test("secretsOf() does not treat a password equal to a visible name as secret", () => {
  // The defaults: analyst / analyst / analyst.
  assertEquals(secretsOf(loadConfig(envOf())), []);
  assertEquals(
    secretsOf(loadConfig(envOf({ POSTGRES_USER: "bob", POSTGRES_PASSWORD: "bob" }))),
    [],
  );
  assertEquals(
    secretsOf(loadConfig(envOf({ POSTGRES_DB: "shop", POSTGRES_PASSWORD: "shop" }))),
    [],
  );
});

Deno.test("secretsOf() ignores an empty password", () => {
  assertEquals(secretsOf(loadConfig(envOf({ POSTGRES_PASSWORD: "" }))), []);
});

Deno.test("secretsOf() includes the URL password raw and percent-decoded", () => {
  const config = loadConfig(envOf({
    POSTGRES_PASSWORD: "",
    DATABASE_URL: "postgres://app:p%40ss%21w0rd@db/appdb",
  }));
  assertEquals(secretsOf(config), ["p%40ss%21w0rd", "p@ss!w0rd"]);
});

Deno.test("secretsOf() survives a URL password that is not valid percent-encoding", () => {
  const config = loadConfig(envOf({
    POSTGRES_PASSWORD: "",
    DATABASE_URL: "postgres://app:100%zz@db/appdb",
  }));
  assertEquals(secretsOf(config), ["100%zz"]);
});

Deno.test("secretsOf() finds no URL password when the URL has none", () => {
  const config = loadConfig(envOf({
    POSTGRES_PASSWORD: "",
    DATABASE_URL: "postgres://app@db/appdb",
  }));
  assertEquals(secretsOf(config), []);
});

Deno.test("loadConfig() throws a SyncError usable with node:assert", () => {
  nodeAssert.throws(
    () => loadConfig(envOf({ LOG_FORMAT: "xml" })),
    (error: unknown) =>
      error instanceof SyncError && error.code === "CONFIG_INVALID" && error.exitCode === 2,
  );
});

Deno.test("loadConfig() names POSTGRES_URL when that is the bad one, and rejects hex numbers", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  nodeAssert.throws(
    () => loadConfig(env({ POSTGRES_URL: "mysql://x", SYNC_INTERVAL_SECONDS: "0x10" })),
    (e: unknown) =>
      e instanceof SyncError && /POSTGRES_URL must start/.test(e.message) &&
      /SYNC_INTERVAL_SECONDS="0x10"/.test(e.message),
  );
  nodeAssert.throws(
    () => loadConfig(env({ DATABASE_URL: "postgres://u:p@ssword@h/db" })),
    (e: unknown) =>
      e instanceof SyncError && /percent-encode/.test(e.message) && !e.message.includes("p@ssword"),
  );
  const secrets = secretsOf(loadConfig(env({ DATABASE_URL: "postgres://u:p%40ssword@h/db" })));
  assert(secrets.includes("p@ssword") && secrets.includes("p%40ssword"), JSON.stringify(secrets));
});

// sslmode: libpq's meaning, through node-postgres's connection-string parser.

/** The ssl option node-postgres builds from the Config's connection string. */
function pgSsl(url: string, readText?: (path: string) => string): unknown {
  const config = loadConfig(envOf({ DATABASE_URL: url }), {}, readText);
  const client = new pg.Client({ connectionString: config.pg.connectionString! });
  return (client as unknown as { connectionParameters: { ssl: unknown } }).connectionParameters
    .ssl;
}

/** Runs `body` and returns the process warnings it emitted. */
function warningsOf(body: () => void): string[] {
  const warnings: string[] = [];
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error) => {
    warnings.push(String(warning));
  }) as typeof process.emitWarning;
  try {
    body();
  } finally {
    process.emitWarning = original;
  }
  return warnings;
}

const BASE = "postgres://app:p%40ss@db.example.com:6543/appdb";

Deno.test("sslmode in DATABASE_URL takes libpq's meaning, with no node-postgres warning", () => {
  const ca = Deno.makeTempFileSync({ suffix: ".pem" });
  Deno.writeTextFileSync(ca, "-----BEGIN CERTIFICATE-----\nnot checked here\n");
  const readText = (path: string) => Deno.readTextFileSync(path);
  try {
    const warnings = warningsOf(() => {
      assertEquals(pgSsl(`${BASE}?sslmode=disable`), false);
      assertEquals(pgSsl(`${BASE}?sslmode=allow`), false);
      assertEquals(pgSsl(`${BASE}?sslmode=prefer`), { rejectUnauthorized: false });
      assertEquals(pgSsl(`${BASE}?sslmode=require`), { rejectUnauthorized: false });
      assertEquals(pgSsl(`${BASE}?sslmode=no-verify`), { rejectUnauthorized: false });
      // verify-full: node-postgres's defaults verify the certificate and host name.
      assertEquals(pgSsl(`${BASE}?sslmode=verify-full`), {});
      const verifyFullCa = pgSsl(`${BASE}?sslmode=verify-full&sslrootcert=${ca}`, readText) as {
        ca: string;
        checkServerIdentity?: unknown;
      };
      assertMatch(verifyFullCa.ca, /not checked here/);
      assertEquals(verifyFullCa.checkServerIdentity, undefined);
      // verify-ca, and require with a root certificate (as libpq): the CA is
      // checked, the host name is not.
      for (const mode of ["verify-ca", "require"]) {
        const ssl = pgSsl(`${BASE}?sslmode=${mode}&sslrootcert=${ca}`, readText) as {
          ca: string;
          rejectUnauthorized?: boolean;
          checkServerIdentity?: unknown;
        };
        assertMatch(ssl.ca, /not checked here/, mode);
        assertEquals(ssl.rejectUnauthorized, undefined, mode);
        assertEquals(typeof ssl.checkServerIdentity, "function", mode);
      }
      // No sslmode: the URL is left alone (no SSL unless PGSSLMODE says so).
      if (Deno.env.get("PGSSLMODE") === undefined) assertEquals(pgSsl(BASE), false);
    });
    assertEquals(warnings, []);
    // The warning that the rewrite avoids (and proof that warningsOf sees it).
    const raw = warningsOf(() => {
      new pg.Client({ connectionString: `${BASE}?sslmode=require` });
    });
    assertEquals(raw.length, 1);
    assertMatch(raw[0]!, /SECURITY WARNING/);
  } finally {
    Deno.removeSync(ca);
  }
});

Deno.test("sslmode rewriting keeps the rest of DATABASE_URL as written", () => {
  const url = (query: string) =>
    loadConfig(envOf({ DATABASE_URL: `${BASE}${query}` })).pg.connectionString;
  assertEquals(url(""), BASE);
  assertEquals(url("?application_name=x"), `${BASE}?application_name=x`);
  assertEquals(
    url("?sslmode=require&options=-c%20statement_timeout%3D0"),
    `${BASE}?options=-c%20statement_timeout%3D0&sslmode=require&uselibpqcompat=true`,
  );
  // The last sslmode wins (as in node-postgres); its own uselibpqcompat is replaced.
  assertEquals(
    url("?sslmode=disable&uselibpqcompat=false&sslmode=verify-full"),
    `${BASE}?sslmode=verify-full&uselibpqcompat=true`,
  );
  assertEquals(url("?sslmode=allow"), `${BASE}?sslmode=disable`);
  assertEquals(url("?sslmode=prefer"), `${BASE}?sslmode=prefer&uselibpqcompat=true`);
  assertEquals(url("?sslmode=no-verify"), `${BASE}?sslmode=require&uselibpqcompat=true`);
  // POSTGRES_URL is rewritten the same way; the display keeps what was written.
  const config = loadConfig(envOf({ POSTGRES_URL: `${BASE}?sslmode=require` }));
  assertEquals(config.pg.connectionString, `${BASE}?sslmode=require&uselibpqcompat=true`);
  assertEquals(config.pgDisplay, "postgres://app:***@db.example.com:6543/appdb?sslmode=require");
});

Deno.test("a bad sslmode, verify-ca without a CA, or an unreadable CA file is one clear line", () => {
  const unknown = configErrorMessage({ DATABASE_URL: `${BASE}?sslmode=required` });
  assertMatch(
    unknown,
    /DATABASE_URL has sslmode="required", which is not an SSL mode \(use disable, allow, prefer, require, verify-ca or verify-full\)/,
  );
  assertNotMatch(unknown, /p%40ss|p@ss/);
  assertMatch(
    configErrorMessage({ POSTGRES_URL: `${BASE}?sslmode=verify-ca` }),
    /POSTGRES_URL has sslmode=verify-ca but no sslrootcert \(add sslrootcert=\/path\/to\/ca\.pem/,
  );
  const missing = "/nonexistent/ca.pem";
  let caught: unknown = null;
  try {
    loadConfig(
      envOf({ DATABASE_URL: `${BASE}?sslmode=verify-full&sslrootcert=${missing}` }),
      {},
      (path) => Deno.readTextFileSync(path),
    );
  } catch (error) {
    caught = error;
  }
  assert(caught instanceof SyncError && caught.code === "CONFIG_INVALID", String(caught));
  assertMatch(
    caught.message,
    /DATABASE_URL names sslrootcert="\/nonexistent\/ca\.pem", which cannot be read \(.*\); point sslrootcert at a readable PEM file/,
  );
  assertEquals(caught.message.includes("\n"), false);
});
