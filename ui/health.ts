// Owns the health words of the terminal UI: a state word and colour per table
// (in sync / copying / behind / retrying / failed / paused / waiting), the
// header badge for the whole sync (healthy / degraded / down), true freshness
// ("in sync as of HH:MM:SS", from the start of the last cycle that ended caught
// up, not the cursor's age) and the first copy's rate and ETA. Pure.

import { compactNumber, formatDuration, localClock } from "./format.ts";
import type { TableView, UiState } from "./state_types.ts";

export interface Health {
  readonly word: string;
  readonly color: string;
  /** The rest of the line: freshness, progress or the error. */
  readonly detail: string;
}

/** The source cannot be reached (an outage is open) or the engine stopped on an error. */
export function isDown(state: UiState): boolean {
  const last = state.outages[state.outages.length - 1];
  return (last !== undefined && last.to === null) ||
    ((state.status === "stopped" || state.status === "stopping") && state.lastError !== null);
}

export function badge(state: UiState): { word: string; color: string } {
  if (isDown(state)) return { word: "down", color: "red" };
  const failed = Object.values(state.tables).filter((t) => t.error !== null).length;
  if (failed > 0) return { word: `degraded: ${failed} failed`, color: "yellow" };
  if (state.status === "stopped" || state.status === "stopping") {
    return { word: "stopped", color: "gray" };
  }
  if (state.status === "paused") return { word: "paused", color: "gray" };
  if (state.status === "starting" && Object.keys(state.tables).length === 0) {
    return { word: "starting", color: "gray" };
  }
  return { word: "healthy", color: "green" };
}

/** Rows per second of the first copy so far in this session, or null. */
export function copyRate(t: TableView, now: number): number | null {
  if (t.copyStartedAt === null) return null;
  const seconds = (now - t.copyStartedAt) / 1000;
  const rows = t.rowsCopied - t.copyStartRows;
  return seconds >= 1 && rows > 0 ? rows / seconds : null;
}

/** "30% of ~4.0M rows, 52.1k rows/s, ETA 53s" (rows copied are shown beside it). */
export function copyProgress(t: TableView, now: number): string {
  const rate = copyRate(t, now);
  const rateText = rate === null ? "" : `, ${compactNumber(rate)} rows/s`;
  if (!t.estimatedRows) return `${compactNumber(t.rowsCopied)} rows${rateText}`;
  const pct = Math.min(100, Math.floor((t.rowsCopied / t.estimatedRows) * 100));
  const left = Math.max(0, t.estimatedRows - t.rowsCopied);
  const eta = rate === null ? "" : `, ETA ${formatDuration((left / rate) * 1000)}`;
  return `${pct}% of ~${compactNumber(t.estimatedRows)} rows${rateText}${eta}`;
}

/** "in sync as of 12:04:31", or what is known before the first caught-up cycle. */
export function freshness(t: TableView): string {
  if (t.inSyncAsOf === null) return "not yet in sync";
  const ms = Date.parse(t.inSyncAsOf);
  return `in sync as of ${Number.isNaN(ms) ? t.inSyncAsOf : localClock(ms)}`;
}

function lastGood(t: TableView, now: number): string {
  return t.lastGoodAt === null
    ? "no good cycle yet"
    : `last good ${formatDuration(now - t.lastGoodAt)} ago`;
}

export function tableHealth(t: TableView, state: UiState): Health {
  const now = state.now;
  if (isDown(state)) {
    return {
      word: state.status === "stopped" || state.status === "stopping" ? "stopped" : "retrying",
      color: "red",
      detail: lastGood(t, now),
    };
  }
  if (t.error !== null) {
    return { word: "failed", color: "red", detail: `${t.error} · ${lastGood(t, now)}` };
  }
  if (state.status === "paused") {
    return {
      word: "paused",
      color: "gray",
      detail: t.mode === "bootstrap" ? copyProgress(t, now) : freshness(t),
    };
  }
  if (t.mode === "bootstrap") {
    return { word: "copying", color: "yellow", detail: copyProgress(t, now) };
  }
  if (t.active && t.cycleRows > 0) {
    return {
      word: "behind",
      color: "yellow",
      detail: `${compactNumber(t.cycleRows)} rows copied this cycle · ${freshness(t)}`,
    };
  }
  if (t.inSyncAsOf !== null) {
    return { word: "in sync", color: "green", detail: freshness(t).replace(/^in sync /, "") };
  }
  if (t.lastGoodAt === null) {
    return { word: "waiting", color: "gray", detail: "no cycle finished yet" };
  }
  return { word: "behind", color: "yellow", detail: freshness(t) };
}
