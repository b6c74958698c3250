// Panes rendered by ink-testing-library at the sizes the App gives them: a
// query error shown whole over the result lines, the Tables pane's state words,
// the Events pane's local timestamps, the help overlay's size.

import { createElement } from "react";
import { render } from "ink-testing-library";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { CheckpointPane } from "../../ui/checkpoint_pane.tsx";
import { QueryPane } from "../../ui/query_pane.tsx";
import { EventsPane } from "../../ui/events_pane.tsx";
import { applyEvent, initialState, type UiState } from "../../ui/state.ts";
import { localClock } from "../../ui/format.ts";

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

const QUERY = { width: 80, height: 12 };

Deno.test("QueryPane shows a long multi-line error whole, the SQL kept in the prompt", () => {
  const message =
    'Binder Error: Referenced column "nonexistent_column" not found in FROM clause!\nCandidate bindings: "analytics_subscriptions.lifetime_value", "analytics_subscriptions.updated_at"\n\nLINE 1: SELECT nonexistent_column FROM analytics_subscriptions';
  const state: UiState = {
    ...initialState(T0),
    input: "SELECT nonexistent_column FROM analytics_subscriptions",
    queryError: message,
  };
  const lines = frameOf(createElement(QueryPane, { state, ...QUERY }));
  assertEquals(lines.length, QUERY.height);
  assertMatch(lines[1]!, /^duckdb> SELECT nonexistent_column FROM analytics_subscriptions/);
  const footer = lines.findIndex((l) => l.includes("the SQL is still in the prompt"));
  const errorLines = lines.slice(2, footer).map((l) => l.trimEnd());
  assert(errorLines.every((l) => l.length <= QUERY.width - 4));
  assertEquals(errorLines.join(" ").replace(/\s+/g, " "), `error: ${message}`.replace(/\s+/g, " "));
  assertNotMatch(lines.join("\n"), /…/);
});

Deno.test("QueryPane cuts an error that does not fit in the pane with an ellipsis", () => {
  const state: UiState = { ...initialState(T0), queryError: "word ".repeat(200) };
  const lines = frameOf(createElement(QueryPane, { state, ...QUERY }));
  assertEquals(lines.length, QUERY.height);
  const errorLines = lines.filter((l) => /word/.test(l));
  assertEquals(errorLines.length, QUERY.height - 4);
  assert(errorLines.at(-1)!.trimEnd().endsWith("…"), errorLines.at(-1));
});

Deno.test("QueryPane keeps a pasted multi-line query as lines with a continuation prompt", () => {
  const input = "SELECT 1 -- one\nFROM t\nWHERE x";
  const state: UiState = { ...initialState(T0), focus: "prompt", pane: "prompt", input, caret: 5 };
  const lines = frameOf(createElement(QueryPane, { state, ...QUERY }));
  assertMatch(lines[1]!, /^duckdb> SELECT 1 -- one/);
  assertMatch(lines[2]!, /^ {3}\.\.\.> FROM t/);
  assertMatch(lines[3]!, /^ {3}\.\.\.> WHERE x/);
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

const finished = (inSyncAsOf: string | null) => ({
  type: "cycle_finished",
  table: "analytics_subscriptions",
  mode: "incremental",
  rows: 0,
  batches: 0,
  durationMs: 1,
  idle: true,
  inSyncAsOf,
} as const);

Deno.test("CheckpointPane: in sync as of the cycle start, not the cursor's age", () => {
  const asOf = "2024-05-01T12:30:00.000Z";
  let state = applyEvent(initialState(T0), ready, T0);
  state = applyEvent(state, finished(asOf), T0);
  const text = frameOf(createElement(CheckpointPane, { state, width: 70, height: 5 })).join("\n");
  assertMatch(
    text,
    new RegExp(`analytics_subscriptions in sync +as of ${localClock(Date.parse(asOf))}`),
  );
  assertNotMatch(text, /age/);
});

Deno.test("CheckpointPane with room shows rows copied, the exact cursor and the composite key", () => {
  let state = applyEvent(initialState(T0), ready, T0);
  state = applyEvent(state, finished("2024-05-01T12:30:00.000Z"), T0);
  const text = frameOf(createElement(CheckpointPane, { state, width: 130, height: 5, wide: true }))
    .join("\n");
  assertMatch(text, /10,006 +2024-05-01 12:00:00\+00 +99, 2/);
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

Deno.test("EventsPane: local time, kind and the whole text up to the edge; the zone in the title", () => {
  let state = applyEvent(initialState(T0), { type: "notice", message: "one" }, T0);
  state = applyEvent(state, {
    type: "table_failed",
    table: "t",
    code: "X",
    message: "boom",
  }, T0 + 1000);
  const lines = frameOf(createElement(EventsPane, { state, width: 60, height: 5 }));
  assertMatch(lines[0]!, /╭─ 2 Events, UTC/);
  assertMatch(lines[1]!, new RegExp(`^${localClock(T0)} notice +one`));
  assertMatch(lines[2]!, new RegExp(`^${localClock(T0 + 1000)} failed +t failed: X: boom`));
});

Deno.test("CheckpointPane wide columns line up whatever the key's length", () => {
  let state = applyEvent(initialState(T0), {
    ...ready,
    tables: [
      ready.tables[0],
      { ...ready.tables[0], table: "b", key: ["123456789"], rowsCopied: 5 },
    ],
  }, T0);
  state = applyEvent(state, finished("2024-05-01T12:30:00.000Z"), T0);
  const lines = frameOf(createElement(CheckpointPane, { state, width: 130, height: 5, wide: true }))
    .filter((l) => l.includes("2024-05-01 12:00:00+00"));
  assertEquals(lines.length, 2);
  assertEquals(lines[0]!.indexOf("2024"), lines[1]!.indexOf("2024"));
});
