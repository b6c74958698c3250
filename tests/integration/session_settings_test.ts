// A DBA's settings on the sync role (ALTER ROLE ... SET) never change what
// lands in DuckDB: bytea_output, DateStyle, IntervalStyle, TimeZone and
// extra_float_digits are pinned on every connection, and the role's
// statement, lock and idle-in-transaction timeouts are lifted, in both
// methods (the cursor method's first copy and batches; CDC's first copy and
// streamed changes). Compared value by value with Postgres read under settings
// of the test's own.

import { assertEquals } from "../support/assert.ts";
import { duckRows, runMain, settle, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { dropSlots, syncCdc } from "../support/cdc.ts";
import pg from "pg";

const ROWS = 60_000;

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.t (id int PRIMARY KEY, b bytea, ts timestamptz, tsn timestamp, d date,
    iv interval, f float8, r real, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  INSERT INTO app.t (id, b, ts, tsn, d, iv, f, r)
    SELECT g, decode(md5(g::text), 'hex') || '\\x00ff5c27'::bytea,
      '2024-03-10 01:59:59.123456+00'::timestamptz + g * interval '1.000001 s',
      '1999-12-31 23:59:59.5'::timestamp + g * interval '1.000003 s',
      date '2024-02-29' + g % 1000,
      (g % 30 || ' mons ' || -(g % 7) || ' days ' || g * 1.000001 || ' seconds')::interval,
      g / 3.0::float8, (g / 7.0)::real
    FROM generate_series(1, ${ROWS}) g;`;

/** What a DBA might set for the role; every one of them changed text or ended a session. */
const ROLE_SETTINGS = [
  "bytea_output = 'escape'",
  "statement_timeout = '100ms'",
  "idle_in_transaction_session_timeout = '1s'",
  "lock_timeout = '50ms'",
  "DateStyle = 'SQL, DMY'",
  "IntervalStyle = 'sql_standard'",
  "TimeZone = 'America/St_Johns'",
  "extra_float_digits = 0",
];

async function pinRole(db: TestDb): Promise<void> {
  for (const setting of ROLE_SETTINGS) {
    await db.cluster.psql(`ALTER ROLE ${db.user} IN DATABASE ${db.name} SET ${setting}`);
  }
}

const CHANGES = `
  UPDATE app.t SET b = '\\x00cafe'::bytea, ts = '2020-02-29 23:59:59.999999+00',
    tsn = '2020-02-29 12:00:00.000001', d = '2000-01-01', iv = '-1 year -2 mons +3 days -04:05:06.000007',
    f = 0.1, r = 0.3, updated_at = clock_timestamp() WHERE id % 1000 = 1;
  INSERT INTO app.t (id, b, ts, tsn, d, iv, f, r) VALUES
    (${
  ROWS + 1
}, 'cafe'::bytea, '1970-01-01 00:00:00.000001+00', '1900-01-01 00:00:00.5', '1900-01-01',
     '1 day 00:00:00.000001', 1.7976931348623157e308, 1.4e-45),
    (${ROWS + 2}, '\\x'::bytea, '2038-01-19 03:14:07.999999+00', '2262-04-11 23:47:16.854775',
     '9999-12-31', '178000000 years', 5e-324, 3.4028235e38);
  DELETE FROM app.t WHERE id % 1000 = 500;`;

/** Postgres' rows as exact text, read under this test's own session settings. */
async function pgLines(db: TestDb): Promise<string[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(
      "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET statement_timeout = 0",
    );
    const result = await client.query(`SELECT concat_ws('|', id, encode(b, 'hex'),
        (extract(epoch FROM ts) * 1000000)::bigint, (extract(epoch FROM tsn) * 1000000)::bigint,
        d::text, (extract(year FROM iv) * 12 + extract(month FROM iv))::bigint,
        extract(day FROM iv)::bigint, (extract(hour FROM iv) * 3600000000 +
          extract(minute FROM iv) * 60000000 + extract(microseconds FROM iv))::bigint) AS line,
        f::text AS f, r::text AS r
      FROM app.t ORDER BY id`);
    return result.rows.map((row: { line: string; f: string; r: string }) =>
      `${row.line}|${Number(row.f)}|${Math.fround(Number(row.r))}`
    );
  } finally {
    await client.end();
  }
}

async function duckLines(db: TestDb): Promise<string[]> {
  const rows = await duckRows(
    db.duckPath,
    `SELECT concat_ws('|', id, lower(hex(b)), epoch_us(ts), epoch_us(tsn), d::VARCHAR,
        datepart('year', iv) * 12 + datepart('month', iv), datepart('day', iv),
        datepart('hour', iv) * 3600000000 + datepart('minute', iv) * 60000000 +
          datepart('microseconds', iv)) AS line, f::VARCHAR AS f, r::VARCHAR AS r
      FROM app_t ORDER BY id`,
  );
  return rows.map((row) => `${row.line}|${Number(row.f)}|${Math.fround(Number(row.r))}`);
}

async function assertSame(db: TestDb, when: string): Promise<void> {
  const [pgRows, duck] = [await pgLines(db), await duckLines(db)];
  assertEquals(duck.length, pgRows.length, `${when}: row count`);
  const differing = duck.map((line, i) => [line, pgRows[i]]).filter(([a, b]) => a !== b);
  assertEquals(differing.slice(0, 5), [], `${when}: DuckDB (left) differs from Postgres`);
}

Deno.test("the role's settings change nothing: cursor method, first copy and a batch", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    await pinRole(db);
    const env = db.env({ POSTGRES_TABLES: "app.t", RECONCILE_DELETES_EVERY: "1" });
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    await assertSame(db, "first copy");
    await db.sql(CHANGES);
    await settle();
    const second = await runMain(["sync", "--once"], env);
    assertEquals(second.code, 0, second.stderr);
    await assertSame(db, "after a batch");
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  }));

Deno.test("the role's settings change nothing: CDC, first copy and streamed changes", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    await db.cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    await pinRole(db);
    try {
      const env = { POSTGRES_TABLES: "app.t" };
      const first = await syncCdc(db, env);
      assertEquals(first.code, 0, first.stderr);
      await assertSame(db, "first copy");
      await db.sql(CHANGES);
      const second = await syncCdc(db, env);
      assertEquals(second.code, 0, second.stderr);
      await assertSame(db, "after streamed changes");
      const verify = await runMain(["verify"], db.env({ SYNC_METHOD: "cdc", ...env }));
      assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await dropSlots(db);
    }
  }));
