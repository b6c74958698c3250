import { assert, assertEquals } from "../support/assert.ts";
import {
  applyEvent,
  initialState,
  MAX_BATCH_POINTS,
  MAX_HISTORY,
  newTable,
  reduce,
  type UiAction,
  type UiState,
} from "../../ui/state.ts";
import type { DriftRecord, WorkerEvent } from "../../src/host/protocol.ts";

const T0 = 1_700_000_000_000;

function events(state: UiState, list: WorkerEvent[], now = T0): UiState {
  return reduce(state, { type: "events", events: list, now });
}

function actions(state: UiState, list: UiAction[]): UiState {
  return list.reduce(reduce, state);
}

function batch(rows: number, bytes = rows * 10, durationMs = 100): WorkerEvent {
  return {
    type: "batch_finished",
    table: "public.orders",
    seq: 1,
    mode: "bootstrap",
    rows,
    bytes,
    durationMs,
    cursorFrom: null,
    cursorTo: "2024-05-01 12:00:00+00",
    file: "batch.parquet",
  };
}

const drift: DriftRecord = {
  at: "2024-05-01T12:34:56.000Z",
  table: "public.orders",
  kind: "column_added",
  column: "note",
  detail: "added TEXT",
  ddl: 'ALTER TABLE orders ADD COLUMN "note" VARCHAR',
};

Deno.test("initialState() starts idle with an empty prompt and query id 1", () => {
  const s = initialState(T0, "pg://x", "/tmp/w.duckdb");
  assertEquals(s.status, "starting");
  assertEquals(s.connection, "pg://x");
  assertEquals(s.duckdbPath, "/tmp/w.duckdb");
  assertEquals(s.focus, "panes");
  assertEquals(s.help, false);
  assertEquals(s.input, "");
  assertEquals(s.history, []);
  assertEquals(s.historyIndex, null);
  assertEquals(s.nextQueryId, 1);
  assertEquals(s.queryRunning, false);
  assertEquals(s.totals, { rows: 0, bytes: 0, batches: 0 });
  assertEquals(s.startedAt, T0);
  assertEquals(s.now, T0);
});

Deno.test("reduce() ready takes connection, demo flag and tables from the checkpoint", () => {
  const s = events(initialState(T0), [{
    type: "ready",
    connection: "postgres://app:****@db:5432/shop",
    duckdbPath: "/data/w.duckdb",
    demo: true,
    tables: [
      {
        table: "public.orders",
        mode: "incremental",
        cursor: "2024-05-01 12:00:00+00",
        key: ["42"],
        rowsCopied: 1234,
      },
      { table: "public.users", mode: "bootstrap", cursor: null, key: null, rowsCopied: 0 },
    ],
    drift: [{
      at: "2024-05-01T11:00:00Z",
      table: "public.orders",
      kind: "column_added",
      column: "note",
      detail: "added text as VARCHAR",
      ddl: 'ALTER TABLE "public_orders" ADD COLUMN "note" VARCHAR',
    }],
  }]);
  // The drift log recorded before this run is shown at start.
  assertEquals(s.drift.map((d) => d.column), ["note"]);
  assertEquals(s.connection, "postgres://app:****@db:5432/shop");
  assertEquals(s.duckdbPath, "/data/w.duckdb");
  assertEquals(s.demo, true);
  assertEquals(s.tables, {
    "public.orders": {
      ...newTable("public.orders"),
      mode: "incremental",
      cursor: "2024-05-01 12:00:00+00",
      key: ["42"],
      rowsCopied: 1234,
    },
    "public.users": newTable("public.users"),
  });
  assertEquals(s.status, "starting");
});

Deno.test("reduce() events stamps now and applies the batch in order", () => {
  const s = events(initialState(T0), [batch(10), batch(20)], T0 + 5000);
  assertEquals(s.now, T0 + 5000);
  assertEquals(s.batches.map((b) => b.rows), [10, 20]);
  assertEquals(s.batches[0]?.at, T0 + 5000);
});

Deno.test("reduce() tick only moves now", () => {
  const s0 = events(initialState(T0), [batch(10)]);
  const s1 = reduce(s0, { type: "tick", now: T0 + 9000 });
  assertEquals(s1, { ...s0, now: T0 + 9000 });
});

Deno.test("applyEvent() cycle_started sets syncing, mode and estimate, clears error", () => {
  const failing = applyEvent(
    initialState(T0),
    { type: "error", code: "PG_CONNECT", message: "refused", transient: true, retryInSeconds: 4 },
    T0,
  );
  assertEquals(failing.status, "retrying");
  const s = applyEvent(failing, {
    type: "cycle_started",
    table: "public.orders",
    mode: "bootstrap",
    at: "2024-05-01T12:00:00Z",
    estimatedRows: 5000,
  }, T0 + 10);
  assertEquals(s.status, "syncing");
  assertEquals(s.lastError, null);
  assertEquals(s.nextCycleAt, null);
  assertEquals(s.tables["public.orders"], {
    ...newTable("public.orders"),
    estimatedRows: 5000,
    active: true,
    copyStartedAt: T0 + 10,
  });
});

Deno.test("applyEvent() batch_finished appends a point and adds to the totals", () => {
  let s = initialState(T0);
  s = applyEvent(s, batch(100, 2048, 250), T0 + 1);
  s = applyEvent(s, batch(50, 1024, 125), T0 + 2);
  assertEquals(s.batches, [
    { at: T0 + 1, table: "public.orders", rows: 100, bytes: 2048, durationMs: 250 },
    { at: T0 + 2, table: "public.orders", rows: 50, bytes: 1024, durationMs: 125 },
  ]);
  assertEquals(s.totals, { rows: 150, bytes: 3072, batches: 2 });
});

Deno.test("applyEvent() batch_finished keeps only the newest MAX_BATCH_POINTS points", () => {
  let s = initialState(T0);
  const n = MAX_BATCH_POINTS + 7;
  for (let i = 1; i <= n; i++) s = applyEvent(s, batch(i, 1, 10), T0 + i);
  assertEquals(s.batches.length, MAX_BATCH_POINTS);
  assertEquals(s.batches[0]?.rows, 8);
  assertEquals(s.batches[s.batches.length - 1]?.rows, n);
  // Totals are not capped.
  assertEquals(s.totals.batches, n);
  assertEquals(s.totals.rows, (n * (n + 1)) / 2);
  assertEquals(s.totals.bytes, n);
});

Deno.test("applyEvent() checkpoint_advanced updates cursor, key, rows copied and mode", () => {
  let s = applyEvent(initialState(T0), {
    type: "cycle_started",
    table: "public.orders",
    mode: "bootstrap",
    at: "x",
    estimatedRows: 900,
  }, T0);
  s = applyEvent(s, {
    type: "checkpoint_advanced",
    table: "public.orders",
    mode: "incremental",
    cursor: "2024-05-01 12:34:56.123456+00",
    key: ["7", "b"],
    rowsCopied: 777,
  }, T0);
  assertEquals(s.tables["public.orders"], {
    ...newTable("public.orders"),
    mode: "incremental",
    cursor: "2024-05-01 12:34:56.123456+00",
    key: ["7", "b"],
    rowsCopied: 777,
    estimatedRows: 900,
    active: true,
    copyStartedAt: T0,
  });
  // A table never announced still appears.
  s = applyEvent(s, {
    type: "checkpoint_advanced",
    table: "public.users",
    mode: "bootstrap",
    cursor: null,
    key: ["1"],
    rowsCopied: 1,
  }, T0);
  assertEquals(Object.keys(s.tables), ["public.orders", "public.users"]);
  assertEquals(s.tables["public.users"]?.estimatedRows, null);
});

Deno.test("applyEvent() cycle_finished sets the table mode", () => {
  const s = applyEvent(initialState(T0), {
    type: "cycle_finished",
    table: "public.orders",
    mode: "incremental",
    rows: 0,
    batches: 0,
    durationMs: 3,
    idle: true,
    inSyncAsOf: null,
  }, T0);
  assertEquals(s.tables["public.orders"]?.mode, "incremental");
});

Deno.test("applyEvent() drift_applied appends to the drift log", () => {
  const second: DriftRecord = { ...drift, kind: "column_dropped", column: "old", ddl: null };
  let s = applyEvent(initialState(T0), { type: "drift_applied", drift }, T0);
  s = applyEvent(s, { type: "drift_applied", drift: second }, T0);
  assertEquals(s.drift, [drift, second]);
});

Deno.test("applyEvent() cycle_idle waits until now + nextInSeconds", () => {
  const syncing = applyEvent(initialState(T0), {
    type: "cycle_started",
    table: "t",
    mode: "incremental",
    at: "x",
    estimatedRows: null,
  }, T0);
  const s = applyEvent(syncing, { type: "cycle_idle", nextInSeconds: 30 }, T0 + 500);
  assertEquals(s.status, "waiting");
  assertEquals(s.nextCycleAt, T0 + 500 + 30_000);
});

Deno.test("applyEvent() cycle_idle keeps paused status", () => {
  const paused = applyEvent(initialState(T0), { type: "loop_state", state: "paused" }, T0);
  const s = applyEvent(paused, { type: "cycle_idle", nextInSeconds: 5 }, T0);
  assertEquals(s.status, "paused");
  assertEquals(s.nextCycleAt, T0 + 5000);
});

Deno.test("applyEvent() error with retryInSeconds sets retrying, lastError and the retry time", () => {
  const s = applyEvent(initialState(T0), {
    type: "error",
    code: "PG_CONNECT",
    message: "connection refused",
    transient: true,
    retryInSeconds: 8,
  }, T0 + 100);
  assertEquals(s.status, "retrying");
  assertEquals(s.lastError, "PG_CONNECT: connection refused");
  assertEquals(s.nextCycleAt, T0 + 100 + 8000);
});

Deno.test("applyEvent() error without retry keeps the status and clears the retry time", () => {
  const waiting = applyEvent(initialState(T0), { type: "cycle_idle", nextInSeconds: 5 }, T0);
  const s = applyEvent(waiting, {
    type: "error",
    code: "BAD",
    message: "boom",
    transient: false,
    retryInSeconds: null,
  }, T0);
  assertEquals(s.status, "waiting");
  assertEquals(s.lastError, "BAD: boom");
  assertEquals(s.nextCycleAt, null);
});

Deno.test("applyEvent() cycle_idle after an error (no new cycle) reports retrying", () => {
  let s = applyEvent(initialState(T0), {
    type: "error",
    code: "X",
    message: "y",
    transient: true,
    retryInSeconds: 2,
  }, T0);
  s = applyEvent(s, { type: "cycle_idle", nextInSeconds: 3 }, T0);
  assertEquals(s.status, "retrying");
  assertEquals(s.nextCycleAt, T0 + 3000);
});

Deno.test("applyEvent() loop_state paused, running and stopping", () => {
  let s = applyEvent(initialState(T0), { type: "cycle_idle", nextInSeconds: 10 }, T0);
  assertEquals(s.status, "waiting");
  s = applyEvent(s, { type: "loop_state", state: "paused" }, T0);
  assertEquals(s.status, "paused");
  assertEquals(s.nextCycleAt, null);
  s = applyEvent(s, { type: "loop_state", state: "running" }, T0);
  assertEquals(s.status, "waiting");
  // running while not paused keeps the status
  const syncing = applyEvent(s, {
    type: "cycle_started",
    table: "t",
    mode: "incremental",
    at: "x",
    estimatedRows: null,
  }, T0);
  assertEquals(applyEvent(syncing, { type: "loop_state", state: "running" }, T0).status, "syncing");
  // running at startup keeps "starting"
  assertEquals(
    applyEvent(initialState(T0), { type: "loop_state", state: "running" }, T0).status,
    "starting",
  );
  s = applyEvent(s, { type: "loop_state", state: "stopping" }, T0);
  assertEquals(s.status, "stopping");
  s = applyEvent(s, { type: "loop_state", state: "stopped" }, T0);
  assertEquals(s.status, "stopped");
});

Deno.test("applyEvent() a fatal error then loop_state stopped reads stopped, error kept", () => {
  let s = applyEvent(initialState(T0), { type: "cycle_idle", nextInSeconds: 10 }, T0);
  s = applyEvent(s, { type: "fatal", code: "CONFIG", message: "no tables", exitCode: 2 }, T0);
  assertEquals(s.status, "stopping");
  assertEquals(s.nextCycleAt, null);
  s = applyEvent(s, { type: "loop_state", state: "stopped" }, T0);
  assertEquals(s.status, "stopped");
  assertEquals(s.lastError, "CONFIG: no tables");
  assertEquals(s.nextCycleAt, null);
  // Nothing later turns a stopped engine back into a running one.
  s = applyEvent(s, { type: "loop_state", state: "running" }, T0);
  assertEquals(s.status, "stopped");
  s = applyEvent(s, { type: "fatal", code: "INTERNAL", message: "late", exitCode: 1 }, T0);
  assertEquals(s.status, "stopped");
});

Deno.test("applyEvent() query_result stores the result, clears running, error and scroll", () => {
  let s = actions(initialState(T0), [
    { type: "input_set", value: "SELECT 1" },
    { type: "query_submitted" },
  ]);
  s = { ...s, queryError: "old", scroll: 3 };
  assertEquals(s.queryRunning, true);
  s = applyEvent(s, {
    type: "query_result",
    id: 1,
    columns: ["a", "b"],
    rows: [[1, "x"], [2, null]],
    rowCount: 2,
    truncated: false,
    elapsedMs: 4.2,
  }, T0);
  assertEquals(s.queryRunning, false);
  assertEquals(s.queryError, null);
  assertEquals(s.scroll, 0);
  assertEquals(s.result, {
    columns: ["a", "b"],
    rows: [[1, "x"], [2, null]],
    rowCount: 2,
    truncated: false,
    elapsedMs: 4.2,
  });
});

Deno.test("applyEvent() query_error stores the message and clears running", () => {
  let s = actions(initialState(T0), [
    { type: "input_set", value: "SELEC 1" },
    { type: "query_submitted" },
  ]);
  s = applyEvent(s, {
    type: "query_error",
    id: 1,
    message: 'Parser Error: syntax error at or near "SELEC"',
    elapsedMs: 1,
  }, T0);
  assertEquals(s.queryRunning, false);
  assertEquals(s.queryError, 'Parser Error: syntax error at or near "SELEC"');
});

Deno.test("applyEvent() notice and seed_result add notices", () => {
  let s = applyEvent(initialState(T0), { type: "notice", message: "hello" }, T0);
  s = applyEvent(s, { type: "seed_result", ok: true, message: "seeded 3 changes" }, T0);
  assertEquals(s.notices, ["hello", "seeded 3 changes"]);
});

Deno.test("applyEvent() fatal stops with the error", () => {
  const s = applyEvent(initialState(T0), {
    type: "fatal",
    code: "CONFIG",
    message: "no tables",
    exitCode: 2,
  }, T0);
  assertEquals(s.status, "stopping");
  assertEquals(s.lastError, "CONFIG: no tables");
});

Deno.test("applyEvent() batch_started changes nothing", () => {
  const s0 = initialState(T0);
  const s1 = applyEvent(s0, {
    type: "batch_started",
    table: "t",
    seq: 1,
    cursorFrom: null,
  }, T0);
  assertEquals(s1, s0);
});

Deno.test("reduce() focus_toggle, focus_panes and help_toggle", () => {
  let s = reduce(initialState(T0), { type: "focus_toggle" });
  assertEquals(s.focus, "prompt");
  s = reduce(s, { type: "focus_toggle" });
  assertEquals(s.focus, "panes");
  s = reduce(reduce(s, { type: "focus_toggle" }), { type: "focus_panes" });
  assertEquals(s.focus, "panes");
  s = reduce(s, { type: "focus_panes" });
  assertEquals(s.focus, "panes");
  s = reduce(s, { type: "help_toggle" });
  assertEquals(s.help, true);
  s = reduce(s, { type: "help_toggle" });
  assertEquals(s.help, false);
});

Deno.test("reduce() input_set replaces the input and leaves history recall", () => {
  let s = actions(initialState(T0), [
    { type: "input_set", value: "SELECT 1" },
    { type: "query_submitted" },
    { type: "history_prev" },
  ]);
  assertEquals(s.historyIndex, 0);
  s = reduce(s, { type: "input_set", value: "SELECT 1 + 1" });
  assertEquals(s.input, "SELECT 1 + 1");
  assertEquals(s.historyIndex, null);
});

function withHistory(...sqls: string[]): UiState {
  let s = initialState(T0);
  for (const sql of sqls) {
    s = actions(s, [{ type: "input_set", value: sql }, { type: "query_submitted" }]);
    s = applyEvent(s, {
      type: "query_result",
      id: s.nextQueryId - 1,
      columns: [],
      rows: [],
      rowCount: 0,
      truncated: false,
      elapsedMs: 0,
    }, T0);
  }
  return s;
}

Deno.test("reduce() history_prev walks back and stops at the oldest", () => {
  let s = withHistory("A", "B", "C");
  assertEquals(s.history, ["A", "B", "C"]);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    s = reduce(s, { type: "history_prev" });
    seen.push(s.input);
  }
  assertEquals(seen, ["C", "B", "A", "A"]);
  assertEquals(s.historyIndex, 0);
});

Deno.test("reduce() history_next walks forward and past the newest returns to an empty line", () => {
  let s = withHistory("A", "B", "C");
  s = actions(s, [{ type: "history_prev" }, { type: "history_prev" }, { type: "history_prev" }]);
  assertEquals(s.input, "A");
  const seen: [string, number | null][] = [];
  for (let i = 0; i < 4; i++) {
    s = reduce(s, { type: "history_next" });
    seen.push([s.input, s.historyIndex]);
  }
  assertEquals(seen, [["B", 1], ["C", 2], ["", null], ["", null]]);
});

Deno.test("reduce() history_prev/next do nothing without history or recall", () => {
  const s = reduce(initialState(T0), { type: "input_set", value: "draft" });
  assertEquals(reduce(s, { type: "history_prev" }), s);
  assertEquals(reduce(s, { type: "history_next" }), s);
});

Deno.test("reduce() query_submitted adds trimmed SQL to history and bumps the query id", () => {
  const s = actions(initialState(T0), [
    { type: "input_set", value: "  SELECT 1  " },
    { type: "query_submitted" },
  ]);
  assertEquals(s.history, ["SELECT 1"]);
  // The SQL stays in the prompt until it succeeds.
  assertEquals(s.input, "  SELECT 1  ");
  assertEquals(s.queryRunning, true);
  assertEquals(s.nextQueryId, 2);
  assertEquals(s.historyIndex, null);
});

Deno.test("reduce() query_submitted does not repeat the same consecutive history entry", () => {
  const s = withHistory("SELECT 1", "SELECT 1", "SELECT 2", "SELECT 1");
  assertEquals(s.history, ["SELECT 1", "SELECT 2", "SELECT 1"]);
  assertEquals(s.nextQueryId, 5);
});

Deno.test("reduce() query_submitted is ignored when empty or a query is running", () => {
  const blank = reduce(initialState(T0), { type: "input_set", value: "   " });
  assertEquals(reduce(blank, { type: "query_submitted" }), blank);
  const running = actions(initialState(T0), [
    { type: "input_set", value: "SELECT 1" },
    { type: "query_submitted" },
    { type: "input_set", value: "SELECT 2" },
  ]);
  const after = reduce(running, { type: "query_submitted" });
  assertEquals(after, running);
  assertEquals(after.nextQueryId, 2);
  assertEquals(after.input, "SELECT 2");
});

Deno.test("reduce() scroll clamps to [0, rows - 1]", () => {
  let s = applyEvent(initialState(T0), {
    type: "query_result",
    id: 1,
    columns: ["n"],
    rows: Array.from({ length: 10 }, (_, i) => [i]),
    rowCount: 10,
    truncated: false,
    elapsedMs: 1,
  }, T0);
  s = reduce(s, { type: "scroll", by: -5 });
  assertEquals(s.scroll, 0);
  s = reduce(s, { type: "scroll", by: 4 });
  assertEquals(s.scroll, 4);
  s = reduce(s, { type: "scroll", by: 100 });
  assertEquals(s.scroll, 9);
  s = reduce(s, { type: "scroll", by: -3 });
  assertEquals(s.scroll, 6);
  // No result: stays at 0.
  assertEquals(reduce(initialState(T0), { type: "scroll", by: 5 }).scroll, 0);
});

Deno.test("reduce() notices keep only the newest four", () => {
  let s = initialState(T0);
  for (let i = 1; i <= 6; i++) s = reduce(s, { type: "notice", message: `n${i}` });
  assertEquals(s.notices, ["n3", "n4", "n5", "n6"]);
  s = applyEvent(s, { type: "notice", message: "n7" }, T0);
  assertEquals(s.notices, ["n4", "n5", "n6", "n7"]);
});

Deno.test("reduce() history keeps the newest MAX_HISTORY entries", () => {
  const s = withHistory(...Array.from({ length: MAX_HISTORY + 5 }, (_, i) => `SELECT ${i}`));
  assertEquals(s.history.length, MAX_HISTORY);
  assertEquals(s.history[0], "SELECT 5");
  assertEquals(s.history[MAX_HISTORY - 1], `SELECT ${MAX_HISTORY + 4}`);
});

Deno.test("reduce() never mutates the previous state", () => {
  const s0 = initialState(T0);
  const frozen = JSON.stringify(s0);
  const s1 = events(s0, [batch(5), { type: "drift_applied", drift }]);
  reduce(s1, { type: "notice", message: "x" });
  assertEquals(JSON.stringify(s0), frozen);
  assert(s1 !== s0);
});

Deno.test("reduce() scroll_columns moves the first shown column within the result", () => {
  let s = reduce(initialState(0), {
    type: "events",
    now: 0,
    events: [{
      type: "query_result",
      id: 1,
      columns: ["a", "b", "c"],
      rows: [[1, 2, 3]],
      rowCount: 1,
      truncated: false,
      elapsedMs: 1,
    }],
  });
  s = reduce(s, { type: "scroll_columns", by: 1 });
  assertEquals(s.column, 1);
  s = reduce(s, { type: "scroll_columns", by: 5 });
  assertEquals(s.column, 2);
  s = reduce(s, { type: "scroll_columns", by: -9 });
  assertEquals(s.column, 0);
});
