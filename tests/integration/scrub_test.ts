// The password never leaves where it stands as itself, and names stay exact:
// two tables the sync role may not read fail, one named after the password
// (x_<password>: a longer name, shown whole, its GRANT exact) and one named
// the password itself (masked). Through the real Web Worker (what the
// terminal UI receives) and the real command line (the log, as text and
// JSON), the password shows only inside a longer name.

import { assertEquals, assertMatch, assertOnlyInsideNames } from "../support/assert.ts";
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
    INSERT INTO s."x_${db.password}" (id) VALUES (1);
    CREATE TABLE s."${db.password}" (id int PRIMARY KEY, updated_at timestamptz DEFAULT now());`,
  );
  return db;
}

const ENV = { POSTGRES_TABLES: "s.*", SYNC_LOOKBACK_SECONDS: "0", SYNC_INTERVAL_SECONDS: "60" };

Deno.test("tables named after the password: the worker's events show it only inside a longer name", async () => {
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
    const failures = events.filter((e) => e.type === "table_failed");
    const named = failures.find((e) => e.table === `s_x_${db.password}`);
    if (named?.type !== "table_failed") throw new Error(JSON.stringify(events));
    assertEquals(named.code, "PG_PERMISSION_DENIED");
    assertMatch(named.message, new RegExp(`permission denied for table x_${db.password} `));
    assertMatch(
      named.message,
      new RegExp(`GRANT SELECT ON s\\."x_${db.password}" TO ${db.user}\\)$`),
    );
    const itself = failures.find((e) => e !== named);
    if (itself?.type !== "table_failed") throw new Error(JSON.stringify(events));
    assertMatch(itself.message, /permission denied for table \*\*\* /);
    assertOnlyInsideNames(JSON.stringify(events), db.password);
  } finally {
    worker.terminate();
    await db.cleanup();
  }
});

Deno.test("tables named after the password: the log and the fatal line show it only inside a longer name", async () => {
  const db = await setUp();
  try {
    for (const format of ["text", "json"]) {
      const r = await runMain(["sync", "--once"], db.env({ ...ENV, LOG_FORMAT: format }));
      assertEquals(r.code, 2, r.stderr);
      assertMatch(r.stderr, /PG_PERMISSION_DENIED/);
      assertMatch(r.stderr, /TABLES_FAILED/);
      // (JSON lines escape the quotes.)
      assertMatch(
        r.stderr,
        new RegExp(`GRANT SELECT ON s\\.\\\\?"x_${db.password}\\\\?" TO ${db.user}\\)`),
      );
      assertOnlyInsideNames(r.stderr, db.password);
      assertOnlyInsideNames(r.stdout, db.password);
      assertMatch(r.stderr, /permission denied for table \*\*\* /);
    }
  } finally {
    await db.cleanup();
  }
});
