// Owns a synced table's lifecycle: the states it goes through and the pure
// transition function between them. The checkpoint store persists the state
// (io/state/checkpoint.ts); the sync reads it to decide what a cycle does and moves
// it only by these events, after DuckDB has committed what the event reports.
//
//                 scan_started               scan_finished
//   not_synced ─────────────────▶ first_copy_scan ─────────▶ catch_up ──┐
//       │   keyset_copy_started                                          │ caught_up
//       ├──────────────────────▶ first_copy_keyset ─────────────────────┤
//       │   caught_up (an empty table)                                   ▼
//       ├───────────────────────────────────────────────────────────▶ incremental
//       │   refreshed                                                    │
//       └──────────────────────▶ full_refresh ◀──────────────────────────┘ refreshed
//
//   batch_committed keeps a copying or incremental table in its state, with a
//   new position; restarted takes any state back to not_synced (a table
//   rewritten during its scan, a full-refresh table that gained a cursor and
//   a key); refreshed takes any state to full_refresh (the configuration asks
//   for it).

import type { Position } from "./keyset.ts";
import type { ScanState } from "./scan_state.ts";
import type { SyncMode } from "./events.ts";

export type TableState =
  | { readonly kind: "not_synced" }
  | { readonly kind: "first_copy_scan"; readonly scan: ScanState }
  | { readonly kind: "first_copy_keyset"; readonly position: Position | null }
  | { readonly kind: "catch_up"; readonly position: Position | null }
  | { readonly kind: "incremental"; readonly position: Position | null }
  | { readonly kind: "full_refresh" };

export type StateKind = TableState["kind"];

export type LifecycleEvent =
  /** A first copy by block ranges begins (its state saved before any row is copied). */
  | { readonly type: "scan_started"; readonly scan: ScanState }
  /** A first copy in keyset order begins. */
  | { readonly type: "keyset_copy_started" }
  /** A batch is in DuckDB: the position (or the scan) it reaches. */
  | {
    readonly type: "batch_committed";
    readonly position: Position | null;
    readonly scan?: ScanState;
  }
  /** Every block is copied; the keyset catch-up starts after `position`. */
  | { readonly type: "scan_finished"; readonly position: Position | null }
  /** The first copy reached the table's last row: incremental from now on. */
  | { readonly type: "caught_up" }
  /** The table was copied whole. */
  | { readonly type: "refreshed" }
  /** The copy starts over from nothing. */
  | { readonly type: "restarted" };

export type LifecycleEventType = LifecycleEvent["type"];

/**
 * Where each event takes each state (null: the event cannot happen there, a
 * bug). Written out in full, so the compiler asks for every new case.
 */
const NEXT: Record<StateKind, Record<LifecycleEventType, StateKind | null>> = {
  not_synced: {
    scan_started: "first_copy_scan",
    keyset_copy_started: "first_copy_keyset",
    batch_committed: null,
    scan_finished: null,
    caught_up: "incremental",
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
  first_copy_scan: {
    scan_started: null,
    keyset_copy_started: null,
    batch_committed: "first_copy_scan",
    scan_finished: "catch_up",
    caught_up: null,
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
  first_copy_keyset: {
    // Before its first batch, a first copy may still switch to block ranges.
    scan_started: "first_copy_scan",
    keyset_copy_started: "first_copy_keyset",
    batch_committed: "first_copy_keyset",
    scan_finished: null,
    caught_up: "incremental",
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
  catch_up: {
    scan_started: null,
    keyset_copy_started: null,
    batch_committed: "catch_up",
    scan_finished: null,
    caught_up: "incremental",
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
  incremental: {
    scan_started: null,
    keyset_copy_started: null,
    batch_committed: "incremental",
    scan_finished: null,
    caught_up: "incremental",
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
  full_refresh: {
    scan_started: null,
    keyset_copy_started: null,
    batch_committed: null,
    scan_finished: null,
    caught_up: null,
    refreshed: "full_refresh",
    restarted: "not_synced",
  },
};

export class LifecycleError extends Error {
  constructor(readonly from: StateKind, readonly event: LifecycleEventType) {
    super(`Cannot apply ${event} to a table in state ${from}`);
    this.name = "LifecycleError";
  }
}

/** The state after `event`; throws LifecycleError when the event cannot happen in `state`. */
export function transition(state: TableState, event: LifecycleEvent): TableState {
  const kind = NEXT[state.kind][event.type];
  if (kind === null) throw new LifecycleError(state.kind, event.type);
  switch (kind) {
    case "not_synced":
    case "full_refresh":
      return { kind };
    case "first_copy_scan":
      if (event.type === "scan_started") return { kind, scan: event.scan };
      if (event.type === "batch_committed" && event.scan) return { kind, scan: event.scan };
      return state;
    case "first_copy_keyset":
    case "catch_up":
    case "incremental":
      return { kind, position: positionAfter(state, event) };
  }
}

/** The keyset position a state holds (null before the first batch, and while scanning). */
export function positionOf(state: TableState): Position | null {
  return "position" in state ? state.position : null;
}

function positionAfter(state: TableState, event: LifecycleEvent): Position | null {
  if (event.type === "batch_committed" || event.type === "scan_finished") return event.position;
  return positionOf(state);
}

/** True while the table's first copy is under way (it has no primary key yet when scanning). */
export function isFirstCopy(state: TableState): boolean {
  return state.kind === "not_synced" || state.kind === "first_copy_scan" ||
    state.kind === "first_copy_keyset" || state.kind === "catch_up";
}

/** The coarse mode the log, the status command and the UI show. */
export function modeOf(state: TableState): SyncMode {
  if (state.kind === "incremental") return "incremental";
  if (state.kind === "full_refresh") return "full_refresh";
  return "bootstrap";
}
