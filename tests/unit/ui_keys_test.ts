import { assertEquals } from "../support/assert.ts";
import {
  type KeyFlags,
  type KeyOutcome,
  mapKey,
  PAGE,
  pasteText,
  typeChunk,
} from "../../ui/keys.ts";
import { initialState, reduce, type UiState } from "../../ui/state.ts";

const T0 = 1_700_000_000_000;
const NONE: KeyOutcome = { actions: [], command: null, quit: false };

const panes = (patch: Partial<UiState> = {}): UiState => ({ ...initialState(T0), ...patch });
const prompt = (patch: Partial<UiState> = {}): UiState =>
  panes({ focus: "prompt", pane: "prompt", caret: patch.input?.length ?? 0, ...patch });

/** Feeds keys through mapKey and the reducer, collecting commands. */
function press(state: UiState, keys: [string, KeyFlags?][]) {
  const commands: unknown[] = [];
  let quit = false;
  for (const [input, flags] of keys) {
    const outcome = mapKey(input, flags ?? {}, state);
    for (const action of outcome.actions) state = reduce(state, action);
    if (outcome.command) commands.push(outcome.command);
    quit ||= outcome.quit;
  }
  return { state, commands, quit };
}

const typed = (text: string): [string, KeyFlags?][] => [...text].map((c) => [c]);

Deno.test("mapKey() q quits from the panes", () => {
  assertEquals(mapKey("q", {}, panes()), { actions: [], command: null, quit: true });
});

Deno.test("mapKey() Ctrl+C quits in both focus modes", () => {
  const quit: KeyOutcome = { actions: [], command: null, quit: true };
  assertEquals(mapKey("c", { ctrl: true }, panes()), quit);
  assertEquals(mapKey("c", { ctrl: true }, prompt({ input: "SELECT" })), quit);
  assertEquals(mapKey("c", { ctrl: true }, panes({ help: true })), quit);
});

Deno.test("mapKey() s seeds one insert, update and delete", () => {
  const out = mapKey("s", {}, panes());
  assertEquals(out.command, { type: "seed_changes", inserts: 1, updates: 1, deletes: 1 });
  assertEquals(out.quit, false);
  assertEquals(out.actions.map((a) => a.type), ["notice"]);
});

Deno.test("mapKey() r requests a sync now", () => {
  const out = mapKey("r", {}, panes());
  assertEquals(out.command, { type: "sync_now" });
  assertEquals(out.quit, false);
});

Deno.test("mapKey() p pauses, and resumes when paused", () => {
  assertEquals(mapKey("p", {}, panes({ status: "waiting" })).command, { type: "pause" });
  assertEquals(mapKey("p", {}, panes({ status: "syncing" })).command, { type: "pause" });
  assertEquals(mapKey("p", {}, panes({ status: "paused" })).command, { type: "resume" });
});

Deno.test("mapKey() p says paused, and resuming replaces that message", () => {
  const paused = mapKey("p", {}, panes({ status: "waiting" }));
  assertEquals(paused.actions, [{ type: "notice", message: "paused: press p to resume syncing" }]);
  let s = reduce(panes({ status: "waiting" }), paused.actions[0]!);
  s = { ...s, status: "paused" };
  const resumed = mapKey("p", {}, s);
  assertEquals(resumed.command, { type: "resume" });
  for (const action of resumed.actions) s = reduce(s, action);
  // The newest notice is what the message line shows.
  assertEquals(s.notices[s.notices.length - 1], "resumed");
});

Deno.test("mapKey() p and r after the engine stopped send nothing and say so", () => {
  for (const status of ["stopping", "stopped"] as const) {
    for (const key of ["p", "r"]) {
      const out = mapKey(key, {}, panes({ status, lastError: "CONFIG: no tables" }));
      assertEquals(out.command, null, `${key} ${status}`);
      assertEquals(out.actions, [{
        type: "notice",
        message: "the sync has stopped: press q to quit",
      }]);
    }
  }
});

Deno.test("mapKey() Tab and Shift+Tab cycle the panes and the prompt; / and : open the prompt", () => {
  let s = panes();
  assertEquals(s.pane, "tables");
  s = press(s, [["", { tab: true }]]).state;
  assertEquals([s.pane, s.focus], ["events", "panes"]);
  s = press(s, [["", { tab: true }]]).state;
  assertEquals([s.pane, s.focus], ["prompt", "prompt"]);
  s = press(s, [["", { tab: true }]]).state;
  assertEquals([s.pane, s.focus], ["tables", "panes"]);
  s = press(s, [["", { tab: true, shift: true }]]).state;
  assertEquals(s.pane, "prompt");
  for (const key of ["/", ":"]) {
    assertEquals(press(panes(), [[key]]).state.focus, "prompt");
  }
  assertEquals(press(panes(), [["2"]]).state.pane, "events");
});

Deno.test("mapKey() ? toggles help and ?/Esc close it", () => {
  assertEquals(mapKey("?", {}, panes()).actions, [{ type: "help_toggle" }]);
  assertEquals(mapKey("?", {}, panes({ help: true })).actions, [{ type: "help_toggle" }]);
  assertEquals(mapKey("", { escape: true }, panes({ help: true })).actions, [{
    type: "help_toggle",
  }]);
});

Deno.test("mapKey() j/k and arrows move the selection; other letters do nothing", () => {
  assertEquals(mapKey("", { upArrow: true }, panes()).actions, [{ type: "select", by: -1 }]);
  assertEquals(mapKey("j", {}, panes()).actions, [{ type: "select", by: 1 }]);
  assertEquals(mapKey("x", {}, panes()), NONE);
});

Deno.test("mapKey() in the prompt letters go to the input; q and s neither quit nor seed", () => {
  const { state, commands, quit } = press(prompt(), typed("sq 1"));
  assertEquals(state.input, "sq 1");
  assertEquals(commands, []);
  assertEquals(quit, false);
});

Deno.test("mapKey() in the prompt Backspace deletes before the caret, Delete after it", () => {
  let s = press(prompt({ input: "abc" }), [["", { backspace: true }]]).state;
  assertEquals([s.input, s.caret], ["ab", 2]);
  s = press(s, [["", { leftArrow: true }], ["", { delete: true }]]).state;
  assertEquals([s.input, s.caret], ["a", 1]);
});

Deno.test("mapKey() Left, Ctrl+W, Home and Ctrl+K edit like readline", () => {
  let s = press(prompt(), typed("SELECT 1 FROM tt")).state;
  s = press(s, [["", { leftArrow: true }], ["", { leftArrow: true }]]).state;
  s = press(s, [["w", { ctrl: true }]]).state;
  assertEquals([s.input, s.caret], ["SELECT 1 tt", 9]);
  s = press(s, typed("FROM ")).state;
  assertEquals(s.input, "SELECT 1 FROM tt");
  s = press(s, [["a", { ctrl: true }], ["f", { meta: true }], ["k", { ctrl: true }]]).state;
  assertEquals(s.input, "SELECT");
  s = press(s, [["", { home: true }], ["x"], ["", { end: true }], ["y"]]).state;
  assertEquals(s.input, "xSELECTy");
  s = press(s, [["u", { ctrl: true }]]).state;
  assertEquals([s.input, s.caret], ["", 0]);
});

Deno.test("mapKey() Enter sends run_query with the trimmed SQL and the next query id", () => {
  const out = mapKey("", { return: true }, prompt({ input: "  SELECT 1  ", nextQueryId: 7 }));
  assertEquals(out.command, { type: "run_query", id: 7, sql: "SELECT 1" });
  assertEquals(out.actions, [{ type: "query_submitted" }]);
});

Deno.test("mapKey() Enter on empty input or while a query runs does nothing", () => {
  assertEquals(mapKey("", { return: true }, prompt({ input: "   " })), NONE);
  assertEquals(
    mapKey("", { return: true }, prompt({ input: "SELECT 1", queryRunning: true })),
    NONE,
  );
});

Deno.test("mapKey() text and Enter in one read submit the text", () => {
  const out = mapKey("SELECT 2\r", {}, prompt({ input: "" }));
  assertEquals(out.command, { type: "run_query", id: 1, sql: "SELECT 2" });
});

Deno.test("mapKey() a pasted multi-line chunk is kept as written and not run", () => {
  const sql = "SELECT 1 -- one\r\nFROM t\r\nWHERE x";
  const { state, commands } = press(prompt(), [[sql]]);
  assertEquals(state.input, "SELECT 1 -- one\nFROM t\nWHERE x");
  assertEquals(commands, []);
  const pasted = pasteText(prompt({ input: "x" }), "a\nb");
  let s = prompt({ input: "x" });
  for (const a of pasted.actions) s = reduce(s, a);
  assertEquals(s.input, "xa\nb");
});

Deno.test("mapKey() Alt+Enter adds a line to the prompt", () => {
  const s = press(prompt({ input: "SELECT 1" }), [["", { return: true, meta: true }]]).state;
  assertEquals(s.input, "SELECT 1\n");
});

Deno.test("mapKey() Up/Down recall history in the prompt", () => {
  const s = prompt({ history: ["SELECT 1", "SELECT 2"] });
  const up = press(s, [["", { upArrow: true }]]).state;
  assertEquals(up.input, "SELECT 2");
  const up2 = press(up, [["", { upArrow: true }]]).state;
  assertEquals(up2.input, "SELECT 1");
  const down = press(up2, [["", { downArrow: true }], ["", { downArrow: true }]]).state;
  assertEquals(down.input, "");
});

Deno.test("mapKey() Esc leaves the prompt, keeping its text", () => {
  const s = press(prompt({ input: "SELECT" }), [["", { escape: true }]]).state;
  assertEquals([s.focus, s.pane, s.input], ["panes", "tables", "SELECT"]);
});

Deno.test("mapKey() Esc or Ctrl+C while a query runs cancels it; Ctrl+C quits otherwise", () => {
  const running = prompt({ queryRunning: true, nextQueryId: 5 });
  assertEquals(mapKey("", { escape: true }, running).command, { type: "cancel_query", id: 4 });
  const ctrlC = mapKey("c", { ctrl: true }, running);
  assertEquals([ctrlC.command, ctrlC.quit], [{ type: "cancel_query", id: 4 }, false]);
  assertEquals(mapKey("c", { ctrl: true }, prompt()).quit, true);
});

Deno.test("mapKey() PgUp/PgDn move a page of the focused pane", () => {
  const pages = { tables: 7, events: 3, results: 12, detail: 9 };
  assertEquals(mapKey("", { pageDown: true }, panes(), pages).actions, [{ type: "select", by: 7 }]);
  assertEquals(mapKey("", { pageUp: true }, panes({ pane: "events" }), pages).actions, [{
    type: "select",
    by: -3,
  }]);
  assertEquals(mapKey("", { pageDown: true }, prompt(), pages).actions, [{
    type: "scroll",
    by: 12,
  }]);
  assertEquals(mapKey("", { pageDown: true }, panes(), undefined).actions, [{
    type: "select",
    by: PAGE,
  }]);
});

Deno.test("mapKey() ignores other control and meta keys in the prompt", () => {
  assertEquals(mapKey("x", { ctrl: true }, prompt({ input: "a" })), NONE);
  assertEquals(mapKey("x", { meta: true }, prompt({ input: "a" })), NONE);
});

Deno.test("mapKey() Enter opens a detail view and Esc closes it", () => {
  assertEquals(mapKey("", { return: true }, panes()).actions, [{ type: "detail_open" }]);
  const detail = panes({ detail: { kind: "table", table: "t" } });
  assertEquals(mapKey("", { escape: true }, detail).actions, [{ type: "detail_close" }]);
  assertEquals(mapKey("j", {}, detail).actions, [{ type: "detail_scroll", by: 1 }]);
  assertEquals(mapKey("q", {}, detail).quit, true);
});

Deno.test("mapKey() r while paused says how to resume instead of pretending to sync", () => {
  const out = mapKey("r", {}, panes({ status: "paused" }));
  assertEquals(out.command, null);
  assertEquals(out.actions, [{ type: "notice", message: "paused: press p to resume syncing" }]);
});

Deno.test("typeChunk() applies editing keys that arrive in one read with the text", () => {
  assertEquals(typeChunk({ text: "", caret: 0 }, "SELECT 4 oops\u0017"), {
    text: "SELECT 4 ",
    caret: 9,
  });
  assertEquals(typeChunk({ text: "ab", caret: 2 }, "c\u007f\u0001x"), { text: "xab", caret: 1 });
  const s = press(prompt(), [["SELECT 1 x\u0017\u0017"]]).state;
  assertEquals(s.input, "SELECT ");
});

Deno.test("mapKey() / and text in one read open the prompt with the text in it", () => {
  const s = press(panes(), [["/SELECT 1"]]).state;
  assertEquals([s.focus, s.input], ["prompt", "SELECT 1"]);
});

Deno.test("mapKey() several command keys in one read act in turn", () => {
  let s = panes({ tables: {} });
  const out = mapKey("2r", {}, s);
  for (const a of out.actions) s = reduce(s, a);
  assertEquals(s.pane, "events");
  assertEquals(out.command, { type: "sync_now" });
  assertEquals(mapKey("jq", {}, panes()).quit, true);
});

Deno.test("mapKey() a long unbracketed chunk in the panes is not run as commands", () => {
  assertEquals(mapKey("select sq", {}, panes()), NONE);
});
