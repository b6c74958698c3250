// SYNC_METHOD=cdc memory against a real PostgreSQL and DuckDB file: one
// transaction updating 2,000,000 rows is applied in batches of CDC_BATCH_ROWS
// (checkpointed only at its commit), with the process's peak RSS under 500 MB,
// and DuckDB equal afterwards.

import { assert, assertEquals } from "../support/assert.ts";
import { duckRows, spawnMain } from "../support/fixture.ts";
import { cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";

const ROWS = 2_000_000;
const LIMIT_MB = 500;

/** Peak resident set size (VmHWM) of a running process, in MB; 0 once it is gone. */
function peakMb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** `sync --once` with its peak RSS sampled every 50 ms. */
async function syncWithPeak(env: Record<string, string>) {
  const child = spawnMain(["sync", "--once"], env);
  let peak = 0;
  const timer = setInterval(() => peak = Math.max(peak, peakMb(child.pid)), 50);
  const [status, stderr] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
    child.stdout.cancel(),
  ]).finally(() => clearInterval(timer));
  return { status, stderr, peak };
}

Deno.test(`cdc: one transaction updating ${ROWS.toLocaleString("en-US")} rows is applied with peak RSS under ${LIMIT_MB} MB`, () =>
  withCdcDb(
    `CREATE SCHEMA app; CREATE TABLE app.big (id int PRIMARY KEY, v int, name text);
     INSERT INTO app.big SELECT g, g, 'name ' || g FROM generate_series(1, ${ROWS}) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "app.big" };
      assertEquals((await syncCdc(db, env)).code, 0);
      await db.sql(`UPDATE app.big SET v = v + 1`);
      const { status, stderr, peak } = await syncWithPeak(cdcEnv(db, env));
      assertEquals(status.code, 0, stderr);
      assert(peak > 0, "the peak RSS was read");
      assert(peak < LIMIT_MB, `peak RSS ${peak.toFixed(0)} MB`);
      const [row] = await duckRows(
        db.duckPath,
        `SELECT count(*)::INTEGER AS n, sum(v - id)::INTEGER AS moved FROM app_big`,
      );
      assertEquals([row?.n, row?.moved], [ROWS, ROWS]);
      console.log(`peak RSS ${peak.toFixed(0)} MB for ${ROWS} changed rows in one transaction`);
    },
  ));

Deno.test("cdc: large TOASTed values kept by updates of other columns, with default settings: applied, exact, peak RSS under 500 MB", () =>
  withCdcDb(
    `CREATE TABLE docs (id int PRIMARY KEY, n int, doc jsonb);
     INSERT INTO docs SELECT g, g, NULL FROM generate_series(1, 20000) g;
     INSERT INTO docs SELECT g, g, CASE WHEN g % 10 = 0
       THEN (SELECT jsonb_agg(md5((g * 1000 + i)::text)) FROM generate_series(1, 800) i) END
       FROM generate_series(20001, 25000) g;`,
    async (db) => {
      const env = { POSTGRES_TABLES: "public.docs" };
      const first = await syncCdc(db, env);
      assertEquals(first.code, 0, first.stderr);
      await db.sql(`UPDATE docs SET n = n + 1 WHERE id > 20000;
        UPDATE docs SET doc = jsonb_build_array(id, repeat('x', 30000)) WHERE id % 97 = 0;`);
      const { status, stderr, peak } = await syncWithPeak(cdcEnv(db, env));
      assertEquals(status.code, 0, stderr);
      assert(peak < LIMIT_MB, `peak RSS ${peak.toFixed(0)} MB`);
      const client = await db.client();
      let expected: string;
      try {
        expected = (await client.query(
          `SELECT md5(string_agg(id || ':' || n || ':' || coalesce(md5(doc::text), '-'), ',' ORDER BY id)) AS h FROM docs`,
        )).rows[0].h;
      } finally {
        await client.end();
      }
      const [row] = await duckRows(
        db.duckPath,
        `SELECT md5(string_agg(id || ':' || n || ':' || coalesce(md5(doc::VARCHAR), '-'), ',' ORDER BY id)) AS h FROM public_docs`,
      );
      assertEquals(row?.h, expected);
    },
  ));
