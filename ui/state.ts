// Owns the terminal UI's state transitions: worker events (delivered in
// batches, see apply_event.ts) and the user's own actions (pane focus,
// selection and detail views, prompt editing, history, result scrolling, help).
// No Ink or React here, so every transition is unit-tested.

import { assertNever } from "../src/host/protocol.ts";
import { addNotice, applyEvent } from "./apply_event.ts";
import {
  type LogEntry,
  MAX_HISTORY,
  type PaneId,
  type UiAction,
  type UiState,
} from "./state_types.ts";

export * from "./state_types.ts";
export { applyEvent } from "./apply_event.ts";

/** Selection index meaning "follow the newest entry". */
export const FOLLOW = Number.MAX_SAFE_INTEGER;

/** The event log as shown: all of it, or one table's entries. */
export function visibleLog(state: UiState): readonly LogEntry[] {
  const filter = state.logFilter;
  if (filter === null) return state.log;
  return state.log.filter((e) => e.table === filter || e.text.includes(filter));
}

/** Table names in display order: failed tables first, then the checkpoint's order. */
export function tableNames(state: UiState): string[] {
  const all = Object.values(state.tables);
  return [...all.filter((t) => t.error !== null), ...all.filter((t) => t.error === null)].map((
    t,
  ) => t.table);
}

/** The selected line of a list of `count` (FOLLOW resolves to the last). */
export function resolveSelection(selected: number, count: number): number {
  return Math.max(0, Math.min(selected, count - 1));
}

/** The panes Tab visits, in order: the result browser only when there is a result. */
function focusOrder(state: UiState): PaneId[] {
  return state.result ? ["tables", "events", "results", "prompt"] : ["tables", "events", "prompt"];
}

function focusPane(state: UiState, pane: PaneId): UiState {
  if (pane === "results" && !state.result) return state;
  return { ...state, pane, focus: pane === "prompt" ? "prompt" : "panes", detail: null };
}

function move(state: UiState, by: number): UiState {
  switch (state.pane) {
    case "tables": {
      const count = tableNames(state).length;
      const at = resolveSelection(state.selected.tables, count);
      return {
        ...state,
        selected: { ...state.selected, tables: resolveSelection(at + by, count) },
      };
    }
    case "events": {
      const count = visibleLog(state).length;
      const at = resolveSelection(state.selected.events, count) + by;
      return {
        ...state,
        selected: { ...state.selected, events: at >= count - 1 ? FOLLOW : Math.max(0, at) },
      };
    }
    case "results":
    case "prompt":
      return scrollRows(state, by);
    default:
      return assertNever(state.pane);
  }
}

function scrollRows(state: UiState, by: number): UiState {
  const max = Math.max(0, (state.result?.rows.length ?? 0) - 1);
  return { ...state, scroll: Math.min(max, Math.max(0, state.scroll + by)) };
}

function openDetail(state: UiState): UiState {
  switch (state.pane) {
    case "tables": {
      const names = tableNames(state);
      const table = names[resolveSelection(state.selected.tables, names.length)];
      return table ? { ...state, detail: { kind: "table", table }, detailScroll: 0 } : state;
    }
    case "events": {
      const count = visibleLog(state).length;
      if (count === 0) return state;
      const index = resolveSelection(state.selected.events, count);
      return { ...state, detail: { kind: "event", index }, detailScroll: 0 };
    }
    case "results":
      return state.result && state.result.rows.length > 0
        ? { ...state, detail: { kind: "row", index: state.scroll }, detailScroll: 0 }
        : state;
    case "prompt":
      return state;
    default:
      return assertNever(state.pane);
  }
}

export function reduce(state: UiState, action: UiAction): UiState {
  switch (action.type) {
    case "events": {
      let next = { ...state, now: action.now };
      for (const event of action.events) next = applyEvent(next, event, action.now);
      return next;
    }
    case "tick":
      return { ...state, now: action.now };
    case "focus_toggle":
      return focusPane(state, state.focus === "prompt" ? "tables" : "prompt");
    case "focus_panes":
      return focusPane(state, state.result ? "results" : "tables");
    case "focus_next": {
      const order = focusOrder(state);
      const at = Math.max(0, order.indexOf(state.pane));
      return focusPane(state, order[(at + action.by + order.length) % order.length]!);
    }
    case "focus_pane":
      return focusPane(state, action.pane);
    case "select":
      return move(state, action.by);
    case "select_edge":
      return move(state, action.end ? FOLLOW : -FOLLOW);
    case "detail_open":
      return openDetail(state);
    case "detail_close":
      return { ...state, detail: null, detailScroll: 0 };
    case "detail_scroll":
      return { ...state, detailScroll: Math.max(0, state.detailScroll + action.by) };
    case "log_filter_next": {
      const names = [...new Set(state.log.map((e) => e.table).filter((t) => t !== null))]
        .sort() as string[];
      const at = state.logFilter === null ? -1 : names.indexOf(state.logFilter);
      const logFilter = at + 1 < names.length ? names[at + 1]! : null;
      return {
        ...state,
        logFilter,
        selected: { ...state.selected, events: Number.MAX_SAFE_INTEGER },
      };
    }
    case "help_toggle":
      return { ...state, help: !state.help, detailScroll: 0 };
    case "input_set":
      return {
        ...state,
        input: action.value,
        caret: action.caret ?? action.value.length,
        historyIndex: null,
      };
    case "history_prev": {
      if (state.history.length === 0) return state;
      const index = state.historyIndex === null
        ? state.history.length - 1
        : Math.max(0, state.historyIndex - 1);
      const input = state.history[index] ?? "";
      return { ...state, historyIndex: index, input, caret: input.length };
    }
    case "history_next": {
      if (state.historyIndex === null) return state;
      const index = state.historyIndex + 1;
      if (index >= state.history.length) {
        return { ...state, historyIndex: null, input: "", caret: 0 };
      }
      const input = state.history[index] ?? "";
      return { ...state, historyIndex: index, input, caret: input.length };
    }
    case "history_loaded":
      return { ...state, history: [...action.history, ...state.history].slice(-MAX_HISTORY) };
    case "query_submitted": {
      const sql = state.input.trim();
      if (sql === "" || state.queryRunning) return state;
      const history = state.history[state.history.length - 1] === sql
        ? state.history
        : [...state.history, sql].slice(-MAX_HISTORY);
      return {
        ...state,
        history,
        historyIndex: null,
        queryRunning: true,
        queryStartedAt: action.now ?? state.now,
        queryError: null,
        lastQuery: sql,
        nextQueryId: state.nextQueryId + 1,
      };
    }
    case "scroll":
      return scrollRows(state, action.by);
    case "scroll_columns": {
      const max = Math.max(0, (state.result?.columns.length ?? 0) - 1);
      return { ...state, column: Math.min(max, Math.max(0, state.column + action.by)) };
    }
    case "notice":
      return addNotice(state, action.message);
    default:
      return assertNever(action);
  }
}
