// The sync cycle in-process, through the engine's API, against a real
// PostgreSQL and a real DuckDB file: bootstrap, incremental and idle cycles,
// the events each batch emits and their order, the checkpoint store after each
// step, and where a cycle stops (a crash as the checkpoint is announced, an abort
// between batches). The CLI around it is covered by sync_test.ts.

import { assert, assertEquals } from "../support/assert.ts";
import { duckRows, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { openEngine, syncOnce } from "../support/sync_once.ts";
import type { EngineEvent } from "../../src/core/events.ts";

/** 300 rows, one second apart in 2024: settled long before any cycle's horizon. */
const ITEMS = `
  CREATE SCHEMA app;
  CREATE TABLE app.items (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL);
  INSERT INTO app.items
    SELECT g, 'item ' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
    FROM generate_series(1, 300) g;`;

const ENV = {
  POSTGRES_SCHEMA: "app",
  POSTGRES_TABLE: "items",
  BATCH_SIZE: "100",
  SYNC_LOOKBACK_SECONDS: "0",
};

const items = (fn: (db: TestDb) => Promise<void>) =>
  withDb({ demo: false, setup: ITEMS, env: ENV }, fn);

/** Rows `from`..`to` written a little in the past (past the horizon's margin), in id order. */
function addItems(db: TestDb, from: number, to: number): Promise<string> {
  return db.sql(`INSERT INTO app.items
    SELECT g, 'new ' || g, now() - interval '1 minute' + (g - ${from}) * interval '1 millisecond'
    FROM generate_series(${from}, ${to}) g`);
}

async function pgItems(db: TestDb): Promise<string[]> {
  const text = await db.sql(
    "SELECT id || '|' || name || '|' || to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM app.items ORDER BY id",
  );
  return text.split("\n");
}

async function duckItems(db: TestDb): Promise<string[]> {
  const rows = await duckRows(
    db.duckPath,
    "SELECT id || '|' || name || '|' || strftime(updated_at, '%Y-%m-%d %H:%M:%S.%f') AS l FROM app_items ORDER BY id",
  );
  return rows.map((r) => String(r.l));
}

const types = (events: EngineEvent[]) => events.map((e) => e.type);

Deno.test("engine: bootstrap, then incremental, then idle; the checkpoint after each", () =>
  items(async (db) => {
    const first = await syncOnce(db);
    assertEquals(first.summary.failures, []);
    assertEquals(first.summary.rows, 300);
    // The first copy reads the heap in block ranges of about BATCH_SIZE rows.
    assert(first.summary.batches > 1, `${first.summary.batches} batches`);
    assertEquals(first.summary.idle, false);
    assertEquals(first.summary.mode, "incremental", "bootstrap completes within the cycle");
    const started = first.events.find((e) => e.type === "cycle_started");
    assertEquals(started?.type === "cycle_started" && started.mode, "bootstrap");
    assertEquals(types(first.events).slice(-2), ["cycle_finished", "cycle_summary"]);
    const boot = first.checkpoints;
    assertEquals(boot.length, 1);
    assertEquals(boot[0]!.table, "app_items");
    assertEquals(boot[0]!.source, "app.items");
    assertEquals(boot[0]!.mode, "incremental");
    assertEquals(boot[0]!.rowsCopied, 300);
    assertEquals(boot[0]!.cursor, "2024-01-01 00:05:00+00", "Postgres' text of the last cursor");
    assertEquals(boot[0]!.key, ["300"]);
    assertEquals(await duckItems(db), await pgItems(db));

    await addItems(db, 301, 305);
    await db.sql(
      "UPDATE app.items SET name = 'changed', updated_at = now() - interval '30 seconds' WHERE id = 7",
    );
    const second = await syncOnce(db);
    assertEquals(
      { rows: second.summary.rows, batches: second.summary.batches, idle: second.summary.idle },
      { rows: 6, batches: 1, idle: false },
    );
    const incremental = second.events.find((e) => e.type === "cycle_started");
    assertEquals(incremental?.type === "cycle_started" && incremental.mode, "incremental");
    const last = await db.sql(
      "SELECT updated_at::text || ' ' || id FROM app.items ORDER BY updated_at DESC, id DESC LIMIT 1",
    );
    const moved = second.checkpoints[0]!;
    assertEquals(`${moved.cursor} ${moved.key?.join(",")}`, last);
    assertEquals(moved.rowsCopied, 306);
    assertEquals(moved.batches, boot[0]!.batches + 1);
    assertEquals(await duckItems(db), await pgItems(db));

    const before = await Deno.stat(db.duckPath);
    const idle = await syncOnce(db);
    assertEquals(idle.summary, {
      rows: 0,
      batches: 0,
      idle: true,
      mode: "incremental",
      tables: 1,
      failures: [],
    });
    assertEquals(types(idle.events), ["cycle_started", "cycle_finished", "cycle_summary"]);
    // Freshness: a cycle that ends caught up says since when DuckDB is in sync.
    const [idleStart, idleEnd] = idle.events;
    assert(idleStart?.type === "cycle_started" && idleEnd?.type === "cycle_finished");
    assertEquals(idleEnd.inSyncAsOf, idleStart.at);
    const firstEnd = first.events.find((e) => e.type === "cycle_finished");
    assert(firstEnd?.type === "cycle_finished" && firstEnd.inSyncAsOf !== null);
    const summary = idle.events.at(-1)!;
    assert(summary.type === "cycle_summary");
    assertEquals([summary.tables, summary.upToDate, summary.failed], [1, 1, 0]);
    assertEquals(idle.checkpoints, second.checkpoints, "an idle cycle leaves the checkpoint");
    const after = await Deno.stat(db.duckPath);
    assertEquals([after.size, after.mtime], [before.size, before.mtime], "nor touches DuckDB");
  }));

Deno.test("engine: each batch is started, loaded, saved and then announced, one batch read ahead at most", () =>
  items(async (db) => {
    const problems: string[] = [];
    const run = await openEngine(db, {
      // The store is read as each event is emitted: it must already hold the batch.
      onEvent: (event, { engine }) => {
        if (
          event.type === "batch_finished" && engine.store.lastBatchSeq(event.table) !== event.seq
        ) {
          problems.push(`batch ${event.seq} announced before it was saved`);
        }
        if (
          event.type === "checkpoint_advanced" &&
          engine.store.get(event.table)?.rowsCopied !== event.rowsCopied
        ) {
          problems.push(`checkpoint ${event.rowsCopied} announced but not saved`);
        }
      },
    });
    try {
      const bootstrap = await run.cycle();
      await addItems(db, 301, 550);
      const incremental = await run.cycle();
      assertEquals(incremental.summary.batches, 3);
      for (const cycle of [bootstrap, incremental]) {
        const events = cycle.events;
        const at = (type: string, seq: number) =>
          events.findIndex((e) => e.type === type && "seq" in e && e.seq === seq);
        const seqs = events.flatMap((e) => e.type === "batch_finished" ? [e.seq] : []);
        assertEquals(seqs.length, cycle.summary.batches);
        for (const seq of seqs) {
          const finished = at("batch_finished", seq);
          const begun = at("batch_started", seq);
          assert(begun >= 0 && begun < finished, `batch ${seq} started before it finished`);
          const next = events[finished + 1]!;
          assertEquals(
            next.type,
            "checkpoint_advanced",
            `batch ${seq} is followed by its checkpoint`,
          );
          // Postgres reads ahead by one batch while DuckDB loads, never by two.
          const twoAhead = at("batch_started", seq + 2);
          assert(twoAhead === -1 || twoAhead > finished, `batch ${seq + 2} started too early`);
        }
        const finishedAt = events.findIndex((e) => e.type === "cycle_finished");
        assert(finishedAt > at("batch_finished", seqs.at(-1)!));
        assertEquals(types(events).at(-1), "cycle_summary");
        assertEquals(types(events).filter((t) => t === "cycle_summary").length, 1);
      }
      const checkpoints = incremental.events.flatMap((e) =>
        e.type === "checkpoint_advanced" ? [`${e.mode} ${e.key?.join(",")} ${e.rowsCopied}`] : []
      );
      assertEquals(checkpoints, [
        "incremental 400 400",
        "incremental 500 500",
        "incremental 550 550",
      ]);
    } finally {
      await run.close();
    }
    assertEquals(problems, []);
    assertEquals(await duckItems(db), await pgItems(db));
  }));

Deno.test("engine: a crash as a checkpoint is announced leaves DuckDB holding exactly the rows it covers", () =>
  items(async (db) => {
    await syncOnce(db);
    await addItems(db, 301, 550);
    let announced = 0;
    const run = await openEngine(db, {
      onEvent: (event) => {
        if (event.type === "checkpoint_advanced" && ++announced === 2) {
          throw new Error("crash after the second batch");
        }
      },
    });
    try {
      let failure: unknown = null;
      await run.cycle().catch((error) => failure = error);
      assert(failure instanceof Error && /crash after the second batch/.test(failure.message));
    } finally {
      await run.close();
    }
    // DuckDB had committed both batches before their checkpoints were announced,
    // and the batch already read ahead was never loaded.
    const duck = await duckRows(
      db.duckPath,
      "SELECT count(*)::INTEGER AS n, max(id) AS last FROM app_items",
    );
    assertEquals(duck, [{ n: 500, last: 500 }]);
    const resumed = await syncOnce(db);
    assertEquals(resumed.checkpoints[0]!.key, ["550"]);
    const loaded = resumed.events.flatMap((e) => e.type === "batch_finished" ? [e.rows] : []);
    assertEquals(loaded, [50], "resumed after the checkpoint, nothing read twice");
    assertEquals(await duckItems(db), await pgItems(db));
  }));

Deno.test("engine: an abort stops the cycle after the batch in flight; the next cycle resumes", () =>
  items(async (db) => {
    await syncOnce(db);
    await addItems(db, 301, 550);
    const controller = new AbortController();
    const run = await openEngine(db, {
      onEvent: (event) => {
        if (event.type === "batch_finished") controller.abort();
      },
    });
    let stopped;
    try {
      stopped = await run.cycle(controller.signal);
    } finally {
      await run.close();
    }
    assertEquals(stopped.summary.batches, 1);
    assertEquals(stopped.summary.failures, []);
    assertEquals(stopped.checkpoints[0]!.key, ["400"]);
    assertEquals(stopped.checkpoints[0]!.rowsCopied, 400);
    assertEquals((await duckItems(db)).length, 400);
    const resumed = await syncOnce(db);
    assertEquals([resumed.summary.rows, resumed.summary.batches], [150, 2]);
    assertEquals(await duckItems(db), await pgItems(db));
  }));
