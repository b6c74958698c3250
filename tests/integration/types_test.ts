// The README's type mapping, checked value by value against a real PostgreSQL
// and a real DuckDB file: every listed type arrives as the documented DuckDB
// type with its exact value.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, duckRows, runMain, sharedCluster } from "../support/fixture.ts";

const cluster = await sharedCluster();

Deno.test("type mapping: each Postgres type lands as the documented DuckDB type, exactly", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
      CREATE TABLE public.types (
        id bigint PRIMARY KEY,
        s smallint, i integer, b bigint,
        n numeric(10,3), n_free numeric, n_wide numeric(50,2),
        r real, d double precision,
        t text, vc varchar(5), c char(3),
        flag boolean, day date, tod time, todz timetz,
        ts timestamp, tstz timestamptz,
        u uuid, j json, jb jsonb, raw bytea,
        m mood, dom positive_int, arr integer[], iv interval, net inet, rng int4range, money_col money,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TYPE mood OWNER TO ${db.user};
      ALTER TABLE public.types OWNER TO ${db.user};
      INSERT INTO public.types VALUES (
        1, -32768, 2147483647, 9223372036854775807,
        -1234567.891, 3.14159265358979323846264338327950288419716939937510, 123456789012345678901234567890123456789012345678.99,
        1.5, 0.1,
        'tëxt', 'abc', 'ab',
        true, '2024-02-29', '23:59:59.999999', '12:00:00+02',
        '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.999999+00',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}', '\\x00ff10',
        'happy', 42, '{1,2,3}', '1 day 02:03:04', '192.168.0.1/24', '[1,5)', 12.34,
        '2024-03-01 00:00:00+00');`);
    const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "types" };
    const r = await runMain(["sync", "--once"], db.env(env));
    assertEquals(r.code, 0, r.stderr);
    const path = `${db.dir}/lake/warehouse.duckdb`;
    const types = await duckRows(
      path,
      `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_name = 'public_types' ORDER BY ordinal_position`,
    );
    assertEquals(Object.fromEntries(types.map((x) => [x.c, x.t])), {
      id: "BIGINT",
      s: "SMALLINT",
      i: "INTEGER",
      b: "BIGINT",
      n: "DECIMAL(10,3)",
      n_free: "VARCHAR",
      n_wide: "VARCHAR",
      r: "FLOAT",
      d: "DOUBLE",
      t: "VARCHAR",
      vc: "VARCHAR",
      c: "VARCHAR",
      flag: "BOOLEAN",
      day: "DATE",
      tod: "TIME",
      todz: "TIME WITH TIME ZONE",
      ts: "TIMESTAMP",
      tstz: "TIMESTAMP WITH TIME ZONE",
      u: "UUID",
      j: "JSON",
      jb: "JSON",
      raw: "BLOB",
      m: "VARCHAR",
      dom: "INTEGER",
      arr: "VARCHAR",
      iv: "VARCHAR",
      net: "VARCHAR",
      rng: "VARCHAR",
      money_col: "VARCHAR",
      updated_at: "TIMESTAMP WITH TIME ZONE",
    });
    const rows = await duckRows(
      path,
      `SELECT s, i, b::VARCHAR b, n::VARCHAR n, n_free, n_wide, r, d, t, vc, c, flag, day::VARCHAR AS "day",
              tod::VARCHAR tod, todz::VARCHAR todz, ts::VARCHAR ts, tstz::VARCHAR tstz, u::VARCHAR u,
              j::VARCHAR j, jb::VARCHAR jb, hex(raw) raw, m, dom, arr, iv, net, rng, money_col
       FROM public_types`,
    );
    assertEquals(rows[0], {
      s: -32768,
      i: 2147483647,
      b: "9223372036854775807",
      n: "-1234567.891",
      n_free: "3.14159265358979323846264338327950288419716939937510",
      n_wide: "123456789012345678901234567890123456789012345678.99",
      r: 1.5,
      d: 0.1,
      t: "tëxt",
      vc: "abc",
      c: "ab ",
      flag: true,
      day: "2024-02-29",
      tod: "23:59:59.999999",
      todz: "10:00:00+00", // the same instant; DuckDB keeps it at offset +00
      ts: "2024-02-29 23:59:59.999999",
      tstz: "2024-02-29 23:59:59.999999+00",
      u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      j: '{"a": [1, 2]}',
      jb: '{"b": {"c": null}}',
      raw: "00FF10",
      m: "happy",
      dom: 42,
      arr: "{1,2,3}",
      iv: "1 day 02:03:04",
      net: "192.168.0.1/24",
      rng: "[1,5)",
      money_col: "$12.34",
    });
  } finally {
    await db.cleanup();
  }
});

Deno.test("BC dates and timestamps arrive exactly; an out-of-range value fails loudly, never as NULL", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(
      `CREATE TABLE public.history (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.history OWNER TO ${db.user};
      INSERT INTO public.history (id, d, ts, tstz) VALUES
        (1, '4713-01-01 BC', '0044-03-15 12:00:00 BC', '0044-03-15 12:00:00.5+00 BC'),
        (2, '2024-02-29', '2024-02-29 00:00:00', 'infinity');`,
    );
    const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "history" };
    const r = await runMain(["sync", "--once"], db.env(env));
    assertEquals(r.code, 0, r.stderr);
    const rows = await duckRows(
      `${db.dir}/lake/warehouse.duckdb`,
      `SELECT id, d::VARCHAR AS d, ts::VARCHAR AS ts, tstz::VARCHAR AS tstz FROM public_history ORDER BY id`,
    );
    assertEquals(rows, [
      {
        id: 1,
        d: "4713-01-01 (BC)",
        ts: "0044-03-15 (BC) 12:00:00",
        tstz: "0044-03-15 (BC) 12:00:00.5+00",
      },
      { id: 2, d: "2024-02-29", ts: "2024-02-29 00:00:00", tstz: "infinity" },
    ]);
    await db.sql("INSERT INTO public.history (id, tstz) VALUES (3, '294260-01-01 00:00:00+00')");
    const bad = await runMain(["sync", "--once"], db.env(env));
    assertEquals(bad.code, 1, bad.stderr);
    assertMatch(bad.stderr, /error DUCKDB_ERROR: .*294260/);
    const count = await duckRows(
      `${db.dir}/lake/warehouse.duckdb`,
      "SELECT count(*)::VARCHAR AS n FROM public_history",
    );
    assertEquals(count[0]!.n, "2", "nothing half-applied");
  } finally {
    await db.cleanup();
  }
});
