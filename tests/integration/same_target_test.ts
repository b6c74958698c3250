// One DuckDB table holds one source table: a checkpoint made from one table is
// never continued from another of the same server (a changed POSTGRES_SCHEMA,
// or two names that map to one <schema>_<table>), and the advice works.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

Deno.test("the same DuckDB table from another source table is refused (SOURCE_CHANGED), and reset with those settings copies it instead", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE SCHEMA staging;
      CREATE TABLE public.orders (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      CREATE TABLE staging.orders (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.orders SELECT g, 'public' FROM generate_series(1, 20) g;
      INSERT INTO staging.orders SELECT g, 'staging' FROM generate_series(11, 15) g;`);
    const base = { DUCKDB_TABLE: "orders", POSTGRES_TABLE: "orders", SYNC_LOOKBACK_SECONDS: "0" };
    let r = await runMain(["sync", "--once"], db.env({ ...base, POSTGRES_SCHEMA: "public" }));
    assertEquals(r.code, 0, r.stderr);
    const staging = db.env({ ...base, POSTGRES_SCHEMA: "staging" });
    r = await runMain(["sync", "--once"], staging);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /SOURCE_CHANGED: .*made from public\.orders, not staging\.orders/);
    const counts = async () =>
      await duckRows(
        staging.DUCKDB_PATH!,
        "SELECT v, count(*)::INTEGER AS n FROM orders GROUP BY v ORDER BY v",
      );
    assertEquals(await counts(), [{ v: "public", n: 20 }], "nothing mixed in");
    // The advice, applied.
    r = await runMain(["reset", "--yes"], staging);
    assertEquals(r.code, 0, r.stderr);
    r = await runMain(["sync", "--once"], staging);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await counts(), [{ v: "staging", n: 5 }]);
  }));

Deno.test("two selections whose names map to one DuckDB table never share it", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE SCHEMA x; CREATE SCHEMA x_y;
      CREATE TABLE x.y_z (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      CREATE TABLE x_y.z (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO x.y_z VALUES (1, 'x.y_z');
      INSERT INTO x_y.z VALUES (1, 'x_y.z');`);
    let r = await runMain(["sync", "--once"], db.env({ POSTGRES_TABLES: "x.y_z" }));
    assertEquals(r.code, 0, r.stderr);
    r = await runMain(["sync", "--once"], db.env({ POSTGRES_TABLES: "x_y.z" }));
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /SOURCE_CHANGED/);
    assertEquals(
      await duckRows(db.env().DUCKDB_PATH!, "SELECT v FROM x_y_z"),
      [{ v: "x.y_z" }],
    );
  }));
