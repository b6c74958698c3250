// Owns the terminal UI's state: a pure reducer over worker events (delivered in
// batches) and the user's own actions (focus, prompt editing, history, scrolling,
// help). No Ink or React here, so every transition is unit-tested.

import type { DriftRecord, SyncMode, WorkerEvent } from "../src/host/protocol.ts";
import { assertNever } from "../src/host/protocol.ts";

export interface TableView {
  readonly table: string;
  readonly mode: SyncMode;
  readonly cursor: string | null;
  readonly key: readonly string[] | null;
  readonly rowsCopied: number;
  readonly estimatedRows: number | null;
  /** The table's last failure ("CODE: message"), cleared when it syncs again. */
  readonly error: string | null;
}

export interface BatchPoint {
  readonly at: number;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export type LoopStatus =
  | "starting"
  | "syncing"
  | "waiting"
  | "paused"
  | "retrying"
  | "stopping"
  /** The engine has stopped (after a shutdown or a fatal error). */
  | "stopped";

export interface QueryView {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

export interface UiState {
  readonly connection: string;
  readonly duckdbPath: string;
  readonly demo: boolean;
  readonly status: LoopStatus;
  readonly lastError: string | null;
  /** Epoch ms of the next cycle (or retry), for the countdown. */
  readonly nextCycleAt: number | null;
  readonly tables: Readonly<Record<string, TableView>>;
  readonly batches: readonly BatchPoint[];
  readonly totals: { readonly rows: number; readonly bytes: number; readonly batches: number };
  readonly startedAt: number;
  readonly drift: readonly DriftRecord[];
  readonly notices: readonly string[];
  readonly focus: "panes" | "prompt";
  readonly help: boolean;
  readonly input: string;
  readonly history: readonly string[];
  /** Position while recalling history; null when editing a fresh line. */
  readonly historyIndex: number | null;
  readonly queryRunning: boolean;
  readonly nextQueryId: number;
  readonly result: QueryView | null;
  readonly queryError: string | null;
  readonly scroll: number;
  /** First result column shown (←/→ scroll wide results). */
  readonly column: number;
  /** The SQL the shown result (or error) came from. */
  readonly lastQuery: string | null;
  readonly now: number;
}

export type UiAction =
  | { readonly type: "events"; readonly events: readonly WorkerEvent[]; readonly now: number }
  | { readonly type: "tick"; readonly now: number }
  | { readonly type: "focus_toggle" }
  | { readonly type: "focus_panes" }
  | { readonly type: "help_toggle" }
  | { readonly type: "input_set"; readonly value: string }
  | { readonly type: "history_prev" }
  | { readonly type: "history_next" }
  | { readonly type: "query_submitted" }
  | { readonly type: "scroll"; readonly by: number }
  | { readonly type: "scroll_columns"; readonly by: number }
  | { readonly type: "notice"; readonly message: string };

export const MAX_BATCH_POINTS = 120;
const MAX_NOTICES = 4;
const MAX_HISTORY = 100;

export function initialState(now: number, connection = "", duckdbPath = ""): UiState {
  return {
    connection,
    duckdbPath,
    demo: false,
    status: "starting",
    lastError: null,
    nextCycleAt: null,
    tables: {},
    batches: [],
    totals: { rows: 0, bytes: 0, batches: 0 },
    startedAt: now,
    drift: [],
    notices: [],
    focus: "panes",
    help: false,
    input: "",
    history: [],
    historyIndex: null,
    queryRunning: false,
    nextQueryId: 1,
    result: null,
    queryError: null,
    scroll: 0,
    column: 0,
    lastQuery: null,
    now,
  };
}

function withTable(state: UiState, table: string, patch: Partial<TableView>): UiState {
  const current: TableView = state.tables[table] ?? {
    table,
    mode: "bootstrap",
    cursor: null,
    key: null,
    rowsCopied: 0,
    estimatedRows: null,
    error: null,
  };
  return { ...state, tables: { ...state.tables, [table]: { ...current, ...patch } } };
}

function addNotice(state: UiState, message: string): UiState {
  return { ...state, notices: [...state.notices, message].slice(-MAX_NOTICES) };
}

export function applyEvent(state: UiState, event: WorkerEvent, now: number): UiState {
  switch (event.type) {
    case "ready":
      return {
        ...state,
        connection: event.connection,
        duckdbPath: event.duckdbPath,
        demo: event.demo,
        tables: event.tables.reduce(
          (acc, t) => ({ ...acc, [t.table]: { ...t, estimatedRows: null, error: null } }),
          state.tables,
        ),
        drift: state.drift.length > 0 ? state.drift : event.drift,
      };
    case "cycle_started":
      return {
        ...withTable(state, event.table, {
          mode: event.mode,
          estimatedRows: event.estimatedRows,
        }),
        status: "syncing",
        lastError: null,
        nextCycleAt: null,
      };
    case "batch_started":
      return state;
    case "batch_finished":
      return {
        ...state,
        batches: [
          ...state.batches,
          { at: now, rows: event.rows, bytes: event.bytes, durationMs: event.durationMs },
        ].slice(-MAX_BATCH_POINTS),
        totals: {
          rows: state.totals.rows + event.rows,
          bytes: state.totals.bytes + event.bytes,
          batches: state.totals.batches + 1,
        },
      };
    case "checkpoint_advanced":
      return withTable(state, event.table, {
        error: null,
        mode: event.mode,
        cursor: event.cursor,
        key: event.key,
        rowsCopied: event.rowsCopied,
      });
    case "drift_applied":
      return { ...state, drift: [...state.drift, event.drift] };
    case "cycle_finished":
      return withTable(state, event.table, { mode: event.mode, error: null });
    case "table_failed":
      return addNotice(
        withTable(state, event.table, { error: `${event.code}: ${event.message}` }),
        `${event.table} failed (${event.code}); retried next cycle`,
      );
    case "cycle_summary":
      // The per-table events already told the panes.
      return state;
    case "cycle_idle":
      return {
        ...state,
        status: state.status === "paused" ? "paused" : state.lastError ? "retrying" : "waiting",
        nextCycleAt: now + event.nextInSeconds * 1000,
      };
    case "notice":
      return addNotice(state, event.message);
    case "error":
      return {
        ...state,
        // A failure while paused leaves the loop paused (it is asleep, not retrying).
        status: event.retryInSeconds === null || state.status === "paused"
          ? state.status
          : "retrying",
        lastError: `${event.code}: ${event.message}`,
        nextCycleAt: event.retryInSeconds === null ? null : now + event.retryInSeconds * 1000,
      };
    case "loop_state":
      return {
        ...state,
        status: event.state === "paused"
          ? "paused"
          : event.state === "stopping" || event.state === "stopped"
          ? event.state
          : state.status === "paused"
          ? "waiting"
          : state.status,
        nextCycleAt: event.state === "running" ? state.nextCycleAt : null,
      };
    case "query_result":
      return {
        ...state,
        queryRunning: false,
        queryError: null,
        scroll: 0,
        column: 0,
        result: {
          columns: event.columns,
          rows: event.rows,
          rowCount: event.rowCount,
          truncated: event.truncated,
          elapsedMs: event.elapsedMs,
        },
      };
    case "query_error":
      return { ...state, queryRunning: false, queryError: event.message };
    case "seed_result":
      return addNotice(state, event.message);
    case "fatal":
      // The engine closes next and then reports loop_state "stopped".
      return {
        ...state,
        status: state.status === "stopped" ? "stopped" : "stopping",
        lastError: `${event.code}: ${event.message}`,
        nextCycleAt: null,
      };
    default:
      return assertNever(event);
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
      return { ...state, focus: state.focus === "prompt" ? "panes" : "prompt" };
    case "focus_panes":
      return { ...state, focus: "panes" };
    case "help_toggle":
      return { ...state, help: !state.help };
    case "input_set":
      return { ...state, input: action.value, historyIndex: null };
    case "history_prev": {
      if (state.history.length === 0) return state;
      const index = state.historyIndex === null
        ? state.history.length - 1
        : Math.max(0, state.historyIndex - 1);
      return { ...state, historyIndex: index, input: state.history[index] ?? "" };
    }
    case "history_next": {
      if (state.historyIndex === null) return state;
      const index = state.historyIndex + 1;
      if (index >= state.history.length) return { ...state, historyIndex: null, input: "" };
      return { ...state, historyIndex: index, input: state.history[index] ?? "" };
    }
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
        input: "",
        queryRunning: true,
        queryError: null,
        lastQuery: sql,
        nextQueryId: state.nextQueryId + 1,
      };
    }
    case "scroll": {
      const max = Math.max(0, (state.result?.rows.length ?? 0) - 1);
      return { ...state, scroll: Math.min(max, Math.max(0, state.scroll + action.by)) };
    }
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
