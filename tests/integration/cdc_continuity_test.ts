// SYNC_METHOD=cdc never leaves a silent gap (issue: continuity checked every
// cycle), against a real PostgreSQL and a real DuckDB file: partitioned tables
// through their root (and a DBA's publication checked for it, the printed fix
// applied); a schema or table renamed and back; a table dropped and created
// again; a type changed with USING while nothing streamed; a column dropped
// and added again; two names swapped; a table taken out of the selection and
// put back; a slot dropped by a DBA; keys stored out of line; a key briefly
// held twice; a leading U+FEFF; a type change in the stream; a table the role
// does not own and a generated column failing alone, with fixes that work.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { assertSameRows, cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";
import { spawnMain } from "../support/fixture.ts";
import { stopLoop } from "../support/child_output.ts";

/** Every column's text (the order of `columns`), "|"-joined, by id. */
function allColumns(columns: string[]) {
  const list = columns.map((c) => `coalesce(${c}::text, '∅')`).join(", ");
  return {
    pg: `concat_ws('|', ${list})`,
    duck: `concat_ws('|', ${columns.map((c) => `coalesce(${c}::VARCHAR, '∅')`).join(", ")})`,
  };
}

async function syncOk(db: Parameters<typeof syncCdc>[0], env: Record<string, string>) {
  const run = await syncCdc(db, env);
  assertEquals(run.code, 0, run.stderr);
  return run;
}

Deno.test("cdc: a partitioned table streams through its root, rows moving between partitions included; a DBA's publication by partition is refused with the fix that works", () =>
  withCdcDb(
    `CREATE TABLE pt (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
     CREATE TABLE pt_eu PARTITION OF pt FOR VALUES IN ('eu');
     CREATE TABLE pt_us PARTITION OF pt FOR VALUES IN ('us');
     INSERT INTO pt SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g FROM generate_series(1, 20) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.pt" };
      const columns = allColumns(["id", "region", "v"]);
      await syncOk(db, env);
      await db.sql(`INSERT INTO pt VALUES (100, 'eu', 1);
        UPDATE pt SET v = v + 1000 WHERE id <= 9;
        UPDATE pt SET region = 'eu' WHERE id = 3;
        DELETE FROM pt WHERE id = 4;`);
      await syncOk(db, env);
      await assertSameRows(db, "pt", "public_pt", columns);

      // A DBA's publication of the partitioned table, by partition.
      await db.sql(`CREATE PUBLICATION dbap FOR TABLE pt`);
      const dbaEnv = {
        ...env,
        CDC_PUBLICATION: "dbap",
        CDC_SLOT: "dba_slot",
        STATE_DIR: `${db.dir}/s2`,
        DUCKDB_PATH: `${db.dir}/s2.duckdb`,
      };
      const refused = await syncCdc(db, dbaEnv);
      assertEquals(refused.code, 2, refused.stderr);
      assertMatch(refused.stderr, /CDC_PUBLICATION_MISMATCH/);
      const fix = /\(run (ALTER PUBLICATION .+?) as its owner/.exec(refused.stderr)?.[1];
      assert(fix, refused.stderr);
      assert(!fix.includes("ADD TABLE"), `the table is in the publication already: ${fix}`);
      await db.sql(fix.replaceAll("; ", ";\n") + ";");
      const fixed = await syncCdc(db, dbaEnv);
      assertEquals(fixed.code, 0, fixed.stderr);
      await db.sql(
        `UPDATE pt SET region = 'us' WHERE id = 2; INSERT INTO pt VALUES (101, 'us', 7);`,
      );
      assertEquals((await syncCdc(db, dbaEnv)).code, 0);
      const duckFile = `${db.dir}/s2.duckdb`;
      await assertSameRows({ ...db, duckPath: duckFile }, "pt", "public_pt", columns);
    },
  ));

Deno.test("cdc: renames of a schema or table and back, a table created again, a type changed with USING, a column re-added, names swapped, a table put back in the selection: each exact, breaks said", () =>
  withCdcDb(
    `CREATE SCHEMA s1;
     CREATE TABLE s1.t (id int PRIMARY KEY, n int, a text, b text);
     INSERT INTO s1.t SELECT g, g, 'a' || g, 'b' || g FROM generate_series(1, 20) g;
     CREATE TABLE s1.other (id int PRIMARY KEY, v text);
     INSERT INTO s1.other VALUES (1, 'x');`,
    async (db) => {
      const env = { POSTGRES_TABLES: "s1.t,s1.other" };
      await syncOk(db, env);
      const asOwner = (sql: string) => db.sql(`SET ROLE ${db.user};\n${sql}`);
      const same = (cols: string[]) => assertSameRows(db, "s1.t", "s1_t", allColumns(cols));

      // A schema renamed and back, with inserts under both names.
      await asOwner(
        `ALTER SCHEMA s1 RENAME TO s1_tmp; INSERT INTO s1_tmp.t VALUES (21, 21, 'a', 'b');
        ALTER SCHEMA s1_tmp RENAME TO s1; INSERT INTO s1.t VALUES (22, 22, 'a', 'b');`,
      );
      await syncOk(db, env);
      await same(["id", "n", "a", "b"]);

      // The table renamed and back, with an insert and an update in between.
      await asOwner(`ALTER TABLE s1.t RENAME TO t2; INSERT INTO s1.t2 VALUES (23, 23, 'a', 'b');
        UPDATE s1.t2 SET a = 'renamed' WHERE id = 1; ALTER TABLE s1.t2 RENAME TO t;`);
      await syncOk(db, env);
      await same(["id", "n", "a", "b"]);

      // Dropped and created again under the same name, with other rows.
      await asOwner(`DROP TABLE s1.t; CREATE TABLE s1.t (id int PRIMARY KEY, n int, a text, b text);
        INSERT INTO s1.t SELECT g, g * 10, 'new', 'new' FROM generate_series(5, 9) g;`);
      const recreated = await syncOk(db, env);
      assertMatch(recreated.stderr, /s1\.t: copying it again, as it was dropped and created again/);
      await same(["id", "n", "a", "b"]);

      // An update, then the column's type changed with USING, while nothing streamed.
      await asOwner(`UPDATE s1.t SET n = 101 WHERE id = 5;
        ALTER TABLE s1.t ALTER COLUMN n TYPE text USING 'x' || n;`);
      const retyped = await syncOk(db, env);
      assertMatch(retyped.stderr, /copying it again, as column n changed type/);
      await same(["id", "n", "a", "b"]);

      // A column dropped and added again under its name.
      await asOwner(`UPDATE s1.t SET a = 'old' WHERE id = 6; ALTER TABLE s1.t DROP COLUMN a;
        ALTER TABLE s1.t ADD COLUMN a text; UPDATE s1.t SET a = 'fresh' WHERE id = 7;`);
      await syncOk(db, env);
      await same(["id", "n", "a", "b"]);

      // Two columns' names swapped in one transaction.
      await asOwner(`UPDATE s1.t SET b = 'before swap' WHERE id = 8;
        BEGIN; ALTER TABLE s1.t RENAME COLUMN a TO tmp; ALTER TABLE s1.t RENAME COLUMN b TO a;
        ALTER TABLE s1.t RENAME COLUMN tmp TO b; COMMIT;
        UPDATE s1.t SET a = 'after swap' WHERE id = 9;`);
      await syncOk(db, env);
      await same(["id", "n", "a", "b"]);

      // Out of the selection, changed, then selected again.
      await syncOk(db, { POSTGRES_TABLES: "s1.other" });
      await asOwner(
        `INSERT INTO s1.t (id, n) VALUES (50, 'unpublished'); DELETE FROM s1.t WHERE id = 6;
        UPDATE s1.t SET n = 'changed' WHERE id = 7;`,
      );
      await syncOk(db, { POSTGRES_TABLES: "s1.other" });
      const back = await syncOk(db, env);
      assertMatch(back.stderr, /copying it again, as its changes were not published until now/);
      await same(["id", "n", "a", "b"]);
      assertEquals(back.stderr.includes("2 tables up to date"), false, back.stderr);

      // And the stream goes on as before.
      await asOwner(
        `UPDATE s1.t SET n = 'last' WHERE id = 5; INSERT INTO s1.other VALUES (2, 'y');`,
      );
      await syncOk(db, env);
      await same(["id", "n", "a", "b"]);
      await assertSameRows(db, "s1.other", "s1_other", allColumns(["id", "v"]));
    },
  ));

Deno.test("cdc: a replication slot dropped by a DBA is a break: the tables are copied again with a notice, never a silent gap", () =>
  withCdcDb(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.t" };
      await syncOk(db, env);
      await db.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
        WHERE database = current_database()`);
      await db.sql(`INSERT INTO t VALUES (11, 'lost?'); UPDATE t SET v = 'changed' WHERE id = 1;`);
      const run = await syncOk(db, env);
      assertMatch(run.stderr, /copying it again, as replication slot \S+ is gone/);
      await assertSameRows(db, "t", "public_t", allColumns(["id", "v"]));

      // A slot dropped and created again under the same name by someone else.
      const slot = await db.sql(
        `SELECT slot_name FROM pg_replication_slots WHERE database = current_database()`,
      );
      await db.sql(`SELECT pg_drop_replication_slot('${slot}')`);
      await db.sql(`INSERT INTO t VALUES (12, 'gap')`);
      await db.sql(`SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput')`);
      await db.sql(`UPDATE t SET v = 'after' WHERE id = 2`);
      const again = await syncOk(db, env);
      assertMatch(
        again.stderr,
        /copying it again, as replication slot \S+ is not the one this STATE_DIR streamed from/,
      );
      await assertSameRows(db, "t", "public_t", allColumns(["id", "v"]));
    },
  ));

Deno.test("cdc: keys stored out of line, a key briefly held twice under REPLICA IDENTITY FULL, a leading U+FEFF: exact", () =>
  withCdcDb(
    `CREATE TABLE tk (id text PRIMARY KEY, v int); ALTER TABLE tk ALTER COLUMN id SET STORAGE EXTERNAL;
     INSERT INTO tk SELECT repeat(md5(g::text), 70), g FROM generate_series(1, 5) g;
     CREATE TABLE dup (id int PRIMARY KEY, k int NOT NULL, v text); ALTER TABLE dup REPLICA IDENTITY FULL;
     INSERT INTO dup VALUES (1, 1, 'a'), (2, 2, 'b');
     CREATE TABLE bom (id int PRIMARY KEY, t text); INSERT INTO bom VALUES (1, E'\\uFEFFfirst');`,
    async (db) => {
      const syncFile = `${db.dir}/sync.json`;
      await Deno.writeTextFile(
        syncFile,
        JSON.stringify({ tables: { "public.dup": { key: ["k"] } } }),
      );
      const env = { POSTGRES_TABLES: "public.tk,public.dup,public.bom", SYNC_CONFIG: syncFile };
      await syncOk(db, env);
      await db.sql(`UPDATE tk SET v = v + 100;
        BEGIN; INSERT INTO dup VALUES (3, 1, 'c'); DELETE FROM dup WHERE id = 1; COMMIT;
        INSERT INTO bom VALUES (2, E'\\uFEFFsecond'); UPDATE bom SET t = E'\\uFEFFthird' WHERE id = 1;`);
      await syncOk(db, env);
      const tk = { pg: `concat_ws('|', md5(id), v)`, duck: `concat_ws('|', md5(id), v)` };
      const order = (sql: string) => sql;
      await assertSameRows(db, "tk", "public_tk", { pg: order(tk.pg), duck: order(tk.duck) });
      await assertSameRows(db, "dup", "public_dup", allColumns(["id", "k", "v"]));
      const hex = {
        pg: `concat_ws('|', id, encode(convert_to(t, 'UTF8'), 'hex'))`,
        duck: `concat_ws('|', id, lower(hex(encode(t))))`,
      };
      await assertSameRows(db, "bom", "public_bom", hex);
    },
  ));

Deno.test("cdc: a type change in the stream is followed; a table the role does not own and one with a generated column fail alone, and their fixes work", () =>
  withCdcDb(
    `CREATE TABLE t07 (id int PRIMARY KEY, qty integer); INSERT INTO t07 SELECT g, g FROM generate_series(1, 10) g;
     CREATE TABLE calc (id int PRIMARY KEY, price int, qty int, total int GENERATED ALWAYS AS (price * qty) STORED);
     INSERT INTO calc (id, price, qty) VALUES (1, 2, 3);`,
    async (db) => {
      await db.sql(`CREATE TABLE foreign_owned (id int PRIMARY KEY, v text);
        INSERT INTO foreign_owned VALUES (1, 'x'); GRANT SELECT ON foreign_owned TO ${db.user};`);
      const env = { POSTGRES_TABLES: "public.t07,public.calc,public.foreign_owned" };
      const first = await syncCdc(db, env);
      assert(first.code !== 0, "two tables fail");
      assertMatch(
        first.stderr,
        /CDC_TABLE_UNSUPPORTED.*: Cannot stream public\.calc: its generated column\(s\) total/,
      );
      assertMatch(
        first.stderr,
        /PG_PERMISSION_DENIED.*: Cannot stream public\.foreign_owned: only its owner/,
      );
      await assertSameRows(db, "t07", "public_t07", allColumns(["id", "qty"]));

      await db.sql(
        `ALTER TABLE t07 ALTER qty TYPE bigint; UPDATE t07 SET qty = 5000000000 WHERE id = 1;`,
      );
      const second = await syncCdc(db, env);
      assert(!/holds '5000000000'/.test(second.stderr), second.stderr);
      await assertSameRows(db, "t07", "public_t07", allColumns(["id", "qty"]));

      // The fixes, as printed.
      const owner = /run (ALTER TABLE \S+ OWNER TO \S+) as a superuser/.exec(first.stderr)?.[1];
      assert(owner, first.stderr);
      await db.sql(owner);
      const drop = /(ALTER TABLE \S+ ALTER COLUMN \S+ DROP EXPRESSION)/.exec(first.stderr)?.[1];
      assert(drop, first.stderr);
      await db.sql(`SET ROLE ${db.user}; ${drop}`);
      const fixed = await syncOk(db, env);
      await db.sql(`INSERT INTO calc VALUES (2, 5, 5, 25); UPDATE foreign_owned SET v = 'y';`);
      await syncOk(db, env);
      await assertSameRows(db, "calc", "public_calc", allColumns(["id", "price", "qty", "total"]));
      await assertSameRows(db, "foreign_owned", "public_foreign_owned", allColumns(["id", "v"]));
      assert(fixed.code === 0);
    },
  ));

Deno.test("cdc: under sync --loop, schema changes made while the stream runs (renames, swaps, USING, a column re-added) end exact", () =>
  withCdcDb(
    `CREATE SCHEMA s1;
     CREATE TABLE s1.t (id int PRIMARY KEY, n int, a text, b text);
     INSERT INTO s1.t SELECT g, g, 'a' || g, 'b' || g FROM generate_series(1, 50) g;`,
    async (db) => {
      const env = cdcEnv(db, { POSTGRES_TABLES: "s1.t" });
      const owner = (sql: string) => db.sql(`SET ROLE ${db.user};\n${sql}`);
      const loop = spawnMain(["sync", "--loop"], env);
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      let log = "";
      try {
        await pause(2500);
        const steps = [
          `ALTER SCHEMA s1 RENAME TO s1_tmp; INSERT INTO s1_tmp.t VALUES (51, 51, 'a', 'b');
           ALTER SCHEMA s1_tmp RENAME TO s1; INSERT INTO s1.t VALUES (52, 52, 'a', 'b');`,
          `UPDATE s1.t SET a = 'before swap' WHERE id <= 5;
           BEGIN; ALTER TABLE s1.t RENAME COLUMN a TO tmp; ALTER TABLE s1.t RENAME COLUMN b TO a;
           ALTER TABLE s1.t RENAME COLUMN tmp TO b; COMMIT; UPDATE s1.t SET a = 'after swap' WHERE id = 6;`,
          `UPDATE s1.t SET n = 1000 + id WHERE id <= 10;
           ALTER TABLE s1.t ALTER COLUMN n TYPE text USING 'x' || n; UPDATE s1.t SET n = 'y' WHERE id = 11;`,
          `ALTER TABLE s1.t DROP COLUMN b; ALTER TABLE s1.t ADD COLUMN b text;
           UPDATE s1.t SET b = 'readded' WHERE id % 3 = 0;`,
          `INSERT INTO s1.t (id, n, a) SELECT g, 'n', 'late' FROM generate_series(100, 150) g;`,
          // Rows inserted just before a column is added with a default get the default.
          `INSERT INTO s1.t (id, n) SELECT g, 'd' FROM generate_series(200, 220) g;
           ALTER TABLE s1.t ADD COLUMN c text DEFAULT 'dflt';`,
        ];
        for (const step of steps) {
          await owner(step);
          await pause(700);
        }
        await pause(4000);
      } finally {
        const stopped = await stopLoop(loop);
        log = stopped.log;
        assertEquals(stopped.code, 0, log);
      }
      await assertSameRows(db, "s1.t", "s1_t", allColumns(["id", "n", "a", "b", "c"]));
    },
  ));

Deno.test("cdc: rows inserted before a column added with a default, while nothing streamed, get the default", () =>
  withCdcDb(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.t" };
      await syncOk(db, env);
      await db.sql(
        `SET ROLE ${db.user}; INSERT INTO t SELECT g, 'new' FROM generate_series(11, 20) g;
        ALTER TABLE t ADD COLUMN region text DEFAULT 'eu'; ALTER TABLE t DROP COLUMN v;`,
      );
      const run = await syncOk(db, env);
      assertMatch(
        run.stderr,
        /copying it again, as column\(s\) region added and column\(s\) v dropped/,
      );
      await assertSameRows(db, "t", "public_t", allColumns(["id", "region"]));
    },
  ));

Deno.test("cdc: a streamed value DuckDB cannot hold stops that table alone, with its name; once fixed in Postgres the table is copied again and exact", () =>
  withCdcDb(
    `CREATE TABLE good (id int PRIMARY KEY, v text); INSERT INTO good VALUES (1, 'a');
     CREATE TABLE bad (id int PRIMARY KEY, n numeric(10,2)); INSERT INTO bad VALUES (1, 1.5);`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.good,public.bad" };
      await syncOk(db, env);
      await db.sql(`UPDATE bad SET n = 'NaN' WHERE id = 1; INSERT INTO bad VALUES (2, 2);
        INSERT INTO good VALUES (2, 'b');`);
      const failed = await syncCdc(db, env);
      assert(failed.code !== 0, failed.stderr);
      assertMatch(failed.stderr, /VALUE_UNSUPPORTED.*public\.bad|public_bad.*VALUE_UNSUPPORTED/);
      await assertSameRows(db, "good", "public_good", allColumns(["id", "v"]));
      // The other table goes on streaming meanwhile.
      await db.sql(`INSERT INTO good VALUES (3, 'c')`);
      assert((await syncCdc(db, env)).code !== 0, "bad still fails while its value is there");
      await assertSameRows(db, "good", "public_good", allColumns(["id", "v"]));
      await db.sql(`UPDATE bad SET n = 0 WHERE id = 1`);
      const fixed = await syncOk(db, env);
      assertMatch(fixed.stderr, /public\.bad: copying it again, as a change could not be applied/);
      await assertSameRows(db, "bad", "public_bad", allColumns(["id", "n"]));
    },
  ));

Deno.test("cdc: a rewrite with the same type (USING), a TRUNCATE of one partition, a partition attached or detached: each a break, copied again, exact", () =>
  withCdcDb(
    `CREATE TABLE g (id int PRIMARY KEY, a int); INSERT INTO g SELECT x, x FROM generate_series(1, 20) x;
     CREATE TABLE pt (id int, r text, v int, PRIMARY KEY (id, r)) PARTITION BY LIST (r);
     CREATE TABLE pt_a PARTITION OF pt FOR VALUES IN ('a');
     CREATE TABLE pt_b PARTITION OF pt FOR VALUES IN ('b');
     INSERT INTO pt SELECT x, CASE WHEN x % 2 = 0 THEN 'a' ELSE 'b' END, x FROM generate_series(1, 40) x;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.g,public.pt" };
      const owner = (sql: string) => db.sql(`SET ROLE ${db.user};\n${sql}`);
      const same = async () => {
        await assertSameRows(db, "g", "public_g", allColumns(["id", "a"]));
        await assertSameRows(db, "pt", "public_pt", allColumns(["id", "r", "v"]));
      };
      await syncOk(db, env);
      await owner(`ALTER TABLE g ALTER COLUMN a TYPE int USING a * 10;`);
      const rewritten = await syncOk(db, env);
      assertMatch(rewritten.stderr, /public\.g: copying it again, as its storage changed/);
      await same();
      await owner(`TRUNCATE pt_a; INSERT INTO pt VALUES (100, 'b', 1);`);
      await syncOk(db, env);
      await same();
      await owner(
        `CREATE TABLE pt_c (LIKE pt); INSERT INTO pt_c SELECT x, 'c', x FROM generate_series(200, 209) x;
        ALTER TABLE pt ATTACH PARTITION pt_c FOR VALUES IN ('c');`,
      );
      await syncOk(db, env);
      await same();
      await owner(`ALTER TABLE pt DETACH PARTITION pt_b;`);
      await syncOk(db, env);
      await same();
    },
  ));

Deno.test("cdc: the tool's publication dropped by someone: the next run makes it and a new slot, copies the tables again, exact", () =>
  withCdcDb(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.t" };
      await syncOk(db, env);
      await db.sql(`DROP PUBLICATION ${await db.sql(`SELECT pubname FROM pg_publication`)}`);
      await db.sql(
        `INSERT INTO t VALUES (11, 'while unpublished'); UPDATE t SET v = 'x' WHERE id = 1;`,
      );
      const run = await syncOk(db, env);
      assertMatch(run.stderr, /copying it again, as publication \S+ was dropped/);
      await db.sql(`UPDATE t SET v = 'after' WHERE id = 2`);
      await syncOk(db, env);
      await assertSameRows(db, "t", "public_t", allColumns(["id", "v"]));
    },
  ));

Deno.test("cdc: a selected table renamed (and not back) is named by its new name; renamed back, it is copied again and exact", () =>
  withCdcDb(
    `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g;
     CREATE TABLE o (id int PRIMARY KEY); INSERT INTO o VALUES (1);`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.t,public.o" };
      const owner = (sql: string) => db.sql(`SET ROLE ${db.user};\n${sql}`);
      await syncOk(db, env);
      await owner(`ALTER TABLE t RENAME TO t2; INSERT INTO t2 VALUES (11, 'renamed');`);
      const missing = await syncCdc(db, env);
      assert(missing.code !== 0, missing.stderr);
      assertMatch(missing.stderr, /Cannot find table public\.t: it was renamed to public\.t2/);
      await owner(`UPDATE t2 SET v = 'still renamed' WHERE id = 1; ALTER TABLE t2 RENAME TO t;`);
      await syncOk(db, env);
      await assertSameRows(db, "t", "public_t", allColumns(["id", "v"]));
    },
  ));

Deno.test("cdc: a column renamed and back with rows written in between (the stream carries the other name): copied again, exact", () =>
  withCdcDb(
    `CREATE TABLE r (id int PRIMARY KEY, v text, w text); INSERT INTO r VALUES (1, 'a', 'x');`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.r" };
      await syncOk(db, env);
      await db.sql(`SET ROLE ${db.user}; ALTER TABLE r RENAME COLUMN w TO away;
        INSERT INTO r VALUES (2, 'b', 'y'), (3, 'c', NULL); UPDATE r SET away = 'z' WHERE id = 1;
        ALTER TABLE r RENAME COLUMN away TO w;`);
      const run = await syncOk(db, env);
      assertMatch(run.stderr, /copying it again, as columns were renamed/);
      await assertSameRows(db, "r", "public_r", allColumns(["id", "v", "w"]));
    },
  ));
