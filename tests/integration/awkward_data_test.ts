// Data that real tables hold and that once lost or changed rows, each against a
// real PostgreSQL and DuckDB file: carriage returns in text (every copy path),
// tables with inheritance children, row-level security, a leading U+FEFF, and a
// key retyped with a column added.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, duckRows, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

const cluster = await sharedCluster();

/** Every row of a DuckDB table as "id|text" lines, ordered by id. */
async function duckLines(path: string, table: string, column: string): Promise<string[]> {
  const rows = await duckRows(
    path,
    `SELECT id::VARCHAR AS key_text, ${column} AS v FROM ${table} ORDER BY id`,
  );
  return rows.map((r) => `${r.key_text}|${r.v}`);
}

async function pgLines(db: TestDb, from: string, column: string): Promise<string[]> {
  const client = await db.client();
  try {
    const r = await client.query(
      `SELECT id::text AS key_text, ${column} AS v FROM ${from} ORDER BY id`,
    );
    return r.rows.map((row: Record<string, unknown>) => `${row.key_text}|${row.v}`);
  } finally {
    await client.end();
  }
}

Deno.test("carriage returns in text survive the first copy, batches, full refresh and repair", () =>
  withDb({ demo: false }, async (db) => {
    // Row 1 (the first of the first batch) holds CRLF; others a lone CR, CR at
    // the end, LF alone.
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.letters (id int PRIMARY KEY, body text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.letters SELECT g, CASE g % 4
        WHEN 1 THEN E'Dear customer,\\r\\nthanks ' || g
        WHEN 2 THEN E'lone\\rcr ' || g
        WHEN 3 THEN E'ends with CR\\r'
        ELSE E'plain\\nLF' END
      FROM generate_series(1, 1000) g;
      CREATE TABLE public.notes (id int PRIMARY KEY, body text);
      INSERT INTO public.notes SELECT g, E'note\\r\\n' || g FROM generate_series(1, 20) g;`);
    const env = db.env({
      POSTGRES_TABLES: "public.letters,public.notes",
      SYNC_LOOKBACK_SECONDS: "0",
      BATCH_SIZE: "100",
    });
    const path = env.DUCKDB_PATH!;
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      await duckLines(path, "public_letters", "body"),
      await pgLines(db, "public.letters", "body"),
    );
    assertEquals(
      await duckLines(path, "public_notes", "body"),
      await pgLines(db, "public.notes", "body"),
    );

    // An incremental batch whose first row holds CRLF.
    await db.sql(`UPDATE public.letters SET body = E'\\r\\nnew ' || id, updated_at = '2024-02-01'
      WHERE id % 3 = 0; UPDATE public.notes SET body = E'\\r' || body`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      await duckLines(path, "public_letters", "body"),
      await pgLines(db, "public.letters", "body"),
    );
    assertEquals(
      await duckLines(path, "public_notes", "body"),
      await pgLines(db, "public.notes", "body"),
    );

    // A change without a newer cursor, found and re-copied by verify --repair.
    await db.sql(`UPDATE public.letters SET body = E'\\rrepaired\\r\\n' || id WHERE id <= 5`);
    r = await runMain(["verify", "--repair"], env);
    assertMatch(r.stdout + r.stderr, /repair/);
    r = await runMain(["verify"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(
      await duckLines(path, "public_letters", "body"),
      await pgLines(db, "public.letters", "body"),
    );
  }));

Deno.test("a table with inheritance children is copied without its children's rows", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE SCHEMA shapes;
      CREATE TABLE shapes.shape (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      CREATE TABLE shapes.circle (radius int, PRIMARY KEY (id)) INHERITS (shapes.shape);
      INSERT INTO shapes.shape (id, name) VALUES (1, 'p1'), (2, 'p2'), (3, 'p3');
      INSERT INTO shapes.circle (id, name, radius) VALUES (1, 'c1', 10), (2, 'c2', 20), (10, 'c10', 100);`);
    const env = db.env({
      POSTGRES_TABLES: "shapes.*",
      SYNC_LOOKBACK_SECONDS: "0",
      RECONCILE_DELETES_EVERY: "1",
    });
    const path = env.DUCKDB_PATH!;
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await duckLines(path, "shapes_shape", "name"), ["1|p1", "2|p2", "3|p3"]);
    assertEquals(await duckLines(path, "shapes_circle", "name"), ["1|c1", "2|c2", "10|c10"]);
    assertMatch(r.stderr, /shapes\.shape complete: 3 rows copied/);

    // Incremental changes to the child never reach the parent's copy, and
    // reconciliation of the parent does not count the child's keys.
    await db.sql(
      `INSERT INTO shapes.circle (id, name, radius, updated_at) VALUES (11, 'c11', 1, '2024-03-01');
      UPDATE shapes.circle SET name = 'c2x', updated_at = '2024-03-01' WHERE id = 2;
      DELETE FROM ONLY shapes.shape WHERE id = 3;`,
    );
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await duckLines(path, "shapes_shape", "name"), ["1|p1", "2|p2"]);
    assertEquals(
      await duckLines(path, "shapes_circle", "name"),
      ["1|c1", "2|c2x", "10|c10", "11|c11"],
    );
    r = await runMain(["verify"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertMatch(r.stdout, /shapes_shape.*equal/);
  }));

Deno.test("row-level security: a role subject to a policy is refused with the fix, which works", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    // Owned by the superuser, so the sync role is subject to the policy.
    await db.sql(
      `CREATE TABLE public.accounts (id int PRIMARY KEY, owner text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.accounts SELECT g, 'o' || (g % 2) FROM generate_series(1, 100) g;
      ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;
      CREATE POLICY half ON public.accounts FOR SELECT USING (id % 2 = 0);
      GRANT SELECT ON public.accounts TO ${db.user};`,
    );
    const env = db.env({
      POSTGRES_SCHEMA: "public",
      POSTGRES_TABLE: "accounts",
      SYNC_LOOKBACK_SECONDS: "0",
    });
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /PG_ROW_SECURITY/);
    assertMatch(r.stderr, /ALTER ROLE \S+ BYPASSRLS/);
    assert(!r.stderr.includes(db.password), "no password in the error");

    // The advice, applied.
    await db.sql(`ALTER ROLE ${db.user} BYPASSRLS`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      (await duckRows(env.DUCKDB_PATH!, "SELECT count(*)::INTEGER AS n FROM public_accounts"))[0],
      { n: 100 },
    );
    r = await runMain(["verify"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);

    // verify never calls a filtered read equal.
    await db.sql(`ALTER ROLE ${db.user} NOBYPASSRLS`);
    r = await runMain(["verify"], env);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertMatch(r.stdout + r.stderr, /PG_ROW_SECURITY/);
  } finally {
    await db.sql(`ALTER ROLE ${db.user} NOBYPASSRLS`).catch(() => {});
    await db.cleanup();
  }
});

/** Keys and values as UTF-8 hex, so that no client can drop a leading U+FEFF. */
async function hexRows(db: TestDb, path: string): Promise<[string[], string[]]> {
  const duck = await duckRows(path, `SELECT hex(k) || '|' || hex(v) AS line FROM public_marks`);
  const client = await db.client();
  try {
    const pg = await client.query(
      `SELECT upper(encode(convert_to(k, 'UTF8'), 'hex')) || '|' ||
              upper(encode(convert_to(v, 'UTF8'), 'hex')) AS line FROM public.marks`,
    );
    return [
      duck.map((r) => String(r.line)).sort(),
      pg.rows.map((r: Record<string, unknown>) => String(r.line)).sort(),
    ];
  } finally {
    await client.end();
  }
}

Deno.test("a key or value starting with U+FEFF keeps it, first in a batch or not (found by the generative test)", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.marks (k text PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.marks VALUES (E'\\uFEFFone', E'\\uFEFFx'), ('two', 'y');`);
    const env = db.env({
      POSTGRES_SCHEMA: "public",
      POSTGRES_TABLE: "marks",
      SYNC_LOOKBACK_SECONDS: "0",
    });
    const path = env.DUCKDB_PATH!;
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    let [duck, pg] = await hexRows(db, path);
    assertEquals(duck, pg);
    assert(duck.some((line) => line.startsWith("EFBBBF6F6E65|")), duck.join(" "));

    // An incremental batch whose first row starts with the mark.
    await db.sql(`UPDATE public.marks SET v = E'\\uFEFFz', updated_at = '2024-02-01'
      WHERE k = E'\\uFEFFone'`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    [duck, pg] = await hexRows(db, path);
    assertEquals(duck, pg);
    r = await runMain(["verify"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
  }));

Deno.test("a key column retyped in the same cycle as a column is added (found by the generative test)", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.items (id int PRIMARY KEY, a text, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.items (id, a) VALUES (1, 'x'), (2, 'y');`);
    const env = db.env({
      POSTGRES_SCHEMA: "public",
      POSTGRES_TABLE: "items",
      SYNC_LOOKBACK_SECONDS: "0",
    });
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    await db.sql(`ALTER TABLE public.items ADD COLUMN b text DEFAULT 'bee';
      ALTER TABLE public.items ALTER COLUMN id TYPE bigint;`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await duckLines(env.DUCKDB_PATH!, "public_items", "b"), ["1|bee", "2|bee"]);
    const types = await duckRows(
      env.DUCKDB_PATH!,
      `SELECT data_type FROM information_schema.columns
       WHERE table_name = 'public_items' AND column_name = 'id'`,
    );
    assertEquals(types, [{ data_type: "BIGINT" }]);
    r = await runMain(["verify"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
  }));

Deno.test("a role that may read only some columns is refused, never given a partial copy", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(
      `CREATE TABLE public.people (id int PRIMARY KEY, name text, salary int, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.people VALUES (1, 'a', 10), (2, 'b', 20);
      GRANT SELECT (id, name, updated_at) ON public.people TO ${db.user};`,
    );
    const env = db.env({
      POSTGRES_SCHEMA: "public",
      POSTGRES_TABLE: "people",
      SYNC_LOOKBACK_SECONDS: "0",
    });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /PG_PERMISSION_DENIED/);
    assertMatch(r.stderr, /GRANT SELECT ON public\.people/);
    // The advice, applied.
    await db.sql(`GRANT SELECT ON public.people TO ${db.user}`);
    const after = await runMain(["sync", "--once"], env);
    assertEquals(after.code, 0, after.stderr);
    assertEquals(await duckLines(env.DUCKDB_PATH!, "public_people", "salary"), ["1|10", "2|20"]);
  }));

Deno.test("verify --repair before a column's new type is synced says to sync first, and that works (found by the generative test)", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.refs (id int PRIMARY KEY, q integer);
      INSERT INTO public.refs VALUES (1, 1);`);
    const env = db.env({ POSTGRES_TABLES: "public.refs" });
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    await db.sql(`ALTER TABLE public.refs ALTER COLUMN q TYPE numeric USING q::numeric;
      INSERT INTO public.refs VALUES (2, 'Infinity');`);
    r = await runMain(["verify", "--repair"], env);
    assertEquals(r.code, 1, r.stdout + r.stderr);
    assertMatch(
      r.stdout,
      /SYNC_NEEDED: .*q \(DuckDB keeps INTEGER, Postgres maps to VARCHAR\).*run sync --once first/,
    );
    // The advice, applied.
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    r = await runMain(["verify", "--repair"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(await duckLines(env.DUCKDB_PATH!, "public_refs", "q"), ["1|1", "2|Infinity"]);
  }));
