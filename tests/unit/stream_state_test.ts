// The replication stream's position bookkeeping (core/stream_state.ts).

import { assertEquals } from "../support/assert.ts";
import { StreamState } from "../../src/core/stream_state.ts";

const limits = { rows: 3, bytes: 1000 };
const end = (commitLsn: bigint, endLsn: bigint) => ({
  commitLsn,
  endLsn,
  time: new Date("2026-12-08T00:00:00Z"),
});

Deno.test("StreamState moves the slot past transactions of no selected table, never past pending ones", () => {
  const s = new StreamState();
  s.restart(100n);
  s.begin(150n);
  assertEquals(s.commit(end(150n, 160n), false, limits), false);
  assertEquals(s.applied, 160n, "nothing of ours pending: the slot may move on");
  s.begin(200n);
  s.change(10, limits);
  s.commit(end(200n, 210n), true, limits);
  assertEquals(s.applied, 160n, "pending changes hold the position");
  s.keepalive(500n, true);
  assertEquals(s.applied, 160n);
  assertEquals(s.seen, 500n);
  assertEquals(s.batchApplied()?.endLsn, 210n);
  assertEquals(s.applied, 210n);
});

Deno.test("StreamState says when a batch is due, by rows or bytes, and when one transaction outgrew it", () => {
  const s = new StreamState();
  s.restart(0n);
  s.begin(10n);
  assertEquals(s.change(10, limits), false);
  assertEquals(s.change(10, limits), false);
  assertEquals(s.change(10, limits), true, "the third row of one transaction");
  assertEquals(s.commit(end(10n, 20n), true, limits), true);
  s.batchApplied();
  s.begin(30n);
  assertEquals(s.change(2000, limits), true, "bytes bound it too");
});

Deno.test("StreamState.holds() skips a transaction a table already has; reached() waits for open ones", () => {
  const s = new StreamState();
  s.restart(0n);
  s.begin(300n);
  assertEquals(s.holds(300n), true);
  assertEquals(s.holds(299n), false);
  assertEquals(s.holds(null), false);
  s.keepalive(1000n, false);
  assertEquals(s.reached(400n), false, "a transaction is open");
  s.commit(end(300n, 310n), false, limits);
  assertEquals(s.reached(310n), true);
  s.idleKeepalive(900n);
  assertEquals(s.applied, 900n);
});
