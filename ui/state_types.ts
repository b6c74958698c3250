// Owns the shape of the terminal UI's state and its actions (no logic beyond
// the initial state), shared by the event reducer (apply_event.ts) and the
// user-action reducer (state.ts).

import type { ChangeCounts, DriftRecord, SyncMode, WorkerEvent } from "../src/host/protocol.ts";

export interface TableView {
  readonly table: string;
  readonly mode: SyncMode;
  readonly cursor: string | null;
  readonly key: readonly string[] | null;
  readonly rowsCopied: number;
  readonly estimatedRows: number | null;
  /** The table's last failure ("CODE: message"), cleared when it syncs again. */
  readonly error: string | null;
  /** Epoch ms of that failure. */
  readonly errorAt: number | null;
  /** Start (ISO) of the last cycle that ended caught up; null until one has. */
  readonly inSyncAsOf: string | null;
  /** Epoch ms when a cycle of this table last finished without failing. */
  readonly lastGoodAt: number | null;
  /** A cycle of this table is running. */
  readonly active: boolean;
  /** Rows copied by the running (or last) cycle. */
  readonly cycleRows: number;
  /** When this session saw the first copy start, and its rows then, for the rate. */
  readonly copyStartedAt: number | null;
  readonly copyStartRows: number;
  /** SYNC_METHOD=cdc: the WAL position (a commit) the table includes. */
  readonly lsn: string | null;
  /** SYNC_METHOD=cdc: the last batch's lag, commit in Postgres to commit in DuckDB (ms). */
  readonly lagMs: number | null;
}

export interface BatchPoint {
  readonly at: number;
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
  /** SYNC_METHOD=cdc: the batch's changes by kind. */
  readonly changes?: ChangeCounts;
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

export type LogKind =
  | "notice"
  | "error"
  | "failed"
  | "drift"
  | "retry"
  | "recovered"
  | "seed"
  /** A query from the prompt failed (its whole error, also shown in the Query pane). */
  | "query";

/** One line of the session's event log. */
export interface LogEntry {
  readonly at: number;
  readonly table: string | null;
  readonly kind: LogKind;
  readonly text: string;
  /** The whole record (a drift event's DDL), for the detail view. */
  readonly drift?: DriftRecord;
  /** How many times the same entry came (a table failing every cycle), and the first time. */
  readonly count?: number;
  readonly firstAt?: number;
}

/** A stretch of time when the loop could not sync (to is null while it lasts). */
export interface Outage {
  readonly from: number;
  readonly to: number | null;
}

/** Panes that take focus; the prompt is the Query pane's input line. */
export type PaneId = "tables" | "events" | "results" | "prompt";

export type Detail =
  | { readonly kind: "table"; readonly table: string }
  | { readonly kind: "event"; readonly index: number }
  | { readonly kind: "row"; readonly index: number };

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
  /** Every notice, error, failure, drift and retry of the session, oldest first. */
  readonly log: readonly LogEntry[];
  /** Show only the log entries of this table. */
  readonly logFilter: string | null;
  readonly outages: readonly Outage[];
  /** Epoch ms of failed table cycles, marked on the throughput chart. */
  readonly failures: readonly number[];
  /** What the engine is doing now ("orders: copying 40%"), or null. */
  readonly activity: string | null;
  /** "panes" while a pane has focus; "prompt" while typing (pane is then "prompt"). */
  readonly focus: "panes" | "prompt";
  readonly pane: PaneId;
  /** Selected line per scrollable pane. */
  readonly selected: { readonly tables: number; readonly events: number };
  readonly detail: Detail | null;
  readonly detailScroll: number;
  readonly help: boolean;
  readonly input: string;
  /** Caret position in `input` (UTF-16 index). */
  readonly caret: number;
  readonly history: readonly string[];
  /** Position while recalling history; null when editing a fresh line. */
  readonly historyIndex: number | null;
  readonly queryRunning: boolean;
  /** Epoch ms the running query was sent, for its timer. */
  readonly queryStartedAt: number | null;
  readonly nextQueryId: number;
  readonly result: QueryView | null;
  readonly queryError: string | null;
  /** First result row shown; also the selected row of the result browser. */
  readonly scroll: number;
  /** First result column shown after the frozen first one (←/→ scroll wide results). */
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
  | { readonly type: "focus_next"; readonly by: 1 | -1 }
  | { readonly type: "focus_pane"; readonly pane: PaneId }
  | { readonly type: "select"; readonly by: number }
  | { readonly type: "select_edge"; readonly end: boolean }
  | { readonly type: "detail_open" }
  | { readonly type: "detail_close" }
  | { readonly type: "detail_scroll"; readonly by: number }
  | { readonly type: "log_filter_next" }
  | { readonly type: "help_toggle" }
  | { readonly type: "input_set"; readonly value: string; readonly caret?: number }
  | { readonly type: "history_prev" }
  | { readonly type: "history_next" }
  | { readonly type: "history_loaded"; readonly history: readonly string[] }
  | { readonly type: "query_submitted"; readonly now?: number }
  | { readonly type: "scroll"; readonly by: number }
  | { readonly type: "scroll_columns"; readonly by: number }
  | { readonly type: "notice"; readonly message: string };

export const MAX_BATCH_POINTS = 2000;
export const MAX_NOTICES = 4;
export const MAX_HISTORY = 500;
export const MAX_LOG = 5000;

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
    log: [],
    logFilter: null,
    outages: [],
    failures: [],
    activity: null,
    focus: "panes",
    pane: "tables",
    // The events selection follows the newest entry (see FOLLOW in state.ts).
    selected: { tables: 0, events: Number.MAX_SAFE_INTEGER },
    detail: null,
    detailScroll: 0,
    help: false,
    input: "",
    caret: 0,
    history: [],
    historyIndex: null,
    queryRunning: false,
    queryStartedAt: null,
    nextQueryId: 1,
    result: null,
    queryError: null,
    scroll: 0,
    column: 0,
    lastQuery: null,
    now,
  };
}

export function newTable(table: string): TableView {
  return {
    table,
    mode: "bootstrap",
    cursor: null,
    key: null,
    rowsCopied: 0,
    estimatedRows: null,
    error: null,
    errorAt: null,
    inSyncAsOf: null,
    lastGoodAt: null,
    active: false,
    cycleRows: 0,
    copyStartedAt: null,
    copyStartRows: 0,
    lsn: null,
    lagMs: null,
  };
}
