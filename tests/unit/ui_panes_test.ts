// Panes rendered by ink-testing-library at 80x24 (the App's layout there): a
// query error wraps over the result area, the Checkpoint pane labels rows
// copied and says "stopped" once the engine has stopped.

import { createElement } from "react";
import { render } from "ink-testing-library";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { CheckpointPane } from "../../ui/checkpoint_pane.tsx";
import { QueryPane } from "../../ui/query_pane.tsx";
import { applyEvent, initialState, type UiState } from "../../ui/state.ts";

const T0 = 1_700_000_000_000;

/** The frame of one pane, its lines without the side borders. */
function frameOf(element: ReturnType<typeof createElement>): string[] {
  const app = render(element);
  try {
    return (app.lastFrame() ?? "").split("\n").map((l) =>
      l.replace(/^│ ?/, "").replace(/ *│$/, "")
    );
  } finally {
    app.unmount();
  }
}

// At 80x24 the App gives the Query pane 80x10.
const QUERY = { width: 80, height: 10 };

Deno.test("QueryPane wraps a long error over the result lines at 80x24", () => {
  // The worker sends the first line of DuckDB's message.
  const message =
    'Query failed: Binder Error: Referenced column "nonexistent_column" not found in FROM clause! Candidate bindings: "analytics_subscriptions.lifetime_value", "analytics_subscriptions.updated_at"';
  const state: UiState = { ...initialState(T0), queryError: message, lastQuery: "SELECT 1" };
  const lines = frameOf(createElement(QueryPane, { state, ...QUERY }));
  assertEquals(lines.length, QUERY.height);
  // Between the prompt and the footer.
  const footer = lines.findIndex((l) => l.startsWith("the app keeps running"));
  const errorLines = lines.slice(3, footer).map((l) => l.trimEnd());
  assertEquals(errorLines.length, 4);
  assert(errorLines.every((l) => l.length <= QUERY.width - 4));
  // Nothing of the message is lost.
  assertEquals(errorLines.join(" "), `error: ${message}`);
  assertNotMatch(lines.join("\n"), /…/);
  assertMatch(lines[footer]!, /the app keeps running; fix the SQL and press Enter/);
});

Deno.test("QueryPane cuts an error that does not fit in the pane with an ellipsis", () => {
  const state: UiState = { ...initialState(T0), queryError: "word ".repeat(200) };
  const lines = frameOf(createElement(QueryPane, { state, ...QUERY }));
  assertEquals(lines.length, QUERY.height);
  const errorLines = lines.filter((l) => /word/.test(l));
  // The five lines between the prompt and the footer.
  assertEquals(errorLines.length, 5);
  assert(errorLines[4]!.trimEnd().endsWith("…"), errorLines[4]);
  assertMatch(lines[lines.length - 2]!, /the app keeps running/);
});

const ready = {
  type: "ready",
  connection: "postgres://app:****@localhost/shop",
  duckdbPath: "/tmp/w.duckdb",
  demo: true,
  tables: [{
    table: "analytics_subscriptions",
    mode: "incremental",
    cursor: "2024-05-01 12:00:00+00",
    key: ["99", "2"],
    rowsCopied: 10_006,
  }],
  drift: [],
} as const;

Deno.test("CheckpointPane shows rows copied (not table rows) and the composite key", () => {
  const state = applyEvent(initialState(T0), ready, T0);
  const text = frameOf(createElement(CheckpointPane, { state, width: 40, height: 8 })).join("\n");
  assertMatch(text, /key 99, 2 {2}copied 10,006/);
  assertNotMatch(text, /rows 10,006/);
});

Deno.test("CheckpointPane says stopped once the engine stopped after a fatal error", () => {
  let state = applyEvent(initialState(T0), ready, T0);
  state = applyEvent(state, { type: "fatal", code: "CONFIG", message: "bad", exitCode: 2 }, T0);
  state = applyEvent(state, { type: "loop_state", state: "stopped" }, T0);
  const text = frameOf(createElement(CheckpointPane, { state, width: 40, height: 8 })).join("\n");
  assertMatch(text, /cursor age \S+ +stopped/);
  assertNotMatch(text, /stopping/);
});

Deno.test("CheckpointPane without tables says stopped instead of waiting after a fatal error", () => {
  let state = applyEvent(initialState(T0), {
    type: "fatal",
    code: "CONFIG",
    message: "no tables",
    exitCode: 2,
  }, T0);
  state = applyEvent(state, { type: "loop_state", state: "stopped" }, T0);
  const text = frameOf(createElement(CheckpointPane, { state, width: 40, height: 8 })).join("\n");
  assertMatch(text, /stopped before the first cycle/);
  assertNotMatch(text, /waiting for the first cycle/);
});

Deno.test("CheckpointPane with two tables in a short pane shows each in two lines, cursor included", () => {
  const second = { ...ready.tables[0], table: "public_orders", key: ["7"], rowsCopied: 3 };
  const state = applyEvent(initialState(T0), { ...ready, tables: [ready.tables[0], second] }, T0);
  const lines = frameOf(createElement(CheckpointPane, { state, width: 100, height: 8 }));
  const text = lines.join("\n");
  assertMatch(text, /analytics_subscriptions {2}incr 10\.0k copied/);
  assertMatch(text, /^ {2}cursor 2024-05-01 12:00:00\+00 {2}key 99, 2 {2}copied 10,006/m);
  assertMatch(text, /^ {2}cursor 2024-05-01 12:00:00\+00 {2}key 7 {2}copied 3/m);
  // Too short for two lines each: one line per table.
  const tight = frameOf(createElement(CheckpointPane, { state, width: 100, height: 6 })).join("\n");
  assertMatch(tight, /public_orders {2}incr 3 copied/);
  assertNotMatch(tight, /cursor 2024/);
});
