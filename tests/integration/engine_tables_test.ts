// The engine's per-table paths in-process, against a real PostgreSQL and a real
// DuckDB file: one table failing while the others sync (and retried next
// cycle), a table without a cursor refreshed whole and later switched to
// incremental, and schema drift applied and recorded, with the checkpoint store
// read after each step.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { openEngine, syncOnce } from "../support/sync_once.ts";
import type { EngineEvent } from "../../src/core/events.ts";
import type { TableCheckpoint } from "../../src/io/state/checkpoint.ts";

/** Two small tables with a cursor (rows settled long ago) and one without. */
const SHOP = `
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (id int PRIMARY KEY, total numeric(10,2), qty int,
    updated_at timestamptz NOT NULL);
  INSERT INTO shop.orders SELECT g, g * 1.5, g % 5, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
    FROM generate_series(1, 200) g;
  CREATE TABLE shop.users (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL);
  INSERT INTO shop.users SELECT g, 'user ' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
    FROM generate_series(1, 50) g;
  CREATE TABLE shop.plans (code text PRIMARY KEY, price int);
  INSERT INTO shop.plans VALUES ('free', 0), ('pro', 10), ('team', 30);`;

const shop = (fn: (db: TestDb) => Promise<void>) =>
  withDb({
    demo: false,
    setup: SHOP,
    env: { POSTGRES_TABLES: "shop.*", SYNC_LOOKBACK_SECONDS: "0", SYNC_CONCURRENCY: "2" },
  }, fn);

const byTable = (checkpoints: TableCheckpoint[]) =>
  Object.fromEntries(checkpoints.map((c) => [c.table, `${c.mode} ${c.rowsCopied}`]));

const of = (events: EngineEvent[], table: string) =>
  events.filter((e) => "table" in e && e.table === table).map((e) => e.type);

async function count(db: TestDb, table: string): Promise<number> {
  const rows = await duckRows(db.duckPath, `SELECT count(*)::INTEGER AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

Deno.test("engine: a failing table is reported in summary.failures, the others sync, and it is retried next cycle", () =>
  shop(async (db) => {
    // Created by the superuser: the sync role may not read it.
    await db.sql(`CREATE TABLE shop.secrets (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
      INSERT INTO shop.secrets VALUES (1, '2024-01-01'), (2, '2024-01-02');`);
    const first = await syncOnce(db);
    assertEquals(first.summary.tables, 4);
    assertEquals(first.summary.failures.map((f) => `${f.table} ${f.error.code}`), [
      "shop_secrets PG_PERMISSION_DENIED",
    ]);
    assertEquals(first.summary.rows, 200 + 50 + 3);
    const failed = first.events.filter((e) => e.type === "table_failed");
    assertEquals(failed.length, 1);
    assert(failed[0]!.type === "table_failed");
    assertMatch(failed[0]!.message, /permission denied for table secrets/);
    assert(!failed[0]!.message.includes(db.password));
    const summary = first.events.at(-1)!;
    assert(summary.type === "cycle_summary");
    assertEquals([summary.tables, summary.failed, summary.upToDate], [4, 1, 0]);
    assertEquals(byTable(first.checkpoints), {
      shop_orders: "incremental 200",
      shop_users: "incremental 50",
      shop_plans: "full_refresh 3",
    });
    assertEquals([await count(db, "shop_orders"), await count(db, "shop_users")], [200, 50]);

    await db.sql(`GRANT SELECT ON shop.secrets TO ${db.user}`);
    const second = await syncOnce(db);
    assertEquals(second.summary.failures, []);
    assertEquals(byTable(second.checkpoints).shop_secrets, "incremental 2");
    // The others were up to date; the plans are copied whole every cycle.
    assertEquals(of(second.events, "shop_orders"), ["cycle_started", "cycle_finished"]);
    assertEquals(of(second.events, "shop_users"), ["cycle_started", "cycle_finished"]);
    assertEquals(await count(db, "shop_secrets"), 2);
  }));

Deno.test("engine: every table failing fails the cycle, and nothing is checkpointed", () =>
  withDb({
    demo: false,
    env: { POSTGRES_TABLES: "locked.*", SYNC_LOOKBACK_SECONDS: "0" },
  }, async (db) => {
    await db.sql(`CREATE SCHEMA locked; GRANT USAGE ON SCHEMA locked TO ${db.user};
      CREATE TABLE locked.a (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
      CREATE TABLE locked.b (id int PRIMARY KEY, updated_at timestamptz NOT NULL);`);
    const run = await openEngine(db);
    try {
      let failure: unknown = null;
      await run.cycle().catch((error) => failure = error);
      assertEquals((failure as { code?: string } | null)?.code, "PG_PERMISSION_DENIED");
      assertEquals(run.events.filter((e) => e.type === "table_failed").length, 2);
      assertEquals(run.events.filter((e) => e.type === "cycle_summary"), []);
      assertEquals(run.engine.store.list(), []);
    } finally {
      await run.close();
    }
  }));

Deno.test("engine: a table without the cursor is refreshed whole each cycle, then switches to incremental", () =>
  shop(async (db) => {
    const env = { POSTGRES_TABLES: "shop.plans" };
    const first = await syncOnce(db, env);
    assertEquals(first.summary.mode, "full_refresh");
    assertEquals(of(first.events, "shop_plans"), [
      "cycle_started",
      "batch_started",
      "batch_finished",
      "checkpoint_advanced",
      "cycle_finished",
      "cycle_summary",
    ]);
    const notices = first.events.flatMap((e) => e.type === "notice" ? [e.message] : []);
    assertEquals(notices, [
      'shop.plans has no "updated_at" column: copied whole every cycle (full refresh)',
    ]);
    assertEquals(byTable(first.checkpoints), { shop_plans: "full_refresh 3" });

    // A row deleted outright and one changed in place: both seen by the next refresh.
    await db.sql(`DELETE FROM shop.plans WHERE code = 'free';
      UPDATE shop.plans SET price = 12 WHERE code = 'pro';`);
    const second = await syncOnce(db, env);
    assertEquals([second.summary.rows, second.summary.batches], [2, 1]);
    assertEquals(byTable(second.checkpoints), { shop_plans: "full_refresh 2" });
    assertEquals(
      await duckRows(db.duckPath, "SELECT code, price FROM shop_plans ORDER BY code"),
      [{ code: "pro", price: 12 }, { code: "team", price: 30 }],
    );

    // With a cursor column it syncs incrementally, from a fresh first copy.
    await db.sql(
      "ALTER TABLE shop.plans ADD COLUMN updated_at timestamptz NOT NULL DEFAULT '2024-01-01'",
    );
    const third = await syncOnce(db, env);
    const switched = third.events.flatMap((e) => e.type === "notice" ? [e.message] : []);
    assertMatch(switched.join("\n"), /shop_plans now syncs incrementally .*copying it again/);
    const started = third.events.find((e) => e.type === "cycle_started");
    assertEquals(started?.type === "cycle_started" && started.mode, "bootstrap");
    assertEquals(byTable(third.checkpoints), { shop_plans: "incremental 2" });
    const key = await duckRows(
      db.duckPath,
      "SELECT key_columns::VARCHAR AS k FROM _sync.keys WHERE target = 'shop_plans'",
    );
    assertEquals(key, [{ k: "[code]" }]);
    const idle = await syncOnce(db, env);
    assertEquals(idle.summary.idle, true);
  }));

Deno.test("engine: drift is applied before the cycle's batches and recorded in the checkpoint store", () =>
  shop(async (db) => {
    // One engine across the cycles, as the loop runs it.
    const run = await openEngine(db, { env: { POSTGRES_TABLES: "shop.orders" } });
    try {
      await run.cycle();
      await db.sql(`ALTER TABLE shop.orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
        ALTER TABLE shop.orders ALTER COLUMN qty TYPE bigint;
        ALTER TABLE shop.orders ALTER COLUMN total TYPE numeric(14,2);
        UPDATE shop.orders SET qty = 9007199254740993, updated_at = now() - interval '1 minute'
          WHERE id = 1;`);
      const changed = await run.cycle();
      const drift = changed.events.flatMap((e) =>
        e.type === "drift_applied" ? [`${e.drift.kind} ${e.drift.column}`] : []
      );
      assertEquals(drift.sort(), ["column_added region", "type_widened qty", "type_widened total"]);
      const firstDrift = changed.events.findIndex((e) => e.type === "drift_applied");
      const firstBatch = changed.events.findIndex((e) => e.type === "batch_started");
      assert(firstBatch === -1 || firstDrift < firstBatch, "the schema changes before rows load");
      const store = run.engine.store;
      assertEquals(
        store.recentDrift(10).map((d) => `${d.table} ${d.kind} ${d.column} ${d.ddl}`).sort(),
        [
          'shop_orders column_added region ALTER TABLE "shop_orders" ADD COLUMN "region" VARCHAR',
          'shop_orders type_widened qty ALTER TABLE "shop_orders" ALTER COLUMN "qty" TYPE BIGINT',
          'shop_orders type_widened total ALTER TABLE "shop_orders" ALTER COLUMN "total" TYPE DECIMAL(14,2)',
        ],
      );
      assertEquals(store.schema("shop_orders")?.pgTypes.qty, "bigint");
      assertEquals(store.get("shop_orders")?.key, ["1"], "the checkpoint moved to the changed row");
      const columns = await duckRows(
        db.duckPath,
        `SELECT column_name AS c, data_type AS t FROM information_schema.columns
         WHERE table_name = 'shop_orders' ORDER BY ordinal_position`,
      );
      assertEquals(Object.fromEntries(columns.map((x) => [x.c, x.t])), {
        id: "INTEGER",
        total: "DECIMAL(14,2)",
        qty: "BIGINT",
        updated_at: "TIMESTAMP WITH TIME ZONE",
        region: "VARCHAR",
      });
      const rows = await duckRows(
        db.duckPath,
        `SELECT count(*) FILTER (WHERE region = 'eu')::INTEGER AS eu,
                (SELECT qty::VARCHAR FROM shop_orders WHERE id = 1) AS big FROM shop_orders`,
      );
      assertEquals(rows, [{ eu: 200, big: "9007199254740993" }]);

      // A column dropped in Postgres stays in DuckDB, recorded once.
      await db.sql("ALTER TABLE shop.orders DROP COLUMN region");
      const dropped = await run.cycle();
      assertEquals(
        dropped.events.flatMap((e) => e.type === "drift_applied" ? [e.drift.kind] : []),
        ["column_dropped"],
      );
      const idle = await run.cycle();
      assertEquals(idle.events.filter((e) => e.type === "drift_applied"), []);
      assertEquals(idle.summary.idle, true);
      assertEquals(store.recentDrift(10).length, 4);
    } finally {
      await run.close();
    }
  }));
