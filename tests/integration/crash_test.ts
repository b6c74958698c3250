// Crash safety: kill -9 the sync process at many moments of a bootstrap and of
// incremental cycles, with writes in between, then one clean run: DuckDB must
// equal Postgres row for row with no duplicate keys.

import { assert, assertEquals } from "../support/assert.ts";
import {
  checkpointProgress,
  createTestDb,
  duckDemoRows,
  duckRows,
  pgDemoRows,
  runMain,
  sharedCluster,
  spawnMain,
} from "../support/fixture.ts";

const cluster = await sharedCluster();

Deno.test("kill -9 during bootstrap and incremental cycles, then one clean run: DuckDB equals Postgres", async () => {
  const db = await createTestDb(cluster);
  try {
    await db.sql(`INSERT INTO analytics.subscriptions (email, plan, lifetime_value)
      SELECT 'bulk' || g || '@example.com', 'pro', g FROM generate_series(1, 30000) g`);
    const env = db.env({ BATCH_SIZE: "700" });
    let killedInBootstrap = 0;
    let killedInIncremental = 0;
    const writes = async (round: number, bulk: boolean) => {
      // Inserts, an update touching many rows (many batches), soft deletes.
      await db.sql(`
        INSERT INTO analytics.subscriptions (email, plan, lifetime_value)
          SELECT 'round${round}-' || g || '@example.com', 'starter', g FROM generate_series(1, 50) g;
        UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1
          WHERE id % ${bulk ? 3 : 50} = ${round % 3};
        UPDATE analytics.subscriptions SET deleted_at = now()
          WHERE id IN (SELECT id FROM analytics.subscriptions WHERE deleted_at IS NULL
                       ORDER BY id LIMIT 3 OFFSET ${round * 10});`);
    };
    /**
     * Starts a cycle and kills it with SIGKILL at a moment chosen by `when`:
     * a number is milliseconds after spawn (start-up, introspection, wherever
     * it lands, but no later than 8 batches in); {batches: n} waits until the
     * checkpoint has moved n batches, so the kill lands mid-cycle however fast
     * this machine is.
     */
    const crashRun = async (when: number | { batches: number }) => {
      const before = checkpointProgress(`${db.dir}/state`);
      const child = spawnMain(["sync", "--once"], env);
      let exited = false;
      const status = child.status.then((s) => {
        exited = true;
        return s;
      });
      // A timed kill still lands by the eighth batch: on a fast machine a whole
      // bootstrap fits in a second, and the kills must land inside it.
      const batches = typeof when === "number" ? 8 : when.batches;
      const target = (before?.rows ?? 0) + batches * 700;
      const deadline = Date.now() + (typeof when === "number" ? when : 30_000);
      while (!exited && Date.now() < deadline) {
        if ((checkpointProgress(`${db.dir}/state`)?.rows ?? 0) >= target) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      try {
        child.kill("SIGKILL");
      } catch { /* it had already finished */ }
      const result = await status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      if (result.signal === "SIGKILL") {
        if (!before || before.mode === "bootstrap") killedInBootstrap += 1;
        else killedInIncremental += 1;
      }
    };
    let round = 0;
    for (const when of [{ batches: 1 }, 600, { batches: 3 }, { batches: 2 }, 1100]) {
      await crashRun(when);
      await writes(round++, false);
    }
    const mid = checkpointProgress(`${db.dir}/state`);
    assert(
      mid !== null && mid.mode === "bootstrap" && mid.rows > 0,
      `partial bootstrap: ${JSON.stringify(mid)}`,
    );
    // Let one run finish the bootstrap, then crash incremental cycles.
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    for (const when of [{ batches: 1 }, 900, { batches: 4 }, { batches: 2 }]) {
      await writes(round++, true);
      await crashRun(when);
    }
    await writes(round++, true);
    assert(killedInBootstrap >= 3, `kills in bootstrap: ${killedInBootstrap}`);
    assert(killedInIncremental >= 2, `kills in incremental cycles: ${killedInIncremental}`);
    const clean = await runMain(["sync", "--once"], env);
    assertEquals(clean.code, 0, clean.stderr);
    const path = `${db.dir}/lake/warehouse.duckdb`;
    const dupes = await duckRows(
      path,
      "SELECT (count(*) - count(DISTINCT id))::VARCHAR AS d, count(*)::VARCHAR AS n FROM analytics_subscriptions",
    );
    assertEquals(dupes[0]!.d, "0");
    const pgRows = await pgDemoRows(db);
    assertEquals(dupes[0]!.n, String(pgRows.length));
    assertEquals(await duckDemoRows(path), pgRows);
  } finally {
    await db.cleanup();
  }
});
