// The bootstrap's block scan (src/io/postgres/block_scan.ts) against a real PostgreSQL and
// DuckDB file: rows changing while the scan runs, a batch whose checkpoint was
// lost after DuckDB committed it, and a table rewritten (VACUUM FULL) during
// the scan. Each ends with DuckDB equal to Postgres row for row, no key held
// twice, and the primary key in place.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { DatabaseSync } from "node:sqlite";
import {
  checkpointProgress,
  createTestDb,
  duckDemoRows,
  duckRows,
  pgDemoRows,
  runMain,
  sharedCluster,
  spawnMain,
  type TestDb,
} from "../support/fixture.ts";

const cluster = await sharedCluster();
const duckPath = (db: TestDb) => `${db.dir}/lake/warehouse.duckdb`;

async function seed(db: TestDb, rows: number): Promise<void> {
  await db.sql(`INSERT INTO analytics.subscriptions (email, plan, lifetime_value, updated_at)
    SELECT 'bulk' || g || '@example.com', 'pro', g, now() - interval '1 day' + g * interval '1 ms'
    FROM generate_series(1, ${rows}) g`);
}

/** Waits until the checkpoint counts at least `rows` copied rows (or the child ends). */
async function waitForRows(db: TestDb, rows: number, child: Deno.ChildProcess): Promise<void> {
  let ended = false;
  child.status.then(() => (ended = true));
  const deadline = Date.now() + 60_000;
  while (!ended && Date.now() < deadline) {
    if ((checkpointProgress(`${db.dir}/state`)?.rows ?? 0) >= rows) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the sync ended or stalled before copying ${rows} rows`);
}

/** Runs `sync --loop` and stops it with SIGTERM once `rows` rows are copied: a scan half done. */
async function stopMidScan(db: TestDb, env: Record<string, string>, rows: number) {
  const child = spawnMain(["sync", "--loop"], { ...env, SYNC_INTERVAL_SECONDS: "3600" });
  await waitForRows(db, rows, child);
  child.kill("SIGTERM");
  const out = await child.output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const state = checkpointProgress(`${db.dir}/state`);
  assert(state?.mode === "bootstrap", `stopped mid-scan: ${JSON.stringify(state)}`);
  return new TextDecoder().decode(out.stderr);
}

async function assertExactCopy(db: TestDb): Promise<void> {
  const pgRows = await pgDemoRows(db);
  const counts = await duckRows(
    duckPath(db),
    `SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS k,
       (SELECT count(*) FROM _sync.keys
        WHERE target = 'analytics_subscriptions' AND key_columns = ['id'])::VARCHAR AS pk
     FROM analytics_subscriptions`,
  );
  assertEquals(counts[0], { n: String(pgRows.length), k: String(pgRows.length), pk: "1" });
  assertEquals(await duckDemoRows(duckPath(db)), pgRows);
}

/** A first copy by block ranges while rows are updated, inserted and soft-deleted; then checks it. */
async function copyWhileWriting(extra: Record<string, string>): Promise<void> {
  const db = await createTestDb(cluster);
  try {
    await seed(db, 30_000);
    const env = db.env({ BATCH_SIZE: "1000", ...extra });
    const child = spawnMain(["sync", "--once"], env);
    let running = true;
    let rounds = 0;
    const writer = (async () => {
      const client = await db.client();
      try {
        while (running) {
          const n = rounds++;
          // Updates move row versions to other blocks (scanned or not yet).
          await client.query(
            `UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1
             WHERE id % 97 = ${n % 97}`,
          );
          await client.query(
            `INSERT INTO analytics.subscriptions (email, plan)
             SELECT 'live${n}-' || g || '@example.com', 'starter' FROM generate_series(1, 20) g`,
          );
          await client.query(
            `UPDATE analytics.subscriptions SET deleted_at = now() WHERE id = ${1 + n * 101}`,
          );
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await client.end();
      }
    })();
    const out = await child.output();
    const writesDuringSync = rounds;
    running = false;
    await writer;
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    assertMatch(stderr, /bootstrap: [\d,]+ rows, block \d+ \.\. block \d+ of \d+/);
    assert(writesDuringSync >= 3, `only ${writesDuringSync} write rounds ran during the scan`);
    assert(!/met twice/.test(stderr), stderr);
    const again = await runMain(["sync", "--once"], env);
    assertEquals(again.code, 0, again.stderr);
    await assertExactCopy(db);
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await db.cleanup();
  }
}

Deno.test("a bootstrap read in block ranges while rows are updated, inserted and soft-deleted equals Postgres", () =>
  copyWhileWriting({}));

Deno.test("a bootstrap read in block ranges on three connections sharing one snapshot, while rows change, equals Postgres", () =>
  copyWhileWriting({ BOOTSTRAP_PARALLELISM: "3" }));

Deno.test("a bootstrap read in block ranges without Parquet files (BOOTSTRAP_PARQUET=off), while rows change, equals Postgres", () =>
  copyWhileWriting({ BOOTSTRAP_PARQUET: "off", BOOTSTRAP_PARALLELISM: "2" }));

Deno.test("a scan batch DuckDB committed but the checkpoint did not record is loaded again without duplicates", async () => {
  const db = await createTestDb(cluster);
  try {
    await seed(db, 20_000);
    const env = db.env({ BATCH_SIZE: "1000" });
    await stopMidScan(db, env, 5_000);
    const verifyMid = await runMain(["verify"], env);
    assertEquals(verifyMid.code, 1, "a half-done scan is not reported equal");
    assertMatch(
      verifyMid.stdout + verifyMid.stderr,
      /not synced: its first copy is not finished \([\d,]+ rows copied so far\): run sync to finish it/,
    );
    assert(!/--repair/.test(verifyMid.stderr), verifyMid.stderr);
    const status = await runMain(["status"], env);
    assertMatch(status.stdout, /bootstrap, cursor -, .*first copy at block \d+ of \d+ \(\d+%\)/);
    // Undo the last batch in the checkpoint only: as if the process died
    // between DuckDB's commit and the checkpoint's.
    const sqlite = new DatabaseSync(`${db.dir}/state/checkpoint.sqlite`);
    const last = sqlite.prepare(
      "SELECT seq, rows, cursor_from FROM batches ORDER BY seq DESC LIMIT 1",
    ).get() as Record<string, unknown>;
    const from = Number(/^block (\d+)$/.exec(String(last.cursor_from))?.[1]);
    assert(from > 0, `last batch started at ${last.cursor_from}`);
    const saved = sqlite.prepare("SELECT table_name, scan_json FROM tables").get() as Record<
      string,
      unknown
    >;
    const scan = JSON.parse(String(saved.scan_json));
    sqlite.prepare("UPDATE tables SET scan_json = ? WHERE table_name = ?").run(
      JSON.stringify({ ...scan, nextBlock: from }),
      String(saved.table_name),
    );
    sqlite.prepare("UPDATE tables SET rows_copied = rows_copied - ?").run(Number(last.rows));
    sqlite.close();
    const held = await duckRows(
      duckPath(db),
      "SELECT count(*)::VARCHAR AS n FROM analytics_subscriptions",
    );
    const resumed = await runMain(["sync", "--once"], env);
    assertEquals(resumed.code, 0, resumed.stderr);
    assert(Number(held[0]!.n) >= 5_000, `DuckDB held ${held[0]!.n} rows at the stop`);
    assert(!/met twice/.test(resumed.stderr), resumed.stderr);
    await assertExactCopy(db);
  } finally {
    await db.cleanup();
  }
});

Deno.test("a table rewritten by VACUUM FULL during its scan is copied again from the start", async () => {
  const db = await createTestDb(cluster);
  try {
    await seed(db, 20_000);
    const env = db.env({ BATCH_SIZE: "500" });
    // Between runs: the next run notices and starts over.
    await stopMidScan(db, env, 3_000);
    await db.sql("UPDATE analytics.subscriptions SET plan = 'business' WHERE id % 3 = 0");
    await db.sql("VACUUM FULL analytics.subscriptions");
    const rerun = await runMain(["sync", "--once"], env);
    assertEquals(rerun.code, 0, rerun.stderr);
    assertMatch(
      rerun.stderr,
      /was rewritten \(VACUUM FULL, CLUSTER or TRUNCATE\) during its first copy: copying it again from the start/,
    );
    await assertExactCopy(db);

    // While a run is scanning: that run stops with SOURCE_REWRITTEN, the next starts over.
    const db2 = await createTestDb(cluster);
    try {
      await seed(db2, 20_000);
      const env2 = db2.env({ BATCH_SIZE: "500" });
      const child = spawnMain(["sync", "--once"], env2);
      await waitForRows(db2, 2_000, child);
      await db2.sql("VACUUM FULL analytics.subscriptions");
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 1, stderr);
      assertMatch(stderr, /SOURCE_REWRITTEN/);
      const next = await runMain(["sync", "--once"], env2);
      assertEquals(next.code, 0, next.stderr);
      assertMatch(next.stderr, /copying it again from the start/);
      await assertExactCopy(db2);
    } finally {
      await db2.cleanup();
    }
  } finally {
    await db.cleanup();
  }
});

Deno.test("an UPDATE that leaves the cursor alone but moves rows behind the scan loses nothing", async () => {
  const db = await createTestDb(cluster);
  try {
    // A common trigger: bump updated_at only when something changed, so a
    // no-op save writes a new row version elsewhere with the old cursor.
    await db.sql(`
      DROP TRIGGER subscriptions_touch_updated_at ON analytics.subscriptions;
      CREATE TRIGGER subscriptions_touch_updated_at BEFORE UPDATE ON analytics.subscriptions
        FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
        EXECUTE FUNCTION analytics.touch_updated_at();`);
    await seed(db, 20_000);
    const env = db.env({ BATCH_SIZE: "500" });
    await stopMidScan(db, env, 4_000);
    const blocks = Number(
      await db.sql("SELECT pg_relation_size('analytics.subscriptions') / 8192"),
    );
    // Rows in blocks the scan has not read yet move to the end or to freed
    // space in blocks it has read, with their cursor unchanged.
    await db.sql(`UPDATE analytics.subscriptions SET plan = plan
      WHERE ctid >= '(${blocks - 10},0)'::tid`);
    await db.sql("VACUUM analytics.subscriptions");
    await db.sql(`UPDATE analytics.subscriptions SET plan = plan
      WHERE ctid >= '(${blocks - 20},0)'::tid AND ctid < '(${blocks - 10},0)'::tid`);
    const resumed = await runMain(["sync", "--once"], env);
    assertEquals(resumed.code, 0, resumed.stderr);
    assertMatch(resumed.stderr, /rows written during the scan/);
    await assertExactCopy(db);
  } finally {
    await db.cleanup();
  }
});

Deno.test("rows copied by a first copy equals the rows it holds, even when rows are read twice", async () => {
  const db = await createTestDb(cluster);
  const holder = await db.client();
  try {
    // A transaction holding an xid older than the rows (another application's
    // long write) makes the pass over rows written since the scan began read
    // every row a second time.
    await holder.query("BEGIN");
    await holder.query("SELECT txid_current()");
    await seed(db, 5_000);
    const r = await runMain(["sync", "--once"], db.env({ BATCH_SIZE: "2000" }));
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /rows written during the scan/);
    await holder.query("ROLLBACK");
    const total = Number(await db.sql("SELECT count(*) FROM analytics.subscriptions"));
    assertMatch(r.stderr, new RegExp(`complete: ${total.toLocaleString("en-US")} rows copied`));
    assertEquals(checkpointProgress(`${db.dir}/state`)?.rows, total);
    await assertExactCopy(db);
  } finally {
    await holder.end();
    await db.cleanup();
  }
});

Deno.test("after a big UPDATE leaves the first blocks full of dead rows, no scan batch is far larger than the batch size", async () => {
  const db = await createTestDb(cluster);
  try {
    await seed(db, 40_000);
    await db.sql("ALTER TABLE analytics.subscriptions SET (autovacuum_enabled = false)");
    // The old versions of 60% of the rows stay in the first blocks, dead; the
    // new ones go to the end of the table.
    await db.sql(`UPDATE analytics.subscriptions SET plan = 'business'
      WHERE id IN (SELECT id FROM analytics.subscriptions ORDER BY id LIMIT 30000)`);
    await db.sql("ANALYZE analytics.subscriptions");
    const r = await runMain(["sync", "--once"], db.env({ BOOTSTRAP_BATCH_SIZE: "2000" }));
    assertEquals(r.code, 0, r.stderr);
    const state = new DatabaseSync(`${db.dir}/state/checkpoint.sqlite`, { readOnly: true });
    const largest = Number(
      (state.prepare("SELECT max(rows) AS n FROM batches").get() as { n: number }).n,
    );
    state.close();
    // At most twice the batch size (the bound), the last batch up to 1.25x that.
    assert(largest <= 5_000, `largest batch ${largest} rows for BOOTSTRAP_BATCH_SIZE=2000`);
    await assertExactCopy(db);
  } finally {
    await db.cleanup();
  }
});

Deno.test("a table with inheritance children bootstraps in keyset order and copies only its own rows", async () => {
  const db = await createTestDb(cluster);
  try {
    await db.sql(`CREATE TABLE analytics.subscriptions_2020 () INHERITS (analytics.subscriptions);
      ALTER TABLE analytics.subscriptions_2020 OWNER TO ${db.user};
      INSERT INTO analytics.subscriptions_2020 (email, plan, updated_at)
      SELECT 'old' || g || '@example.com', 'pro', now() - interval '2 days' + g * interval '1 ms'
      FROM generate_series(1, 20000) g;`);
    const env = db.env({ BATCH_SIZE: "1000" });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assert(!/ block \d+ of /.test(r.stderr), r.stderr);
    // The child is a table of its own: none of its 20,000 rows are in the parent's copy.
    const own = await pgDemoRows(db, "ONLY analytics.subscriptions");
    assertEquals(own.length, 10000);
    assertEquals(await duckDemoRows(duckPath(db)), own);
  } finally {
    await db.cleanup();
  }
});
