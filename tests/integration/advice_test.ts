// Advice that works when followed: each notice or error that suggests a fix is
// followed here, as a user would, and the sync that follows must work (real
// PostgreSQL, real DuckDB file, the real command line).

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { duckRows, runMain, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

async function count(path: string, table: string): Promise<number> {
  return Number((await duckRows(path, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n);
}

async function syncOnce(db: TestDb, extra: Record<string, string>) {
  const r = await runMain(["sync", "--once"], db.env({ SYNC_LOOKBACK_SECONDS: "0", ...extra }));
  return r;
}

Deno.test("CURSOR_COLUMN set, several tables: one without it is refreshed whole with a notice, as when unset", () =>
  withDb({
    demo: false,
    setup: `CREATE SCHEMA app;
      CREATE TABLE app.orders (id int PRIMARY KEY, last_modified timestamptz NOT NULL DEFAULT now());
      CREATE TABLE app.countries (code text PRIMARY KEY, name text);
      INSERT INTO app.orders (id) SELECT g FROM generate_series(1, 30) g;
      INSERT INTO app.countries VALUES ('DE', 'Germany'), ('FR', 'France');`,
  }, async (db) => {
    for (const cursor of ["last_modified", "updated_at"]) {
      const env = {
        POSTGRES_TABLES: "app.*",
        CURSOR_COLUMN: cursor,
        STATE_DIR: `${db.dir}/s-${cursor}`,
        DUCKDB_PATH: `${db.dir}/${cursor}.duckdb`,
      };
      const r = await syncOnce(db, env);
      assertEquals(r.code, 0, r.stderr);
      assertNotMatch(r.stderr, /CURSOR_COLUMN_MISSING/);
      assertMatch(
        r.stderr,
        new RegExp(
          `app\\.countries has no "${cursor}" column: copied whole every cycle \\(full refresh\\)`,
        ),
      );
      assertEquals(await count(env.DUCKDB_PATH, "app_countries"), 2);
      assertEquals(await count(env.DUCKDB_PATH, "app_orders"), 30);
      const status = JSON.parse((await runMain(["status", "--json"], db.env(env))).stdout) as {
        table: string;
        mode: string;
      }[];
      const modes = Object.fromEntries(status.map((s) => [s.table, s.mode]));
      assertEquals(modes, {
        app_countries: "full_refresh",
        app_orders: cursor === "last_modified" ? "incremental" : "full_refresh",
      });
    }
    // A table's own "cursor" in the sync file is a demand: missing, it is an error.
    const file = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ tables: { "app.countries": { cursor: "last_modified" } } }),
    );
    const r = await syncOnce(db, { POSTGRES_TABLES: "app.*", SYNC_CONFIG: file });
    assertMatch(r.stderr, /CURSOR_COLUMN_MISSING/);
  }));

Deno.test('no primary key and no cursor: the skip notice\'s "key" advice, followed, syncs the table', () =>
  withDb({
    demo: false,
    setup: `CREATE SCHEMA app;
      CREATE TABLE app.orders (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE app.audit (id int NOT NULL, note text);
      CREATE TABLE app.loose (id int, note text);
      INSERT INTO app.orders (id) VALUES (1);
      INSERT INTO app.audit VALUES (1, 'a'), (2, 'b'), (3, 'c');
      INSERT INTO app.loose VALUES (1, 'x'), (2, 'y');`,
  }, async (db) => {
    const first = await syncOnce(db, { POSTGRES_TABLES: "app.*" });
    assertEquals(first.code, 0, first.stderr);
    for (const table of ["audit", "loose"]) {
      assertMatch(
        first.stderr,
        new RegExp(
          `app\\.${table} has no primary key and is skipped \\(add a primary key, set "key" for it in the sync file to NOT NULL columns that are unique`,
        ),
      );
    }
    // The advice: "key" in a sync file.
    const file = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ tables: { "app.audit": { key: "id" }, "app.loose": { key: "id" } } }),
    );
    const second = await syncOnce(db, { POSTGRES_TABLES: "app.*", SYNC_CONFIG: file });
    assertEquals(await count(db.duckPath, "app_audit"), 3, second.stderr);
    // A key column that can be NULL: the error names the fix in the sync file's terms.
    const line = second.stderr.split("\n").find((l) =>
      /app_loose|app\.loose/.test(l) && /NULL/.test(l)
    );
    assert(line, second.stderr);
    assertMatch(
      line,
      /key column\(s\) id can be NULL \(add NOT NULL: ALTER TABLE app\.loose ALTER COLUMN "id" SET NOT NULL; or set "key" for app\.loose in .*sync\.json to NOT NULL columns that are unique\)/,
    );
    assertNotMatch(line, /POSTGRES_PRIMARY_KEY/);
    // That fix, applied.
    await db.sql(/ALTER TABLE [^;]+;/.exec(line)![0]);
    const third = await syncOnce(db, { POSTGRES_TABLES: "app.*", SYNC_CONFIG: file });
    assertEquals(third.code, 0, third.stderr);
    assertEquals(await count(db.duckPath, "app_loose"), 2);
    assertEquals(await count(db.duckPath, "app_audit"), 3);
    // Named explicitly among several, the error's advice is the sync file's too.
    const named = await syncOnce(db, {
      POSTGRES_TABLES: "app.orders,app.loose",
      STATE_DIR: `${db.dir}/s2`,
      DUCKDB_PATH: `${db.dir}/w2.duckdb`,
    });
    assertMatch(
      named.stderr,
      /app\.loose: it has no primary key \(add one, set "key" for app\.loose in a sync file \(SYNC_CONFIG\) to NOT NULL columns/,
    );
  }));

Deno.test("a view named explicitly is copied whole with a notice, alone or among several", () =>
  withDb({
    demo: false,
    setup: `CREATE SCHEMA app;
      CREATE TABLE app.orders (id int PRIMARY KEY, amount int, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO app.orders (id, amount) SELECT g, g FROM generate_series(1, 10) g;
      CREATE VIEW app.big_orders AS SELECT id, amount FROM app.orders WHERE amount > 6;
      CREATE MATERIALIZED VIEW app.totals AS SELECT sum(amount) AS total FROM app.orders;`,
  }, async (db) => {
    const many = await syncOnce(db, { POSTGRES_TABLES: "app.orders,app.big_orders,app.totals" });
    assertEquals(many.code, 0, many.stderr);
    assertMatch(
      many.stderr,
      /app\.big_orders is a view \(or materialized view, or foreign table\): copied whole every cycle \(full refresh\)/,
    );
    assertEquals(await count(db.duckPath, "app_big_orders"), 4);
    assertEquals(await count(db.duckPath, "app_totals"), 1);
    await db.sql("INSERT INTO app.orders (id, amount) VALUES (11, 11)");
    const again = await syncOnce(db, { POSTGRES_TABLES: "app.orders,app.big_orders,app.totals" });
    assertEquals(again.code, 0, again.stderr);
    assertEquals(await count(db.duckPath, "app_big_orders"), 5);
    // Alone, by POSTGRES_SCHEMA/POSTGRES_TABLE.
    const alone = await syncOnce(db, {
      POSTGRES_SCHEMA: "app",
      POSTGRES_TABLE: "big_orders",
      STATE_DIR: `${db.dir}/s2`,
      DUCKDB_PATH: `${db.dir}/w2.duckdb`,
    });
    assertEquals(alone.code, 0, alone.stderr);
    assertEquals(await count(`${db.dir}/w2.duckdb`, "app_big_orders"), 5);
  }));

Deno.test("multi-dimensional arrays: declared so, they arrive as Postgres' text; in a one-dimensional column, the error's fix works", () =>
  withDb({
    demo: false,
    setup: `CREATE SCHEMA app;
      CREATE TABLE app.m (id int PRIMARY KEY, grid int[][], words text[][], flat int[],
        updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO app.m (id, grid, words, flat) VALUES
        (1, '{{1,2},{3,NULL}}', '{{"a b","c,d"},{"{e}",NULL}}', '{1,2}'),
        (2, '{5,6}', '{}', NULL);
      CREATE TABLE app.loose (id int PRIMARY KEY, a int[], updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO app.loose (id, a) VALUES (1, '{1,2}'), (3, NULL);`,
  }, async (db) => {
    const env = { POSTGRES_TABLES: "app.m,app.loose" };
    const before = await syncOnce(db, env);
    assertEquals(before.code, 0, before.stderr);
    assertEquals(
      await duckRows(
        db.duckPath,
        "SELECT a::VARCHAR AS a, typeof(a) AS t FROM app_loose WHERE id = 1",
      ),
      [{ a: "[1, 2]", t: "INTEGER[]" }],
    );
    await db.sql("INSERT INTO app.loose (id, a) VALUES (2, '{{1,2},{3,4}}')");
    const first = await syncOnce(db, env);
    const rows = await duckRows(
      db.duckPath,
      "SELECT id, grid, words, flat::VARCHAR AS flat, typeof(grid) AS tg, typeof(flat) AS tf FROM app_m ORDER BY id",
    );
    assertEquals(rows, [
      {
        id: 1,
        grid: "{{1,2},{3,NULL}}",
        words: '{{"a b","c,d"},{"{e}",NULL}}',
        flat: "[1, 2]",
        tg: "VARCHAR",
        tf: "INTEGER[]",
      },
      { id: 2, grid: "{5,6}", words: "{}", flat: null, tg: "VARCHAR", tf: "INTEGER[]" },
    ]);
    // Declared with one dimension: the table fails, and the error names the fix.
    assertEquals(first.code, 1, first.stderr);
    const line = first.stderr.split("\n").find((l) => /multi-dimensional/.test(l));
    assert(line, first.stderr);
    assertMatch(
      line,
      /app_loose.*Cannot load column "a": it holds a multi-dimensional array, and it is declared with one dimension \(declare its dimensions to copy it as text: ALTER TABLE \.\.\. ALTER COLUMN "a" TYPE integer\[\]\[\]; or make its values one-dimensional\)/,
    );
    // The fix, applied to the table the line names: the column becomes text and
    // every value already copied is copied again in the same form.
    await db.sql(`ALTER TABLE app.loose ALTER COLUMN "a" TYPE integer[][]`);
    const second = await syncOnce(db, env);
    assertEquals(second.code, 0, second.stderr);
    assertMatch(second.stderr, /drift app_loose: type_widened a/);
    assertEquals(
      await duckRows(db.duckPath, "SELECT id, a, typeof(a) AS t FROM app_loose ORDER BY id"),
      [
        { id: 1, a: "{1,2}", t: "VARCHAR" },
        { id: 2, a: "{{1,2},{3,4}}", t: "VARCHAR" },
        { id: 3, a: null, t: "VARCHAR" },
      ],
    );
    const verify = await runMain(["verify"], db.env({ ...env, SYNC_LOOKBACK_SECONDS: "0" }));
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  }));
