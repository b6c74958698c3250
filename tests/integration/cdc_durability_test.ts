// SYNC_METHOD=cdc durability against a real PostgreSQL and DuckDB file: a
// first copy taken while writes go on is consistent with the stream that
// follows it; and `kill -9` at six moments (the first copy included), with
// inserts, updates, deletes and a truncate in between, then one clean run:
// DuckDB equals Postgres row for row, no key twice, nothing missing.

import { assertEquals } from "../support/assert.ts";
import { duckRows, spawnMain } from "../support/fixture.ts";
import { assertSameRows, cdcEnv, syncCdc, withCdcDb } from "../support/cdc.ts";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.items (id int PRIMARY KEY, name text, big text, n numeric(12,2));
  INSERT INTO app.items SELECT g, 'item ' || g, CASE WHEN g % 10 = 0 THEN repeat(md5(g::text), 400) END, g
    FROM generate_series(1, 20000) g;`;

const COLUMNS = {
  pg: `concat_ws('|', id, name, md5(big), n)`,
  duck: `concat_ws('|', id, name, md5(big), n)`,
};

async function noDuplicates(duckPath: string): Promise<void> {
  const [row] = await duckRows(
    duckPath,
    `SELECT (count(*) - count(DISTINCT id))::INTEGER AS d FROM app_items`,
  );
  assertEquals(row?.d, 0, "duplicate keys");
}

Deno.test("cdc: a first copy under concurrent writes, then the stream: nothing lost or applied twice", () =>
  withCdcDb(SETUP, async (db) => {
    const env = { POSTGRES_TABLES: "app.items", CDC_BATCH_ROWS: "500" };
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      const client = await db.client();
      try {
        while (!stop) {
          const id = 1 + (writes * 7919) % 20000;
          await client.query(`BEGIN`);
          await client.query(`UPDATE app.items SET name = 'w${writes}', n = n + 1 WHERE id = $1`, [
            id,
          ]);
          await client.query(`INSERT INTO app.items VALUES ($1, 'ins', NULL, 0)`, [
            100000 + writes,
          ]);
          await client.query(`DELETE FROM app.items WHERE id = $1`, [
            1 + (writes * 104729) % 20000,
          ]);
          await client.query(`COMMIT`);
          writes += 1;
        }
      } finally {
        await client.end();
      }
    })();
    const first = await syncCdc(db, env);
    // Keep writing a little after the copy, then stop.
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await writer;
    assertEquals(first.code, 0, first.stderr);
    const second = await syncCdc(db, env);
    assertEquals(second.code, 0, second.stderr);
    await assertSameRows(db, "app.items", "app_items", COLUMNS);
    await noDuplicates(db.duckPath);
    if (writes < 20) throw new Error(`only ${writes} write transactions ran beside the copy`);
  }));

Deno.test("cdc: kill -9 six times with writes, updates, deletes and a truncate in between, then one clean run: DuckDB equals Postgres", () =>
  withCdcDb(SETUP, async (db) => {
    const env = cdcEnv(db, { POSTGRES_TABLES: "app.items", CDC_BATCH_ROWS: "300" });
    let killed = 0;
    const delays = [700, 350, 900, 500, 1200, 250];
    for (const [round, delay] of delays.entries()) {
      const child = spawnMain(["sync", "--once"], env);
      await new Promise((r) => setTimeout(r, delay));
      try {
        child.kill("SIGKILL");
      } catch { /* it had already finished */ }
      const status = await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      if (status.signal === "SIGKILL") killed += 1;
      await db.sql(`
        INSERT INTO app.items SELECT g, 'round ${round}', NULL, g
          FROM generate_series(${30000 + round * 1000}, ${30000 + round * 1000 + 199}) g;
        UPDATE app.items SET name = 'updated ${round}', n = n + 1 WHERE id % 5 = ${round % 5};
        DELETE FROM app.items WHERE id % 97 = ${round};
        ${
        round === 3
          ? "TRUNCATE app.items; INSERT INTO app.items SELECT g, 'again', NULL, g FROM generate_series(1, 3000) g;"
          : ""
      }`);
    }
    if (killed < 4) throw new Error(`only ${killed} of 6 runs were killed mid-way`);
    const clean = await syncCdc(db, { POSTGRES_TABLES: "app.items", CDC_BATCH_ROWS: "300" });
    assertEquals(clean.code, 0, clean.stderr);
    await assertSameRows(db, "app.items", "app_items", COLUMNS);
    await noDuplicates(db.duckPath);
  }));
