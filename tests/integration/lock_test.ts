// The DuckDB file is held only while a cycle applies batches: other processes
// can read it between cycles; `query` waits briefly for a busy file; a file held
// by another program is a clear one-line error.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, REPO, runMain, sharedCluster, spawnMain } from "../support/fixture.ts";

const cluster = await sharedCluster();

/**
 * Another program holding the DuckDB file open read-write for `ms`. It takes
 * the file as soon as a running sync lets go of it (retrying up to 30 s), so a
 * cycle that happens to hold the file at that moment does not fail the test.
 */
function holdLock(path: string, ms: number): Deno.ChildProcess {
  const code = `
    import { DuckDBInstance } from "@duckdb/node-api";
    let i;
    for (let tries = 0; !i; tries++) {
      try {
        i = await DuckDBInstance.create(${JSON.stringify(path)});
      } catch (error) {
        if (tries > 300) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    console.log("locked");
    await new Promise((r) => setTimeout(r, ${ms}));
    i.closeSync();`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: REPO,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function waitForLine(
  child: Deno.ChildProcess,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assertMatch(new TextDecoder().decode(value), /locked/);
  return reader;
}

Deno.test("a DuckDB file locked by another program: sync waits LOCK_WAIT_SECONDS, then one clear line, exit 1", async () => {
  const db = await createTestDb(cluster);
  const path = `${db.dir}/lake/warehouse.duckdb`;
  try {
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    await runMain(["seed-changes"], db.env());
    const holder = holdLock(path, 8000);
    const reader = await waitForLine(holder);
    const r = await runMain(["sync", "--once"], db.env({ LOCK_WAIT_SECONDS: "1" }));
    assertEquals(r.code, 1);
    const lines = r.stderr.trim().split("\n").filter((l) => !/ notice: /.test(l));
    assertEquals(lines.length, 1, r.stderr);
    assertMatch(
      lines[0]!,
      /^error DUCKDB_LOCKED: Cannot open DuckDB file .* locked by .*PID \d+.*close that program/,
    );
    holder.kill("SIGKILL");
    await holder.status;
    reader.releaseLock();
    await holder.stdout.cancel().catch(() => {});
    // Nothing was lost: the next run applies the seeded changes.
    const after = await runMain(["sync", "--once"], db.env());
    assertEquals(after.code, 0, after.stderr);
    assertMatch(after.stderr, /incremental: [1-9][\d,]* rows?/);
  } finally {
    await db.cleanup();
  }
});

Deno.test("query waits while the file is busy, then reads; gives a clear error if it stays busy", async () => {
  const db = await createTestDb(cluster);
  const path = `${db.dir}/lake/warehouse.duckdb`;
  try {
    assertEquals((await runMain(["sync", "--once"], db.env())).code, 0);
    const shortHold = holdLock(path, 1500);
    const reader = await waitForLine(shortHold);
    const waited = await runMain(
      ["query", "SELECT count(*) AS n FROM analytics_subscriptions"],
      db.env(),
    );
    assertEquals(waited.code, 0, waited.stderr);
    assertMatch(waited.stdout, /10000/);
    await shortHold.status;
    reader.releaseLock();
    await shortHold.stdout.cancel().catch(() => {});

    const longHold = holdLock(path, 8000);
    const reader2 = await waitForLine(longHold);
    const busy = await runMain(["query", "SELECT 1"], db.env({ LOCK_WAIT_SECONDS: "1" }));
    assertEquals(busy.code, 1);
    assertMatch(busy.stderr.trim(), /^error DUCKDB_LOCKED: .*locked by/);
    longHold.kill("SIGKILL");
    await longHold.status;
    reader2.releaseLock();
    await longHold.stdout.cancel().catch(() => {});
  } finally {
    await db.cleanup();
  }
});

Deno.test("between loop cycles the DuckDB file is free for other readers", async () => {
  const db = await createTestDb(cluster);
  const child = spawnMain(["sync", "--loop", "--interval", "2"], db.env());
  try {
    let ok = 0;
    const deadline = Date.now() + 30_000;
    while (ok < 3 && Date.now() < deadline) {
      const q = await runMain(
        ["query", "SELECT count(*) AS n FROM analytics_subscriptions", "--format", "json"],
        db.env({ LOCK_WAIT_SECONDS: "5" }),
      );
      if (q.code === 0 && /"n":"10000"/.test(q.stdout)) ok += 1;
      await new Promise((r) => setTimeout(r, 700));
    }
    assert(ok >= 3, `query read the file ${ok} times`);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    assertEquals(status.code, 0);
    await db.cleanup();
  }
});

Deno.test("several tables, one failing for good and the others meeting a busy file: the loop retries instead of ending", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`CREATE SCHEMA s AUTHORIZATION ${db.user};`);
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE s.good (id serial PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO s.good (v) SELECT 'b' FROM generate_series(1, 10);`);
    // Owned by the superuser, no grant: fails with PG_PERMISSION_DENIED every cycle.
    await db.sql(
      `CREATE TABLE s.priv (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO s.priv VALUES (1);`,
    );
    const env = db.env({
      POSTGRES_TABLES: "s.*",
      SYNC_LOOKBACK_SECONDS: "0",
      LOCK_WAIT_SECONDS: "1",
      SYNC_INTERVAL_SECONDS: "1",
    });
    const path = env.DUCKDB_PATH!;
    assertEquals((await runMain(["sync", "--once"], env)).code, 2, "priv fails, good syncs");
    const loop = spawnMain(["sync", "--loop"], env);
    await new Promise((r) => setTimeout(r, 2500));
    const holder = holdLock(path, 5000);
    const reader = await waitForLine(holder);
    // A row to copy while the file is held: the next cycle needs the file.
    await db.sql(`INSERT INTO s.good (v) VALUES ('while busy')`);
    await holder.status;
    reader.releaseLock();
    await holder.stdout.cancel().catch(() => {});
    // After the file is free again the loop is still there and copies the row.
    await new Promise((r) => setTimeout(r, 5000));
    loop.kill("SIGTERM");
    const out = await loop.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertMatch(stderr, /error DUCKDB_LOCKED: .*\(retrying in \d+s\)/);
    const { duckRows } = await import("../support/fixture.ts");
    const rows = await duckRows(path, "SELECT count(*)::INTEGER AS n FROM s_good");
    assertEquals(rows, [{ n: 11 }]);
  } finally {
    await db.cleanup();
  }
});
