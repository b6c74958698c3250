// The type mapping (docs/types.md), checked value by value against a real PostgreSQL
// and a real DuckDB file: every listed type arrives as the documented DuckDB
// type with its exact value.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

Deno.test("type mapping: each Postgres type lands as the documented DuckDB type, exactly", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
      CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
      CREATE DOMAIN int_list AS integer[];
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
        a_t text[], a_n numeric(10,2)[], a_m mood[], dom_arr int_list, a_dom positive_int[],
        net_c cidr, mac macaddr, x xml, tsv tsvector, pt point, bits bit(4),
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
        '{"a,b",NULL,""}', '{1.5,-0.01}', '{happy,NULL}', '{4,5}', '{6}',
        '10.0.0.0/8', '08:00:2b:01:02:03', '<a b="c">é</a>', 'a fat cat', '(1.5,-2)', B'1010',
        '2024-03-01 00:00:00+00');`);
    const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "types" };
    const r = await runMain(["sync", "--once"], db.env(env));
    assertEquals(r.code, 0, r.stderr);
    const path = db.duckPath;
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
      arr: "INTEGER[]",
      iv: "INTERVAL",
      net: "VARCHAR",
      rng: "VARCHAR",
      money_col: "VARCHAR",
      a_t: "VARCHAR[]",
      a_n: "DECIMAL(10,2)[]",
      a_m: "VARCHAR[]",
      dom_arr: "INTEGER[]",
      a_dom: "INTEGER[]",
      net_c: "VARCHAR",
      mac: "VARCHAR",
      x: "VARCHAR",
      tsv: "VARCHAR",
      pt: "VARCHAR",
      bits: "VARCHAR",
      updated_at: "TIMESTAMP WITH TIME ZONE",
    });
    const rows = await duckRows(
      path,
      `SELECT s, i, b::VARCHAR b, n::VARCHAR n, n_free, n_wide, r, d, t, vc, c, flag, day::VARCHAR AS "day",
              tod::VARCHAR tod, todz::VARCHAR todz, ts::VARCHAR ts, tstz::VARCHAR tstz, u::VARCHAR u,
              j::VARCHAR j, jb::VARCHAR jb, hex(raw) raw, m, dom, arr, iv::VARCHAR iv, net, rng, money_col,
              a_t, a_n::VARCHAR a_n, a_m, dom_arr, a_dom, net_c, mac, x, tsv, pt, bits
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
      arr: [1, 2, 3],
      iv: "1 day 02:03:04",
      net: "192.168.0.1/24",
      rng: "[1,5)",
      money_col: "$12.34",
      a_t: ["a,b", null, ""],
      a_n: "[1.50, -0.01]",
      a_m: ["happy", null],
      dom_arr: [4, 5],
      a_dom: [6], // an array of a domain: a list of the domain's base type
      net_c: "10.0.0.0/8",
      mac: "08:00:2b:01:02:03",
      x: '<a b="c">é</a>',
      tsv: "'a' 'cat' 'fat'",
      pt: "(1.5,-2)",
      bits: "1010",
    });
  }));

Deno.test("BC dates and timestamps arrive exactly; an out-of-range value fails loudly, never as NULL", () =>
  withDb({ demo: false }, async (db) => {
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
      db.duckPath,
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
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(bad.stderr, /error VALUE_UNSUPPORTED: .*"tstz".*'294260-01-01 00:00:00\+00'/);
    const count = await duckRows(
      db.duckPath,
      "SELECT count(*)::VARCHAR AS n FROM public_history",
    );
    assertEquals(count[0]!.n, "2", "nothing half-applied");
  }));

Deno.test("intervals, times and arrays arrive exactly; a multi-dimensional array fails loudly", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(
      `CREATE TABLE public.exact (id int PRIMARY KEY, iv interval, tod time, todz timetz,
        a_i8 bigint[], a_d double precision[], a_b boolean[], a_u uuid[], a_day date[],
        a_c char(2)[], a_vc varchar(10)[], a_free numeric[], a_ts timestamptz[], a_iv interval[],
        updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.exact OWNER TO ${db.user};
      INSERT INTO public.exact (id, iv, tod, todz, a_i8, a_d, a_b, a_u, a_day, a_c, a_vc, a_free,
                                a_ts, a_iv) VALUES
        (1, '1 year 2 mons 3 days 04:05:06.789', '24:00:00', '12:00:00+02',
         '{9223372036854775807,NULL}', '{0.1,NaN,-Infinity,1e-07}', '{t,f,NULL}',
         '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{2024-02-29,0044-03-15 BC,infinity}',
         ARRAY['a', 'ab'], ARRAY['x"y', '{}', E'back\\\\slash', 'a,b'],
         '{3.14159265358979323846264338327950288419716939937510,NaN}',
         '{"2024-01-01 00:00:00+00"}', '{"1 day","-00:00:01"}'),
        (2, '-1 day +02:00', '00:00:00', '01:00:00.5+02', '{}', '{}', '{}', '{}', '{}', '{}',
         ARRAY[NULL, '', 'NULL'], '{}', '{}', '{}'),
        (3, '1 mon -3 days', '23:59:59.999999', '24:00:00-15:59:59', NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL),
        (4, '-2562047788:00:54.775807', NULL, '24:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL),
        (5, '-178956970 years -8 mons', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL);`,
    );
    const env = { POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "exact" };
    const r = await runMain(["sync", "--once"], db.env(env));
    assertEquals(r.code, 0, r.stderr);
    const path = db.duckPath;
    const types = await duckRows(
      path,
      `SELECT column_name AS c, data_type AS t FROM information_schema.columns
       WHERE table_name = 'public_exact' AND column_name LIKE 'a\\_%' ESCAPE '\\'
       ORDER BY ordinal_position`,
    );
    assertEquals(Object.fromEntries(types.map((x) => [x.c, x.t])), {
      a_i8: "BIGINT[]",
      a_d: "DOUBLE[]",
      a_b: "BOOLEAN[]",
      a_u: "UUID[]",
      a_day: "DATE[]",
      a_c: "VARCHAR[]",
      a_vc: "VARCHAR[]",
      a_free: "VARCHAR[]",
      a_ts: "VARCHAR[]",
      a_iv: "VARCHAR[]",
    });
    const rows = await duckRows(
      path,
      `SELECT id, iv, tod::VARCHAR AS tod, todz::VARCHAR AS todz, CAST(a_i8 AS VARCHAR[]) AS a_i8,
              CAST(a_d AS VARCHAR[]) AS a_d, a_b, CAST(a_u AS VARCHAR[]) AS a_u,
              CAST(a_day AS VARCHAR[]) AS a_day, a_c, a_vc, a_free, a_ts, a_iv
       FROM public_exact ORDER BY id`,
    );
    const nulls = {
      a_i8: null,
      a_d: null,
      a_b: null,
      a_u: null,
      a_day: null,
      a_c: null,
      a_vc: null,
      a_free: null,
      a_ts: null,
      a_iv: null,
    };
    assertEquals(rows, [
      {
        id: 1,
        iv: { months: 14, days: 3, micros: "14706789000" },
        tod: "24:00:00",
        todz: "10:00:00+00",
        a_i8: ["9223372036854775807", null],
        a_d: ["0.1", "nan", "-inf", "1e-07"],
        a_b: [true, false, null],
        a_u: ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
        a_day: ["2024-02-29", "0044-03-15 (BC)", "infinity"],
        a_c: ["a ", "ab"], // char(2) keeps its padding
        a_vc: ['x"y', "{}", "back\\slash", "a,b"],
        a_free: ["3.14159265358979323846264338327950288419716939937510", "NaN"],
        a_ts: ["2024-01-01 00:00:00+00"],
        a_iv: ["1 day", "-00:00:01"],
      },
      {
        id: 2,
        iv: { months: 0, days: -1, micros: "7200000000" },
        tod: "00:00:00",
        todz: "23:00:00.5+00",
        a_i8: [],
        a_d: [],
        a_b: [],
        a_u: [],
        a_day: [],
        a_c: [],
        a_vc: [null, "", "NULL"],
        a_free: [],
        a_ts: [],
        a_iv: [],
      },
      {
        id: 3,
        iv: { months: 1, days: -3, micros: "0" },
        tod: "23:59:59.999999",
        todz: "15:59:59+00",
        ...nulls,
      },
      {
        id: 4,
        iv: { months: 0, days: 0, micros: "-9223372036854775807" },
        tod: null,
        todz: "00:00:00+00", // 24:00 UTC is the next day's 00:00
        ...nulls,
      },
      {
        id: 5,
        iv: { months: -2147483648, days: 0, micros: "0" },
        tod: null,
        todz: null,
        ...nulls,
      },
    ]);
    await db.sql(
      "INSERT INTO public.exact (id, a_i8) VALUES (6, '{{1,2},{3,4}}'); UPDATE public.exact SET iv = '1 day', updated_at = now() WHERE id = 1",
    );
    const bad = await runMain(["sync", "--once"], db.env(env));
    assertEquals(bad.code, 1, bad.stderr);
    assertMatch(bad.stderr, /error DUCKDB_ERROR: .*"a_i8".*multi-dimensional array/);
    const after = await duckRows(
      path,
      "SELECT count(*)::VARCHAR AS n, max(iv)::VARCHAR AS iv FROM public_exact WHERE id = 1",
    );
    assertEquals(
      after[0],
      { n: "1", iv: "1 year 2 months 3 days 04:05:06.789" },
      "nothing applied",
    );
  }));

Deno.test("values of several megabytes (text with quotes and newlines, bytea) arrive exactly", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`
      CREATE TABLE public.big_values (
        id int PRIMARY KEY, t text, raw bytea, updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.big_values OWNER TO ${db.user};
      INSERT INTO public.big_values (id, t, raw) VALUES
        (1, repeat('a "quoted", line' || chr(10), 400000), decode(repeat('00ff', 1500000), 'hex')),
        (2, 'small', NULL);`);
    const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "big_values" });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const pg = await db.sql(
      "SELECT string_agg(id || ':' || length(t) || ':' || md5(t) || ':' || coalesce(md5(raw), '-'), ',' ORDER BY id) FROM public.big_values",
    );
    const duck = await duckRows(
      db.duckPath,
      `SELECT string_agg(id || ':' || length(t) || ':' || md5(t) || ':' || coalesce(md5(raw), '-'), ',' ORDER BY id) AS v
       FROM public_big_values`,
    );
    assertEquals(duck[0]!.v, pg);
    assertMatch(pg, /^1:6800000:/);
  }));
