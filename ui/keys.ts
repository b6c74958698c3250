// Owns the pure key map: a key press (as Ink reports it) and the current state
// become a UI action, a worker command, or quitting. While the prompt has
// focus, letters go to the prompt.

import type { WorkerCommand } from "../src/host/protocol.ts";
import type { UiAction, UiState } from "./state.ts";

/** The subset of Ink's Key flags the map reads. */
export interface KeyFlags {
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly tab?: boolean;
  readonly escape?: boolean;
  readonly return?: boolean;
  readonly backspace?: boolean;
  readonly delete?: boolean;
  readonly upArrow?: boolean;
  readonly downArrow?: boolean;
  readonly leftArrow?: boolean;
  readonly rightArrow?: boolean;
  readonly pageUp?: boolean;
  readonly pageDown?: boolean;
}

export interface KeyOutcome {
  readonly actions: readonly UiAction[];
  readonly command: WorkerCommand | null;
  readonly quit: boolean;
}

const NONE: KeyOutcome = { actions: [], command: null, quit: false };
const act = (...actions: UiAction[]): KeyOutcome => ({ actions, command: null, quit: false });
const send = (command: WorkerCommand, ...actions: UiAction[]): KeyOutcome => ({
  actions,
  command,
  quit: false,
});

export const PAGE = 5;

const PAUSED_NOTICE = "paused: press p to resume syncing";
const STOPPED_NOTICE = "the sync has stopped: press q to quit";

const stopped = (state: UiState) => state.status === "stopping" || state.status === "stopped";

export function mapKey(input: string, key: KeyFlags, state: UiState): KeyOutcome {
  if (key.ctrl && input === "c") return { actions: [], command: null, quit: true };
  if (key.pageUp) return act({ type: "scroll", by: -PAGE });
  if (key.pageDown) return act({ type: "scroll", by: PAGE });
  if (state.focus === "prompt") {
    if (key.escape || key.tab) return act({ type: "focus_panes" });
    if (key.return || input === "\r" || input === "\n") {
      const sql = state.input.trim();
      if (sql === "" || state.queryRunning) return NONE;
      return send({ type: "run_query", id: state.nextQueryId, sql }, { type: "query_submitted" });
    }
    if (key.upArrow) return act({ type: "history_prev" });
    if (key.downArrow) return act({ type: "history_next" });
    if (key.backspace || key.delete) {
      return act({ type: "input_set", value: state.input.slice(0, -1) });
    }
    if (key.ctrl && input === "u") return act({ type: "input_set", value: "" });
    if (key.ctrl || key.meta || input === "") return NONE;
    // Typed text and Enter can arrive in one read (fast typing, tmux, pastes).
    const submitted = /[\r\n]$/.test(input) && input.length > 1;
    // Printable text (typed or pasted); newlines in a paste become spaces.
    // deno-lint-ignore no-control-regex
    const text = input.replace(/[\r\n]+/g, " ").replace(/[\u0000-\u001f\u007f]/g, "");
    if (submitted) {
      const value = state.input + text.trimEnd();
      const sql = value.trim();
      if (sql === "" || state.queryRunning) return act({ type: "input_set", value });
      return send(
        { type: "run_query", id: state.nextQueryId, sql },
        { type: "input_set", value },
        { type: "query_submitted" },
      );
    }
    return text ? act({ type: "input_set", value: state.input + text }) : NONE;
  }
  if (state.help && (key.escape || input === "?")) return act({ type: "help_toggle" });
  if (key.tab) return act({ type: "focus_toggle" });
  if (key.leftArrow) return act({ type: "scroll_columns", by: -1 });
  if (key.rightArrow) return act({ type: "scroll_columns", by: 1 });
  if (key.upArrow) return act({ type: "scroll", by: -1 });
  if (key.downArrow) return act({ type: "scroll", by: 1 });
  switch (input) {
    case "q":
      return { actions: [], command: null, quit: true };
    case "s":
      return send(
        { type: "seed_changes", inserts: 1, updates: 1, deletes: 1 },
        { type: "notice", message: "seeding changes into Postgres…" },
      );
    case "r":
      if (stopped(state)) return act({ type: "notice", message: STOPPED_NOTICE });
      if (state.status === "paused") return act({ type: "notice", message: PAUSED_NOTICE });
      return send({ type: "sync_now" }, { type: "notice", message: "sync requested" });
    case "p":
      if (stopped(state)) return act({ type: "notice", message: STOPPED_NOTICE });
      // Each press replaces the newest notice, so a paused hint never outlives the pause.
      return state.status === "paused"
        ? send({ type: "resume" }, { type: "notice", message: "resumed" })
        : send({ type: "pause" }, { type: "notice", message: PAUSED_NOTICE });
    case "?":
      return act({ type: "help_toggle" });
    case "/":
    case ":":
      return act({ type: "focus_toggle" });
    default:
      return NONE;
  }
}
