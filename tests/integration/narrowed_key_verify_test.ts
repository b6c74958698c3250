// verify and --repair on a table whose integer key column Postgres narrowed
// (DuckDB keeps the wider type, as the drift rules say): compared as it is,
// never "sync first" advice that a sync cannot satisfy. Found by the
// generative test (cursor method: a table dropped and created again with a
// narrower key type, then verify --repair).

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

Deno.test("verify --repair on a narrowed integer key: rows deleted in Postgres are removed, and verify then says equal", () =>
  withDb({
    demo: false,
    setup: `CREATE TABLE t (v6 bigint NOT NULL, ab bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (v6, ab));
      INSERT INTO t VALUES (7, 1000003), (8, 1000004);`,
  }, async (db) => {
    const env = db.env({ POSTGRES_TABLES: "public.t", SYNC_LOOKBACK_SECONDS: "0" });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await db.sql(`SET ROLE ${db.user}; DROP TABLE t;
      CREATE TABLE t (v6 integer NOT NULL, ab bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (v6, ab));
      INSERT INTO t (v6, ab) VALUES (8, 1000004), (49, 7000021);`);
    const repair = await runMain(["verify", "--repair"], env);
    assertEquals(repair.code, 0, repair.stdout + repair.stderr);
    assertMatch(repair.stdout, /repaired/);
    const sync = await runMain(["sync", "--once"], env);
    assertEquals(sync.code, 0, sync.stderr);
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    assertMatch(verify.stdout, /public_t: equal, 2 rows/);
    const rows = await duckRows(db.duckPath, `SELECT v6::VARCHAR AS v FROM public_t ORDER BY v6`);
    assertEquals(rows.map((r) => r.v), ["8", "49"]);
  }));
