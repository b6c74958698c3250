// SYNC_METHOD=cdc never holds a PostgreSQL shutdown: a fast shutdown waits
// for each walsender's client to confirm what it was sent, so `sync --loop`
// confirms what it holds, closes its stream when the server goes, and
// reconnects with backoff once it is back (its own cluster: the test stops it).

import { assert, assertEquals } from "../support/assert.ts";
import { createTestDb, spawnMain } from "../support/fixture.ts";
import { stopLoop } from "../support/child_output.ts";
import { findBinDir, startCluster } from "../support/pg_cluster.ts";
import { assertSameRows, cdcEnv, dropSlots } from "../support/cdc.ts";

async function fastStop(dataDir: string): Promise<{ ms: number; ok: boolean }> {
  const bin = findBinDir();
  const args = ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"];
  const root = Deno.uid() === 0;
  const started = performance.now();
  const out = await new Deno.Command(root ? "runuser" : `${bin}/pg_ctl`, {
    args: root ? ["-u", "postgres", "--", `${bin}/pg_ctl`, ...args] : args,
    stdout: "null",
    stderr: "null",
  }).output();
  return { ms: performance.now() - started, ok: out.success };
}

Deno.test("cdc: a fast shutdown of PostgreSQL while sync --loop streams ends within seconds; the loop catches up after the restart", async () => {
  const cluster = await startCluster();
  const db = await createTestDb(cluster, { demo: false });
  const env = cdcEnv(db, { POSTGRES_TABLES: "public.t" });
  const columns = { pg: `concat_ws('|', id, v)`, duck: `concat_ws('|', id, v)` };
  try {
    await db.sql(`SET ROLE ${db.user}; CREATE TABLE t (id int PRIMARY KEY, v text);
      INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;`);
    await cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    const loop = spawnMain(["sync", "--loop"], env);
    let log = "";
    try {
      const streaming = async () =>
        (await db.sql(`SELECT count(*) FROM pg_replication_slots WHERE active`)) === "1";
      for (let i = 0; i < 100 && !(await streaming()); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert(await streaming(), "the loop streams");
      await db.sql(`UPDATE t SET v = 'before stop' WHERE id <= 10`);
      // A writer keeps changes coming, so the stream holds some not applied yet.
      const writer = await db.client();
      writer.on("error", () => {});
      let writing = true;
      const writes = (async () => {
        for (let i = 1000; writing; i++) {
          await writer.query(`INSERT INTO t VALUES ($1, 'w')`, [i]);
          await new Promise((r) => setTimeout(r, 20));
        }
      })().catch(() => {});
      await new Promise((r) => setTimeout(r, 1500));
      const stop = await fastStop(cluster.dataDir);
      writing = false;
      await writes;
      await writer.end().catch(() => {});
      assert(stop.ok, "pg_ctl stop -m fast succeeded");
      assert(stop.ms < 20_000, `the fast shutdown took ${Math.round(stop.ms)} ms`);
      console.log(`fast shutdown while streaming: ${Math.round(stop.ms)} ms`);
      await cluster.resume();
      await db.sql(`UPDATE t SET v = 'after restart' WHERE id > 90`);
      const caughtUp = async () =>
        (await db.sql(`SELECT count(*) FROM t WHERE v = 'after restart'`)) === "10" &&
        (await db.sql(
            `SELECT confirmed_flush_lsn >= pg_current_wal_lsn() - 4096 FROM pg_replication_slots`,
          )) ===
          "t";
      for (let i = 0; i < 150 && !(await caughtUp()); i++) {
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      const stopped = await stopLoop(loop);
      log = stopped.log;
      assertEquals(stopped.code, 0, log);
    }
    await assertSameRows(db, "t", "public_t", columns);
  } finally {
    await dropSlots(db).catch(() => {});
    await cluster.stop();
  }
});
