// The fuzz harness's own checks: the generator is deterministic by seed, the
// oracle's canonical forms agree across the two text renderings, and the oracle
// notices a row changed, removed or invented behind the program's back.

import { assert, assertEquals } from "../support/assert.ts";
import { createTestDb, duckWrite, runMain, sharedCluster } from "../support/fixture.ts";
import { KNOWN_DEFECT_CLASSES, NOT_FOR_METHOD, parseClassList } from "./classes.ts";
import { generateCase } from "./generate.ts";
import { compareTable, duckNorm, kindOf, parsePgArray, pgNorm } from "./oracle.ts";
import { Prng } from "./prng.ts";

Deno.test("generateCase() gives the same case for the same seed", () => {
  const exclude = parseClassList("known");
  const a = generateCase(7, { exclude });
  const b = generateCase(7, { exclude });
  assertEquals(JSON.stringify(a), JSON.stringify(b));
  assert(JSON.stringify(generateCase(8, { exclude })) !== JSON.stringify(a));
});

Deno.test("generateCase() leaves out excluded classes", () => {
  const exclude = parseClassList("cr,feff");
  for (let seed = 0; seed < 50; seed++) {
    const strings: string[] = [];
    JSON.stringify(generateCase(seed, { exclude }).ops, (_k, v) => {
      if (typeof v === "string") strings.push(v);
      return v;
    });
    assert(!strings.some((s) => s.includes("\r")), `seed ${seed} has a CR`);
    assert(!strings.some((s) => s.includes("\ufeff")), `seed ${seed} has a U+FEFF`);
  }
});

Deno.test("parseClassList() reads known, none and classes per method", () => {
  assertEquals(
    [...parseClassList("known", "cdc")].sort(),
    [
      ...new Set([...KNOWN_DEFECT_CLASSES.cdc, ...NOT_FOR_METHOD.cdc]),
    ].sort(),
  );
  assertEquals([...parseClassList("none", "cursor")], [...NOT_FOR_METHOD.cursor]);
  assert(parseClassList("kill", "cdc").has("kill"));
});

Deno.test("generateCase() runs a case under its method, slot faults only under cdc", () => {
  for (let seed = 0; seed < 40; seed++) {
    const cursor = generateCase(seed, { exclude: parseClassList("none"), method: "cursor" });
    const cdc = generateCase(seed, { exclude: parseClassList("none", "cdc"), method: "cdc" });
    assertEquals(cursor.method, "cursor");
    assertEquals(cdc.env.SYNC_METHOD, "cdc");
    assertEquals(cursor.env.SYNC_METHOD, undefined);
    assert(!cursor.ops.some((o) => o.kind === "drop_slot"), `seed ${seed}: drop_slot for cursor`);
  }
});

Deno.test("Prng is a fixed sequence per seed", () => {
  const r = new Prng(1);
  const first = [r.u32(), r.u32(), r.u32()];
  const again = new Prng(1);
  assertEquals([again.u32(), again.u32(), again.u32()], first);
});

Deno.test("oracle canonical forms match Postgres and DuckDB renderings", () => {
  const same = (type: string, pg: string, duck: unknown) =>
    assertEquals(pgNorm(kindOf(type), pg), duckNorm(kindOf(type), duck), `${type} ${pg}`);
  same("double precision", "-0", "-0.0");
  same("double precision", "Infinity", "inf");
  same("double precision", "NaN", "nan");
  same("real", "0.1", "0.1");
  same("boolean", "t", "true");
  same("date", "0044-03-15 BC", "0044-03-15 (BC)");
  same("timestamp with time zone", "0044-03-15 12:00:00+00 BC", "0044-03-15 (BC) 12:00:00+00");
  same("time with time zone", "12:00:00+02", "10:00:00+00");
  same("interval", "-1 days +02:00:00", { months: 0, days: -1, micros: "7200000000" });
  same("interval", "1 year 2 mons", { months: 14, days: 0, micros: "0" });
  same("bytea", "\\x005c7841", "\\x00\\x5CxA");
  same("numeric(3,3)", "0.000", ".000");
  same("numeric(3,3)", "-0.500", "-.500");
  same("integer[]", "{1,NULL,3}", ["1", null, "3"]);
  same("text[]", '{"a,b",NULL,"","q\\"x"}', ["a,b", null, "", 'q"x']);
  same("double precision[]", "{-0,NaN}", ["0.0", "nan"]);
  assertEquals(parsePgArray("{}"), []);
  assertEquals(parsePgArray('{" x ",NULL,"NULL"}'), [" x ", null, "NULL"]);
  assertEquals(parsePgArray("{\u2028;, a }"), ["\u2028;", "a"]);
  assert(pgNorm(kindOf("text"), "a") !== duckNorm(kindOf("text"), "a "));
});

Deno.test("compareTable() reports rows changed, missing and invented in DuckDB", async () => {
  const cluster = await sharedCluster();
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`
      CREATE TABLE public.t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE public.t OWNER TO ${db.user};
      INSERT INTO public.t (id, v) VALUES (1, 'a'), (2, E'\\uFEFFb'), (3, 'c');`);
    const env = db.env({ POSTGRES_TABLES: "public.t" });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    const path = env.DUCKDB_PATH!;
    assertEquals(await compareTable(db.url, path, { name: "t", keys: ["id"] }), []);
    await duckWrite(
      path,
      "UPDATE public_t SET v = 'b' WHERE id = 2; DELETE FROM public_t WHERE id = 3; INSERT INTO public_t VALUES (4, 'd', now())",
    );
    const diffs = await compareTable(db.url, path, { name: "t", keys: ["id"] });
    assertEquals(diffs.map((d) => `${d.what} ${d.key} ${d.column ?? ""}`).sort(), [
      'differs ["2"] v',
      'extra ["4"] ',
      'missing ["3"] ',
    ]);
  } finally {
    await db.cleanup();
  }
});
