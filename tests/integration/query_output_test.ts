// `query --format table|csv|json` and the Query pane (through the engine host
// the worker runs) print every value of a real synced DuckDB file exactly:
// infinities, BC dates and timestamps in PostgreSQL's form, a leading U+FEFF,
// NaN, -0, REALs, blobs, intervals. The CSV reads back into PostgreSQL as the
// source's own values.

import { assertEquals } from "../support/assert.ts";
import { createTestDb, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";
import { loadConfig, secretsOf } from "../../src/core/config.ts";
import { EngineHost } from "../../src/host/engine_host.ts";
import type { WorkerEvent } from "../../src/host/protocol.ts";
import { resultLines } from "../../ui/result_table.ts";

const cluster = await sharedCluster();

const COLUMNS = "id, d, ts, tstz, t, r, f, n, nf, big, iv, tod, raw, a";
const TABLE = `(id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz, t text, r real,
  f float8, n numeric(10,2), nf numeric, big bigint, iv interval, tod time`;

async function specials(db: TestDb): Promise<Record<string, string>> {
  await db.sql(`
    CREATE TABLE public.specials ${TABLE}, raw bytea, a int[],
      updated_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00');
    ALTER TABLE public.specials OWNER TO ${db.user};
    INSERT INTO public.specials (${COLUMNS}) VALUES
      (1, 'infinity', 'infinity', 'infinity', E'\\uFEFFbom', 0.1, 'NaN', 12.50, 'NaN',
        9223372036854775807, '1 year 2 mons -3 days 04:05:06.5', '24:00:00', '\\x5c783431',
        '{1,NULL}'),
      (2, '-infinity', '-infinity', '-infinity', E'a,"b"\\nc', '-0', 'Infinity', -0.01, '-1e-20',
        -9223372036854775808, '-1 mons 00:00:00.000001', '00:00:00.000001', '\\x00ff27', '{}'),
      (3, '0001-01-01 BC', '0001-01-01 00:00:00 BC', '0044-03-15 12:00:00.5+00 BC', '',
        '-Infinity', '-0', 0, '3.14159265358979323846', 0, '0', '12:34:56', '', NULL),
      (4, '4713-01-01 BC', '0044-03-15 12:00:00.123456 BC', '0001-01-01 00:00:00+00 BC', NULL,
        3.4028235e38, 1e-300, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`);
  const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "specials" });
  const synced = await runMain(["sync", "--once"], env);
  assertEquals(synced.code, 0, synced.stderr);
  return env;
}

const SQL = `SELECT ${COLUMNS} FROM public_specials ORDER BY id`;

const CSV = [
  "id,d,ts,tstz,t,r,f,n,nf,big,iv,tod,raw,a",
  "1,infinity,infinity,infinity,\uFEFFbom,0.1,NaN,12.50,NaN,9223372036854775807," +
  '1 year 2 months -3 days 04:05:06.5,24:00:00,\\x5Cx41,"[1,null]"',
  '2,-infinity,-infinity,-infinity,"a,""b""\nc",-0,Infinity,-0.01,-0.00000000000000000001,' +
  "-9223372036854775808,-1 month 00:00:00.000001,00:00:00.000001,\\x00\\xFF\\x27,[]",
  '3,0001-01-01 BC,0001-01-01 00:00:00 BC,0044-03-15 12:00:00.5+00 BC,"",-Infinity,-0,0.00,' +
  '3.14159265358979323846,0,00:00:00,12:34:56,"",',
  "4,4713-01-01 BC,0044-03-15 12:00:00.123456 BC,0001-01-01 00:00:00+00 BC,,3.4028235e+38," +
  "1e-300,,,,,,,",
  "",
].join("\n");

const JSON_LINES = [
  '{"id":1,"d":"infinity","ts":"infinity","tstz":"infinity","t":"\uFEFFbom","r":0.1,"f":"NaN",' +
  '"n":"12.50","nf":"NaN","big":"9223372036854775807","iv":"1 year 2 months -3 days 04:05:06.5",' +
  '"tod":"24:00:00","raw":"\\\\x5Cx41","a":[1,null]}',
  '{"id":2,"d":"-infinity","ts":"-infinity","tstz":"-infinity","t":"a,\\"b\\"\\nc","r":-0,' +
  '"f":"Infinity","n":"-0.01","nf":"-0.00000000000000000001","big":"-9223372036854775808",' +
  '"iv":"-1 month 00:00:00.000001","tod":"00:00:00.000001","raw":"\\\\x00\\\\xFF\\\\x27","a":[]}',
  '{"id":3,"d":"0001-01-01 BC","ts":"0001-01-01 00:00:00 BC","tstz":"0044-03-15 12:00:00.5+00 BC",' +
  '"t":"","r":"-Infinity","f":-0,"n":"0.00","nf":"3.14159265358979323846","big":"0",' +
  '"iv":"00:00:00","tod":"12:34:56","raw":"","a":null}',
  '{"id":4,"d":"4713-01-01 BC","ts":"0044-03-15 12:00:00.123456 BC",' +
  '"tstz":"0001-01-01 00:00:00+00 BC","t":null,"r":3.4028235e+38,"f":1e-300,"n":null,"nf":null,' +
  '"big":null,"iv":null,"tod":null,"raw":null,"a":null}',
  "",
].join("\n");

/** The table's date and time columns (the rest is checked by the CSV and JSON texts). */
const TABLE_TIMES = [
  "id | d             | ts                            | tstz",
  "---+---------------+-------------------------------+----------------------------",
  "1  | infinity      | infinity                      | infinity",
  "2  | -infinity     | -infinity                     | -infinity",
  "3  | 0001-01-01 BC | 0001-01-01 00:00:00 BC        | 0044-03-15 12:00:00.5+00 BC",
  "4  | 4713-01-01 BC | 0044-03-15 12:00:00.123456 BC | 0001-01-01 00:00:00+00 BC",
  "(4 rows)",
  "",
].join("\n");

/** RFC 4180 fields; an unquoted empty field is NULL. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let end = i + 1;
      field = "";
      while (true) {
        const q = text.indexOf('"', end);
        field += text.slice(end, q);
        if (text[q + 1] === '"') {
          field += '"';
          end = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
    } else {
      const m = /[,\n]|$/.exec(text.slice(i))!;
      field = m.index === 0 ? null : text.slice(i, i + m.index);
      i += m.index;
    }
    row.push(field);
    if (text[i] === ",") i += 1;
    else {
      rows.push(row);
      row = [];
      i += 1;
    }
  }
  return rows;
}

Deno.test("query prints infinities, BC values, U+FEFF, NaN and -0 exactly in every format", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const env = await specials(db);
    const out = async (format: string, sql = SQL) => {
      const r = await runMain(["query", sql, "--format", format], env);
      assertEquals(r.code, 0, r.stderr);
      return r.stdout;
    };
    assertEquals(await out("csv"), CSV);
    assertEquals(await out("json"), JSON_LINES);
    assertEquals(
      await out("table", `SELECT id, d, ts, tstz FROM public_specials ORDER BY id`),
      TABLE_TIMES,
    );
    // A column name with a leading U+FEFF keeps it too.
    assertEquals(
      await out("csv", `SELECT t AS "\uFEFFt" FROM public_specials WHERE id = 1`),
      "\uFEFFt\n\uFEFFbom\n",
    );

    // The CSV reads back into PostgreSQL as the very values it came from.
    const client = await db.client();
    try {
      await client.query(`CREATE TEMP TABLE back ${TABLE})`);
      for (const fields of parseCsv(CSV).slice(1)) {
        const values = fields.slice(0, 12);
        await client.query(
          `INSERT INTO back VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})`,
          values,
        );
      }
      const texts = "id, d::text, ts::text, tstz::text, t, r::text, f::text, n::text, " +
        "nf::text, big::text, iv::text, tod::text";
      const source = await client.query(`SELECT ${texts} FROM public.specials ORDER BY id`);
      const readBack = await client.query(`SELECT ${texts} FROM back ORDER BY id`);
      assertEquals(readBack.rows, source.rows);
      assertEquals(source.rows.length, 4);
    } finally {
      await client.end();
    }
  } finally {
    await db.cleanup();
  }
});

Deno.test("the Query pane shows the same texts (the engine host runs the SQL)", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const env = await specials(db);
    const config = loadConfig((name) => env[name], {}, (path) => Deno.readTextFileSync(path));
    const events: WorkerEvent[] = [];
    const host = new EngineHost({
      config,
      secrets: secretsOf(config),
      demo: false,
      post: (event) => events.push(event),
    });
    const running = host.start();
    try {
      for (let i = 0; i < 200 && !events.some((e) => e.type === "ready"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await host.handle({
        type: "run_query",
        id: 1,
        sql: `SELECT id, d, ts, tstz, t, f FROM public_specials ORDER BY id`,
      });
    } finally {
      await host.handle({ type: "shutdown" });
      await running;
    }
    const result = events.find((e) => e.type === "query_result");
    if (result?.type !== "query_result") throw new Error(JSON.stringify(events.slice(-3)));
    const view = { ...result, elapsedMs: 0 };
    assertEquals(resultLines(view, 200, 10, 0), [
      "id │ d             │ ts                            │ tstz                        │ t       │ f",
      "───┼───────────────┼───────────────────────────────┼─────────────────────────────┼─────────┼─────────",
      " 1 │ infinity      │ infinity                      │ infinity                    │ \uFEFFbom    │ NaN",
      ' 2 │ -infinity     │ -infinity                     │ -infinity                   │ a,"b" c │ Infinity',
      " 3 │ 0001-01-01 BC │ 0001-01-01 00:00:00 BC        │ 0044-03-15 12:00:00.5+00 BC │         │ -0",
      " 4 │ 4713-01-01 BC │ 0044-03-15 12:00:00.123456 BC │ 0001-01-01 00:00:00+00 BC   │ NULL    │ 1e-300",
    ]);
  } finally {
    await db.cleanup();
  }
});

Deno.test("a column whose name starts with U+FEFF syncs again and verifies (no false drift)", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`CREATE TABLE public.b (id int PRIMARY KEY, "\uFEFFlabel" text,
        updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.b OWNER TO ${db.user};
      INSERT INTO public.b (id, "\uFEFFlabel") VALUES (1, 'x');`);
    const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "b" });
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    await db.sql(`UPDATE public.b SET "\uFEFFlabel" = 'y', updated_at = now() + interval '1 s'`);
    const second = await runMain(["sync", "--once"], env);
    assertEquals(second.code, 0, second.stderr);
    const query = await runMain(
      ["query", "SELECT * EXCLUDE (updated_at) FROM public_b", "--format", "csv"],
      env,
    );
    assertEquals(query.stdout, "id,\uFEFFlabel\n1,y\n");
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    assertEquals(verify.stdout.includes("not in DuckDB"), false, verify.stdout);
  } finally {
    await db.cleanup();
  }
});
