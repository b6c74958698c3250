// The reducer's pane focus, selection, detail views and log filter.

import { assertEquals } from "../support/assert.ts";
import {
  applyEvent,
  FOLLOW,
  initialState,
  reduce,
  tableNames,
  type UiAction,
  type UiState,
  visibleLog,
} from "../../ui/state.ts";
import type { WorkerEvent } from "../../src/host/protocol.ts";

const T0 = 1_700_000_000_000;

function withTables(n: number): UiState {
  const ready: WorkerEvent = {
    type: "ready",
    connection: "c",
    duckdbPath: "d",
    demo: false,
    tables: Array.from({ length: n }, (_, i) => ({
      table: `t${i}`,
      mode: "incremental" as const,
      cursor: null,
      key: null,
      rowsCopied: 0,
    })),
    drift: [],
  };
  return applyEvent(initialState(T0), ready, T0);
}

const act = (s: UiState, ...actions: UiAction[]) => actions.reduce(reduce, s);

Deno.test("reduce() select moves within the tables and stops at the ends", () => {
  let s = withTables(20);
  s = act(s, { type: "select", by: 7 });
  assertEquals(s.selected.tables, 7);
  s = act(s, { type: "select", by: 100 });
  assertEquals(s.selected.tables, 19);
  s = act(s, { type: "select_edge", end: false });
  assertEquals(s.selected.tables, 0);
});

Deno.test("tableNames() lists failed tables first", () => {
  const s = applyEvent(withTables(3), {
    type: "table_failed",
    table: "t2",
    code: "X",
    message: "m",
  }, T0);
  assertEquals(tableNames(s), ["t2", "t0", "t1"]);
});

Deno.test("reduce() Enter opens the selected table's detail; Esc closes it", () => {
  let s = act(withTables(5), { type: "select", by: 3 }, { type: "detail_open" });
  assertEquals(s.detail, { kind: "table", table: "t3" });
  s = act(s, { type: "detail_scroll", by: 4 }, { type: "detail_scroll", by: -9 });
  assertEquals(s.detailScroll, 0);
  assertEquals(act(s, { type: "detail_close" }).detail, null);
});

Deno.test("reduce() the events selection follows the newest entry until moved", () => {
  let s = initialState(T0);
  s = act(s, { type: "focus_pane", pane: "events" });
  for (let i = 0; i < 5; i++) s = applyEvent(s, { type: "notice", message: `n${i}` }, T0);
  assertEquals(s.selected.events, FOLLOW);
  s = act(s, { type: "select", by: -2 }, { type: "detail_open" });
  assertEquals(s.detail, { kind: "event", index: 2 });
  s = act(s, { type: "detail_close" }, { type: "select", by: 5 });
  assertEquals(s.selected.events, FOLLOW);
});

Deno.test("reduce() f cycles the log filter through the tables with entries, then all", () => {
  let s = withTables(3);
  s = applyEvent(s, { type: "table_failed", table: "t1", code: "X", message: "a" }, T0);
  s = applyEvent(s, { type: "notice", message: "t2 skipped" }, T0);
  s = applyEvent(s, { type: "notice", message: "general" }, T0);
  s = act(s, { type: "log_filter_next" });
  assertEquals([s.logFilter, visibleLog(s).length], ["t1", 1]);
  s = act(s, { type: "log_filter_next" });
  assertEquals([s.logFilter, visibleLog(s).length], ["t2", 1]);
  s = act(s, { type: "log_filter_next" });
  assertEquals([s.logFilter, visibleLog(s).length], [null, 3]);
});

Deno.test("reduce() focus_next skips the result browser without a result", () => {
  let s = initialState(T0);
  s = act(s, { type: "focus_next", by: 1 }, { type: "focus_next", by: 1 });
  assertEquals([s.pane, s.focus], ["prompt", "prompt"]);
  s = applyEvent(s, {
    type: "query_result",
    id: 1,
    columns: ["a"],
    rows: [[1]],
    rowCount: 1,
    truncated: false,
    elapsedMs: 1,
  }, T0);
  s = act(s, { type: "focus_next", by: -1 });
  assertEquals([s.pane, s.focus], ["results", "panes"]);
  s = act(s, { type: "detail_open" });
  assertEquals(s.detail, { kind: "row", index: 0 });
});
