// verify under SYNC_METHOD=cdc follows the method's own decisions: every row
// is compared (nothing is "changed since the last sync" by its updated_at, the
// cursor method's rule), a table the stream skips is reported skipped, not
// "not synced" forever; and while the stream runs under a steady writer, only
// real differences are reported (and repaired), changes not applied yet never.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckWrite, runMain, spawnMain } from "../support/fixture.ts";
import { assertSameRows, cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";
import { collect, waitFor } from "../support/child_output.ts";
import pg from "pg";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.t (id int PRIMARY KEY, v text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  INSERT INTO app.t (id, v) SELECT g, 'v' || g FROM generate_series(1, 100) g;
  CREATE TABLE app.nokey (code text, label text);
  INSERT INTO app.nokey VALUES ('a', 'A');`;

Deno.test("verify under CDC compares every row, also those with a recent updated_at", () =>
  withCdcDb(SETUP, async (db) => {
    const env = { POSTGRES_TABLES: "app.t" };
    const first = await syncCdc(db, env);
    assertEquals(first.code, 0, first.stderr);
    await db.sql(`UPDATE app.t SET v = 'changed', updated_at = clock_timestamp() WHERE id <= 10`);
    const second = await syncCdc(db, env);
    assertEquals(second.code, 0, second.stderr);
    const equal = await runMain(["verify"], cdcEnv(db, env));
    assertEquals(equal.code, 0, equal.stdout + equal.stderr);
    assertMatch(equal.stdout, /^app_t: equal, 100 rows$/m);
    // Lost in DuckDB behind the sync's back: one row changed by the stream, one not.
    await duckWrite(db.duckPath, "DELETE FROM app_t WHERE id IN (5, 50)");
    const lost = await runMain(["verify"], cdcEnv(db, env));
    assertEquals(lost.code, 1, lost.stdout + lost.stderr);
    assertMatch(
      lost.stdout,
      /^app_t: DIFFERS: Postgres 100 rows, DuckDB 98; 2 missing in DuckDB \[id=5; id=50\]( \(no sync is streaming .*\))?$/m,
    );
    const repaired = await runMain(["verify", "--repair"], cdcEnv(db, env));
    assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
    const after = await runMain(["verify"], cdcEnv(db, env));
    assertMatch(after.stdout, /^app_t: equal, 100 rows$/m);
  }));

Deno.test("verify under CDC with no sync streaming: changes not synced yet are told apart by the slot, not reported lost", () =>
  withCdcDb(SETUP, async (db) => {
    const env = { POSTGRES_TABLES: "app.t" };
    const first = await syncCdc(db, env);
    assertEquals(first.code, 0, first.stderr);
    await duckWrite(db.duckPath, "DELETE FROM app_t WHERE id IN (5, 50)");
    // Committed after the last sync: in the slot, not applied yet.
    await db.sql(`UPDATE app.t SET v = 'later' WHERE id BETWEEN 60 AND 64;
      DELETE FROM app.t WHERE id = 70; INSERT INTO app.t (id, v) VALUES (500, 'new');`);
    const lost = await runMain(["verify"], cdcEnv(db, env));
    assertEquals(lost.code, 1, lost.stdout + lost.stderr);
    assertMatch(
      lost.stdout,
      /^app_t: DIFFERS: Postgres 100 rows, DuckDB 98; 2 missing in DuckDB \[id=5; id=50\] \(7 rows changed since the last sync, after the position the stream had applied: left to the stream\)$/m,
    );
    const repaired = await runMain(["verify", "--repair"], cdcEnv(db, env));
    assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
    assertMatch(repaired.stdout, /^app_t: equal, .*repaired 2 rows/m);
    const last = await syncCdc(db, env);
    assertEquals(last.code, 0, last.stderr);
    await assertSameRows(db, "app.t", "app_t", { pg: "id || '|' || v", duck: "id || '|' || v" });
    const after = await runMain(["verify"], cdcEnv(db, env));
    assertMatch(after.stdout, /^app_t: equal, 100 rows$/m);
  }));

Deno.test("verify under CDC reports a table the stream skips as skipped, with the fix", () =>
  withCdcDb(SETUP, async (db) => {
    const config = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({ include: ["app.*"], tables: { "app.nokey": { mode: "full_refresh" } } }),
    );
    const env = { SYNC_CONFIG: config };
    const sync = await syncCdc(db, env);
    assertEquals(sync.code, 0, sync.stderr);
    assertMatch(sync.stderr, /skipped Cannot stream app\.nokey: it has no primary key/);
    const verify = await runMain(["verify"], cdcEnv(db, env));
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    assertMatch(verify.stdout, /^app_t: equal, 100 rows$/m);
    assertMatch(
      verify.stdout,
      /^app_nokey: skipped: Cannot stream app\.nokey: it has no primary key \(add one, or run ALTER TABLE "app"\."nokey" REPLICA IDENTITY FULL and set "key" for it in the sync file to NOT NULL columns that are unique\)$/m,
    );
  }));

/** About 20 transactions a second on app.t (never id 5) until stopped: updates, inserts, deletes. */
function startWriter(url: string): { stop: () => Promise<number> } {
  let running = true;
  let n = 0;
  const done = (async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      while (running) {
        n++;
        const id = 10 + (n * 37) % 90;
        await client.query(
          n % 10 === 0
            ? `DELETE FROM app.t WHERE id = ${1000 + n - 5}`
            : n % 5 === 0
            ? `INSERT INTO app.t (id, v) VALUES (${1000 + n}, 'new')`
            : `UPDATE app.t SET v = 'w${n}', updated_at = clock_timestamp() WHERE id = ${id}`,
        );
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await client.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
  };
}

Deno.test("verify while the stream runs under a writer: only the row lost in DuckDB differs, and --repair fixes just it", () =>
  withCdcDb(SETUP, async (db) => {
    const env = { POSTGRES_TABLES: "app.t" };
    const first = await syncCdc(db, env);
    assertEquals(first.code, 0, first.stderr);
    await duckWrite(db.duckPath, "DELETE FROM app_t WHERE id = 5");
    const loop = spawnMain(["sync", "--loop", "--interval", "1"], cdcEnv(db, env));
    const err = collect(loop.stderr);
    const out = collect(loop.stdout);
    const writer = startWriter(db.url);
    try {
      await waitFor(() => /batch app_t #[3-9]/.test(err.text()), 60_000, () => err.text());
      const lost = await runMain(["verify"], cdcEnv(db, env));
      assertEquals(lost.code, 1, lost.stdout + lost.stderr);
      assertMatch(lost.stdout, /^app_t: DIFFERS: .*; 1 missing in DuckDB \[id=5\]( \(.*\))?$/m);
      assertEquals(/with other values|only in DuckDB/.test(lost.stdout), false, lost.stdout);
      const repaired = await runMain(["verify", "--repair"], cdcEnv(db, env));
      assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
      assertMatch(repaired.stdout, /^app_t: equal, .*repaired 1 row/m);
    } finally {
      const writes = await writer.stop();
      assertEquals(writes > 40, true, `${writes} writes`);
      await new Promise((r) => setTimeout(r, 3000));
      loop.kill("SIGTERM");
      await loop.status;
      await Promise.all([err.done, out.done]);
    }
    const last = await syncCdc(db, env);
    assertEquals(last.code, 0, last.stderr);
    await assertSameRows(db, "app.t", "app_t", { pg: "id || '|' || v", duck: "id || '|' || v" });
    const after = await runMain(["verify"], cdcEnv(db, env));
    assertEquals(after.code, 0, after.stdout + after.stderr);
  }));
