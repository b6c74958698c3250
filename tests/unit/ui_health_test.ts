// The UI's health words: per-table state and colour, the header badge, true
// freshness from inSyncAsOf, first-copy rate and ETA, and outages opened by a
// retried error and closed by the next finished cycle.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { applyEvent, initialState, type UiState } from "../../ui/state.ts";
import { badge, copyProgress, isDown, tableHealth } from "../../ui/health.ts";
import { localClock } from "../../ui/format.ts";
import type { WorkerEvent } from "../../src/host/protocol.ts";

const T0 = 1_700_000_000_000;
const AS_OF = "2023-11-14T22:13:00.000Z";

function run(events: WorkerEvent[], start: UiState = initialState(T0), step = 1000): UiState {
  let s = start;
  events.forEach((e, i) => {
    s = { ...applyEvent(s, e, T0 + i * step), now: T0 + i * step };
  });
  return s;
}

const finished = (table: string, inSyncAsOf: string | null, mode = "incremental") =>
  ({
    type: "cycle_finished",
    table,
    mode,
    rows: 0,
    batches: 0,
    durationMs: 1,
    idle: true,
    inSyncAsOf,
  }) as WorkerEvent;

const started = (table: string, mode = "incremental", estimatedRows: number | null = null) =>
  ({ type: "cycle_started", table, mode, at: "x", estimatedRows }) as WorkerEvent;

const outage: WorkerEvent = {
  type: "error",
  code: "PG_CONNECT",
  message: "refused",
  transient: true,
  retryInSeconds: 4,
};

Deno.test("tableHealth() reads in sync as of the caught-up cycle's start, green", () => {
  const s = run([started("a"), finished("a", AS_OF)]);
  assertEquals(tableHealth(s.tables.a!, s), {
    word: "in sync",
    color: "green",
    detail: `as of ${localClock(Date.parse(AS_OF))}`,
  });
  // Time passing without changes does not make it stale: the time stays the cycle's.
  const later = { ...s, now: s.now + 7 * 60_000 };
  assertEquals(tableHealth(later.tables.a!, later).word, "in sync");
});

Deno.test("tableHealth() a failed table is red and never green; the badge says degraded", () => {
  const s = run([
    started("a"),
    finished("a", AS_OF),
    started("b"),
    finished("b", AS_OF),
    { type: "table_failed", table: "b", code: "PG_PERMISSION_DENIED", message: "denied" },
  ]);
  const h = tableHealth(s.tables.b!, s);
  assertEquals([h.word, h.color], ["failed", "red"]);
  assertMatch(h.detail, /^PG_PERMISSION_DENIED: denied · last good 1s ago$/);
  assertEquals(badge(s), { word: "degraded: 1 failed", color: "yellow" });
  // It turns back when the table syncs again.
  const back = run([started("b"), finished("b", AS_OF)], s);
  assertEquals(tableHealth(back.tables.b!, back).word, "in sync");
  assertEquals(badge(back).word, "healthy");
});

Deno.test("an outage turns every table red with last good, the badge down; a finished cycle ends it", () => {
  let s = run([started("a"), finished("a", AS_OF), outage]);
  s = { ...s, now: T0 + 48_000 };
  assertEquals(isDown(s), true);
  assertEquals(badge(s), { word: "down", color: "red" });
  assertEquals(tableHealth(s.tables.a!, s), {
    word: "retrying",
    color: "red",
    detail: "last good 47s ago",
  });
  assertEquals(s.outages, [{ from: T0 + 2000, to: null }]);
  // A retry that fails again keeps one outage open.
  s = run([started("a"), outage], s);
  assertEquals(s.outages.length, 1);
  s = run([started("a"), finished("a", AS_OF)], s);
  assertEquals(isDown(s), false);
  assertEquals(s.outages.length, 1);
  assertEquals(s.outages[0]!.to !== null, true);
  assertEquals(tableHealth(s.tables.a!, s).word, "in sync");
});

Deno.test("tableHealth() first copy: copying with percent, rows/s and ETA; behind while a cycle copies", () => {
  let s = run([started("a", "bootstrap", 10_000)]);
  s = {
    ...applyEvent(s, {
      type: "checkpoint_advanced",
      table: "a",
      mode: "bootstrap",
      cursor: null,
      key: ["1"],
      rowsCopied: 2500,
    }, T0 + 5000),
    now: T0 + 5000,
  };
  const h = tableHealth(s.tables.a!, s);
  assertEquals([h.word, h.color], ["copying", "yellow"]);
  // 2500 rows in 5 s: 500 rows/s, 7500 left: 15 s.
  assertEquals(copyProgress(s.tables.a!, s.now), "25% of ~10.0k rows, 500 rows/s, ETA 15s");
  s = run([finished("a", AS_OF), started("a")], s);
  s = applyEvent(s, {
    type: "batch_finished",
    table: "a",
    seq: 1,
    mode: "incremental",
    rows: 3,
    bytes: 10,
    durationMs: 5,
    cursorFrom: null,
    cursorTo: "x",
    file: "f",
  }, s.now);
  const behind = tableHealth(s.tables.a!, s);
  assertEquals(behind.word, "behind");
  assertMatch(behind.detail, /^3 rows copied this cycle · in sync as of /);
});

Deno.test("tableHealth() paused and waiting; the badge says paused, starting, stopped", () => {
  let s = run([{
    type: "ready",
    connection: "c",
    duckdbPath: "d",
    demo: false,
    tables: [{ table: "a", mode: "incremental", cursor: null, key: null, rowsCopied: 0 }],
    drift: [],
  }]);
  assertEquals(tableHealth(s.tables.a!, s).word, "waiting");
  assertEquals(badge(initialState(T0)).word, "starting");
  s = applyEvent(s, { type: "loop_state", state: "paused" }, T0);
  assertEquals(tableHealth(s.tables.a!, s).word, "paused");
  assertEquals(badge(s).word, "paused");
  s = applyEvent(s, { type: "loop_state", state: "stopped" }, T0);
  assertEquals(badge(s).word, "stopped");
  s = applyEvent(s, { type: "fatal", code: "CONFIG", message: "x", exitCode: 2 }, T0);
  assertEquals(badge(s).word, "down");
});

Deno.test("the event log keeps every notice, failure, retry and drift with its table", () => {
  const s = run([
    started("orders"),
    { type: "notice", message: "public.no_key skipped: no primary key" },
    { type: "table_failed", table: "orders", code: "X", message: "boom" },
    outage,
    {
      type: "drift_applied",
      drift: {
        at: "2023-11-14 22:13:00+00",
        table: "orders",
        kind: "column_added",
        column: "region",
        detail: "text",
        ddl: "ALTER TABLE orders ADD COLUMN region VARCHAR",
      },
    },
    { type: "notice", message: "recovered after 1 failed attempt" },
  ]);
  assertEquals(s.log.map((e) => [e.kind, e.table]), [
    ["notice", null],
    ["failed", "orders"],
    ["retry", null],
    ["drift", "orders"],
    ["recovered", null],
  ]);
  assertEquals(s.log[3]!.drift?.ddl, "ALTER TABLE orders ADD COLUMN region VARCHAR");
  assertEquals(s.lastError, null);
  assertEquals(isDown(s), false);
});

Deno.test("the event log folds a failure repeated every cycle into one line with a count", () => {
  const failed: WorkerEvent = { type: "table_failed", table: "a", code: "X", message: "denied" };
  const s = run([
    failed,
    { type: "notice", message: "other" },
    failed,
    failed,
  ]);
  assertEquals(s.log.map((e) => [e.kind, e.count ?? 1]), [["notice", 1], ["failed", 3]]);
  assertEquals(s.log[1]!.firstAt, T0);
  assertEquals(s.log[1]!.at, T0 + 3000);
});
