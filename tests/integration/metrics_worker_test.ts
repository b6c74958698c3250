// The terminal UI's engine runs in a Web Worker: with METRICS_PORT set, that real
// worker serves /metrics and /healthz too; pause and resume show in them; a
// table named after the password is labelled with its exact name (the password
// shows only inside that longer name, never as itself).

import { assert, assertEquals, assertMatch, assertOnlyInsideNames } from "../support/assert.ts";
import { createTestDb, freePortForTest, sharedCluster } from "../support/fixture.ts";
import { loadConfig, secretsOf } from "../../src/core/config.ts";
import type { WorkerCommand, WorkerEvent, WorkerInit } from "../../src/host/protocol.ts";
import { waitFor } from "../support/child_output.ts";

/** "<status> <body>", or "0 " while nothing listens yet. */
async function text(url: string): Promise<string> {
  try {
    const r = await fetch(url);
    return `${r.status} ${await r.text()}`;
  } catch {
    return "0 ";
  }
}

Deno.test("the terminal UI's worker serves metrics and health; pause shows; secrets stay out", async () => {
  const cluster = await sharedCluster();
  const db = await createTestDb(cluster);
  // Owned by the superuser, so the sync role fails on it with the name in the error.
  await db.sql(
    `CREATE TABLE analytics."x_${db.password}" (id int PRIMARY KEY, updated_at timestamptz DEFAULT now());`,
  );
  const port = freePortForTest();
  const base = `http://127.0.0.1:${port}`;
  const env = db.env({ METRICS_PORT: String(port), POSTGRES_TABLES: "analytics.*" });
  const config = loadConfig((name) => env[name]);
  const worker = new Worker(new URL("../../src/host/worker.ts", import.meta.url).href, {
    type: "module",
  });
  const events: WorkerEvent[] = [];
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => (stopped = resolve));
  worker.onmessage = (m: MessageEvent<WorkerEvent>) => {
    events.push(m.data);
    if (m.data.type === "loop_state" && m.data.state === "stopped") stopped();
  };
  const send = (command: WorkerCommand) => worker.postMessage(command);
  try {
    const init: WorkerInit = { type: "init", config, secrets: secretsOf(config), demo: false };
    worker.postMessage(init);
    await waitFor(
      async () => /pds_cycle_duration_seconds_count [1-9]/.test(await text(`${base}/metrics`)),
      60_000,
      "a cycle in the worker's metrics",
    );
    const metrics = await text(`${base}/metrics`);
    assertMatch(metrics, /^200 /);
    assertMatch(metrics, /\npds_rows_copied_total\{table="analytics_subscriptions"\} 10000\n/);
    assertMatch(
      metrics,
      new RegExp(
        `\npds_errors_total\\{code="PG_PERMISSION_DENIED",table="analytics_x_${db.password}"\\} 1\n`,
      ),
    );
    assertOnlyInsideNames(metrics, db.password);
    const health = await text(`${base}/healthz`);
    assertEquals(
      health,
      `503 the last cycle: 1 of 2 tables failed: analytics_x_${db.password} (PG_PERMISSION_DENIED)\n`,
    );
    send({ type: "pause" });
    await waitFor(
      async () => /\npds_loop_paused 1\n/.test(await text(`${base}/metrics`)),
      5000,
      "paused in the metrics",
    );
    assertEquals(await text(`${base}/healthz`), "200 ok: paused\n");
    send({ type: "resume" });
    await waitFor(
      async () => /\npds_loop_paused 0\n/.test(await text(`${base}/metrics`)),
      5000,
      "resumed in the metrics",
    );
    assert(events.some((e) => e.type === "notice" && e.message.includes(`${base}/metrics`)));
    send({ type: "shutdown" });
    await done;
    const gone = await fetch(`${base}/healthz`).then(() => "answered", () => "closed");
    assertEquals(gone, "closed");
  } finally {
    worker.terminate();
    await db.cleanup();
  }
});
