// Loop mode: survives Postgres going away (retries with backoff, says so,
// resumes), stops cleanly on SIGTERM/SIGINT, and leaves the DuckDB file free
// between cycles so `query` can read it.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { startCluster } from "../support/pg_cluster.ts";
import { createTestDb, runMain, sharedCluster, spawnMain } from "../support/fixture.ts";
import { collect, waitFor } from "../support/child_output.ts";

Deno.test("loop survives a Postgres restart: retries with backoff, resumes, exits 0 on SIGTERM", async () => {
  const cluster = await startCluster();
  const db = await createTestDb(cluster);
  const child = spawnMain(["sync", "--loop", "--interval", "1"], db.env());
  const err = collect(child.stderr);
  const out = collect(child.stdout);
  try {
    await waitFor(
      () => /Bootstrap of analytics.subscriptions complete/.test(err.text()),
      30_000,
      "bootstrap",
    );
    await cluster.pause();
    await waitFor(
      () => /error PG_\w+: .*retrying in \d+s/.test(err.text()),
      20_000,
      "a retry message",
    );
    await new Promise((r) => setTimeout(r, 2500));
    await cluster.resume();
    await db.sql(
      "INSERT INTO analytics.subscriptions (email, plan) VALUES ('after-restart@example.com', 'pro')",
    );
    await waitFor(
      async () => {
        const q = await runMain(
          [
            "query",
            "SELECT count(*) AS n FROM analytics_subscriptions WHERE email = 'after-restart@example.com'",
            "--format",
            "csv",
          ],
          db.env(),
        );
        return q.code === 0 && q.stdout.trim().endsWith("\n1");
      },
      40_000,
      "the row written after the restart",
    );
    const retries = err.text().match(/retrying in (\d+)s/g) ?? [];
    assert(retries.length >= 2, err.text());
    const started = Date.now();
    child.kill("SIGTERM");
    const status = await child.status;
    await err.done;
    await out.done;
    assertEquals(status.code, 0, err.text());
    assert(Date.now() - started < 5000, "stopped within a few seconds");
    assertMatch(err.text(), /stopping after the batch in flight/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await cluster.stop();
    await db.cleanup();
  }
});

Deno.test("SIGINT during a bootstrap finishes the batch in flight and exits 0; the next run resumes", async () => {
  const cluster = await sharedCluster();
  const db = await createTestDb(cluster);
  try {
    await db.sql(`INSERT INTO analytics.subscriptions (email, plan, lifetime_value)
      SELECT 'bulk' || g || '@example.com', 'pro', g FROM generate_series(1, 40000) g`);
    const env = db.env({ BATCH_SIZE: "500" });
    const child = spawnMain(["sync", "--loop"], env);
    const err = collect(child.stderr);
    const out = collect(child.stdout);
    await waitFor(
      () => /batch analytics_subscriptions #3 /.test(err.text()),
      30_000,
      "three batches",
    );
    child.kill("SIGINT");
    const status = await child.status;
    await err.done;
    await out.done;
    assertEquals(status.code, 0, err.text());
    assert(!/Bootstrap of .* complete/.test(err.text()), "stopped before the end");
    const s = JSON.parse((await runMain(["status", "--json"], env)).stdout);
    assertEquals(s[0].mode, "bootstrap");
    const copied = s[0].rowsCopied as number;
    assert(copied > 0 && copied < 50000, String(copied));
    const resumed = await runMain(["sync", "--once"], env);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertMatch(
      resumed.stderr,
      /Bootstrap of analytics.subscriptions complete: 50,000 rows copied/,
    );
    const first = /batch analytics_subscriptions #(\d+) bootstrap/.exec(resumed.stderr);
    assert(Number(first![1]) > 3, "resumed from the checkpoint, not from the start");
  } finally {
    await db.cleanup();
  }
});
