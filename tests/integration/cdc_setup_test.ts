// SYNC_METHOD=cdc meeting a server that is not ready, as a new user would:
// each refusal is one line with exit code 2 that names the fix, nothing is
// created half-way, and the fix, applied exactly as printed, gives a working
// sync. Also: a publication a DBA made is used and never dropped; another
// process on the slot is an error, not a hang; a quiet stream still moves the
// slot on; an invalidated slot stops with `reset` named, and reset works.

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { createTestDb, runMain, spawnMain, type TestDb } from "../support/fixture.ts";
import { type PgCluster, startCluster } from "../support/pg_cluster.ts";
import { withDb } from "../support/with_db.ts";
import { assertSameRows, cdcEnv, dropSlots, syncCdc, withCdcDb } from "../support/cdc.ts";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.items (id int PRIMARY KEY, name text);
  INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
  CREATE TABLE app.noise (id bigserial PRIMARY KEY, pad text);`;
const ITEMS = { pg: `id || '|' || name`, duck: `id || '|' || name` };
const TABLE = { POSTGRES_TABLES: "app.items" };

/**
 * Restarts the server for a setting to take effect. The test cluster commits
 * asynchronously and stops in immediate mode: a CHECKPOINT first keeps what
 * was committed (the role's REPLICATION).
 */
async function restart(cluster: PgCluster): Promise<void> {
  await cluster.psql(`CHECKPOINT`);
  await cluster.pause();
  await cluster.resume();
}

async function slots(db: TestDb): Promise<string> {
  return await db.cluster.psql(
    `SELECT count(*) FROM pg_replication_slots WHERE database = '${db.name}'`,
  );
}

Deno.test("cdc: a role without REPLICATION is refused with the ALTER ROLE that fixes it, nothing created; a DBA's publication must hold the table, is used, and is never dropped", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    try {
      const refused = await syncCdc(db, TABLE);
      assertEquals(refused.code, 2, refused.stderr);
      const fix = /run (ALTER ROLE "[^"]+" REPLICATION) as a superuser/.exec(refused.stderr);
      assert(fix, refused.stderr);
      assertMatch(
        refused.stderr,
        /error CDC_NOT_READY: SYNC_METHOD=cdc needs a role with REPLICATION/,
      );
      assertEquals(await slots(db), "0", "no slot created");
      assertEquals(await db.sql(`SELECT count(*) FROM pg_publication`), "0", "no publication");
      await db.cluster.psql(fix[1]!);
      const fixed = await syncCdc(db, TABLE);
      assertEquals(fixed.code, 0, fixed.stderr);
      await assertSameRows(db, "app.items", "app_items", ITEMS);

      // A publication made by a DBA, for another table: refused, naming the ALTER.
      await db.sql(`SET ROLE ${db.user}; CREATE PUBLICATION dba_pub FOR TABLE app.noise`);
      const other = {
        ...TABLE,
        CDC_PUBLICATION: "dba_pub",
        STATE_DIR: `${db.dir}/state2`,
        DUCKDB_PATH: `${db.dir}/second.duckdb`,
        PARQUET_DIR: `${db.dir}/parquet2`,
      };
      const mismatch = await syncCdc(db, other);
      assertEquals(mismatch.code, 2, mismatch.stderr);
      const alter = /run (ALTER PUBLICATION "dba_pub" ADD TABLE "app"\."items") as its owner/
        .exec(mismatch.stderr);
      assert(alter, mismatch.stderr);
      await db.sql(`SET ROLE ${db.user}; ${alter[1]}`);
      const used = await syncCdc(db, other);
      assertEquals(used.code, 0, used.stderr);
      await db.sql(`UPDATE app.items SET name = 'via dba_pub' WHERE id < 10`);
      assertEquals((await syncCdc(db, other)).code, 0);
      const reset = await runMain(["reset", "--yes"], cdcEnv(db, other));
      assertEquals(reset.code, 0, reset.stderr);
      assertMatch(reset.stdout, /replication slot pds_\w+ dropped/);
      assert(!reset.stdout.includes("dba_pub"), reset.stdout);
      assertEquals(
        await db.sql(`SELECT count(*) FROM pg_publication WHERE pubname = 'dba_pub'`),
        "1",
      );
    } finally {
      await dropSlots(db);
    }
  }));

Deno.test("cdc: another process streaming from the slot is CDC_SLOT_IN_USE at once; a quiet or filtered stream still moves the slot on", () =>
  withCdcDb(SETUP, async (db) => {
    assertEquals((await syncCdc(db, TABLE)).code, 0);
    // Writes only to a table that is not published: the slot must not hold them back.
    await db.sql(
      `INSERT INTO app.noise (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)`,
    );
    const after = await db.sql(`SELECT pg_current_wal_lsn()`);
    const quiet = await syncCdc(db, { ...TABLE, CDC_MAX_RETAINED_WAL: "1KB" });
    assertEquals(quiet.code, 0, quiet.stderr);
    assertMatch(
      quiet.stderr,
      /notice: Replication slot pds_\w+ holds \d+ MB of WAL, more than CDC_MAX_RETAINED_WAL/,
    );
    const moved = await db.sql(
      `SELECT confirmed_flush_lsn >= '${after}'::pg_lsn FROM pg_replication_slots WHERE database = '${db.name}'`,
    );
    assertEquals(moved, "t", "the slot moved past WAL that held none of our changes");

    const loop = spawnMain(["sync", "--loop"], cdcEnv(db, TABLE));
    try {
      for (let i = 0; i < 100; i++) {
        const active = await db.sql(
          `SELECT count(*) FROM pg_replication_slots WHERE database = '${db.name}' AND active`,
        );
        if (active === "1") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = performance.now();
      const busy = await syncCdc(db, TABLE);
      assertEquals(busy.code, 1, busy.stderr);
      assertMatch(
        busy.stderr,
        /error CDC_SLOT_IN_USE: Replication slot pds_\w+ is in use by another process/,
      );
      assert(performance.now() - started < 20_000, "no hang");
      // The loop applies a change within seconds.
      await db.sql(`UPDATE app.items SET name = 'live' WHERE id = 1`);
      let seen = false;
      for (let i = 0; i < 100 && !seen; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const status = await runMain(["status", "--json"], cdcEnv(db, TABLE));
        seen = status.code === 0 && JSON.parse(status.stdout)[0].batches >= 2;
      }
      assert(seen, "the loop applied the update");
    } finally {
      loop.kill("SIGTERM");
      const status = await loop.status;
      await loop.stdout.cancel().catch(() => {});
      await loop.stderr.cancel().catch(() => {});
      assertEquals(status.code, 0);
    }
    await assertSameRows(db, "app.items", "app_items", ITEMS);
  }));

Deno.test("cdc on a server not ready: wal_level, no free slot, a Postgres restart under --loop, an invalidated slot; each fix as printed works", async () => {
  const cluster = await startCluster({ logical: false });
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`SET ROLE ${db.user}; ${SETUP}`);
    await cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    const refused = await syncCdc(db, TABLE);
    assertEquals(refused.code, 2, refused.stderr);
    assertMatch(
      refused.stderr,
      /error CDC_NOT_READY: SYNC_METHOD=cdc needs wal_level = logical, and the server has replica \(run ALTER SYSTEM SET wal_level = logical as a superuser and restart PostgreSQL/,
    );
    assertEquals(await slots(db), "0");
    await cluster.psql(`ALTER SYSTEM SET wal_level = logical`);
    await restart(cluster);
    const ready = await syncCdc(db, TABLE);
    assertEquals(ready.code, 0, ready.stderr);

    // Every slot taken: refused before anything is created; raising the limit works.
    await cluster.psql(`ALTER SYSTEM SET max_replication_slots = 1`);
    await restart(cluster);
    const second = { ...TABLE, STATE_DIR: `${db.dir}/s2`, DUCKDB_PATH: `${db.dir}/s2.duckdb` };
    const full = await syncCdc(db, second);
    assertEquals(full.code, 2, full.stderr);
    assertMatch(
      full.stderr,
      /error CDC_NOT_READY: No free replication slot: all 1 are in use .*raise max_replication_slots and restart PostgreSQL/,
    );
    assertEquals(await db.sql(`SELECT count(*) FROM pg_publication`), "1", "no publication made");
    await cluster.psql(`ALTER SYSTEM SET max_replication_slots = 10`);
    await restart(cluster);
    assertEquals((await syncCdc(db, second)).code, 0);
    await runMain(["reset", "--yes"], cdcEnv(db, second));

    // Keepalives are answered while nothing else happens: with wal_sender_timeout
    // at 2 s and cycles 6 s apart, a loop that only answered them between
    // cycles would be cut off.
    await cluster.psql(`ALTER SYSTEM SET wal_sender_timeout = '2s'`);
    await cluster.psql(`SELECT pg_reload_conf()`);
    const slow = { ...TABLE, CDC_FLUSH_MS: "6000" };
    const patient = spawnMain(["sync", "--loop"], cdcEnv(db, slow));
    const walsender = () =>
      db.sql(`SELECT active_pid FROM pg_replication_slots WHERE database = '${db.name}'`);
    await new Promise((r) => setTimeout(r, 2000));
    const firstPid = await walsender();
    await new Promise((r) => setTimeout(r, 7000));
    const before = JSON.parse((await runMain(["status", "--json"], cdcEnv(db, slow))).stdout)[0];
    await db.sql(`UPDATE app.items SET name = 'kept alive' WHERE id = 7`);
    let applied = false;
    for (let i = 0; i < 100 && !applied; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = JSON.parse((await runMain(["status", "--json"], cdcEnv(db, slow))).stdout)[0];
      applied = now.batches > before.batches;
    }
    assert(applied, "the loop applied the update");
    assert(firstPid !== "", "the loop was streaming");
    assertEquals(await walsender(), firstPid, "the same stream all along: never timed out");
    patient.kill("SIGTERM");
    const patientStatus = await patient.status;
    const patientLog = await new Response(patient.stderr).text();
    await patient.stdout.cancel().catch(() => {});
    assertEquals(patientStatus.code, 0, patientLog);
    assertNotMatch(patientLog, /error /, "no connection lost to the server's timeout");
    await cluster.psql(`ALTER SYSTEM RESET wal_sender_timeout`);
    await cluster.psql(`SELECT pg_reload_conf()`);

    // A restart under --loop: it reconnects and goes on from its position.
    const loop = spawnMain(["sync", "--loop"], cdcEnv(db, TABLE));
    try {
      await new Promise((r) => setTimeout(r, 2000));
      await cluster.pause();
      await new Promise((r) => setTimeout(r, 1500));
      await cluster.resume();
      const before = JSON.parse((await runMain(["status", "--json"], cdcEnv(db, TABLE))).stdout)[0];
      await db.sql(`UPDATE app.items SET name = 'after restart' WHERE id <= 5`);
      let done = false;
      for (let i = 0; i < 150 && !done; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const n = await db.sql(`SELECT 1`).then(() => true).catch(() => false);
        if (!n) continue;
        const status = await runMain(["status", "--json"], cdcEnv(db, TABLE));
        done = status.code === 0 && JSON.parse(status.stdout)[0].batches > before.batches;
      }
      assert(done, "the loop applied the update after the restart");
    } finally {
      loop.kill("SIGTERM");
      const status = await loop.status;
      const err = await new Response(loop.stderr).text();
      await loop.stdout.cancel().catch(() => {});
      assertEquals(status.code, 0, err);
      assertMatch(err, /error PG_(UNREACHABLE|CONNECTION_LOST).*retry|retrying|recovered/s);
    }
    await assertSameRows(db, "app.items", "app_items", ITEMS);

    // WAL past max_slot_wal_keep_size invalidates the slot: a clear error naming reset.
    await cluster.psql(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await cluster.psql(`SELECT pg_reload_conf()`);
    for (let i = 0; i < 3; i++) {
      await db.sql(
        `INSERT INTO app.noise (pad) SELECT repeat(md5(g::text), 30) FROM generate_series(1, 30000) g`,
      );
      await cluster.psql(`SELECT pg_switch_wal()`);
      await cluster.psql(`CHECKPOINT`);
    }
    assertEquals(
      await db.sql(`SELECT wal_status FROM pg_replication_slots WHERE database = '${db.name}'`),
      "lost",
    );
    const lost = await syncCdc(db, TABLE);
    assertEquals(lost.code, 1, lost.stderr);
    assertMatch(
      lost.stderr,
      /error CDC_SLOT_LOST: Replication slot pds_\w+ was invalidated .*run `reset --yes`/,
    );
    const reset = await runMain(["reset", "--yes"], cdcEnv(db, TABLE));
    assertEquals(reset.code, 0, reset.stderr);
    await cluster.psql(`ALTER SYSTEM RESET max_slot_wal_keep_size`);
    await cluster.psql(`SELECT pg_reload_conf()`);
    const again = await syncCdc(db, TABLE);
    assertEquals(again.code, 0, again.stderr);
    await assertSameRows(db, "app.items", "app_items", ITEMS);
  } finally {
    await db.cleanup();
    await cluster.stop();
  }
});

Deno.test("cdc: the embedded demo database has no logical replication: refused with exit 2 before it starts, the fix named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-demo-cdc-" });
  try {
    const run = await runMain(["demo", "--once"], {
      SYNC_METHOD: "cdc",
      STATE_DIR: `${dir}/state`,
      DUCKDB_PATH: `${dir}/w.duckdb`,
      PARQUET_DIR: `${dir}/parquet`,
    });
    assertEquals(run.code, 2, run.stderr);
    assertMatch(
      run.stderr,
      /error CDC_NOT_READY: SYNC_METHOD=cdc needs a real PostgreSQL .*set DATABASE_URL to your server, or leave SYNC_METHOD unset for the demo/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
