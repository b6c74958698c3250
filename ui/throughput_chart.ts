// Owns the throughput chart's arithmetic: rows per second in fixed time
// buckets (newest at the right), a rounded scale, outage buckets (a gap, not a
// zero) and buckets with a failed cycle. Pure.

import type { BatchPoint, Outage } from "./state_types.ts";
import { compactNumber } from "./format.ts";

const BLOCKS = " ▁▂▃▄▅▆▇█";
/** Bucket sizes in seconds; the smallest whose columns span the session is used. */
const BUCKETS = [2, 5, 10, 30, 60, 300];

export type BucketMark = "ok" | "outage" | "failed";

export interface Chart {
  readonly bucketSeconds: number;
  /** Rows/s per bucket, oldest first; null for a bucket inside an outage with no rows. */
  readonly rates: readonly (number | null)[];
  readonly marks: readonly BucketMark[];
  /** Top of the scale, rows/s (a 1-2-5 round number). */
  readonly scale: number;
}

function bucketSize(spanMs: number, columns: number): number {
  for (const b of BUCKETS) if (b * columns * 1000 >= spanMs) return b;
  return BUCKETS[BUCKETS.length - 1]!;
}

export function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function buildChart(
  input: {
    batches: readonly BatchPoint[];
    outages: readonly Outage[];
    failures: readonly number[];
    startedAt: number;
    now: number;
  },
  columns: number,
): Chart {
  const n = Math.max(1, columns);
  const bucketSeconds = bucketSize(input.now - input.startedAt, n);
  const ms = bucketSeconds * 1000;
  // Buckets are aligned to the clock, so a batch stays in its bucket as time moves.
  const last = Math.floor(input.now / ms);
  const first = last - n + 1;
  const rows = new Array<number>(n).fill(0);
  for (const b of input.batches) {
    const i = Math.floor(b.at / ms) - first;
    if (i >= 0 && i < n) rows[i]! += b.rows;
  }
  const marks = new Array<BucketMark>(n).fill("ok");
  for (const o of input.outages) {
    const from = Math.floor(o.from / ms) - first;
    const to = Math.floor((o.to ?? input.now) / ms) - first;
    for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) marks[i] = "outage";
  }
  for (const f of input.failures) {
    const i = Math.floor(f / ms) - first;
    if (i >= 0 && i < n && marks[i] === "ok") marks[i] = "failed";
  }
  const rates = rows.map((r, i) => (marks[i] === "outage" && r === 0 ? null : r / bucketSeconds));
  const max = Math.max(0, ...rates.map((r) => r ?? 0));
  return { bucketSeconds, rates, marks, scale: niceCeil(max) };
}

/** The chart as `height` text rows of bars (top first), eighth-blocks at the tips. */
export function bars(chart: Chart, height: number): string[] {
  const levels = height * 8;
  const out: string[] = [];
  for (let row = height - 1; row >= 0; row--) {
    let line = "";
    for (const r of chart.rates) {
      if (r === null) {
        line += " ";
        continue;
      }
      // Any rows at all show at least the lowest block.
      const filled = r <= 0 ? 0 : Math.max(1, Math.round((r / chart.scale) * levels));
      const here = Math.max(0, Math.min(8, filled - row * 8));
      line += BLOCKS[here];
    }
    out.push(line);
  }
  return out;
}

/** The axis under the bars: ─ per bucket, × in an outage, ! where a cycle failed. */
export function axis(chart: Chart): string {
  return chart.marks.map((m) => (m === "outage" ? "×" : m === "failed" ? "!" : "─")).join("");
}

/** The tables with the most rows since `from`, with their share: "orders 61% · users 30%". */
export function topTables(batches: readonly BatchPoint[], from: number, count: number): string {
  const rows = new Map<string, number>();
  let total = 0;
  for (const b of batches) {
    if (b.at < from || b.rows === 0) continue;
    rows.set(b.table, (rows.get(b.table) ?? 0) + b.rows);
    total += b.rows;
  }
  if (total === 0) return "";
  return [...rows.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([t, n]) => `${t} ${Math.round((n / total) * 100)}%`).join(" · ");
}

/**
 * Streamed changes per second by kind over [from, now] ("changes/s: 1.2k ins
 * 340 upd 12 del"), or "" when no batch of the span came from the WAL.
 */
export function changeRates(batches: readonly BatchPoint[], from: number, now: number): string {
  let inserts = 0, updates = 0, deletes = 0, any = false;
  for (const b of batches) {
    if (b.at < from || !b.changes) continue;
    any = true;
    inserts += b.changes.inserts;
    updates += b.changes.updates;
    deletes += b.changes.deletes;
  }
  if (!any) return "";
  const seconds = Math.max(1, (now - from) / 1000);
  const rate = (n: number) => compactNumber(Math.round(n / seconds));
  return `changes/s: ${rate(inserts)} ins ${rate(updates)} upd ${rate(deletes)} del`;
}
