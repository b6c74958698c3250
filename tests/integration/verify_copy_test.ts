// verify's bucket pass by COPY: Postgres streams the rows in block ranges and
// DuckDB hashes both sides. Its buckets must hold exactly the rows Postgres'
// own canonical hashing puts in them (else the listing pass, which Postgres
// still hashes, would look in the wrong buckets), across several ranges and
// with awkward values; and verify must still find, name and repair every
// difference.

import pg from "pg";
import { DuckDBInstance } from "@duckdb/node-api";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { runMain } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { WarehouseFile } from "../../src/io/duckdb/warehouse_file.ts";
import { postgresBucketsByCopy } from "../../src/sync/ops/copy_buckets.ts";
import { bucketSql, hashedRows } from "../../src/core/table_compare.ts";
import { mapColumn } from "../../src/core/type_map.ts";
import { describeTable } from "../../src/io/postgres/mod.ts";

const SETUP = `
  CREATE TABLE public.wide (
    id bigint PRIMARY KEY,
    note text,
    amount numeric(12,2),
    at_tz timetz,
    seen timestamptz,
    updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
  INSERT INTO public.wide (id, note, amount, at_tz, seen)
  SELECT g,
         CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN 'a,"b"' || E'\\n' || g WHEN 2 THEN E'\\uFEFFbom'
                    WHEN 3 THEN '' ELSE 'plain ' || g END,
         CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 100000) / 100.0 END,
         CASE g % 3 WHEN 0 THEN '12:00:00+02' WHEN 1 THEN '23:30:00.5-05:30' END::timetz,
         CASE g % 4 WHEN 0 THEN 'infinity' WHEN 1 THEN '0044-03-15 12:00:00+00 BC'
                    ELSE '2024-02-29 23:59:59.999999+00' END::timestamptz
  FROM generate_series(1, 300000) g;
  ANALYZE public.wide;`;

Deno.test("verify by COPY: buckets as Postgres counts them over several block ranges; differences found, named and repaired", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    const env = db.env({ POSTGRES_TABLES: "public.wide", SYNC_LOOKBACK_SECONDS: "0" });
    const synced = await runMain(["sync", "--once"], env);
    assertEquals(synced.code, 0, synced.stderr);
    const equal = await runMain(["verify"], env);
    assertEquals(equal.code, 0, equal.stdout + equal.stderr);
    assertMatch(equal.stdout, /public_wide: equal, 300,000 rows/);

    // The COPY pass's buckets against Postgres' own, row counts per bucket.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const file = new WarehouseFile(env.DUCKDB_PATH!);
    const warehouse = await file.acquire({ lockWaitSeconds: 5 });
    try {
      await client.query(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3",
      );
      const description = await describeTable(client, {
        schema: "public",
        table: "wide",
        source: "public.wide",
      }, db.name);
      const columns = description.columns.map((c) => mapColumn(c));
      const shape = { key: columns.filter((c) => c.name === "id"), columns };
      const prefix = 2;
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const pgOwn = await client.query(
        bucketSql("pg", hashedRows("pg", "ONLY public.wide", "true", shape), prefix),
      );
      const byCopy = await postgresBucketsByCopy(
        client,
        warehouse,
        {
          shape,
          pgFrom: "ONLY public.wide",
          pgWhere: "true",
          pgBucketWhere: "true",
        },
        prefix,
        {
          relation: description,
          dir: env.PARQUET_DIR!,
          name: "public_wide",
        },
      );
      await client.query("COMMIT");
      const counts = (rows: [string, string][]) =>
        Object.fromEntries(rows.sort((a, b) => a[0].localeCompare(b[0])));
      assertEquals(
        counts([...byCopy].map(([bucket, b]) => [bucket, b.n])),
        counts(pgOwn.rows.map((r: { bucket: string; n: string }) => [r.bucket, r.n])),
      );
      assertEquals(byCopy.size, 256);
      // The ranges' files are gone.
      assertEquals(
        [...Deno.readDirSync(env.PARQUET_DIR!)].filter((f) => f.name.includes("verify")),
        [],
      );
    } finally {
      warehouse.close();
      await client.end();
    }

    // Differences in DuckDB, in both ranges: changed, missing, extra.
    const instance = await DuckDBInstance.create(env.DUCKDB_PATH!);
    const duck = await instance.connect();
    await duck.run(`UPDATE public_wide SET note = 'changed' WHERE id IN (7, 290001);
      UPDATE public_wide SET at_tz = '01:00:00+00' WHERE id = 150003;
      DELETE FROM public_wide WHERE id IN (8, 280000);
      INSERT INTO public_wide SELECT 900000, note, amount, at_tz, seen, updated_at
        FROM public_wide WHERE id = 9`);
    duck.closeSync();
    instance.closeSync();
    const differs = await runMain(["verify"], env);
    assertEquals(differs.code, 1, differs.stdout + differs.stderr);
    assertMatch(differs.stdout, /2 missing in DuckDB \[id=280000; id=8\]/);
    assertMatch(differs.stdout, /3 with other values \[id=150003; id=290001; id=7\]/);
    assertMatch(differs.stdout, /1 only in DuckDB \(gone from Postgres\) \[id=900000\]/);
    assert(!/partial/i.test(differs.stdout), differs.stdout);
    const repaired = await runMain(["verify", "--repair"], env);
    assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
    assertMatch(repaired.stdout, /equal, 300,000 rows \(repaired 6 rows\)/);
  }));
