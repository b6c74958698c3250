import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { DatabaseSync } from "node:sqlite";
import { CheckpointStore } from "../../src/io/state/checkpoint.ts";
import { SyncError } from "../../src/core/errors.ts";

Deno.test("CheckpointStore keeps the cycle count and a pending refresh across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    let store = CheckpointStore.open(dir);
    assertEquals(store.cycleCount(), 0);
    store.setCycleCount(7);
    store.setRefreshPending("public_countries", "public.countries", true);
    store.setRefreshPending("public_countries", "public.countries", true);
    store.close();
    store = CheckpointStore.open(dir);
    assertEquals(store.cycleCount(), 7);
    assert(store.refreshPending("public_countries"));
    assert(!store.refreshPending("public_other"));
    store.setRefreshPending("public_countries", "public.countries", false);
    assert(!store.refreshPending("public_countries"));
    store.setRefreshPending("public_countries", "public.countries", true);
    store.removeTable("public_countries");
    assert(!store.refreshPending("public_countries"), "reset forgets a pending refresh");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore: a restart forgets the position and rows but keeps the history", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    const store = CheckpointStore.open(dir);
    store.commit({
      table: "t",
      source: "public.t",
      origin: "h:5432/db",
      event: { type: "refreshed" },
      batch: {
        table: "t",
        seq: 3,
        finishedAt: "2024-01-01T00:00:00Z",
        rows: 10,
        bytes: 100,
        durationMs: 5,
        cursorFrom: null,
        cursorTo: "full-refresh",
        file: "t__00000003__start__full-refresh.parquet",
      },
      rowsCopied: 10,
    });
    assertEquals(store.get("t")?.rowsCopied, 10);
    store.commit({ table: "t", event: { type: "restarted" } });
    const after = store.get("t")!;
    assertEquals([after.state.kind, after.mode, after.cursor, after.key, after.rowsCopied], [
      "not_synced",
      "bootstrap",
      null,
      null,
      0,
    ]);
    assertEquals(store.lastBatchSeq("t"), 3, "batch numbers are never reused");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore persists the lifecycle state, position and scan across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  const scan = {
    horizon: { at: "2024-01-01 00:00:00+00", usedLookback: false, zone: "UTC" },
    filenode: "7",
    blocks: 10,
    nextBlock: 4,
    blocksPerBatch: 2,
    recentFrom: "2023-12-31 23:00:00+00",
    xmin: "100",
  };
  try {
    let store = CheckpointStore.open(dir);
    store.commit({ table: "t", source: "public.t", event: { type: "scan_started", scan } });
    store.close();
    store = CheckpointStore.open(dir);
    assertEquals(store.state("t"), { kind: "first_copy_scan", scan });
    assertEquals(store.scan("t"), scan);
    store.commit({
      table: "t",
      event: { type: "scan_finished", position: { cursor: "c", key: ["1"] } },
    });
    store.commit({ table: "t", event: { type: "caught_up" }, rowsCopied: 42 });
    store.close();
    store = CheckpointStore.open(dir);
    const saved = store.get("t")!;
    assertEquals(saved.state, { kind: "incremental", position: { cursor: "c", key: ["1"] } });
    assertEquals([saved.mode, saved.cursor, saved.key, saved.rowsCopied, saved.source], [
      "incremental",
      "c",
      ["1"],
      42,
      "public.t",
    ]);
    assertEquals(store.scan("t"), null);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore refuses an event the table's state cannot take, and records nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    const store = CheckpointStore.open(dir);
    let error: unknown = null;
    try {
      store.commit({
        table: "t",
        source: "public.t",
        event: { type: "scan_finished", position: null },
      });
    } catch (e) {
      error = e;
    }
    assert(error instanceof Error && /scan_finished/.test(error.message), String(error));
    assertEquals(store.get("t"), null);
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore refuses a file of a pre-release version with the fix", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    const old = new DatabaseSync(`${dir}/checkpoint.sqlite`);
    old.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    old.close();
    let error: unknown = null;
    try {
      CheckpointStore.open(dir);
    } catch (e) {
      error = e;
    }
    assert(error instanceof SyncError && error.code === "CHECKPOINT_CORRUPT", String(error));
    assertMatch(error.message, /pre-release version.*reset --yes/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
