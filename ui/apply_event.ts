// Owns how one worker event changes the terminal UI's state: per-table health
// facts (failures, last good cycle, freshness, first-copy rate), the session's
// event log, outages for the throughput chart and the "doing now" line. Pure.

import type { DriftRecord, WorkerEvent } from "../src/host/protocol.ts";
import { assertNever } from "../src/host/protocol.ts";
import {
  type LogEntry,
  type LogKind,
  MAX_BATCH_POINTS,
  MAX_LOG,
  MAX_NOTICES,
  newTable,
  type TableView,
  type UiState,
} from "./state_types.ts";
import { compactNumber } from "./format.ts";

function withTable(state: UiState, table: string, patch: Partial<TableView>): UiState {
  const current = state.tables[table] ?? newTable(table);
  return { ...state, tables: { ...state.tables, [table]: { ...current, ...patch } } };
}

export function addNotice(state: UiState, message: string): UiState {
  return { ...state, notices: [...state.notices, message].slice(-MAX_NOTICES) };
}

/** The known table a message is about (the longest name it mentions), or null. */
function tableIn(state: UiState, text: string): string | null {
  let found: string | null = null;
  for (const name of Object.keys(state.tables)) {
    if (text.includes(name) && (found === null || name.length > found.length)) found = name;
  }
  return found;
}

/** How far back a repeated log entry is looked for. */
const REPEAT_WINDOW = 50;

function log(
  state: UiState,
  at: number,
  kind: LogKind,
  text: string,
  table: string | null = tableIn(state, text),
  drift?: DriftRecord,
): UiState {
  const entry: LogEntry = drift ? { at, table, kind, text, drift } : { at, table, kind, text };
  // The same failure every cycle is one line with a count, moved to the end.
  const recent = Math.max(0, state.log.length - REPEAT_WINDOW);
  for (let i = state.log.length - 1; i >= recent && !drift; i--) {
    const e = state.log[i]!;
    if (e.kind === kind && e.table === table && e.text === text) {
      const merged: LogEntry = { ...e, at, count: (e.count ?? 1) + 1, firstAt: e.firstAt ?? e.at };
      return { ...state, log: [...state.log.slice(0, i), ...state.log.slice(i + 1), merged] };
    }
  }
  const next = [...state.log, entry];
  return { ...state, log: next.length > MAX_LOG ? next.slice(-MAX_LOG) : next };
}

function driftText(d: DriftRecord): string {
  return `${d.table} ${d.kind} ${d.column}: ${d.detail}${d.ddl ? ` | ${d.ddl}` : " | no DDL"}`;
}

function driftAt(d: DriftRecord, fallback: number): number {
  const ms = Date.parse(d.at.includes("T") ? d.at : d.at.replace(" ", "T"));
  return Number.isNaN(ms) ? fallback : ms;
}

/** Ends the outage in progress, if any. */
function recovered(state: UiState, now: number): UiState {
  const last = state.outages[state.outages.length - 1];
  if (!last || last.to !== null) return state;
  return { ...state, outages: [...state.outages.slice(0, -1), { from: last.from, to: now }] };
}

function activityOf(table: string, mode: TableView["mode"]): string {
  return mode === "bootstrap"
    ? `${table}: first copy`
    : mode === "full_refresh"
    ? `${table}: full refresh`
    : `${table}: checking for changes`;
}

export function applyEvent(state: UiState, event: WorkerEvent, now: number): UiState {
  switch (event.type) {
    case "ready":
      return onReady(state, event, now);
    case "cycle_started":
      return onCycleStarted(state, event, now);
    case "batch_started":
      return state;
    case "batch_finished":
      return onBatchFinished(state, event, now);
    case "checkpoint_advanced":
      return withTable(state, event.table, {
        error: null,
        mode: event.mode,
        cursor: event.cursor,
        key: event.key,
        rowsCopied: event.rowsCopied,
        ...(event.lsn === undefined ? {} : { lsn: event.lsn }),
      });
    case "drift_applied":
      return {
        ...log(state, now, "drift", driftText(event.drift), event.drift.table, event.drift),
        drift: [...state.drift, event.drift],
        activity: `${event.drift.table}: schema change, ${event.drift.kind} ${event.drift.column}`,
      };
    case "cycle_finished":
      return onCycleFinished(state, event, now);
    case "table_failed":
      return onTableFailed(state, event, now);
    case "cycle_summary":
      // The per-table events already told the panes.
      return state;
    case "cycle_idle":
      return {
        ...recovered(state, now),
        status: state.status === "paused" ? "paused" : state.lastError ? "retrying" : "waiting",
        nextCycleAt: now + event.nextInSeconds * 1000,
        activity: null,
      };
    case "notice": {
      if (/^recovered after/.test(event.message)) {
        const next = log(recovered(state, now), now, "recovered", event.message);
        return addNotice({ ...next, lastError: null }, event.message);
      }
      return addNotice(log(state, now, "notice", event.message), event.message);
    }
    case "error":
      return onError(state, event, now);
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
        activity: event.state === "running" ? state.activity : null,
      };
    case "query_result":
      return onQueryResult(state, event);
    case "query_error":
      // The SQL stays in the prompt to be fixed; the log keeps the whole error.
      return {
        ...log(state, now, "query", `${state.lastQuery ?? "query"}: ${event.message}`, null),
        queryRunning: false,
        queryStartedAt: null,
        queryError: event.message,
      };
    case "seed_result":
      return addNotice(log(state, now, "seed", event.message), event.message);
    case "fatal":
      // The engine closes next and then reports loop_state "stopped".
      return {
        ...log(state, now, "error", `${event.code}: ${event.message}`),
        status: state.status === "stopped" ? "stopped" : "stopping",
        lastError: `${event.code}: ${event.message}`,
        nextCycleAt: null,
        activity: null,
      };
    default:
      return assertNever(event);
  }
}

function onReady(
  state: UiState,
  event: Extract<WorkerEvent, { type: "ready" }>,
  now: number,
): UiState {
  let next: UiState = {
    ...state,
    connection: event.connection,
    duckdbPath: event.duckdbPath,
    demo: event.demo,
    tables: event.tables.reduce(
      (acc, t) => ({ ...acc, [t.table]: { ...newTable(t.table), ...acc[t.table], ...t } }),
      state.tables,
    ),
    drift: state.drift.length > 0 ? state.drift : event.drift,
  };
  if (state.drift.length === 0) {
    for (const d of event.drift) {
      next = log(next, driftAt(d, now), "drift", driftText(d), d.table, d);
    }
  }
  return next;
}

function onCycleStarted(
  state: UiState,
  event: Extract<WorkerEvent, { type: "cycle_started" }>,
  now: number,
): UiState {
  const t = state.tables[event.table] ?? newTable(event.table);
  const copying = event.mode === "bootstrap";
  return {
    ...withTable(state, event.table, {
      mode: event.mode,
      estimatedRows: event.estimatedRows,
      active: true,
      cycleRows: 0,
      copyStartedAt: copying ? t.copyStartedAt ?? now : null,
      copyStartRows: copying && t.copyStartedAt !== null ? t.copyStartRows : t.rowsCopied,
    }),
    status: "syncing",
    lastError: null,
    nextCycleAt: null,
    activity: activityOf(event.table, event.mode),
  };
}

function onBatchFinished(
  state: UiState,
  event: Extract<WorkerEvent, { type: "batch_finished" }>,
  now: number,
): UiState {
  const t = state.tables[event.table] ?? newTable(event.table);
  const batches = [
    ...state.batches,
    {
      at: now,
      table: event.table,
      rows: event.rows,
      bytes: event.bytes,
      durationMs: event.durationMs,
      ...(event.changes ? { changes: event.changes } : {}),
    },
  ];
  return {
    ...withTable(state, event.table, {
      cycleRows: t.cycleRows + event.rows,
      ...(event.commitLagMs === undefined ? {} : { lagMs: event.commitLagMs }),
    }),
    batches: batches.length > MAX_BATCH_POINTS ? batches.slice(-MAX_BATCH_POINTS) : batches,
    totals: {
      rows: state.totals.rows + event.rows,
      bytes: state.totals.bytes + event.bytes,
      batches: state.totals.batches + 1,
    },
    activity: `${event.table}: ${
      event.mode === "bootstrap" ? "first copy" : "copying changes"
    }, batch ${event.seq} (${compactNumber(t.cycleRows + event.rows)} rows this cycle)`,
  };
}

function onCycleFinished(
  state: UiState,
  event: Extract<WorkerEvent, { type: "cycle_finished" }>,
  now: number,
): UiState {
  const t = state.tables[event.table] ?? newTable(event.table);
  return {
    ...recovered(
      withTable(state, event.table, {
        mode: event.mode,
        error: null,
        errorAt: null,
        active: false,
        inSyncAsOf: event.inSyncAsOf ?? (event.mode === "bootstrap" ? null : t.inSyncAsOf),
        lastGoodAt: now,
        copyStartedAt: event.mode === "bootstrap" ? t.copyStartedAt : null,
      }),
      now,
    ),
    activity: null,
  };
}

function onTableFailed(
  state: UiState,
  event: Extract<WorkerEvent, { type: "table_failed" }>,
  now: number,
): UiState {
  const text = `${event.table} failed: ${event.code}: ${event.message}`;
  const next = withTable(state, event.table, {
    error: `${event.code}: ${event.message}`,
    errorAt: now,
    active: false,
  });
  return addNotice(
    {
      ...log(next, now, "failed", text, event.table),
      failures: [...state.failures, now].slice(-MAX_BATCH_POINTS),
    },
    `${event.table} failed (${event.code}); retried next cycle`,
  );
}

function onError(
  state: UiState,
  event: Extract<WorkerEvent, { type: "error" }>,
  now: number,
): UiState {
  const retry = event.retryInSeconds !== null;
  const last = state.outages[state.outages.length - 1];
  const outages = retry && (!last || last.to !== null)
    ? [...state.outages, { from: now, to: null }]
    : state.outages;
  const tables = Object.fromEntries(
    Object.entries(state.tables).map(([k, t]) => [k, t.active ? { ...t, active: false } : t]),
  );
  return {
    ...log(
      state,
      now,
      retry ? "retry" : "error",
      `${event.code}: ${event.message}${retry ? ` (retry in ${event.retryInSeconds}s)` : ""}`,
    ),
    tables,
    outages,
    activity: null,
    // A failure while paused leaves the loop paused (it is asleep, not retrying).
    status: !retry || state.status === "paused" ? state.status : "retrying",
    lastError: `${event.code}: ${event.message}`,
    nextCycleAt: retry ? now + event.retryInSeconds! * 1000 : null,
  };
}

function onQueryResult(
  state: UiState,
  event: Extract<WorkerEvent, { type: "query_result" }>,
): UiState {
  const sent = state.lastQuery;
  const keep = sent === null || state.input.trim() !== sent;
  return {
    ...state,
    queryRunning: false,
    queryStartedAt: null,
    queryError: null,
    scroll: 0,
    column: 0,
    // The prompt empties like a shell's after a command that worked.
    input: keep ? state.input : "",
    caret: keep ? state.caret : 0,
    result: {
      columns: event.columns,
      rows: event.rows,
      rowCount: event.rowCount,
      truncated: event.truncated,
      elapsedMs: event.elapsedMs,
    },
  };
}
