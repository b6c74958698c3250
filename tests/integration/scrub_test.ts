// The password never leaves: a table the sync role may not read, named after
// the password, fails with the password in its table name and in Postgres'
// message. Through the real Web Worker (what the terminal UI receives) and the
// real command line (the log, as text and JSON), no event or line shows it.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, runMain, sharedCluster, type TestDb } from "../support/fixture.ts";
import { loadConfig, secretsOf } from "../../src/core/config.ts";
import type { WorkerEvent, WorkerInit } from "../../src/host/protocol.ts";

const cluster = await sharedCluster();

async function setUp(): Promise<TestDb> {
  const db = await createTestDb(cluster, { demo: false });
  await db.sql(`CREATE SCHEMA s AUTHORIZATION ${db.user};`);
  await db.sql(`SET ROLE ${db.user};
    CREATE TABLE s.ok (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO s.ok (id) VALUES (1), (2);`);
  // Owned by the superuser: the sync role may not read it.
  await db.sql(
    `CREATE TABLE s."x_${db.password}" (id int PRIMARY KEY, updated_at timestamptz DEFAULT now());
    INSERT INTO s."x_${db.password}" (id) VALUES (1);`,
  );
  return db;
}

const ENV = { POSTGRES_TABLES: "s.*", SYNC_LOOKBACK_SECONDS: "0", SYNC_INTERVAL_SECONDS: "60" };

Deno.test("a failing table named after the password: the worker's events never show it", async () => {
  const db = await setUp();
  const worker = new Worker(new URL("../../src/host/worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    const env = db.env(ENV);
    const config = loadConfig((name) => env[name], {}, (path) => Deno.readTextFileSync(path));
    const events: WorkerEvent[] = [];
    let stopped: () => void = () => {};
    const done = new Promise<void>((resolve) => (stopped = resolve));
    let summarized: () => void = () => {};
    const summary = new Promise<void>((resolve) => (summarized = resolve));
    worker.onmessage = (m: MessageEvent<WorkerEvent>) => {
      events.push(m.data);
      if (m.data.type === "cycle_summary" || m.data.type === "fatal") summarized();
      if (m.data.type === "loop_state" && m.data.state === "stopped") stopped();
    };
    const init: WorkerInit = { type: "init", config, secrets: secretsOf(config), demo: false };
    worker.postMessage(init);
    await summary;
    worker.postMessage({ type: "shutdown" });
    await done;
    const failed = events.find((e) => e.type === "table_failed");
    if (failed?.type !== "table_failed") throw new Error(JSON.stringify(events));
    assertEquals(failed.code, "PG_PERMISSION_DENIED");
    assertMatch(failed.message, /permission denied for table x_\*\*\*/);
    assertEquals(failed.table, "s_x_***");
    assert(!JSON.stringify(events).includes(db.password));
  } finally {
    worker.terminate();
    await db.cleanup();
  }
});

Deno.test("a failing table named after the password: the log and the fatal line never show it", async () => {
  const db = await setUp();
  try {
    for (const format of ["text", "json"]) {
      const r = await runMain(["sync", "--once"], db.env({ ...ENV, LOG_FORMAT: format }));
      assertEquals(r.code, 2, r.stderr);
      assertMatch(r.stderr, /PG_PERMISSION_DENIED/);
      assertMatch(r.stderr, /TABLES_FAILED/);
      assert(!r.stderr.includes(db.password), r.stderr);
      assert(!r.stdout.includes(db.password), r.stdout);
    }
  } finally {
    await db.cleanup();
  }
});
