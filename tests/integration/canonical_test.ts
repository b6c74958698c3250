// The canonical text of type_map.ts checked against a real sync: a table with
// every mapped type and its edge cases goes through main.ts into a DuckDB file;
// then each value's pgCanonical (computed in Postgres) and duckCanonical
// (computed in DuckDB) must agree byte for byte, and so must the md5 of each
// column. The mappings are built from the real catalog, as the sync builds them.

import pg from "pg";
import { DuckDBInstance } from "@duckdb/node-api";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, duckRows, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";
import {
  type ColumnMapping,
  mapColumn,
  type SourceColumn,
  type TypeMapOptions,
} from "../../src/core/type_map.ts";
import { copyQueryToCsv, describeTable } from "../../src/io/postgres/mod.ts";
import { BatchConverter } from "../../src/io/duckdb/parquet_batch.ts";
import { quoteIdent } from "../../src/core/sql.ts";

const cluster = await sharedCluster();

/** The product's own catalog reading (src/io/postgres/mod.ts describeTable), for one table. */
async function sourceColumns(
  client: pg.Client,
  table: string,
  _withElements = false,
): Promise<SourceColumn[]> {
  const [schema, name] = table.includes(".") ? table.split(".") : ["public", table];
  const description = await describeTable(
    client,
    { schema: schema!, table: name!, source: `${schema}.${name}` },
    "test",
  );
  return [...description.columns];
}

async function withClient<T>(db: TestDb, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await db.client();
  try {
    // The sync's session (src/io/postgres/mod.ts SESSION_SETUP).
    await client.query(
      "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3",
    );
    return await f(client);
  } finally {
    await client.end();
  }
}

/** Each column: its type and its values (SQL literals), one row per value. */
const COLUMNS: Record<string, [string, string[]]> = {
  s: ["smallint", ["-32768", "32767", "0"]],
  i: ["integer", ["-2147483648", "2147483647"]],
  b: ["bigint", ["-9223372036854775808", "9223372036854775807", "9007199254740993"]],
  o: ["oid", ["0", "4294967295"]],
  n: ["numeric(10,3)", ["-1234567.891", "0", "1.5", "-0.001", "9999999.999", "1.100"]],
  n_int: ["numeric(5)", ["12345", "-1"]],
  n_frac: ["numeric(3,3)", ["0.5", "-0.999"]],
  n38: ["numeric(38,10)", ["1234567890123456789012345678.0123456789", "-0.0000000001"]],
  n_free: ["numeric", [
    "3.14159265358979323846264338327950288419716939937510",
    "1.000",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    "1e-400",
    "-0.000",
  ]],
  n_wide: ["numeric(50,2)", ["123456789012345678901234567890123456789012345678.99", "-0.50"]],
  n_neg: ["numeric(5,-2)", ["12345"]],
  r: ["real", [
    "1.5",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    "'-0'",
    "1e-7",
    "1e20",
    "3.4028235e38",
    "1.1",
    "1e-45",
  ]],
  d: ["double precision", [
    "0.1",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    "'-0'",
    "1e-7",
    "1e20",
    "1.7976931348623157e308",
    "5e-324",
    "0.30000000000000004",
    "123456789012345680000",
    "'0'::float8 * 'Infinity'", // a NaN with the sign bit set
  ]],
  flag: ["boolean", ["true", "false"]],
  t: ["text", [
    "'tëxt'",
    "''",
    "'emoji 😀'",
    "E'line\\nbreak\\r\\n'",
    `'quote " comma , brace {} [[ ]]'`,
    "E'back\\\\slash'",
    "'NULL'",
    "'combining e\u0301'",
    "E'tab\\t and \\x01 control'",
    "'  spaces  '",
    "'line\u2028separator'",
  ]],
  vc: ["varchar(5)", ["'abc'", "''"]],
  c: ["char(3)", ["'ab'", "''", "'abc'"]],
  nm: ["name", ["'some_name'"]],
  day: ["date", [
    "'2024-02-29'",
    "'4713-01-01 BC'",
    "'0001-01-01'",
    "'0001-12-31 BC'",
    "'infinity'",
    "'-infinity'",
    "'5874897-12-31'",
    "'1970-01-01'",
  ]],
  ts: ["timestamp", [
    "'2024-02-29 23:59:59.999999'",
    "'0044-03-15 12:00:00 BC'",
    "'1970-01-01 00:00:00'",
    "'1969-12-31 23:59:59.999999'",
    "'infinity'",
    "'-infinity'",
    "'4713-01-01 00:00:00.000001 BC'",
    "'294246-12-31 23:59:59.999999'",
  ]],
  tstz: ["timestamptz", [
    "'2024-02-29 23:59:59.999999+00'",
    "'2024-06-01 12:00:00+05:30'",
    "'0044-03-15 12:00:00.5+00 BC'",
    "'infinity'",
    "'-infinity'",
    "'1900-01-01 00:00:00.000001+00'",
  ]],
  tod: ["time", ["'00:00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.789'"]],
  todz: ["timetz", [
    "'12:00:00+02'",
    "'01:00:00.5+02'",
    "'24:00:00+00'",
    "'00:00:00-15:59'",
    "'24:00:00-15:59:59'",
    "'23:59:59.999999+15:59:59'",
    "'00:00:00+00'",
  ]],
  iv: ["interval", [
    "'1 year 2 mons 3 days 04:05:06.789'",
    "'-1 day +02:00'",
    "'1 mon -3 days'",
    "'-00:00:00.000001'",
    "'100:00:00'",
    "'-178000000 years'",
    "'2562047788:00:54.775807'",
    "'-2562047788:00:54.775807'",
    "'0'",
    "'-1 year -2 mons +3 days -04:05:06.5'",
    "'2147483647 days'",
    "'-2147483648 days'",
    "'-178956970 years -8 mons'",
  ]],
  u: ["uuid", [
    "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    "'00000000-0000-0000-0000-000000000000'",
    "'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'",
  ]],
  j: ["json", [
    `'{"a": [1, 2]}'`,
    `'  {"b":1,"b":2}  '`,
    `'"\\u00e9 é"'`,
    "'[]'",
    "'null'",
    "'1e400'",
    `E'{\\n  "x": "tab\\\\t"\\n}'`,
  ]],
  jb: ["jsonb", [`'{"b": {"c": null}}'`, `'{"a":1, "a":2}'`, `'"\\\\"'`, "'null'", "'1.50'"]],
  raw: ["bytea", ["'\\x00ff10'", "'\\x'", "decode('DEADBEEF', 'hex')"]],
  m: ["mood", ["'happy'", "'sad'"]],
  dom: ["positive_int", ["42"]],
  dom_num: ["price", ["12.5", "0"]],
  dom_arr: ["int_list", ["'{1,2}'", "'{}'"]],
  a_i2: ["smallint[]", ["'{1,NULL,-32768}'", "'{}'"]],
  a_i4: ["integer[]", ["'{1,2,3}'", "'{}'", "'{NULL}'", "'[0:1]={7,8}'"]],
  a_i8: ["bigint[]", ["'{9223372036854775807,-9223372036854775808}'"]],
  a_r: ["real[]", ["'{1.1,NaN,-Infinity,-0,1e-45}'"]],
  a_d: ["double precision[]", [
    "'{0.1,NaN,Infinity,-0,1e-07,1e+20,5e-324,1.7976931348623157e308}'",
  ]],
  a_b: ["boolean[]", ["'{t,f,NULL}'"]],
  a_t: ["text[]", [
    `ARRAY['a,b', 'q"x', '{}', E'back\\\\slash', NULL, '', 'NULL', E'tab\\there', 'é😀', E'\\x01\\x1f', 'null', '[[', ' spaced ', 'e\u0301']`,
    "'{}'",
    "ARRAY[NULL]::text[]",
    "ARRAY['']",
  ]],
  a_vc: ["varchar(10)[]", [`'{abc,""}'`]],
  a_c: ["char(2)[]", ["ARRAY['a', 'ab', NULL, '']::char(2)[]"]],
  a_u: ["uuid[]", ["'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'"]],
  a_n: ["numeric(10,2)[]", ["'{1.5,-0.01,12345678.90,NULL}'"]],
  a_nfree: ["numeric[]", [
    "'{3.14159265358979323846264338327950288419716939937510,NaN,1.000,-Infinity}'",
  ]],
  a_day: ["date[]", ["'{2024-02-29,0044-03-15 BC,infinity,-infinity,NULL}'"]],
  a_m: ["mood[]", ["'{happy,sad,NULL}'"]],
  a_dom: ["positive_int[]", ["'{1,2}'"]],
  a_ts: ["timestamptz[]", [`'{"2024-01-01 00:00:00+00","0044-03-15 12:00:00+00 BC"}'`]],
  a_j: ["jsonb[]", [`ARRAY['{"a": 1}'::jsonb, 'null', NULL]`]],
  a_iv: ["interval[]", [`'{"1 day","-00:00:01"}'`]],
  a_raw: ["bytea[]", ["ARRAY['\\x00ff'::bytea, '\\x']"]],
  net: ["inet", ["'192.168.0.1/24'", "'::1'", "'192.168.0.1'"]],
  net_c: ["cidr", ["'10.0.0.0/8'"]],
  mac: ["macaddr", ["'08:00:2b:01:02:03'"]],
  rng: ["int4range", ["'[1,5)'", "'empty'"]],
  tsr: ["tstzrange", ["'[2024-01-01,2024-02-01)'"]],
  money_col: ["money", ["12.34", "-1"]],
  x: ["xml", [`'<a b="c">é</a>'`]],
  tsv: ["tsvector", ["'a fat cat'"]],
  pt: ["point", ["'(1.5,-2)'"]],
  bx: ["box", ["'((0,0),(1,1))'"]],
  bits: ["bit(4)", ["B'1010'"]],
  vb: ["varbit", ["B'1'"]],
};

const TYPES_SQL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
  CREATE DOMAIN price AS numeric(8,2);
  CREATE DOMAIN int_list AS integer[];`;

/** A table with an id, an updated_at cursor and `columns`, one row per value index. */
function tableSql(
  db: TestDb,
  table: string,
  columns: Record<string, [string, string[]]>,
): string {
  const names = Object.keys(columns);
  const rows = Math.max(...Object.values(columns).map(([, values]) => values.length));
  const inserts: string[] = [];
  for (let row = 0; row < rows; row++) {
    const values = names.map((n) => columns[n]![1][row] ?? "NULL");
    inserts.push(`(${row + 1}, ${values.join(", ")})`);
  }
  // One row of NULLs everywhere.
  inserts.push(`(${rows + 1}, ${names.map(() => "NULL").join(", ")})`);
  return `
    CREATE TABLE public.${table} (id bigint PRIMARY KEY,
      ${names.map((n) => `${quoteIdent(n)} ${columns[n]![0]}`).join(", ")},
      updated_at timestamptz NOT NULL DEFAULT '2024-03-01 00:00:00+00');
    ALTER TABLE public.${table} OWNER TO ${db.user};
    INSERT INTO public.${table} (id, ${names.map(quoteIdent).join(", ")}) VALUES
      ${inserts.join(",\n      ")};`;
}

interface Canonical {
  /** Per column: the canonical texts in id order. */
  readonly values: Record<string, (string | null)[]>;
  /** Per column: md5 over the canonical texts in id order. */
  readonly md5: Record<string, string>;
}

/** md5 over "<md5 of the canonical text or N>," per row, in id order. */
function md5Sql(canonical: string, aggregate: (inner: string) => string): string {
  return `md5(${aggregate(`coalesce(md5(${canonical}), 'N')`)})`;
}

async function pgCanonical(
  db: TestDb,
  table: string,
  mappings: readonly ColumnMapping[],
): Promise<Canonical> {
  return await withClient(db, async (client) => {
    const values = (await client.query({
      text: `SELECT ${
        mappings.map((m) => `${m.pgCanonical} AS ${quoteIdent(m.name)}`).join(", ")
      } FROM public.${table} AS src ORDER BY src.id`,
      rowMode: "array",
    })).rows as (string | null)[][];
    const md5 = (await client.query({
      text: `SELECT ${
        mappings.map((m) =>
          md5Sql(m.pgCanonical, (inner) => `string_agg(${inner}, ',' ORDER BY id)`)
        ).join(", ")
      } FROM public.${table}`,
      rowMode: "array",
    })).rows[0] as string[];
    return byColumn(mappings, values, md5);
  });
}

async function duckCanonical(
  path: string,
  table: string,
  mappings: readonly ColumnMapping[],
): Promise<Canonical> {
  const select = mappings.map((m, i) => `${m.duckCanonical} AS c${i}`).join(", ");
  const rows = await duckRows(path, `SELECT ${select} FROM ${table} ORDER BY id`);
  const values = rows.map((r) => mappings.map((_, i) => r[`c${i}`] as string | null));
  const md5Row = (await duckRows(
    path,
    `SELECT ${
      mappings.map((m, i) =>
        `${md5Sql(m.duckCanonical, (inner) => `string_agg(${inner}, ',' ORDER BY id)`)} AS c${i}`
      ).join(", ")
    } FROM ${table}`,
  ))[0]!;
  return byColumn(mappings, values, mappings.map((_, i) => String(md5Row[`c${i}`])));
}

function byColumn(
  mappings: readonly ColumnMapping[],
  rows: (string | null)[][],
  md5: string[],
): Canonical {
  return {
    values: Object.fromEntries(mappings.map((m, i) => [m.name, rows.map((r) => r[i] ?? null)])),
    md5: Object.fromEntries(mappings.map((m, i) => [m.name, md5[i]!])),
  };
}

function assertSameCanonical(
  pgSide: Canonical,
  duckSide: Canonical,
  mappings: readonly ColumnMapping[],
): void {
  for (const m of mappings) {
    const a = pgSide.values[m.name]!;
    const b = duckSide.values[m.name]!;
    assertEquals(b.length, a.length, `${m.name}: row count`);
    for (let row = 0; row < a.length; row++) {
      assertEquals(
        b[row],
        a[row],
        `${m.name} (${m.pgType} -> ${m.duckType}), row ${row + 1}: DuckDB ${m.duckCanonical}`,
      );
    }
    assertEquals(duckSide.md5[m.name], pgSide.md5[m.name], `${m.name}: md5`);
  }
}

Deno.test("canonical text: Postgres and DuckDB agree on every value of every mapped type", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`${TYPES_SQL}
      ALTER TYPE mood OWNER TO ${db.user};
      ${tableSql(db, "canon", COLUMNS)}`);
    const r = await runMain(
      ["sync", "--once"],
      db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "canon" }),
    );
    assertEquals(r.code, 0, r.stderr);
    const columns = await withClient(db, (c) => sourceColumns(c, "public.canon"));
    const mappings = columns.map((c) => mapColumn(c));
    const path = `${db.dir}/lake/warehouse.duckdb`;
    // Every column landed as its mapped type (the canonical compares real values).
    const types = await duckRows(
      path,
      `SELECT column_name AS c, data_type AS t FROM information_schema.columns
       WHERE table_name = 'public_canon' ORDER BY ordinal_position`,
    );
    assertEquals(
      types.map((t) => [t.c, t.t]),
      mappings.map((m) => [m.name, m.duckType]),
    );
    const pgSide = await pgCanonical(db, "canon", mappings);
    const duckSide = await duckCanonical(path, "public_canon", mappings);
    assertSameCanonical(pgSide, duckSide, mappings);
    // Spot checks of the canonical forms themselves.
    assertEquals(pgSide.values.ts![1], "-63517780800000000"); // 0044-03-15 12:00:00 BC, proleptic Gregorian
    assertEquals(pgSide.values.day![4], "infinity");
    assertEquals(pgSide.values.d![1], "NaN");
    assertEquals(pgSide.values.d![11], "NaN", "a negative NaN is still NaN");
    assertEquals(pgSide.values.d![4], "0"); // -0: DuckDB keeps no zero's sign for sure
    assertEquals(pgSide.values.iv![1], "0 months -1 days 7200000000 microseconds");
    assertEquals(pgSide.values.a_t!.slice(1, 4), ["", "N", "0:"]); // {}, {NULL}, {""}
    assertEquals(pgSide.values.c![1], "   ");
    assertEquals(pgSide.values.t![1], "");
    assertEquals(pgSide.values.t![pgSide.values.t!.length - 1], null);
  } finally {
    await db.cleanup();
  }
});

/** COPY `select` of a table into `path` as CSV, as a batch is streamed. */
async function copyCsv(client: pg.Client, sql: string, path: string): Promise<void> {
  await copyQueryToCsv(client, sql, path);
}

let pipelineRuns = 0;

/**
 * The sync's data path with explicit options (main.ts has no setting for them
 * yet): COPY the mapped select, convert the CSV with the engine's
 * BatchConverter, then upsert the Parquet file into a typed DuckDB table.
 */
async function pipeline(
  db: TestDb,
  table: string,
  options: TypeMapOptions,
  withElements = false,
): Promise<{ path: string; mappings: ColumnMapping[] }> {
  const columns = await withClient(db, (c) => sourceColumns(c, `public.${table}`, withElements));
  const mappings = columns.map((c) => mapColumn(c, options));
  const run = `${db.dir}/${table}-${++pipelineRuns}`;
  const csv = `${run}.csv`;
  const parquet = `${run}.parquet`;
  await withClient(db, (client) =>
    copyCsv(
      client,
      `SELECT ${mappings.map((m) => m.pgSelect).join(", ")} FROM public.${table}`,
      csv,
    ));
  const converter = await BatchConverter.create();
  try {
    await converter.csvToParquet(csv, parquet, mappings, { schema: "public", table });
  } finally {
    converter.close();
  }
  const path = `${run}.duckdb`;
  const instance = await DuckDBInstance.create(path);
  try {
    const connection = await instance.connect();
    await connection.run(
      `CREATE TABLE ${table} (${
        mappings.map((m) => `${quoteIdent(m.name)} ${m.duckType}`).join(", ")
      }, PRIMARY KEY (id))`,
    );
    const list = mappings.map((m) => quoteIdent(m.name)).join(", ");
    await connection.run(
      `INSERT OR REPLACE INTO ${table} (${list}) SELECT ${list} FROM read_parquet('${parquet}')`,
    );
    connection.closeSync();
  } finally {
    instance.closeSync();
  }
  return { path, mappings };
}

const WIDE: Record<string, [string, string[]]> = {
  n_free: ["numeric", [
    "0.1",
    "1e20",
    "1e-7",
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    "123456789012345678901234567890.123",
    "1.7976931348623157e308",
    "5e-324",
    "-0.000",
    "3.14159265358979323846264338327950288419716939937510",
  ]],
  n_wide: ["numeric(50,2)", [
    "123456789012345678901234567890123456789012345678.99",
    "-0.50",
    "0.10",
  ]],
  n_dom: ["wide_price", ["1234567890123456789012345678901234567890.5"]],
  a_nfree: ["numeric[]", ["'{0.1,NaN,-Infinity,1e20,12345678901234567890.1234567890123}'"]],
};

Deno.test("canonical text: wide numeric as DOUBLE (opt-in) compares the double values", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`CREATE DOMAIN wide_price AS numeric(45,2);
      ${tableSql(db, "wide", WIDE)}`);
    const { path, mappings } = await pipeline(db, "wide", { wideNumeric: "double" });
    assertEquals(
      mappings.map((m) => [m.name, m.duckType]),
      [
        ["id", "BIGINT"],
        ["n_free", "DOUBLE"],
        ["n_wide", "DOUBLE"],
        ["n_dom", "DOUBLE"],
        ["a_nfree", "DOUBLE[]"],
        ["updated_at", "TIMESTAMP WITH TIME ZONE"],
      ],
    );
    const pgSide = await pgCanonical(db, "wide", mappings);
    const duckSide = await duckCanonical(path, "wide", mappings);
    assertSameCanonical(pgSide, duckSide, mappings);
    const doubles = await duckRows(path, "SELECT n_free::VARCHAR AS v FROM wide ORDER BY id");
    assertEquals(doubles.slice(0, 3).map((r) => r.v), ["0.1", "1e+20", "1e-07"]);
    // The same numeric columns, default mode: exact text.
    const exact = await pipeline(db, "wide", {});
    assertEquals(exact.mappings[1]!.duckType, "VARCHAR");
    assertEquals(exact.mappings[4]!.duckType, "VARCHAR[]");
    assertSameCanonical(
      await pgCanonical(db, "wide", exact.mappings),
      await duckCanonical(exact.path, "wide", exact.mappings),
      exact.mappings,
    );
    // Beyond double's range: Postgres refuses to convert (never Infinity or 0).
    await db.sql("INSERT INTO public.wide (id, n_free) VALUES (100, 1e400)");
    let error: unknown = null;
    try {
      await pipeline(db, "wide", { wideNumeric: "double" });
    } catch (e) {
      error = e;
    }
    assert(error instanceof Error, "a numeric beyond double's range fails");
    assertMatch(error.message, /out of range for type double precision/);
  } finally {
    await db.cleanup();
  }
});

const DOMAIN_ARRAYS: Record<string, [string, string[]]> = {
  a_pos: ["positive_int[]", ["'{1,NULL,2147483647}'", "'{}'"]],
  a_price: ["price[]", ["'{12.5,-0.01,NULL}'"]],
  a_code: ["code[]", ["ARRAY['a', 'ab', NULL]::code[]"]],
  a_day: ["day_dom[]", ["'{2024-02-29,0044-03-15 BC,infinity}'"]],
  a_mood: ["mood[]", ["'{happy,NULL}'"]],
  d_list: ["price_list", ["'{1.5,NULL}'"]],
};

Deno.test("canonical text: arrays of domains land typed given the element's base type", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`${TYPES_SQL}
      CREATE DOMAIN code AS char(2);
      CREATE DOMAIN day_dom AS date;
      CREATE DOMAIN price_list AS numeric(6,1)[];
      ${tableSql(db, "doms", DOMAIN_ARRAYS)}`);
    const { path, mappings } = await pipeline(db, "doms", {}, true);
    assertEquals(
      mappings.map((m) => [m.name, m.duckType]).slice(1, -1),
      [
        ["a_pos", "INTEGER[]"],
        ["a_price", "DECIMAL(8,2)[]"],
        ["a_code", "VARCHAR[]"],
        ["a_day", "DATE[]"],
        ["a_mood", "VARCHAR[]"],
        ["d_list", "DECIMAL(6,1)[]"],
      ],
    );
    assertSameCanonical(
      await pgCanonical(db, "doms", mappings),
      await duckCanonical(path, "doms", mappings),
      mappings,
    );
    const rows = await duckRows(
      path,
      "SELECT a_price::VARCHAR AS p, a_code AS c, CAST(a_day AS VARCHAR[]) AS d FROM doms WHERE id = 1",
    );
    assertEquals(rows[0], {
      p: "[12.50, -0.01, NULL]",
      c: ["a ", "ab", null],
      d: ["2024-02-29", "0044-03-15 (BC)", "infinity"],
    });
  } finally {
    await db.cleanup();
  }
});
