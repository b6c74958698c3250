// Late commits: a transaction that began before a cycle and commits after it
// writes an updated_at older than rows the cycle already saw. The safe horizon
// must keep the checkpoint behind it, for a privileged role (exact, from
// pg_stat_activity) and for a plain role (the SYNC_LOOKBACK_SECONDS fallback).

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import {
  createTestDb,
  duckDemoRows,
  duckRows,
  pgDemoRows,
  runMain,
  sharedCluster,
  type TestDb,
} from "../support/fixture.ts";
import pg from "pg";

const cluster = await sharedCluster();

/** A second role that writes to the demo table (its sessions are invisible to the sync role). */
async function writerFor(db: TestDb): Promise<pg.Client> {
  const role = `w_${db.name}`;
  await cluster.psql(`CREATE ROLE ${role} LOGIN PASSWORD 'writer'`);
  await db.sql(`GRANT USAGE ON SCHEMA analytics TO ${role};
    GRANT SELECT, INSERT, UPDATE ON analytics.subscriptions TO ${role};
    GRANT USAGE ON SEQUENCE analytics.subscriptions_id_seq TO ${role};`);
  const client = new pg.Client({
    connectionString: `postgres://${role}:writer@127.0.0.1:${cluster.port}/${db.name}`,
  });
  await client.connect();
  return client;
}

/**
 * Bootstraps, opens a writer transaction that updates row 1, commits a newer
 * change to row 2 elsewhere, runs a cycle, commits the writer, runs a cycle.
 * Returns row 1's plan in DuckDB and the second cycle's stderr.
 */
async function lateCommitScenario(db: TestDb, env: Record<string, string>) {
  const notices: string[] = [];
  assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
  const writer = await writerFor(db);
  try {
    await writer.query("BEGIN");
    await writer.query("UPDATE analytics.subscriptions SET plan = 'late-commit' WHERE id = 1");
    await new Promise((r) => setTimeout(r, 50));
    await db.sql("UPDATE analytics.subscriptions SET plan = 'early-commit' WHERE id = 2");
    // Past the horizon's 200 ms margin: only the horizon itself (not the
    // margin, nor a slow start of the sync) may hold the checkpoint back.
    await new Promise((r) => setTimeout(r, 500));
    const during = await runMain(["sync", "--once"], db.env(env));
    assertEquals(during.code, 0, during.stderr);
    notices.push(during.stderr);
    const seen = await duckRows(
      `${db.dir}/lake/warehouse.duckdb`,
      "SELECT plan FROM analytics_subscriptions WHERE id = 2",
    );
    assertEquals(seen[0]!.plan, "early-commit", "the committed newer row arrived");
    await writer.query("COMMIT");
  } finally {
    await writer.end();
  }
  const after = await runMain(["sync", "--once"], db.env(env));
  assertEquals(after.code, 0, after.stderr);
  const late = await duckRows(
    `${db.dir}/lake/warehouse.duckdb`,
    "SELECT plan FROM analytics_subscriptions WHERE id = 1",
  );
  return { plan: late[0]!.plan, stderr: notices.join("") + after.stderr };
}

Deno.test("a late commit arrives for a plain role via the lookback horizon", async () => {
  const db = await createTestDb(cluster);
  try {
    const out = await lateCommitScenario(db, {});
    assertEquals(out.plan, "late-commit");
    assertMatch(out.stderr, /grant pg_read_all_stats .* SYNC_LOOKBACK_SECONDS=300s/);
    assertEquals(await duckDemoRows(`${db.dir}/lake/warehouse.duckdb`), await pgDemoRows(db));
  } finally {
    await db.cleanup();
  }
});

Deno.test("with pg_read_all_stats the exact horizon catches a late commit even with no lookback", async () => {
  const db = await createTestDb(cluster);
  try {
    await cluster.psql(`GRANT pg_read_all_stats TO ${db.user}`);
    const out = await lateCommitScenario(db, { SYNC_LOOKBACK_SECONDS: "0" });
    assertEquals(out.plan, "late-commit");
    assertNotMatch(out.stderr, /pg_read_all_stats/);
    assertEquals(await duckDemoRows(`${db.dir}/lake/warehouse.duckdb`), await pgDemoRows(db));
  } finally {
    await db.cleanup();
  }
});

Deno.test("control: a plain role with SYNC_LOOKBACK_SECONDS=0 misses the late commit (why the horizon exists)", async () => {
  const db = await createTestDb(cluster);
  try {
    const out = await lateCommitScenario(db, { SYNC_LOOKBACK_SECONDS: "0" });
    assert(out.plan !== "late-commit", "without a horizon the late row is lost");
  } finally {
    await db.cleanup();
  }
});

Deno.test("a timestamp (no time zone) cursor in a non-UTC database still catches a late commit", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await cluster.psql(`ALTER DATABASE ${db.name} SET timezone = 'America/New_York'`);
    await cluster.psql(`GRANT pg_read_all_stats TO ${db.user}`);
    await db.sql(
      `CREATE TABLE public.events (id int PRIMARY KEY, v text, updated_at timestamp NOT NULL DEFAULT now());
      ALTER TABLE public.events OWNER TO ${db.user};
      INSERT INTO public.events (id, v) VALUES (101, 'first');`,
    );
    const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "events", SYNC_LOOKBACK_SECONDS: "0" };
    assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
    const writer = await db.client();
    await writer.query("SET timezone = 'America/New_York'");
    try {
      await writer.query("BEGIN");
      await writer.query("INSERT INTO public.events (id, v) VALUES (102, 'late')");
      await new Promise((r) => setTimeout(r, 50));
      await db.sql("INSERT INTO public.events (id, v) VALUES (103, 'early')");
      assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
      await writer.query("COMMIT");
    } finally {
      await writer.end();
    }
    assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
    const rows = await duckRows(
      `${db.dir}/lake/warehouse.duckdb`,
      "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) AS ids FROM public_events",
    );
    assertEquals(rows[0]!.ids, "101,102,103");
  } finally {
    await db.cleanup();
  }
});

Deno.test("a prepared (two-phase) transaction committed later still arrives", async () => {
  const db = await createTestDb(cluster);
  try {
    const enabled = await cluster.psql("SHOW max_prepared_transactions");
    if (enabled === "0") {
      // Needs a server restart; the shared test cluster is started with it (see pg_cluster.ts).
      throw new Error("max_prepared_transactions is 0 on the test cluster");
    }
    await cluster.psql(`GRANT pg_read_all_stats TO ${db.user}`);
    const env = { SYNC_LOOKBACK_SECONDS: "60" };
    assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
    await db.sql(
      `BEGIN; UPDATE analytics.subscriptions SET plan = 'two-phase' WHERE id = 1; PREPARE TRANSACTION 'p_${db.name}';`,
    );
    await new Promise((r) => setTimeout(r, 50));
    await db.sql("UPDATE analytics.subscriptions SET plan = 'after' WHERE id = 2");
    assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
    await db.sql(`COMMIT PREPARED 'p_${db.name}'`);
    assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
    const rows = await duckRows(
      `${db.dir}/lake/warehouse.duckdb`,
      "SELECT plan FROM analytics_subscriptions WHERE id IN (1, 2) ORDER BY id",
    );
    assertEquals(rows, [{ plan: "two-phase" }, { plan: "after" }]);
  } finally {
    await db.cleanup();
  }
});

/** Opens a transaction whose start has a fractional second in [0.21, 0.30). */
async function openAtFraction(db: TestDb): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  for (;;) {
    await c.query("BEGIN");
    const r = await c.query("SELECT extract(microseconds FROM now())::int % 1000000 AS us");
    const us = Number(r.rows[0].us);
    if (us >= 210_000 && us < 300_000) return c;
    await c.query("ROLLBACK");
    await new Promise((r) => setTimeout(r, 7));
  }
}

// A timestamptz(0) cursor (as Laravel's timestamps() create) rounds now() to
// the second, so an open transaction's cursor can fall up to 0.5 s before its
// start: before a horizon of "start - 200 ms". The horizon must allow for it.
for (const phase of ["bootstrap", "incremental"]) {
  Deno.test(`a cursor of precision 0: a late commit rounded below its start is copied (${phase})`, async () => {
    const db = await createTestDb(cluster, { demo: false });
    try {
      await db.sql(`
        CREATE SCHEMA s AUTHORIZATION ${db.user};
        SET ROLE ${db.user};
        CREATE TABLE s.items (id bigint PRIMARY KEY, n int NOT NULL,
          updated_at timestamptz(0) NOT NULL DEFAULT now());
        CREATE INDEX ON s.items (updated_at, id);
        CREATE FUNCTION s.touch() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
        CREATE TRIGGER touch BEFORE UPDATE ON s.items FOR EACH ROW EXECUTE FUNCTION s.touch();
        INSERT INTO s.items SELECT g, 0, now() - interval '1 day' + g * interval '1 s'
          FROM generate_series(1, 2000) g;`);
      const env = db.env({ POSTGRES_SCHEMA: "s", POSTGRES_TABLE: "items", BATCH_SIZE: "500" });
      if (phase === "incremental") {
        assertEquals((await runMain(["sync", "--once"], env)).code, 0);
      }
      const other = new pg.Client({ connectionString: db.url });
      await other.connect();
      // The oldest open transaction; its cursor rounds down below its start - 200 ms.
      const late = await openAtFraction(db);
      // Started within the same rounded second, committed now, sorted after the late row.
      await other.query("UPDATE s.items SET n = 222 WHERE id = 20");
      await late.query("UPDATE s.items SET n = 111 WHERE id = 10");
      await other.end();
      const first = await runMain(["sync", "--once"], env);
      assertEquals(first.code, 0, first.stderr);
      await late.query("COMMIT");
      await late.end();
      const second = await runMain(["sync", "--once"], env);
      assertEquals(second.code, 0, second.stderr);
      const rows = await duckRows(
        `${db.dir}/lake/warehouse.duckdb`,
        "SELECT id::VARCHAR AS id, n::VARCHAR AS n FROM s_items WHERE id IN (10, 20) ORDER BY id",
      );
      assertEquals(rows, [{ id: "10", n: "111" }, { id: "20", n: "222" }]);
      const verify = await runMain(["verify"], env);
      assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await db.cleanup();
    }
  });
}
