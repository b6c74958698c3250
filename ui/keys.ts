// Owns the pure key map: a key press (as Ink reports it), the current state and
// the page sizes of the layout become UI actions, a worker command, or
// quitting. While the prompt has focus every printable key is text (q and s
// included) and the readline keys edit it; elsewhere letters are commands.

import type { WorkerCommand } from "../src/host/protocol.ts";
import { type PaneId, reduce, type UiAction, type UiState } from "./state.ts";
import * as edit from "./line_edit.ts";

/** The subset of Ink's Key flags the map reads. */
export interface KeyFlags {
  readonly ctrl?: boolean;
  readonly meta?: boolean;
  readonly shift?: boolean;
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
  readonly home?: boolean;
  readonly end?: boolean;
}

export interface KeyOutcome {
  readonly actions: readonly UiAction[];
  readonly command: WorkerCommand | null;
  readonly quit: boolean;
}

/** Lines a page key moves in each pane (from the layout). */
export interface Pages {
  readonly tables: number;
  readonly events: number;
  readonly results: number;
  readonly detail: number;
}

const NONE: KeyOutcome = { actions: [], command: null, quit: false };
const act = (...actions: UiAction[]): KeyOutcome => ({ actions, command: null, quit: false });
const send = (command: WorkerCommand, ...actions: UiAction[]): KeyOutcome => ({
  actions,
  command,
  quit: false,
});

export const PAGE = 5;
const DEFAULT_PAGES: Pages = { tables: PAGE, events: PAGE, results: PAGE, detail: PAGE };

const PAUSED_NOTICE = "paused: press p to resume syncing";
const STOPPED_NOTICE = "the sync has stopped: press q to quit";

const stopped = (state: UiState) => state.status === "stopping" || state.status === "stopped";

const PANE_KEYS: Record<string, PaneId> = { "1": "tables", "2": "events", "3": "results" };

function pageOf(state: UiState, pages: Pages): number {
  if (state.detail) return pages.detail;
  return state.pane === "tables"
    ? pages.tables
    : state.pane === "events"
    ? pages.events
    : pages.results;
}

function setLine(line: edit.Line): KeyOutcome {
  return act({ type: "input_set", value: line.text, caret: line.caret });
}

function submit(state: UiState, value: string): KeyOutcome {
  const sql = value.trim();
  if (sql === "" || state.queryRunning) {
    return value === state.input ? NONE : act({ type: "input_set", value });
  }
  return send(
    { type: "run_query", id: state.nextQueryId, sql },
    ...(value === state.input ? [] : [{ type: "input_set" as const, value }]),
    { type: "query_submitted" },
  );
}

/** Pasted text into the prompt: kept as written, line breaks included. */
export function pasteText(state: UiState, text: string): KeyOutcome {
  // deno-lint-ignore no-control-regex
  const clean = text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
  if (clean === "") return NONE;
  if (state.focus !== "prompt") {
    return act({ type: "focus_pane", pane: "prompt" }, {
      type: "input_set",
      value: edit.insert({ text: state.input, caret: state.caret }, clean).text,
    });
  }
  return setLine(edit.insert({ text: state.input, caret: state.caret }, clean));
}

function promptKey(input: string, key: KeyFlags, state: UiState): KeyOutcome {
  const line: edit.Line = { text: state.input, caret: state.caret };
  if (key.escape) return act({ type: "focus_panes" });
  if (key.tab) return act({ type: "focus_next", by: key.shift ? -1 : 1 });
  if (key.return && key.meta) return setLine(edit.insert(line, "\n"));
  if (key.return || input === "\r" || input === "\n") return submit(state, state.input);
  if (key.upArrow) return act({ type: "history_prev" });
  if (key.downArrow) return act({ type: "history_next" });
  if (key.leftArrow) return setLine(key.meta || key.ctrl ? edit.wordLeft(line) : edit.left(line));
  if (key.rightArrow) {
    return setLine(key.meta || key.ctrl ? edit.wordRight(line) : edit.right(line));
  }
  if (key.home) return setLine(edit.home(line));
  if (key.end) return setLine(edit.end(line));
  if (key.backspace) return setLine(key.meta ? edit.killWordBack(line) : edit.backspace(line));
  if (key.delete) return setLine(edit.deleteForward(line));
  if (key.ctrl) {
    switch (input) {
      case "a":
        return setLine(edit.home(line));
      case "e":
        return setLine(edit.end(line));
      case "b":
        return setLine(edit.left(line));
      case "f":
        return setLine(edit.right(line));
      case "w":
        return setLine(edit.killWordBack(line));
      case "u":
        return setLine(edit.killToStart(line));
      case "k":
        return setLine(edit.killToEnd(line));
      case "d":
        return setLine(edit.deleteForward(line));
      default:
        return NONE;
    }
  }
  if (key.meta) {
    if (input === "b") return setLine(edit.wordLeft(line));
    if (input === "f") return setLine(edit.wordRight(line));
    if (input === "d") {
      const to = edit.wordRight(line).caret;
      return setLine({
        text: line.text.slice(0, line.caret) + line.text.slice(to),
        caret: line.caret,
      });
    }
    return NONE;
  }
  if (input === "") return NONE;
  // Typed text and Enter can arrive in one read (fast typing, tmux): the text then runs.
  if (/^[^\r\n]+[\r\n]$/.test(input)) {
    return submit(state, typeChunk(line, input.slice(0, -1)).text);
  }
  // A multi-line chunk without bracketed paste is a paste: kept as written.
  if (/[\r\n]/.test(input)) return pasteText(state, input);
  const next = typeChunk(line, input);
  return next.text === line.text && next.caret === line.caret ? NONE : setLine(next);
}

function eachKey(input: string, state: UiState, pages: Pages): KeyOutcome {
  const actions: UiAction[] = [];
  let command: WorkerCommand | null = null;
  let current = state;
  const chars = [...input];
  for (const [i, ch] of chars.entries()) {
    const out = mapKey(ch, {}, current, pages);
    actions.push(...out.actions);
    for (const a of out.actions) current = reduce(current, a);
    if (out.quit) return { actions, command, quit: true };
    // The worker gets the first command of a read; a second in the same read is rare.
    command ??= out.command;
    if (current.focus === "prompt") {
      // The rest of the read ("/" then the first letters of a query) is typed text.
      const rest = chars.slice(i + 1).join("");
      const typed = rest ? promptKey(rest, {}, current) : NONE;
      return {
        actions: [...actions, ...typed.actions],
        command: command ?? typed.command,
        quit: false,
      };
    }
  }
  return { actions, command, quit: false };
}

/** Edits for the control keys that can arrive inside one read of typed text. */
const CHUNK_KEYS: Record<string, (l: edit.Line) => edit.Line> = {
  "\u0001": edit.home,
  "\u0002": edit.left,
  "\u0004": edit.deleteForward,
  "\u0005": edit.end,
  "\u0006": edit.right,
  "\u0008": edit.backspace,
  "\u000b": edit.killToEnd,
  "\u0015": edit.killToStart,
  "\u0017": edit.killWordBack,
  "\u007f": edit.backspace,
};

/** A read of typed text applied in order: printable text inserted, editing keys applied. */
export function typeChunk(line: edit.Line, chunk: string): edit.Line {
  let out = line;
  let text = "";
  const flush = () => {
    if (text) out = edit.insert(out, text);
    text = "";
  };
  for (const ch of chunk) {
    const key = CHUNK_KEYS[ch];
    if (key) {
      flush();
      out = key(out);
      // deno-lint-ignore no-control-regex
    } else if (!/[\u0000-\u001f\u007f]/.test(ch)) {
      text += ch;
    }
  }
  flush();
  return out;
}

export function mapKey(
  input: string,
  key: KeyFlags,
  state: UiState,
  pages: Pages = DEFAULT_PAGES,
): KeyOutcome {
  // A running query is interrupted in DuckDB (the sync goes on); otherwise Ctrl+C quits.
  if (state.queryRunning && ((key.ctrl && input === "c") || key.escape)) {
    return send({ type: "cancel_query", id: state.nextQueryId - 1 });
  }
  if (key.ctrl && input === "c") return { actions: [], command: null, quit: true };
  if (state.focus === "prompt") {
    if (key.pageUp) return act({ type: "scroll", by: -pages.results });
    if (key.pageDown) return act({ type: "scroll", by: pages.results });
    return promptKey(input, key, state);
  }
  const page = pageOf(state, pages);
  if (state.detail) {
    if (key.escape || key.return || key.backspace) return act({ type: "detail_close" });
    if (key.upArrow || input === "k") return act({ type: "detail_scroll", by: -1 });
    if (key.downArrow || input === "j") return act({ type: "detail_scroll", by: 1 });
    if (key.pageUp) return act({ type: "detail_scroll", by: -page });
    if (key.pageDown || input === " ") return act({ type: "detail_scroll", by: page });
    if (key.home || input === "g") return act({ type: "detail_scroll", by: -1e9 });
    if (input === "q") return { actions: [], command: null, quit: true };
    return NONE;
  }
  if (state.help && (key.escape || input === "?")) return act({ type: "help_toggle" });
  if (state.help && (key.downArrow || input === "j")) return act({ type: "detail_scroll", by: 1 });
  if (state.help && (key.upArrow || input === "k")) return act({ type: "detail_scroll", by: -1 });
  if (key.tab) return act({ type: "focus_next", by: key.shift ? -1 : 1 });
  if (key.escape) {
    return state.pane === "results" ? act({ type: "focus_pane", pane: "tables" }) : NONE;
  }
  if (key.return) return act({ type: "detail_open" });
  if (key.leftArrow || input === "h") return act({ type: "scroll_columns", by: -1 });
  if (key.rightArrow || input === "l") return act({ type: "scroll_columns", by: 1 });
  if (key.upArrow || input === "k") return act({ type: "select", by: -1 });
  if (key.downArrow || input === "j") return act({ type: "select", by: 1 });
  if (key.pageUp) return act({ type: "select", by: -page });
  if (key.pageDown || input === " ") return act({ type: "select", by: page });
  if (key.home || input === "g") return act({ type: "select_edge", end: false });
  if (key.end || input === "G") return act({ type: "select_edge", end: true });
  // Several command keys in one read (fast typing, tmux): each in turn, on the state the
  // last left; "/" and the first letters of a query too. A longer chunk is pasted text (pastes
  // come bracketed where the terminal supports it), not a string of commands.
  if (
    input.length > 1 && !key.ctrl && !key.meta &&
    (input.length <= 3 || input[0] === "/" || input[0] === ":")
  ) {
    return eachKey(input, state, pages);
  }
  const pane = PANE_KEYS[input];
  if (pane) return act({ type: "focus_pane", pane });
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
    case "f":
      return act({ type: "log_filter_next" });
    case "?":
      return act({ type: "help_toggle" });
    case "/":
    case ":":
      return act({ type: "focus_pane", pane: "prompt" });
    default:
      return NONE;
  }
}
