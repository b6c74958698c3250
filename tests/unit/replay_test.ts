import { assertEquals, assertMatch } from "../support/assert.ts";
import { checkReplayFiles } from "../../src/sync/ops/replay.ts";
import { SyncError } from "../../src/core/errors.ts";

function caught(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error("expected a SyncError");
}

const file = (seq: number) => `/p/public_t__${String(seq).padStart(8, "0")}__start__x.parquet`;

Deno.test("checkReplayFiles() orders a table's files by sequence", () => {
  assertEquals(checkReplayFiles([file(3), file(1)], "public_t", 0).map((f) => f.seq), [1, 3]);
});

Deno.test("checkReplayFiles() refuses every file when one predates the floor", () => {
  const error = caught(() => checkReplayFiles([file(5), file(2)], "public_t", 4));
  assertEquals(error.code, "REPLAY_UNSAFE");
  assertEquals(error.exitCode, 2);
  assertMatch(error.message, /#2.*replay only batches from #4 on/);
});

Deno.test("checkReplayFiles() refuses a file of another table", () => {
  const error = caught(() => checkReplayFiles([file(1)], "public_u", 0));
  assertEquals(error.code, "CONFIG_INVALID");
});
