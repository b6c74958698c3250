// A value DuckDB cannot hold (NaN in a numeric(p,s) column, a timestamp past
// DuckDB's range) fails the batch with one VALUE_UNSUPPORTED line naming the
// table, the column, the value and a fix; applying each suggested fix makes
// the next sync bring the values exactly.

import { assertEquals } from "../support/assert.ts";
import { createTestDb, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";

const cluster = await sharedCluster();

const NAN_ERROR =
  `error VALUE_UNSUPPORTED: Cannot load public.prices: column "amount" (numeric(10,2), ` +
  `DECIMAL(10,2) in DuckDB) holds 'NaN': DuckDB's DECIMAL has no NaN; nothing of the batch was ` +
  `applied (make the column an unconstrained numeric in PostgreSQL (ALTER TABLE "public"."prices" ` +
  `ALTER COLUMN "amount" TYPE numeric): it then arrives as VARCHAR with PostgreSQL's exact text, ` +
  `or as DOUBLE with NUMERIC_WIDE=double in a table copied anew (reset); or replace the NaN ` +
  `values (UPDATE "public"."prices" SET ` +
  `"amount" = NULL WHERE "amount" = 'NaN'))\n`;

async function prices(db: TestDb, rows: string): Promise<Record<string, string>> {
  await db.sql(`
    CREATE TABLE public.prices (id int PRIMARY KEY, amount numeric(10,2),
      updated_at timestamptz NOT NULL DEFAULT now());
    ALTER TABLE public.prices OWNER TO ${db.user};
    INSERT INTO public.prices (id, amount) VALUES ${rows};`);
  return db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "prices" });
}

async function query(env: Record<string, string>, sql: string): Promise<string> {
  const r = await runMain(["query", sql, "--format", "csv"], env);
  assertEquals(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("NaN in numeric(10,2): VALUE_UNSUPPORTED names table, column, value; an unconstrained numeric then brings it exactly", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const env = await prices(db, "(1, 1.50), (2, 'NaN')");
    const bad = await runMain(["sync", "--once"], env);
    assertEquals(bad.code, 2, bad.stderr);
    assertEquals(bad.stderr, NAN_ERROR);
    // The suggested fix, as printed.
    await db.sql(`ALTER TABLE "public"."prices" ALTER COLUMN "amount" TYPE numeric`);
    const fixed = await runMain(["sync", "--once"], env);
    assertEquals(fixed.code, 0, fixed.stderr);
    assertEquals(
      await query(env, "SELECT id, amount, typeof(amount) AS t FROM public_prices ORDER BY id"),
      "id,amount,t\n1,1.50,VARCHAR\n2,NaN,VARCHAR\n",
    );
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await db.cleanup();
  }
});

Deno.test("NaN in numeric(10,2): with NUMERIC_WIDE=double the unconstrained column brings NaN and Infinity as DOUBLE", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const env = await prices(db, "(1, 1.50), (2, 'NaN')");
    const bad = await runMain(["sync", "--once"], env);
    assertEquals(bad.code, 2, bad.stderr);
    await db.sql(`ALTER TABLE "public"."prices" ALTER COLUMN "amount" TYPE numeric;
      INSERT INTO public.prices (id, amount) VALUES (3, 'Infinity'), (4, '-Infinity');`);
    const wide = { ...env, NUMERIC_WIDE: "double" };
    // The failed first copy made the DuckDB table with DECIMAL(10,2); DOUBLE needs a new copy.
    const reset = await runMain(["reset", "--yes"], wide);
    assertEquals(reset.code, 0, reset.stdout + reset.stderr);
    const fixed = await runMain(["sync", "--once"], wide);
    assertEquals(fixed.code, 0, fixed.stderr);
    assertEquals(
      await query(wide, "SELECT id, amount, typeof(amount) AS t FROM public_prices ORDER BY id"),
      "id,amount,t\n1,1.5,DOUBLE\n2,NaN,DOUBLE\n3,Infinity,DOUBLE\n4,-Infinity,DOUBLE\n",
    );
  } finally {
    await db.cleanup();
  }
});

Deno.test("NaN arriving in an incremental batch: nothing applied; replacing the value (the other fix) syncs", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const env = await prices(db, "(1, 1.50)");
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    await db.sql(`INSERT INTO public.prices (id, amount, updated_at)
      VALUES (2, 'NaN', now() + interval '1 s'), (3, 7, now() + interval '1 s')`);
    const bad = await runMain(["sync", "--once"], env);
    assertEquals(bad.code, 2, bad.stderr);
    assertEquals(bad.stderr, NAN_ERROR);
    assertEquals(await query(env, "SELECT id FROM public_prices ORDER BY id"), "id\n1\n");
    await db.sql(`UPDATE "public"."prices" SET "amount" = NULL WHERE "amount" = 'NaN'`);
    const fixed = await runMain(["sync", "--once"], env);
    assertEquals(fixed.code, 0, fixed.stderr);
    assertEquals(
      await query(env, "SELECT id, amount FROM public_prices ORDER BY id"),
      "id,amount\n1,1.50\n2,\n3,7.00\n",
    );
  } finally {
    await db.cleanup();
  }
});

Deno.test("NaN in a numeric(10,2)[] element and a timestamp past DuckDB's range are named too", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`
      CREATE TABLE public.odd (id int PRIMARY KEY, amounts numeric(10,2)[], at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.odd OWNER TO ${db.user};
      INSERT INTO public.odd (id, amounts, at) VALUES (1, '{1.5,NaN}', now());`);
    const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "odd" });
    const arrays = await runMain(["sync", "--once"], env);
    assertEquals(arrays.code, 2, arrays.stderr);
    assertEquals(
      arrays.stderr,
      `error VALUE_UNSUPPORTED: Cannot load public.odd: column "amounts" (numeric(10,2)[], ` +
        `DECIMAL(10,2)[] in DuckDB) holds '["1.50","NaN"]': DuckDB's DECIMAL has no NaN; nothing ` +
        `of the batch was applied (make the column an unconstrained numeric in PostgreSQL ` +
        `(ALTER TABLE "public"."odd" ALTER COLUMN "amounts" TYPE numeric[]): it then arrives as ` +
        `VARCHAR[] with PostgreSQL's exact text, or as DOUBLE[] with NUMERIC_WIDE=double in a ` +
        `table copied anew (reset); or replace the NaN values (UPDATE "public"."odd" SET "amounts" = array_replace("amounts", ` +
        `'NaN', NULL) WHERE 'NaN' = ANY("amounts")))\n`,
    );
    await db.sql(
      `UPDATE "public"."odd" SET "amounts" = array_replace("amounts", 'NaN', NULL) WHERE 'NaN' = ANY("amounts");
       UPDATE public.odd SET at = '294260-01-01 00:00:00+00'`,
    );
    const late = await runMain(["sync", "--once"], env);
    assertEquals(late.code, 2, late.stderr);
    assertEquals(
      late.stderr,
      `error VALUE_UNSUPPORTED: Cannot load public.odd: column "at" (timestamp with time zone, ` +
        `TIMESTAMP WITH TIME ZONE in DuckDB) holds '294260-01-01 00:00:00+00': DuckDB's ` +
        `timestamps end at 294247-01-10; nothing of the batch was applied (replace the value in ` +
        `PostgreSQL, or make the column text (ALTER TABLE "public"."odd" ALTER COLUMN "at" TYPE ` +
        `text))\n`,
    );
    await db.sql(`ALTER TABLE "public"."odd" ALTER COLUMN "at" TYPE text`);
    const fixed = await runMain(["sync", "--once"], env);
    assertEquals(fixed.code, 0, fixed.stderr);
    assertEquals(
      await query(env, 'SELECT amounts, "at" FROM public_odd'),
      `amounts,at\n"[""1.50"",null]",294260-01-01 00:00:00+00\n`,
    );
  } finally {
    await db.cleanup();
  }
});

Deno.test("with several tables, the one with NaN fails alone (exit 2) and the others are synced", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await prices(db, "(1, 'NaN')");
    await db.sql(
      `CREATE TABLE public.good (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.good OWNER TO ${db.user};
      INSERT INTO public.good (id) VALUES (7);`,
    );
    const env = db.env({ POSTGRES_TABLES: "public.prices,public.good" });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 2, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => /VALUE_UNSUPPORTED|TABLES_FAILED/.test(l));
    assertEquals(lines.length, 2, r.stderr);
    assertEquals(
      lines[0]!.includes(
        `error VALUE_UNSUPPORTED in table public_prices: Cannot load public.prices: column "amount"`,
      ),
      true,
      lines[0],
    );
    assertEquals(
      lines[1],
      "error TABLES_FAILED: 1 of 2 tables failed: public_prices (VALUE_UNSUPPORTED); the others are synced (see the errors above)",
    );
    assertEquals(await query(env, "SELECT id FROM public_good"), "id\n7\n");
  } finally {
    await db.cleanup();
  }
});
