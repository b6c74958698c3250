import { assertEquals } from "../support/assert.ts";
import { type KeyFlags, type KeyOutcome, mapKey, PAGE } from "../../ui/keys.ts";
import { initialState, reduce, type UiState } from "../../ui/state.ts";

const T0 = 1_700_000_000_000;
const NONE: KeyOutcome = { actions: [], command: null, quit: false };

const panes = (patch: Partial<UiState> = {}): UiState => ({ ...initialState(T0), ...patch });
const prompt = (patch: Partial<UiState> = {}): UiState => panes({ focus: "prompt", ...patch });

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

Deno.test("mapKey() Tab toggles focus, / and : open the prompt", () => {
  assertEquals(mapKey("", { tab: true }, panes()), {
    actions: [{ type: "focus_toggle" }],
    command: null,
    quit: false,
  });
  const { state } = press(panes(), [["", { tab: true }]]);
  assertEquals(state.focus, "prompt");
  assertEquals(press(panes(), [["/"]]).state.focus, "prompt");
  assertEquals(press(panes(), [[":"]]).state.focus, "prompt");
});

Deno.test("mapKey() ? toggles help and ?/Esc close it", () => {
  assertEquals(mapKey("?", {}, panes()).actions, [{ type: "help_toggle" }]);
  const open = press(panes(), [["?"]]).state;
  assertEquals(open.help, true);
  assertEquals(press(open, [["?"]]).state.help, false);
  assertEquals(press(open, [["", { escape: true }]]).state.help, false);
  // Esc without help does nothing.
  assertEquals(mapKey("", { escape: true }, panes()), NONE);
});

Deno.test("mapKey() arrows scroll by one in the panes, other letters do nothing", () => {
  assertEquals(mapKey("", { upArrow: true }, panes()).actions, [{ type: "scroll", by: -1 }]);
  assertEquals(mapKey("", { downArrow: true }, panes()).actions, [{ type: "scroll", by: 1 }]);
  assertEquals(mapKey("x", {}, panes()), NONE);
});

Deno.test("mapKey() in the prompt letters go to the input; q and s neither quit nor seed", () => {
  const out = press(prompt(), typed("qs"));
  assertEquals(out.state.input, "qs");
  assertEquals(out.quit, false);
  assertEquals(out.commands, []);
  assertEquals(mapKey("q", {}, prompt({ input: "a" })), {
    actions: [{ type: "input_set", value: "aq" }],
    command: null,
    quit: false,
  });
  // Letters for the other pane keys too, and shifted capitals.
  assertEquals(press(prompt(), typed("rp?S /")).state.input, "rp?S /");
});

Deno.test("mapKey() in the prompt backspace and delete remove the last character", () => {
  const s = prompt({ input: "SELECT" });
  assertEquals(mapKey("", { backspace: true }, s).actions, [{ type: "input_set", value: "SELEC" }]);
  assertEquals(mapKey("", { delete: true }, s).actions, [{ type: "input_set", value: "SELEC" }]);
  assertEquals(
    mapKey("", { backspace: true }, prompt({ input: "" })).actions,
    [{ type: "input_set", value: "" }],
  );
  assertEquals(mapKey("u", { ctrl: true }, s).actions, [{ type: "input_set", value: "" }]);
});

Deno.test("mapKey() Enter sends run_query with the trimmed SQL and the next query id", () => {
  const s = prompt({ input: "  SELECT 1  ", nextQueryId: 7 });
  assertEquals(mapKey("\r", { return: true }, s), {
    actions: [{ type: "query_submitted" }],
    command: { type: "run_query", id: 7, sql: "SELECT 1" },
    quit: false,
  });
});

Deno.test("mapKey() Enter on empty input or while a query runs does nothing", () => {
  assertEquals(mapKey("\r", { return: true }, prompt()), NONE);
  assertEquals(mapKey("\r", { return: true }, prompt({ input: "   " })), NONE);
  assertEquals(
    mapKey("\r", { return: true }, prompt({ input: "SELECT 1", queryRunning: true })),
    NONE,
  );
});

Deno.test("mapKey() typing then Enter runs the query and the ids increase", () => {
  const out = press(prompt(), [...typed("SELECT 1"), ["\r", { return: true }]]);
  assertEquals(out.commands, [{ type: "run_query", id: 1, sql: "SELECT 1" }]);
  assertEquals(out.state.input, "");
  assertEquals(out.state.history, ["SELECT 1"]);
  assertEquals(out.state.nextQueryId, 2);
  const done = { ...out.state, queryRunning: false };
  const again = press(done, [...typed("SELECT 2"), ["\r", { return: true }]]);
  assertEquals(again.commands, [{ type: "run_query", id: 2, sql: "SELECT 2" }]);
});

Deno.test("mapKey() text and Enter in one read submit the text", () => {
  const s = prompt({ nextQueryId: 3 });
  const out = mapKey("SELECT 1\r", {}, s);
  assertEquals(out.command, { type: "run_query", id: 3, sql: "SELECT 1" });
  const after = press(s, [["SELECT 1\r"]]);
  assertEquals(after.state.input, "");
  assertEquals(after.state.history, ["SELECT 1"]);
  assertEquals(after.state.queryRunning, true);
  // Appends to what is already typed; \n and \r\n work too.
  assertEquals(
    mapKey(" 1\n", {}, prompt({ input: "SELECT" })).command,
    { type: "run_query", id: 1, sql: "SELECT 1" },
  );
  assertEquals(
    mapKey("SELECT 2\r\n", {}, prompt()).command,
    { type: "run_query", id: 1, sql: "SELECT 2" },
  );
});

Deno.test("mapKey() a chunk with Enter while a query runs keeps the text without sending", () => {
  const out = mapKey("SELECT 1\r", {}, prompt({ queryRunning: true }));
  assertEquals(out.command, null);
  assertEquals(out.actions, [{ type: "input_set", value: "SELECT 1" }]);
});

Deno.test("mapKey() a pasted multi-line chunk becomes one line", () => {
  const out = mapKey("SELECT 1,\n2", {}, prompt());
  assertEquals(out.command, null);
  assertEquals(out.actions, [{ type: "input_set", value: "SELECT 1, 2" }]);
});

Deno.test("mapKey() Up/Down recall history in the prompt", () => {
  assertEquals(mapKey("", { upArrow: true }, prompt()).actions, [{ type: "history_prev" }]);
  assertEquals(mapKey("", { downArrow: true }, prompt()).actions, [{ type: "history_next" }]);
  let s = prompt();
  for (const sql of ["SELECT 1", "SELECT 2"]) {
    s = press(s, [...typed(sql), ["\r", { return: true }]]).state;
    s = { ...s, queryRunning: false };
  }
  const up = { upArrow: true };
  const down = { downArrow: true };
  assertEquals(press(s, [["", up]]).state.input, "SELECT 2");
  assertEquals(press(s, [["", up], ["", up]]).state.input, "SELECT 1");
  assertEquals(press(s, [["", up], ["", up], ["", down]]).state.input, "SELECT 2");
  assertEquals(press(s, [["", up], ["", down]]).state.input, "");
  // A recalled line can be run again.
  const rerun = press(s, [["", up], ["", up], ["\r", { return: true }]]);
  assertEquals(rerun.commands, [{ type: "run_query", id: 3, sql: "SELECT 1" }]);
});

Deno.test("mapKey() Esc and Tab leave the prompt", () => {
  assertEquals(mapKey("", { escape: true }, prompt()).actions, [{ type: "focus_panes" }]);
  assertEquals(mapKey("", { tab: true }, prompt()).actions, [{ type: "focus_panes" }]);
  assertEquals(press(prompt({ input: "x" }), [["", { escape: true }]]).state.focus, "panes");
  // After leaving, q quits again.
  const left = press(prompt(), [["", { tab: true }], ["q"]]);
  assertEquals(left.quit, true);
});

Deno.test("mapKey() PgUp/PgDn scroll by PAGE in both focus modes", () => {
  for (const s of [prompt(), panes()]) {
    assertEquals(mapKey("", { pageUp: true }, s).actions, [{ type: "scroll", by: -PAGE }]);
    assertEquals(mapKey("", { pageDown: true }, s).actions, [{ type: "scroll", by: PAGE }]);
  }
  assertEquals(PAGE, 5);
});

Deno.test("mapKey() ignores other control and meta keys in the prompt", () => {
  assertEquals(mapKey("a", { ctrl: true }, prompt()), NONE);
  assertEquals(mapKey("b", { meta: true }, prompt()), NONE);
  assertEquals(mapKey("", {}, prompt()), NONE);
  assertEquals(mapKey("\u0007", {}, prompt()), NONE);
});

Deno.test("mapKey() r while paused says how to resume instead of pretending to sync", () => {
  const out = mapKey("r", {}, panes({ status: "paused" }));
  assertEquals(out.command, null);
  assertEquals(out.actions, [{ type: "notice", message: "paused: press p to resume syncing" }]);
});
