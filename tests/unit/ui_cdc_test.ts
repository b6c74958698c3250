// The terminal UI for a table streamed from the WAL: its position and lag in
// the Tables pane and detail view, and changes per second by kind in the
// Throughput pane.

import { assert, assertEquals } from "../support/assert.ts";
import { initialState, reduce } from "../../ui/state.ts";
import { changeRates } from "../../ui/throughput_chart.ts";
import { tableLine } from "../../ui/checkpoint_pane.tsx";
import type { WorkerEvent } from "../../src/host/protocol.ts";

const T0 = 1_700_000_000_000;

const streamed: WorkerEvent[] = [
  {
    type: "batch_finished",
    table: "public_orders",
    seq: 4,
    mode: "incremental",
    rows: 30,
    bytes: 2048,
    durationMs: 120,
    cursorFrom: "lsn 0/16B3D48",
    cursorTo: "lsn 0/16B4000",
    file: "x.parquet",
    changes: { inserts: 20, updates: 15, deletes: 5 },
    commitLagMs: 830,
  },
  {
    type: "checkpoint_advanced",
    table: "public_orders",
    mode: "incremental",
    cursor: null,
    key: null,
    rowsCopied: 1030,
    lsn: "0/16B4000",
  },
];

Deno.test("a streamed table keeps its WAL position and its last batch's lag", () => {
  const s = reduce(initialState(T0), { type: "events", events: streamed, now: T0 + 1000 });
  const t = s.tables["public_orders"]!;
  assertEquals([t.lsn, t.lagMs, t.cursor], ["0/16B4000", 830, null]);
  const line = tableLine(t, s, 14, true, 160).map((seg) => seg.text).join("");
  assert(line.includes("lsn 0/16B4000, lag 0.8s"), line);
});

Deno.test("changeRates() gives streamed changes per second by kind, and nothing without them", () => {
  const s = reduce(initialState(T0), { type: "events", events: streamed, now: T0 + 1000 });
  assertEquals(changeRates(s.batches, T0 - 9000, T0 + 1000), "changes/s: 2 ins 2 upd 1 del");
  assertEquals(changeRates([], T0, T0 + 1000), "");
  assertEquals(
    changeRates([{ at: T0, table: "t", rows: 5, bytes: 1, durationMs: 1 }], T0 - 1, T0 + 1000),
    "",
  );
});
