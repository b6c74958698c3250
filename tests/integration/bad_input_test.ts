// Bad input: one line that names the fix, exit 2 for configuration errors and
// 1 for runtime failures, no password in the output, and nothing lost or
// half-written (the checkpoint and DuckDB stay as they were).

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  createTestDb,
  duckDemoRows,
  duckRows,
  freePortForTest,
  runMain,
  sharedCluster,
  type TestDb,
} from "../support/fixture.ts";

const cluster = await sharedCluster();
const db = await createTestDb(cluster);
// A synced baseline that every failing run must leave untouched.
assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
await runMain(["seed-changes"], db.env());

async function snapshot(d: TestDb) {
  return {
    checkpoint: await Deno.readFile(`${d.dir}/state/checkpoint.sqlite`).then((b) => b.length),
    status: (await runMain(["status", "--json"], d.env())).stdout,
    rows: (await duckDemoRows(`${d.dir}/lake/warehouse.duckdb`)).join("\n"),
  };
}

async function expectFailure(
  env: Record<string, string>,
  exitCode: number,
  pattern: RegExp,
  args = ["sync", "--once"],
) {
  const before = await snapshot(db);
  const r = await runMain(args, db.env(env));
  const output = r.stdout + r.stderr;
  assertEquals(r.code, exitCode, output);
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, `one line: ${r.stderr}`);
  assertMatch(lines[0]!, pattern);
  for (const secret of [db.password, env.POSTGRES_PASSWORD ?? db.password, "s3cr3t-in-url"]) {
    assertEquals(output.includes(secret), false, `secret leaked: ${output}`);
  }
  assertEquals(await snapshot(db), before, "nothing written");
}

Deno.test("wrong password: exit 2, names the variables to check, no password shown", async () => {
  await expectFailure(
    { POSTGRES_PASSWORD: "wrong-password-123" },
    2,
    /^error PG_AUTH_FAILED: Cannot connect to Postgres at postgres:\/\/u_\w+:\*\*\*@127\.0\.0\.1:\d+\/\w+: password authentication failed .*check POSTGRES_USER and POSTGRES_PASSWORD/,
  );
  await expectFailure(
    { DATABASE_URL: `postgres://${db.user}:s3cr3t-in-url@127.0.0.1:${cluster.port}/${db.name}` },
    2,
    /^error PG_AUTH_FAILED: .*:\*\*\*@/,
  );
});

Deno.test("unreachable host: exit 1 with the fix", async () => {
  await expectFailure(
    { POSTGRES_PORT: String(freePortForTest()) },
    1,
    /^error PG_UNREACHABLE: Cannot reach Postgres at .*is the server running\? check POSTGRES_HOST and POSTGRES_PORT, or DATABASE_URL\)$/,
  );
});

Deno.test("nothing configured: sync names the compose default, DATABASE_URL and the demo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-test-" });
  try {
    const r = await runMain(["sync", "--once"], {
      STATE_DIR: `${dir}/state`,
      DUCKDB_PATH: `${dir}/w.duckdb`,
      PARQUET_DIR: `${dir}/parquet`,
    });
    assertEquals(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assertMatch(
      lines[0]!,
      /^error PG_UNREACHABLE: Cannot reach Postgres at postgres:\/\/analyst:\*\*\*@localhost:5437\/analyst: .*nothing is configured.*docker compose up -d postgres.*DATABASE_URL.*deno task start/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing table, cursor column or primary key: exit 2 with the fix", async () => {
  await expectFailure(
    { POSTGRES_TABLE: "nope" },
    2,
    /^error TABLE_MISSING: Cannot find table analytics\.nope .*check POSTGRES_SCHEMA and POSTGRES_TABLE/,
  );
  assertEquals((await runMain(["sync", "--once"], db.env())).code, 0, "a DuckDB file to verify");
  await expectFailure(
    { POSTGRES_TABLE: "nope" },
    2,
    /^error TABLE_MISSING: Cannot find table analytics\.nope .*check POSTGRES_SCHEMA and POSTGRES_TABLE/,
    ["verify"],
  );
  await expectFailure(
    { CURSOR_COLUMN: "modified_at" },
    2,
    /^error CURSOR_COLUMN_MISSING: .*no cursor column "modified_at" \(set CURSOR_COLUMN/,
  );
  await db.sql(`CREATE TABLE analytics.nokey (id int, updated_at timestamptz);
    ALTER TABLE analytics.nokey OWNER TO ${db.user}`);
  await expectFailure(
    { POSTGRES_TABLE: "nokey", DUCKDB_TABLE: "analytics_subscriptions" },
    2,
    /^error PRIMARY_KEY_MISSING: .*no primary key .*POSTGRES_PRIMARY_KEY/,
  );
  await expectFailure(
    { POSTGRES_PRIMARY_KEY: "id,missing_col" },
    2,
    /^error PRIMARY_KEY_MISSING: .*missing_col/,
  );
});

Deno.test("bad values: every one named in one line, exit 2", async () => {
  await expectFailure(
    { BATCH_SIZE: "abc", POSTGRES_PORT: "99999", LOG_FORMAT: "xml" },
    2,
    /^error CONFIG_INVALID: Invalid configuration: .*POSTGRES_PORT="99999"/,
  );
  await expectFailure(
    { BATCH_SIZE: "abc", LOG_FORMAT: "xml" },
    2,
    /^error CONFIG_INVALID: (?=.*BATCH_SIZE="abc" is not a whole number .*e\.g\. BATCH_SIZE=10000)(?=.*LOG_FORMAT="xml" must be text or json)/,
  );
  await expectFailure({}, 2, /^error CONFIG_INVALID: Unknown option --bogus; run with --help/, [
    "sync",
    "--once",
    "--bogus",
  ]);
  await expectFailure(
    {},
    2,
    /^error CONFIG_INVALID: Unknown option --bath-size \(did you mean --batch-size\?\)/,
    ["sync", "--once", "--bath-size", "5"],
  );
  await expectFailure(
    {},
    2,
    /^error CONFIG_INVALID: Invalid configuration: --batch-size="0" is not a whole number .*e\.g\. --batch-size=10000\)$/,
    ["sync", "--once", "--batch-size", "0"],
  );
  await expectFailure({}, 2, /^error CONFIG_INVALID: Unknown command "frobnicate"/, ["frobnicate"]);
});

Deno.test("unwritable STATE_DIR: exit 2 with the fix", async () => {
  const file = `${db.dir}/not-a-dir`;
  await Deno.writeTextFile(file, "");
  await expectFailure(
    { STATE_DIR: `${file}/state` },
    2,
    /^error STATE_DIR_UNWRITABLE: Cannot write STATE_DIR .*not-a-dir\/state: .*set STATE_DIR to a writable directory/,
  );
});

Deno.test("a DUCKDB_MEMORY_LIMIT too small to load a batch: exit 2, names the setting to raise", async () => {
  const d = await createTestDb(cluster);
  try {
    const r = await runMain(["sync", "--once"], d.env({ DUCKDB_MEMORY_LIMIT: "1MB" }));
    assertEquals(r.code, 2, r.stderr);
    assertMatch(
      r.stderr,
      /^error DUCKDB_ERROR: DuckDB ran out of memory \(DUCKDB_MEMORY_LIMIT=1MB\): .*\(raise DUCKDB_MEMORY_LIMIT/,
    );
    const ok = await runMain(["sync", "--once"], d.env({ DUCKDB_MEMORY_LIMIT: "256MB" }));
    assertEquals(ok.code, 0, ok.stderr);
    assertMatch(ok.stderr, /Bootstrap of analytics.subscriptions complete: 10,000 rows/);
  } finally {
    await d.cleanup();
  }
});

Deno.test("a corrupt checkpoint is an error, never a silent re-bootstrap; reset recovers", async () => {
  const d = await createTestDb(cluster);
  try {
    assertEquals((await runMain(["sync", "--once"], d.env())).code, 0);
    const garbage = new TextEncoder().encode("this is not a sqlite database ".repeat(200));
    await Deno.writeFile(`${d.dir}/state/checkpoint.sqlite`, garbage);
    for (const suffix of ["-wal", "-shm"]) {
      await Deno.remove(`${d.dir}/state/checkpoint.sqlite${suffix}`).catch(() => {});
    }
    const r = await runMain(["sync", "--once"], d.env());
    assertEquals(r.code, 1, r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertMatch(
      r.stderr,
      /^error CHECKPOINT_CORRUPT: Cannot read checkpoint .*checkpoint\.sqlite: .*run `reset --yes`/,
    );
    assertEquals(
      await Deno.readFile(`${d.dir}/state/checkpoint.sqlite`),
      garbage,
      "file left as it was",
    );
    assertEquals((await duckDemoRows(`${d.dir}/lake/warehouse.duckdb`)).length, 10000);

    const refused = await runMain(["reset"], d.env());
    assertEquals(refused.code, 2);
    assertMatch(refused.stderr, /pass --yes/);
    const reset = await runMain(["reset", "--yes"], d.env());
    assertEquals(reset.code, 0, reset.stderr);
    const again = await runMain(["sync", "--once"], d.env());
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stderr, /Bootstrap of analytics.subscriptions complete: 10,000 rows/);
  } finally {
    await d.cleanup();
  }
});

Deno.test("a DuckDB file deleted behind a checkpoint is an error, not a partial copy", async () => {
  const d = await createTestDb(cluster);
  try {
    assertEquals((await runMain(["sync", "--once"], d.env())).code, 0);
    await runMain(["seed-changes"], d.env());
    await Deno.remove(`${d.dir}/lake`, { recursive: true });
    const r = await runMain(["sync", "--once"], d.env());
    assertEquals(r.code, 1, r.stderr);
    assertMatch(
      r.stderr.trim(),
      /^error TARGET_MISSING: DuckDB table analytics_subscriptions .* is missing .*reset --yes/,
    );
  } finally {
    await d.cleanup();
  }
});

Deno.test("a DuckDB table dropped behind its checkpoint: sync and verify say so even with no changes; another STATE_DIR neither resets nor copies into it", async () => {
  const d = await createTestDb(cluster);
  try {
    assertEquals((await runMain(["sync", "--once"], d.env())).code, 0);
    const duck = `${d.dir}/lake/warehouse.duckdb`;
    const otherState = { STATE_DIR: `${d.dir}/other-state` };
    const other = await runMain(["reset", "--yes"], d.env(otherState));
    assertEquals(other.code, 2, other.stderr);
    assertMatch(
      other.stderr.trim(),
      /^error CONFIG_INVALID: Nothing reset: \S+other-state holds no checkpoint for analytics_subscriptions, so its DuckDB table .* may be another STATE_DIR's copy .*reset --yes --force/,
    );
    // Nor does a sync from that STATE_DIR copy into the table it does not own.
    await runMain(["seed-changes"], d.env());
    const adopt = await runMain(["sync", "--once"], d.env(otherState));
    assertEquals(adopt.code, 2, adopt.stderr);
    assertMatch(
      adopt.stderr,
      /error TARGET_NOT_OWNED: DuckDB table analytics_subscriptions .* belongs to another STATE_DIR .*, not \S+other-state/,
    );
    assertEquals(
      await duckRows(duck, "SELECT count(*)::INTEGER AS n FROM analytics_subscriptions"),
      [
        { n: 10000 },
      ],
    );
    assertEquals((await runMain(["sync", "--once"], d.env())).code, 0);
    // An idle cycle does not wait for, or fail on, another program reading the file.
    const reader = await DuckDBInstance.create(duck, { access_mode: "READ_ONLY" });
    try {
      const idle = await runMain(["sync", "--once"], d.env({ LOCK_WAIT_SECONDS: "1" }));
      assertEquals(idle.code, 0, idle.stderr);
      assertMatch(idle.stderr, /up to date/);
    } finally {
      reader.closeSync();
    }
    // --force drops it from the other STATE_DIR; the owner then hears of it
    // from its next cycle, idle as it is, and from verify.
    const forced = await runMain(["reset", "--yes", "--force"], d.env(otherState));
    assertEquals(forced.code, 0, forced.stderr);
    const missing = await runMain(["sync", "--once"], d.env());
    assertEquals(missing.code, 1, missing.stderr);
    assertMatch(
      missing.stderr,
      /error TARGET_MISSING: DuckDB table analytics_subscriptions .* is missing/,
    );
    const verify = await runMain(["verify"], d.env());
    assert(verify.code !== 0, verify.stdout);
    assertMatch(
      verify.stdout,
      /its DuckDB table is missing from .* although the checkpoint says 10,00\d rows were copied/,
    );
  } finally {
    await d.cleanup();
  }
});

Deno.test("the DuckDB file records which STATE_DIR owns a table: another one never copies into it, even empty, and the owner notices a takeover", async () => {
  const d = await createTestDb(cluster, { seedRows: false });
  try {
    const owner = d.env();
    const other = d.env({ STATE_DIR: `${d.dir}/other-state` });
    assertEquals((await runMain(["sync", "--once"], owner)).code, 0);
    const refused = await runMain(["sync", "--once"], other);
    assertEquals(refused.code, 2, refused.stderr);
    assertMatch(
      refused.stderr.trim(),
      /^error TARGET_NOT_OWNED: DuckDB table analytics_subscriptions .* belongs to another STATE_DIR \(its copy of 127\.0\.0\.1:\d+\/t\w+, system \d+\), not \S+other-state/,
    );
    const otherVerify = await runMain(["verify"], other);
    assertMatch(
      otherVerify.stdout,
      /has no checkpoint for it: its DuckDB table belongs to another STATE_DIR \(its copy of 127\.0\.0\.1:\d+\/t\w+, system \d+\); verify with that STATE_DIR/,
    );
    // Dropped on purpose by the other STATE_DIR and copied again there: the
    // owner's next cycle refuses rather than merging its changes into it.
    assertEquals((await runMain(["reset", "--yes", "--force"], other)).code, 0);
    await runMain(["seed-changes"], d.env());
    assertEquals((await runMain(["sync", "--once"], other)).code, 0);
    const taken = await runMain(["sync", "--once"], owner);
    assertEquals(taken.code, 2, taken.stderr);
    assertMatch(
      taken.stderr,
      /TARGET_NOT_OWNED: DuckDB table analytics_subscriptions .* belongs to another STATE_DIR/,
    );
    // A file from before owners were recorded: a table with rows and no
    // checkpoint in this STATE_DIR is still refused.
    const instance = await DuckDBInstance.create(`${d.dir}/lake/warehouse.duckdb`);
    const connection = await instance.connect();
    await connection.run("DROP TABLE _sync.owners");
    connection.closeSync();
    instance.closeSync();
    const legacy = await runMain(["sync", "--once"], d.env({ STATE_DIR: `${d.dir}/third-state` }));
    assertEquals(legacy.code, 2, legacy.stderr);
    assertMatch(
      legacy.stderr,
      /TARGET_NOT_OWNED: .* already holds rows, but \S+third-state has no checkpoint for it/,
    );
  } finally {
    await d.cleanup();
  }
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(db.dir, { recursive: true });
});

Deno.test("a checkpoint made from another database is refused (no mixing two sources in one DuckDB)", async () => {
  const a = await createTestDb(cluster);
  const b = await createTestDb(cluster);
  try {
    assertEquals((await runMain(["sync", "--once"], a.env())).code, 0);
    // Same state and DuckDB paths, another database.
    const env = {
      ...a.env(),
      POSTGRES_USER: b.user,
      POSTGRES_PASSWORD: b.password,
      POSTGRES_DB: b.name,
    };
    const before = await Deno.readFile(`${a.dir}/state/checkpoint.sqlite`);
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(
      r.stderr.trim(),
      /^error SOURCE_CHANGED: The checkpoint for analytics_subscriptions .* was made from 127\.0\.0\.1:\d+\/t\w+, system \d+, not 127\.0\.0\.1:\d+\/t\w+, system \d+: .*reset --yes/,
    );
    assertEquals(await Deno.readFile(`${a.dir}/state/checkpoint.sqlite`), before);
    // verify neither compares with, nor repairs from, another database.
    const verify = await runMain(["verify", "--repair"], env);
    assertEquals(verify.code, 2, verify.stdout + verify.stderr);
    assertMatch(
      verify.stderr.trim(),
      /^error SOURCE_CHANGED: The checkpoint for analytics_subscriptions .* verify compares a copy only with its own source/,
    );
    assertEquals(await Deno.readFile(`${a.dir}/state/checkpoint.sqlite`), before);
    // status names it too, without connecting.
    const status = await runMain(["status"], env);
    assertEquals(status.code, 0, status.stderr);
    assertMatch(
      status.stdout,
      /; NOT the configured source 127\.0\.0\.1:\d+\/t\w+ \(sync would refuse it/,
    );
    // The same server by another loopback name is the same source.
    const local = await runMain(["sync", "--once"], a.env({ POSTGRES_HOST: "localhost" }));
    assertEquals(local.code, 0, local.stderr);
    const same = await runMain(["status"], a.env({ POSTGRES_HOST: "localhost" }));
    assertEquals(same.stdout.includes("NOT the configured source"), false, same.stdout);
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

Deno.test("seed-changes refuses a demo-shaped table that is not marked as the demo table", async () => {
  await db.sql(`CREATE TABLE analytics.customers (LIKE analytics.subscriptions INCLUDING ALL);
    ALTER TABLE analytics.customers OWNER TO ${db.user};
    INSERT INTO analytics.customers (email, plan, lifetime_value) VALUES ('real@customer.com', 'pro', 100)`);
  const r = await runMain(["seed-changes"], db.env({ POSTGRES_TABLE: "customers" }));
  assertEquals(r.code, 2, r.stderr);
  assertMatch(
    r.stderr.trim(),
    /^error SEED_UNSUPPORTED: Refusing to write fake rows into analytics\.customers/,
  );
  assertEquals(
    await db.sql(
      "SELECT count(*) || ' ' || max(plan) || ' ' || max(lifetime_value) FROM analytics.customers",
    ),
    "1 pro 100.00",
  );
  // Several tables selected: seeding names the selection, not a table never chosen.
  const several = await runMain(["seed-changes"], db.env({ POSTGRES_TABLES: "analytics.*" }));
  assertEquals(several.code, 2, several.stderr);
  assertMatch(
    several.stderr.trim(),
    /^error SEED_UNSUPPORTED: Cannot seed changes: several tables are selected .*POSTGRES_TABLE=subscriptions\)$/,
  );
});

Deno.test("a role without SELECT on the table: exit 2 with the GRANT to run", async () => {
  await cluster.psql(`CREATE ROLE nosel_${db.name} LOGIN PASSWORD 'nosel-pass'`);
  const r = await runMain(
    ["sync", "--once"],
    db.env({
      POSTGRES_USER: `nosel_${db.name}`,
      POSTGRES_PASSWORD: "nosel-pass",
      STATE_DIR: `${db.dir}/state-nosel`,
      DUCKDB_PATH: `${db.dir}/nosel.duckdb`,
    }),
  );
  assertEquals(r.code, 2, r.stderr);
  assertMatch(
    r.stderr.trim(),
    /^error PG_PERMISSION_DENIED: .*permission denied .*GRANT SELECT ON analytics\.subscriptions TO nosel_/,
  );
});

Deno.test("a key column that can be NULL is refused (its rows could never be paged)", async () => {
  await db.sql(
    `CREATE TABLE analytics.nullkey (a int NOT NULL, b int, updated_at timestamptz NOT NULL DEFAULT now());
    ALTER TABLE analytics.nullkey OWNER TO ${db.user};`,
  );
  await expectFailure(
    {
      POSTGRES_TABLE: "nullkey",
      POSTGRES_PRIMARY_KEY: "a,b",
      DUCKDB_TABLE: "analytics_subscriptions",
    },
    2,
    /^error PRIMARY_KEY_MISSING: .*key column\(s\) b can be NULL/,
  );
});
