// SYNC_METHOD=cdc against a real PostgreSQL (wal_level=logical) and a real
// DuckDB file: every change kind arrives in commit order (insert, update,
// an update of the key, delete, truncate; a rolled-back transaction never),
// large unchanged TOASTed values are kept, a table without a cursor column
// syncs incrementally, a delete is marked under RECONCILE_DELETES_MODE=mark,
// and `status` and `reset` know the slot.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain } from "../support/fixture.ts";
import { assertSameRows, cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.items (id int PRIMARY KEY, name text, big text, n numeric(10,2),
    tags text[], b bytea, iv interval, deleted_at timestamptz);
  INSERT INTO app.items (id, name, big, n, tags, b, iv)
    SELECT g, 'item ' || g, repeat(md5(g::text), 400), g * 1.5, ARRAY['a', NULL, 'c "d"'],
           '\\xdeadbeef', '1 day -02:00:00'
    FROM generate_series(1, 300) g;`;

const COLUMNS = {
  pg: `concat_ws('|', id, name, md5(big), length(big), n, to_json(tags)::text, encode(b, 'hex'),
    extract(epoch FROM iv)::bigint, CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'gone' END)`,
  duck: `concat_ws('|', id, name, md5(big), length(big), n, to_json(tags)::VARCHAR, lower(hex(b)),
    epoch(iv)::BIGINT, CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'gone' END)`,
};

Deno.test("cdc: inserts, updates (one moving the key), deletes, truncate and a rollback arrive in order; unchanged TOASTed values are kept", () =>
  withCdcDb(SETUP, async (db) => {
    const env = { POSTGRES_TABLES: "app.items" };
    const first = await syncCdc(db, env);
    assertEquals(first.code, 0, first.stderr);
    assertMatch(first.stderr, /batch app_items #1 incremental: 300 rows/);
    await assertSameRows(db, "app.items", "app_items", COLUMNS);

    await db.sql(`
      UPDATE app.items SET name = 'renamed ' || id WHERE id <= 50;
      UPDATE app.items SET id = id + 1000 WHERE id BETWEEN 51 AND 60;
      DELETE FROM app.items WHERE id BETWEEN 61 AND 70;
      INSERT INTO app.items (id, name, big) VALUES (5000, 'new', repeat('z', 12000));
      UPDATE app.items SET big = repeat('y', 15000) WHERE id BETWEEN 71 AND 75;`);
    await db.sql(`BEGIN; INSERT INTO app.items (id, name) VALUES (9999, 'rolled back');
      DELETE FROM app.items WHERE id = 1; ROLLBACK;`);
    // One transaction: the row moved, then changed again, keeps its large value.
    await db.sql(`BEGIN; UPDATE app.items SET id = 7000 WHERE id = 80;
      UPDATE app.items SET name = 'moved twice' WHERE id = 7000; COMMIT;`);
    const second = await syncCdc(db, env);
    assertEquals(second.code, 0, second.stderr);
    assertMatch(second.stderr, /batch app_items #2 incremental/);
    await assertSameRows(db, "app.items", "app_items", COLUMNS);
    const [moved] = await duckRows(
      db.duckPath,
      `SELECT length(big)::INTEGER AS l FROM app_items WHERE id = 1055`,
    );
    assertEquals(moved?.l, 12800, "a row whose key changed keeps its TOASTed value");

    await db.sql(`TRUNCATE app.items; INSERT INTO app.items (id, name, big)
      SELECT g, 'after truncate', repeat('t', 11000) FROM generate_series(1, 5) g;`);
    const third = await syncCdc(db, env);
    assertEquals(third.code, 0, third.stderr);
    await assertSameRows(db, "app.items", "app_items", COLUMNS);

    // status names the slot and the position.
    const status = await runMain(["status", "--json"], cdcEnv(db, env));
    assertEquals(status.code, 0, status.stderr);
    const [row] = JSON.parse(status.stdout);
    assertMatch(row.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
    assertMatch(row.replication.slot, /^pds_/);
    assertMatch(row.replication.confirmedFlushLsn, /^[0-9A-F]+\/[0-9A-F]+$/);
    assertEquals(typeof row.replication.retainedWalBytes, "number");

    // Its batch files hold changes (the kind in _pds_op), which replay refuses to order.
    const files = [...Deno.readDirSync(db.parquetDir)].map((f) => f.name).filter((n) =>
      n.endsWith(".parquet")
    );
    assert(files.length > 0, "batch files are kept");
    const [kinds] = await duckRows(
      ":memory:",
      `SELECT string_agg(DISTINCT _pds_op, ',' ORDER BY _pds_op) AS ops FROM read_parquet('${db.parquetDir}/*.parquet', union_by_name = true) WHERE _pds_op IS NOT NULL`,
    );
    assertEquals(kinds?.ops, "d,u");
    const replay = await runMain(
      ["replay", `${db.parquetDir}/${files[0]}`],
      cdcEnv(db, { DUCKDB_TABLE: "app_items", POSTGRES_SCHEMA: "app", POSTGRES_TABLE: "items" }),
    );
    assertEquals(replay.code, 2, replay.stderr);
    assertMatch(replay.stderr, /streamed from the write-ahead log .*run `reset --yes`/);

    // reset drops what the tool created, and says so.
    const reset = await runMain(["reset", "--yes"], cdcEnv(db, env));
    assertEquals(reset.code, 0, reset.stderr);
    assertMatch(reset.stdout, /replication slot pds_\w+ and publication pds_\w+ dropped/);
    assertEquals(
      await db.sql(`SELECT count(*) FROM pg_replication_slots WHERE database = '${db.name}'`),
      "0",
    );
    assertEquals(await db.sql(`SELECT count(*) FROM pg_publication`), "0");
  }));

Deno.test("cdc: with RECONCILE_DELETES_MODE=mark a delete marks the row; a table without a primary key needs REPLICA IDENTITY FULL and a key, as the error says", () =>
  withCdcDb(
    SETUP + `CREATE TABLE app.events (id int NOT NULL, what text);
    INSERT INTO app.events SELECT g, 'e' || g FROM generate_series(1, 20) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "app.items", RECONCILE_DELETES_MODE: "mark" };
      assertEquals((await syncCdc(db, env)).code, 0);
      await db.sql(`DELETE FROM app.items WHERE id IN (3, 4)`);
      const marked = await syncCdc(db, env);
      assertEquals(marked.code, 0, marked.stderr);
      const rows = await duckRows(
        db.duckPath,
        `SELECT id, deleted_at IS NOT NULL AS gone FROM app_items WHERE id IN (2, 3, 4) ORDER BY id`,
      );
      assertEquals(rows.map((r) => `${r.id}:${r.gone}`), ["2:false", "3:true", "4:true"]);

      // Matched by a wildcard, a table without a key is skipped with the fix named.
      const all = await syncCdc(db, {
        POSTGRES_TABLES: "app.*",
        STATE_DIR: `${db.dir}/all`,
        DUCKDB_PATH: `${db.dir}/all.duckdb`,
      });
      assertEquals(all.code, 0, all.stderr);
      assertMatch(all.stderr, /notice: skipped Cannot stream app\.events: it has no primary key/);

      // Named, it is refused, naming the fix; the fix, applied, works.
      const events = { POSTGRES_TABLES: "app.events" };
      const refused = await syncCdc(db, events);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(
        refused.stderr,
        /error REPLICA_IDENTITY_MISSING: Cannot stream app\.events: it has no primary key \(add one, or run ALTER TABLE "app"\."events" REPLICA IDENTITY FULL and set "key" for it in the sync file to NOT NULL columns that are unique\)/,
      );
      await db.sql(`ALTER TABLE "app"."events" REPLICA IDENTITY FULL`);
      const file = `${db.dir}/sync.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({ include: ["app.events"], tables: { "app.events": { key: ["id"] } } }),
      );
      const keyed = { SYNC_CONFIG: file };
      const copied = await syncCdc(db, keyed);
      assertEquals(copied.code, 0, copied.stderr);
      await db.sql(`UPDATE app.events SET what = 'changed' WHERE id = 5;
        DELETE FROM app.events WHERE id = 6; INSERT INTO app.events VALUES (21, 'e21');`);
      const streamed = await syncCdc(db, keyed);
      assertEquals(streamed.code, 0, streamed.stderr);
      await assertSameRows(db, "app.events", "app_events", {
        pg: `id || '|' || what`,
        duck: `id || '|' || what`,
      });
    },
  ));

Deno.test("cdc: a table added to the selection later gets its own first copy; the other's changes made meanwhile are applied after it", () =>
  withCdcDb(
    SETUP + `CREATE TABLE app.users (id int PRIMARY KEY, email text);
    INSERT INTO app.users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 50) g;`,
    async (db) => {
      assertEquals((await syncCdc(db, { POSTGRES_TABLES: "app.items" })).code, 0);
      await db.sql(`UPDATE app.items SET name = 'while users was not selected' WHERE id <= 20;
        UPDATE app.users SET email = 'changed' WHERE id = 1;`);
      const both = { POSTGRES_TABLES: "app.items,app.users" };
      const added = await syncCdc(db, both);
      assertEquals(added.code, 0, added.stderr);
      assertMatch(added.stderr, /batch app_users #1 incremental: 50 rows/);
      assertMatch(added.stderr, /batch app_items #2 incremental: 20 rows/);
      await db.sql(`DELETE FROM app.users WHERE id = 2; UPDATE app.items SET n = 0 WHERE id = 1;`);
      assertEquals((await syncCdc(db, both)).code, 0);
      await assertSameRows(db, "app.items", "app_items", COLUMNS);
      await assertSameRows(db, "app.users", "app_users", {
        pg: `id || '|' || email`,
        duck: `id || '|' || email`,
      });
      const published = await db.sql(
        `SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables`,
      );
      assertEquals(published, "items,users", "the tool's publication follows the selection");
    },
  ));
