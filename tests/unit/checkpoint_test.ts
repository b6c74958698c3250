import { assert, assertEquals } from "../support/assert.ts";
import { CheckpointStore } from "../../src/io/checkpoint.ts";

Deno.test("CheckpointStore keeps the cycle count and a pending refresh across reopening", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    let store = CheckpointStore.open(dir);
    assertEquals(store.cycleCount(), 0);
    store.setCycleCount(7);
    store.setRefreshPending("public_countries", true);
    store.setRefreshPending("public_countries", true);
    store.close();
    store = CheckpointStore.open(dir);
    assertEquals(store.cycleCount(), 7);
    assert(store.refreshPending("public_countries"));
    assert(!store.refreshPending("public_other"));
    store.setRefreshPending("public_countries", false);
    assert(!store.refreshPending("public_countries"));
    store.setRefreshPending("public_countries", true);
    store.removeTable("public_countries");
    assert(!store.refreshPending("public_countries"), "reset forgets a pending refresh");
    store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CheckpointStore.restartBootstrap forgets the position and rows but keeps the history", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-checkpoint-" });
  try {
    const store = CheckpointStore.open(dir);
    store.advance({
      table: "t",
      source: "public.t",
      origin: "h:5432/db",
      mode: "full_refresh",
      cursor: null,
      key: null,
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
    store.restartBootstrap("t");
    const after = store.get("t")!;
    assertEquals([after.mode, after.cursor, after.key, after.rowsCopied], [
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
