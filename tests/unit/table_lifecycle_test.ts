// The table lifecycle's transitions (src/core/table_lifecycle.ts).

import { assert, assertEquals } from "../support/assert.ts";
import {
  isFirstCopy,
  LifecycleError,
  type LifecycleEvent,
  modeOf,
  positionOf,
  type StateKind,
  type TableState,
  transition,
} from "../../src/core/table_lifecycle.ts";
import type { ScanState } from "../../src/core/scan_state.ts";

const scan: ScanState = {
  horizon: { at: "2024-01-01 00:00:00+00", usedLookback: false, zone: "UTC" },
  filenode: "1",
  blocks: 10,
  nextBlock: 0,
  blocksPerBatch: 2,
  recentFrom: "2023-12-31 23:00:00+00",
  xmin: "100",
};
const at = (cursor: string) => ({ cursor, key: ["1"] });

function run(events: readonly LifecycleEvent[], from: TableState = { kind: "not_synced" }) {
  return events.reduce(transition, from);
}

Deno.test("transition() walks a first copy by block ranges to incremental", () => {
  const steps: LifecycleEvent[] = [
    { type: "scan_started", scan },
    { type: "batch_committed", position: null, scan: { ...scan, nextBlock: 2 } },
    { type: "scan_finished", position: at("a") },
    { type: "batch_committed", position: at("b") },
    { type: "caught_up" },
    { type: "batch_committed", position: at("c") },
  ];
  const kinds: StateKind[] = [];
  steps.reduce((s, e) => {
    const next = transition(s, e);
    kinds.push(next.kind);
    return next;
  }, { kind: "not_synced" } as TableState);
  assertEquals(kinds, [
    "first_copy_scan",
    "first_copy_scan",
    "catch_up",
    "catch_up",
    "incremental",
    "incremental",
  ]);
  assertEquals(positionOf(run(steps)), at("c"));
});

Deno.test("transition() keeps the scan's progress while scanning", () => {
  const state = run([
    { type: "scan_started", scan },
    { type: "batch_committed", position: null, scan: { ...scan, nextBlock: 4 } },
  ]);
  assertEquals(state.kind === "first_copy_scan" && state.scan.nextBlock, 4);
  assertEquals(positionOf(state), null);
});

Deno.test("transition() walks a first copy in keyset order, and an empty table", () => {
  const copied = run([
    { type: "keyset_copy_started" },
    { type: "batch_committed", position: at("a") },
    { type: "caught_up" },
  ]);
  assertEquals(copied, { kind: "incremental", position: at("a") });
  assertEquals(run([{ type: "caught_up" }]), { kind: "incremental", position: null });
});

Deno.test("transition() restarts from any state and refreshes from any state", () => {
  const states: TableState[] = [
    { kind: "not_synced" },
    { kind: "first_copy_scan", scan },
    { kind: "first_copy_keyset", position: at("a") },
    { kind: "catch_up", position: at("a") },
    { kind: "incremental", position: at("a") },
    { kind: "full_refresh" },
  ];
  for (const state of states) {
    assertEquals(transition(state, { type: "restarted" }), { kind: "not_synced" });
    assertEquals(transition(state, { type: "refreshed" }), { kind: "full_refresh" });
  }
});

Deno.test("transition() refuses events that cannot happen", () => {
  const refused: [TableState, LifecycleEvent][] = [
    [{ kind: "not_synced" }, { type: "batch_committed", position: at("a") }],
    [{ kind: "not_synced" }, { type: "scan_finished", position: null }],
    [{ kind: "incremental", position: null }, { type: "scan_started", scan }],
    [{ kind: "first_copy_scan", scan }, { type: "caught_up" }],
    [{ kind: "full_refresh" }, { type: "batch_committed", position: at("a") }],
  ];
  for (const [state, event] of refused) {
    let error: unknown = null;
    try {
      transition(state, event);
    } catch (e) {
      error = e;
    }
    assert(error instanceof LifecycleError, `${state.kind} + ${event.type}`);
  }
});

Deno.test("modeOf() and isFirstCopy() group the states as the log and UI show them", () => {
  assertEquals(modeOf({ kind: "catch_up", position: null }), "bootstrap");
  assertEquals(modeOf({ kind: "first_copy_scan", scan }), "bootstrap");
  assertEquals(modeOf({ kind: "incremental", position: null }), "incremental");
  assertEquals(modeOf({ kind: "full_refresh" }), "full_refresh");
  assert(isFirstCopy({ kind: "not_synced" }));
  assert(!isFirstCopy({ kind: "incremental", position: null }));
});
