// METRICS_PORT: a real `sync --loop` subprocess scraped over HTTP while it syncs:
// counters move with the rows, freshness stays small on a quiet table, an error
// is counted by code and table, /healthz turns 503 while Postgres is stopped and
// 200 after (also through compose.yaml's own healthcheck command), secrets never
// appear, and a port in use is one line with exit 2 before any sync work.

import { parse } from "yaml";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { startCluster } from "../support/pg_cluster.ts";
import {
  createTestDb,
  freePortForTest,
  REPO,
  runMain,
  sharedCluster,
  spawnMain,
} from "../support/fixture.ts";
import { collect, waitFor } from "../support/child_output.ts";

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  try {
    const response = await fetch(url);
    return {
      status: response.status,
      body: await response.text(),
      type: response.headers.get("content-type") ?? "",
    };
  } catch {
    return { status: 0, body: "", type: "" };
  }
}

/** The value of one sample line (`name{labels} value`), or null when absent. */
function sample(metrics: string, series: string): number | null {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

/** compose.yaml's syncer healthcheck, run here as the container would (exit 0 = healthy). */
async function composeHealthcheck(port: number): Promise<number> {
  const compose = parse(await Deno.readTextFile(`${REPO}/compose.yaml`)) as {
    services: { syncer: { healthcheck: { test: string[] } } };
  };
  const [kind, program, ...args] = compose.services.syncer.healthcheck.test;
  assertEquals([kind, program], ["CMD", "deno"]);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { METRICS_PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).output();
  return out.code;
}

Deno.test("sync --loop with METRICS_PORT: metrics move with the rows, health follows Postgres down and up", async () => {
  const cluster = await startCluster();
  const db = await createTestDb(cluster);
  const port = freePortForTest();
  const base = `http://127.0.0.1:${port}`;
  const child = spawnMain(
    ["sync", "--loop", "--interval", "1"],
    db.env({ METRICS_PORT: String(port) }),
  );
  const err = collect(child.stderr);
  const out = collect(child.stdout);
  const rows = 'pds_rows_copied_total{table="analytics_subscriptions"}';
  const batches = 'pds_batches_total{table="analytics_subscriptions"}';
  const freshness = 'pds_table_freshness_seconds{table="analytics_subscriptions"}';
  const unreachable = 'pds_errors_total{code="PG_UNREACHABLE",table=""}';
  try {
    await waitFor(
      async () => sample((await get(`${base}/metrics`)).body, rows) === 10_000,
      60_000,
      () => `10,000 rows in the metrics; log:\n${err.text()}`,
    );
    assertMatch(err.text(), new RegExp(`serving metrics on ${base}/metrics`));
    const first = await get(`${base}/metrics`);
    assertEquals(first.status, 200);
    assertMatch(first.type, /^text\/plain; version=0\.0\.4/);
    assertMatch(first.body, /# TYPE pds_rows_copied_total counter/);
    assertMatch(first.body, /# TYPE pds_cycle_duration_seconds histogram/);
    assert(sample(first.body, batches)! >= 1);
    assert(sample(first.body, "pds_process_resident_memory_bytes")! > 10_000_000, first.body);
    assertEquals(sample(first.body, "pds_loop_paused"), 0);
    const batchesBefore = sample(first.body, batches)!;

    // Rows written now are counted once the loop copies them.
    await db.sql(`INSERT INTO analytics.subscriptions (email, plan)
      SELECT 'metrics' || g || '@example.com', 'pro' FROM generate_series(1, 25) g`);
    await waitFor(
      async () => sample((await get(`${base}/metrics`)).body, rows)! >= 10_025,
      20_000,
      () => "the 25 new rows in the metrics",
    );
    // A quiet table stays fresh: idle cycles keep finding nothing pending.
    await new Promise((r) => setTimeout(r, 3000));
    const quiet = (await get(`${base}/metrics`)).body;
    assert(sample(quiet, batches)! > batchesBefore);
    const fresh = sample(quiet, freshness);
    assert(fresh !== null && fresh >= 0 && fresh < 3, `freshness ${fresh}\n${quiet}`);
    assert(sample(quiet, "pds_cycle_duration_seconds_count")! >= 3, quiet);
    assertEquals(sample(quiet, "pds_healthy"), 1);
    const healthy = await get(`${base}/healthz`);
    assertEquals(healthy.status, 200, healthy.body);
    assertMatch(healthy.body, /^ok: the last cycle ended \d+s ago\n$/);
    assertEquals(await composeHealthcheck(port), 0);

    // Postgres stops: the failed cycle is counted and health says why.
    await cluster.pause();
    await waitFor(
      async () => (await get(`${base}/healthz`)).status === 503,
      20_000,
      () => "503 from /healthz",
    );
    const down = await get(`${base}/healthz`);
    assertMatch(down.body, /^the last cycle failed: PG_\w+: .*\(retrying in \d+s\)\n$/);
    assertEquals(down.body.trim().split("\n").length, 1);
    assertEquals(await composeHealthcheck(port), 1);
    await waitFor(
      async () => (sample((await get(`${base}/metrics`)).body, unreachable) ?? 0) >= 1,
      20_000,
      () => `a PG_UNREACHABLE error counted: ${(down.body)}`,
    );
    const failing = (await get(`${base}/metrics`)).body;
    assertEquals(sample(failing, "pds_healthy"), 0);
    // The freshness gauge keeps growing while nothing can be checked.
    await new Promise((r) => setTimeout(r, 1500));
    const stale = sample((await get(`${base}/metrics`)).body, freshness)!;
    assert(stale > fresh, `${stale} > ${fresh}`);

    await cluster.resume();
    await waitFor(
      async () => (await get(`${base}/healthz`)).status === 200,
      60_000,
      () => `200 from /healthz after the restart; log:\n${err.text()}`,
    );
    assertEquals(await composeHealthcheck(port), 0);
    const after = (await get(`${base}/metrics`)).body;
    assert(sample(after, freshness)! < 3, after);
    // Secrets never leave: the password is in the environment, not in what is served.
    assertNotMatch(after + down.body, new RegExp(db.password));
    assertEquals((await get(`${base}/nothing`)).status, 404);

    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0, err.text());
    // The server is gone with the loop.
    assertEquals((await get(`${base}/healthz`)).status, 0);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await err.done;
    await out.done;
    await cluster.stop();
    await db.cleanup();
  }
});

Deno.test("METRICS_PORT: a table's failure is counted with its code and table; health names it and recovers after the fix", async () => {
  const cluster = await sharedCluster();
  const db = await createTestDb(cluster);
  const port = freePortForTest();
  const base = `http://127.0.0.1:${port}`;
  await db.sql(`CREATE SCHEMA locked;
    CREATE TABLE locked.secret (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO locked.secret VALUES (1);
    REVOKE ALL ON locked.secret FROM ${db.user};
    ALTER TABLE locked.secret OWNER TO postgres;
    GRANT USAGE ON SCHEMA locked TO ${db.user};`);
  const child = spawnMain(
    ["sync", "--loop", "--interval", "1"],
    db.env({
      METRICS_PORT: String(port),
      POSTGRES_TABLES: "analytics.subscriptions,locked.secret",
    }),
  );
  const err = collect(child.stderr);
  const out = collect(child.stdout);
  const denied = 'pds_errors_total{code="PG_PERMISSION_DENIED",table="locked_secret"}';
  try {
    await waitFor(
      async () => (sample((await get(`${base}/metrics`)).body, denied) ?? 0) >= 2,
      60_000,
      () => `two PG_PERMISSION_DENIED failures counted; log:\n${err.text()}`,
    );
    const health = await get(`${base}/healthz`);
    assertEquals(health.status, 503);
    assertEquals(
      health.body,
      "the last cycle: 1 of 2 tables failed: locked_secret (PG_PERMISSION_DENIED)\n",
    );
    // The other table syncs regardless.
    assertEquals(
      sample(
        (await get(`${base}/metrics`)).body,
        'pds_rows_copied_total{table="analytics_subscriptions"}',
      ),
      10_000,
    );
    // The fix the error names, applied.
    const grant = /GRANT [^;)]+/.exec(err.text())?.[0];
    assert(grant, err.text());
    await db.sql(grant);
    await waitFor(
      async () => (await get(`${base}/healthz`)).status === 200,
      30_000,
      () => `200 after "${grant}"; log:\n${err.text()}`,
    );
    assertEquals(
      sample((await get(`${base}/metrics`)).body, 'pds_rows_copied_total{table="locked_secret"}'),
      1,
    );
    child.kill("SIGTERM");
    assertEquals((await child.status).code, 0, err.text());
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await err.done;
    await out.done;
    await db.cleanup();
  }
});

Deno.test("METRICS_PORT in use, or METRICS_HOST not here: one line naming the fix, exit 2, before any sync work; the fix works", async () => {
  const cluster = await sharedCluster();
  const db = await createTestDb(cluster);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = (listener.addr as Deno.NetAddr).port;
  try {
    const r = await runMain(["sync", "--loop"], db.env({ METRICS_PORT: String(busy) }));
    assertEquals(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    assertMatch(
      lines[0]!,
      new RegExp(
        `^error METRICS_UNAVAILABLE: Cannot serve metrics on 127\\.0\\.0\\.1:${busy}: the port is in use \\(set METRICS_PORT to a free port`,
      ),
    );
    // Nothing was started: no checkpoint, no DuckDB file.
    for (const path of [`${db.stateDir}/checkpoint.sqlite`, db.duckPath]) {
      assert(!(await exists(path)), `${path} was created`);
    }
    // The fix: another port.
    const port = freePortForTest();
    const child = spawnMain(["sync", "--loop"], db.env({ METRICS_PORT: String(port) }));
    const err = collect(child.stderr);
    const out = collect(child.stdout);
    try {
      await waitFor(
        async () => (await get(`http://127.0.0.1:${port}/healthz`)).status === 200,
        60_000,
        () => err.text(),
      );
      child.kill("SIGTERM");
      assertEquals((await child.status).code, 0, err.text());
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await err.done;
      await out.done;
    }
    // An address this machine does not have: the fix is METRICS_HOST, and it works.
    const away = await runMain(
      ["sync", "--loop"],
      db.env({ METRICS_PORT: String(port), METRICS_HOST: "192.0.2.1" }),
    );
    assertEquals(away.code, 2, away.stderr);
    assertMatch(
      away.stderr,
      /^error METRICS_UNAVAILABLE: Cannot serve metrics on 192\.0\.2\.1:\d+: .*\(set METRICS_HOST to an address of this machine, e\.g\. 127\.0\.0\.1 or 0\.0\.0\.0\)\n$/,
    );
    const everywhere = spawnMain(
      ["sync", "--loop"],
      db.env({ METRICS_PORT: String(port), METRICS_HOST: "0.0.0.0" }),
    );
    const log = collect(everywhere.stderr);
    const quiet = collect(everywhere.stdout);
    try {
      await waitFor(
        async () => (await get(`http://127.0.0.1:${port}/healthz`)).status === 200,
        60_000,
        () => log.text(),
      );
      everywhere.kill("SIGTERM");
      assertEquals((await everywhere.status).code, 0, log.text());
    } finally {
      try {
        everywhere.kill("SIGKILL");
      } catch { /* exited */ }
      await log.done;
      await quiet.done;
    }
    // A bad value is the usual configuration error.
    const bad = await runMain(["sync", "--loop", "--metrics-port", "http"], db.env());
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /--metrics-port="http" is not a port from 1 to 65535/);
  } finally {
    listener.close();
    await db.cleanup();
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
