// Schema drift, checked every cycle before loading: added columns (with a
// DEFAULT that fills existing rows without touching updated_at), widening type
// changes, a dropped column kept in DuckDB, each recorded with its DDL.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { DatabaseSync } from "node:sqlite";
import { duckRows, duckWrite, runMain, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

Deno.test("drift: added, widened and dropped columns reach DuckDB and the drift log", () =>
  withDb({}, async (db) => {
    const path = db.duckPath;
    await db.sql(
      "ALTER TABLE analytics.subscriptions ADD COLUMN seats integer, ADD COLUMN note varchar(20)",
    );
    await db.sql(
      "UPDATE analytics.subscriptions SET seats = id % 7, note = 'n' || id WHERE id <= 100",
    );
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    const maxBefore = await db.sql("SELECT max(updated_at)::text FROM analytics.subscriptions");

    await db.sql(`
      ALTER TABLE analytics.subscriptions ADD COLUMN region text NOT NULL DEFAULT 'eu-west';
      ALTER TABLE analytics.subscriptions ADD COLUMN score double precision DEFAULT random();
      ALTER TABLE analytics.subscriptions ALTER COLUMN seats TYPE bigint;
      ALTER TABLE analytics.subscriptions ALTER COLUMN note TYPE text;
      ALTER TABLE analytics.subscriptions ALTER COLUMN lifetime_value TYPE numeric(16,2);
      ALTER TABLE analytics.subscriptions DROP COLUMN plan;`);
    // The DEFAULT filled every row in Postgres without touching updated_at.
    assertEquals(
      await db.sql("SELECT max(updated_at)::text FROM analytics.subscriptions"),
      maxBefore,
    );
    await db.sql("UPDATE analytics.subscriptions SET seats = 9007199254740993 WHERE id = 1");

    const r = await runMain(["sync", "--once"], db.env());
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /drift analytics_subscriptions: column_added region/);
    assertMatch(r.stderr, /type_widened seats: INTEGER -> BIGINT/);
    assertMatch(r.stderr, /type_widened lifetime_value: DECIMAL\(12,2\) -> DECIMAL\(16,2\)/);
    assertMatch(r.stderr, /type_widened note: character varying\(20\) -> text/);
    assertMatch(r.stderr, /column_dropped plan/);

    const types = await duckRows(
      path,
      `SELECT column_name AS c, data_type AS t FROM information_schema.columns
       WHERE table_name = 'analytics_subscriptions' ORDER BY ordinal_position`,
    );
    assertEquals(Object.fromEntries(types.map((x) => [x.c, x.t])), {
      id: "BIGINT",
      email: "VARCHAR",
      plan: "VARCHAR",
      lifetime_value: "DECIMAL(16,2)",
      created_at: "TIMESTAMP WITH TIME ZONE",
      updated_at: "TIMESTAMP WITH TIME ZONE",
      deleted_at: "TIMESTAMP WITH TIME ZONE",
      seats: "BIGINT",
      note: "VARCHAR",
      region: "VARCHAR",
      score: "DOUBLE",
    });

    // Every row equals Postgres on the columns Postgres still has, including the
    // backfilled DEFAULTs (a constant and a volatile one).
    const pgText = await db.sql(
      `SELECT md5(string_agg(concat_ws('|', id, email, lifetime_value, seats, note, region, score), E'\\n' ORDER BY id)) FROM analytics.subscriptions`,
    );
    const duck = await duckRows(
      path,
      `SELECT md5(string_agg(concat_ws('|', id, email, lifetime_value, seats, note, region, score), chr(10) ORDER BY id)) AS h
       FROM analytics_subscriptions`,
    );
    assertEquals(duck[0]!.h, pgText);
    const region = await duckRows(
      path,
      "SELECT count(*)::VARCHAR AS n FROM analytics_subscriptions WHERE region = 'eu-west'",
    );
    assertEquals(region[0]!.n, "10000");

    // The dropped column stays (old values kept, new rows NULL) and is logged once.
    await runMain(["seed-changes", "--updates", "0", "--deletes", "0"], db.env()).then((x) =>
      assertEquals(x.code, 2, "seed needs the plan column, which was dropped")
    );
    await db.sql(
      "INSERT INTO analytics.subscriptions (email, lifetime_value) VALUES ('new@example.com', 5)",
    );
    const again = await runMain(["sync", "--once"], db.env());
    assertEquals(again.code, 0, again.stderr);
    assert(!/drift/.test(again.stderr), again.stderr);
    const plans = await duckRows(
      path,
      "SELECT count(plan)::VARCHAR AS kept, count(*) FILTER (WHERE plan IS NULL)::VARCHAR AS nulls FROM analytics_subscriptions",
    );
    assertEquals(plans[0], { kept: "10000", nulls: "1" });

    const sqlite = new DatabaseSync(`${db.dir}/state/checkpoint.sqlite`);
    const events = sqlite.prepare("SELECT kind, column_name, ddl, at FROM drift_events ORDER BY id")
      .all() as Record<string, unknown>[];
    sqlite.close();
    const byColumn = Object.fromEntries(events.map((e) => [e.column_name, e]));
    assertEquals(
      byColumn.region!.ddl,
      'ALTER TABLE "analytics_subscriptions" ADD COLUMN "region" VARCHAR',
    );
    assertEquals(
      byColumn.seats!.ddl,
      'ALTER TABLE "analytics_subscriptions" ALTER COLUMN "seats" TYPE BIGINT',
    );
    assertEquals(byColumn.plan!.ddl, null);
    assertEquals(byColumn.plan!.kind, "column_dropped");
    assertEquals(events.filter((e) => e.column_name === "plan").length, 1);
    for (const e of events) assertMatch(String(e.at), /^\d{4}-\d\d-\d\dT/);
  }));

Deno.test("drift: narrowing and unrelated type changes never lose copied values", () =>
  withDb({}, async (db) => {
    const path = db.duckPath;
    await db.sql(`ALTER TABLE analytics.subscriptions ADD COLUMN code bigint DEFAULT 7,
      ADD COLUMN label text DEFAULT '5', ADD COLUMN stamp date DEFAULT '2024-01-02'`);
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    await db.sql(`ALTER TABLE analytics.subscriptions ALTER COLUMN code TYPE integer;
      ALTER TABLE analytics.subscriptions ALTER COLUMN label DROP DEFAULT, ALTER COLUMN stamp DROP DEFAULT;
      ALTER TABLE analytics.subscriptions ALTER COLUMN label TYPE integer USING label::integer;
      ALTER TABLE analytics.subscriptions ALTER COLUMN stamp TYPE boolean USING true;`);
    await db.sql("UPDATE analytics.subscriptions SET code = 8, label = 6 WHERE id <= 3");
    const r = await runMain(["sync", "--once"], db.env());
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /type_changed code: bigint -> integer; DuckDB keeps BIGINT/);
    assertMatch(r.stderr, /type_changed label: text -> integer; DuckDB keeps VARCHAR/);
    assertMatch(
      r.stderr,
      /type_changed stamp: DATE -> VARCHAR .*ALTER COLUMN "stamp" TYPE VARCHAR/,
    );
    const rows = await duckRows(
      path,
      "SELECT code::VARCHAR AS code, label, stamp, typeof(code) AS t FROM analytics_subscriptions WHERE id IN (1, 4) ORDER BY id",
    );
    assertEquals(rows, [
      { code: "8", label: "6", stamp: "true", t: "BIGINT" },
      // Row 4 was not updated, but ALTER ... USING rewrote it in Postgres: re-copied.
      { code: "7", label: "5", stamp: "true", t: "BIGINT" },
    ]);
    const again = await runMain(["sync", "--once"], db.env());
    assert(!/drift/.test(again.stderr), `logged once: ${again.stderr}`);
  }));

Deno.test("drift: a column dropped and re-added under the same name, or a rename swap, is re-copied", () =>
  withDb({}, async (db) => {
    const path = db.duckPath;
    await db.sql(
      `ALTER TABLE analytics.subscriptions ADD COLUMN a int DEFAULT 1, ADD COLUMN b int DEFAULT 2,
      ADD COLUMN c int DEFAULT 3`,
    );
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    // Same step: drop and re-add `a` with another default (updated_at untouched).
    await db.sql(`ALTER TABLE analytics.subscriptions DROP COLUMN a;
      ALTER TABLE analytics.subscriptions ADD COLUMN a int DEFAULT 99;
      ALTER TABLE analytics.subscriptions RENAME COLUMN b TO tmp;
      ALTER TABLE analytics.subscriptions RENAME COLUMN c TO b;
      ALTER TABLE analytics.subscriptions RENAME COLUMN tmp TO c;`);
    const r = await runMain(["sync", "--once"], db.env());
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /column_replaced a/);
    const rows = await duckRows(
      path,
      "SELECT count(*) FILTER (WHERE a = 99 AND b = 3 AND c = 2)::VARCHAR AS ok FROM analytics_subscriptions",
    );
    assertEquals(rows[0]!.ok, "10000");
    // Across cycles: drop, sync, re-add with a default, sync.
    await db.sql("ALTER TABLE analytics.subscriptions DROP COLUMN c");
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    await db.sql("ALTER TABLE analytics.subscriptions ADD COLUMN c text DEFAULT 'back'");
    const again = await runMain(["sync", "--once"], db.env());
    assertEquals(again.code, 0, again.stderr);
    const back = await duckRows(
      path,
      "SELECT count(*) FILTER (WHERE c = 'back')::VARCHAR AS ok, typeof(any_value(c)) AS t FROM analytics_subscriptions",
    );
    assertEquals(back[0], { ok: "10000", t: "VARCHAR" });
  }));

/** Widens public.orders' key (int -> bigint) after a first sync; `legacy` gives the DuckDB table a PRIMARY KEY first. */
async function widenKey(db: TestDb, legacy: boolean): Promise<string> {
  const path = db.duckPath;
  await db.sql(`CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(10,2),
      updated_at timestamptz NOT NULL DEFAULT now());
    ALTER TABLE public.orders OWNER TO ${db.user};
    INSERT INTO public.orders (id, amount) SELECT g, g FROM generate_series(1, 100) g;`);
  const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "orders" };
  assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
  // A file made by an earlier version: the table has a PRIMARY KEY and no recorded key.
  if (legacy) {
    await duckWrite(
      path,
      "ALTER TABLE public_orders ADD PRIMARY KEY (id); DELETE FROM _sync.keys",
    );
  }
  await db.sql(`ALTER TABLE public.orders ALTER COLUMN id TYPE bigint;
    INSERT INTO public.orders (id, amount) VALUES (9007199254740993, 1.5);`);
  const r = await runMain(["sync", "--once"], db.env(env));
  assertEquals(r.code, 0, r.stderr);
  const rows = await duckRows(
    path,
    `SELECT count(*)::VARCHAR AS n, max(id)::VARCHAR AS max_id, typeof(max(id)) AS t,
            (SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'public_orders' AND constraint_type = 'PRIMARY KEY')::VARCHAR AS pk
     FROM public_orders`,
  );
  assertEquals(rows[0], {
    n: "101",
    max_id: "9007199254740993",
    t: "BIGINT",
    pk: legacy ? "1" : "0",
  });
  // Upserts keep working on the widened table, and no key is held twice.
  await db.sql("UPDATE public.orders SET amount = 7, updated_at = now() WHERE id = 1");
  assertEquals((await runMain(["sync", "--once"], db.env(env))).code, 0);
  const one = await duckRows(
    path,
    "SELECT amount::VARCHAR AS a, (SELECT count(*) FROM public_orders)::VARCHAR AS n FROM public_orders WHERE id = 1",
  );
  assertEquals(one[0], { a: "7.00", n: "101" });
  return r.stderr;
}

Deno.test("drift: widening a key column (int -> bigint) alters it in place and goes on", () =>
  withDb({ demo: false }, async (db) => {
    const stderr = await widenKey(db, false);
    assertMatch(stderr, /type_widened id: INTEGER -> BIGINT .*ALTER TABLE "public_orders"/);
  }));

Deno.test("drift: widening the PRIMARY KEY column of a table made by an earlier version rebuilds it and goes on", () =>
  withDb({ demo: false }, async (db) => {
    const stderr = await widenKey(db, true);
    assertMatch(
      stderr,
      /type_widened id: INTEGER -> BIGINT .*CREATE TABLE "public_orders__rebuild"/,
    );
  }));
