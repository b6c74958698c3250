// SYNC_METHOD=cdc refusals that leave nothing behind, against a real
// PostgreSQL and DuckDB file: a DEFERRABLE primary key is refused before the
// table is published (an application's UPDATE would fail otherwise), with a
// fix that works; a first run refused for another STATE_DIR's DuckDB table
// creates no slot and no publication; its `reset --yes` drops nothing of
// the other STATE_DIR's.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { runMain } from "../support/fixture.ts";
import { assertSameRows, cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";

Deno.test("cdc: a DEFERRABLE primary key is refused before anything is published; the fix as printed works and the application's UPDATEs keep working", () =>
  withCdcDb(
    `CREATE TABLE dk (id int PRIMARY KEY DEFERRABLE, v text); INSERT INTO dk VALUES (1, 'a'), (2, 'b');`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.dk" };
      const refused = await syncCdc(db, env);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(refused.stderr, /REPLICA_IDENTITY_MISSING.*primary key is DEFERRABLE/);
      assertEquals(await db.sql(`SELECT count(*) FROM pg_publication`), "0");
      // The application's own UPDATE still works.
      await db.sql(`UPDATE dk SET v = 'app' WHERE id = 1`);
      const fix = /\(run (ALTER TABLE .+? REPLICA IDENTITY FULL);/.exec(refused.stderr)?.[1];
      assert(fix, refused.stderr);
      await db.sql(`SET ROLE ${db.user}; ${fix}`);
      const run = await syncCdc(db, env);
      assertEquals(run.code, 0, run.stderr);
      await db.sql(`UPDATE dk SET v = 'streamed' WHERE id = 2; INSERT INTO dk VALUES (3, 'c');`);
      assertEquals((await syncCdc(db, env)).code, 0);
      const columns = { pg: `concat_ws('|', id, v)`, duck: `concat_ws('|', id, v)` };
      await assertSameRows(db, "dk", "public_dk", columns);
    },
  ));

Deno.test("cdc: a first run refused for another STATE_DIR's DuckDB table creates no slot or publication; its reset drops nothing of the other's", () =>
  withCdcDb(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.t" };
      assertEquals((await syncCdc(db, env)).code, 0);
      const count = async () =>
        `${await db.sql(
          `SELECT count(*) FROM pg_replication_slots WHERE database = current_database()`,
        )}/${await db.sql(`SELECT count(*) FROM pg_publication`)}`;
      assertEquals(await count(), "1/1");
      // Another STATE_DIR on the same DuckDB file.
      const other = { ...env, STATE_DIR: `${db.dir}/other-state` };
      const refused = await syncCdc(db, other);
      assert(refused.code !== 0, refused.stderr);
      assertMatch(refused.stderr, /TARGET_NOT_OWNED/);
      assertEquals(await count(), "1/1", "nothing created by the refused run");
      // Its reset refuses to drop the other STATE_DIR's table, and drops nothing.
      const reset = await runMain(["reset", "--yes"], cdcEnv(db, other));
      assertEquals(reset.code, 2, reset.stderr);
      assertMatch(reset.stderr, /Nothing reset/);
      assertEquals(await count(), "1/1", "the first STATE_DIR's slot and publication stay");
      // The first STATE_DIR goes on.
      await db.sql(`INSERT INTO t VALUES (2, 'b')`);
      assertEquals((await syncCdc(db, env)).code, 0);
      const columns = { pg: `concat_ws('|', id, v)`, duck: `concat_ws('|', id, v)` };
      await assertSameRows(db, "t", "public_t", columns);
    },
  ));

Deno.test("cdc: a configured key that can be NULL is refused before anything is published, naming the NOT NULL that fixes it", () =>
  withCdcDb(
    `CREATE TABLE logs (at timestamptz, msg text); ALTER TABLE logs REPLICA IDENTITY FULL;
     INSERT INTO logs VALUES (now(), 'a'), (now(), 'b');`,
    async (db) => {
      const syncFile = `${db.dir}/sync.json`;
      await Deno.writeTextFile(
        syncFile,
        JSON.stringify({ tables: { "public.logs": { key: ["msg"] } } }),
      );
      const env = { POSTGRES_TABLES: "public.logs", SYNC_CONFIG: syncFile };
      const refused = await syncCdc(db, env);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(refused.stderr, /PRIMARY_KEY_MISSING.*key column\(s\) msg can be NULL/);
      assertEquals(await db.sql(`SELECT count(*) FROM pg_publication`), "0");
      const fix = /add NOT NULL: (ALTER TABLE .+? SET NOT NULL;)/.exec(refused.stderr)?.[1];
      assert(fix, refused.stderr);
      await db.sql(`SET ROLE ${db.user}; ${fix}`);
      assertEquals((await syncCdc(db, env)).code, 0);
      await db.sql(`INSERT INTO logs VALUES (now(), 'c'); DELETE FROM logs WHERE msg = 'a';`);
      assertEquals((await syncCdc(db, env)).code, 0);
      await assertSameRows(db, "logs", "public_logs", {
        pg: `concat_ws('|', msg)`,
        duck: `concat_ws('|', msg)`,
      }, "msg");
    },
  ));
