// MetricsState folds engine events into Prometheus metrics and a health verdict;
// docs/metrics.md's table lists every metric as declared.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  escapeLabel,
  healthWindowSeconds,
  type MetricDef,
  METRICS,
  MetricsState,
} from "../../src/core/metrics_state.ts";

const T0 = Date.parse("2026-12-01T00:00:00Z");

function value(text: string, series: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

function batch(table: string, rows: number) {
  return {
    type: "batch_finished",
    table,
    seq: 1,
    mode: "incremental",
    rows,
    bytes: 1,
    durationMs: 5,
    cursorFrom: null,
    cursorTo: "x",
    file: "f",
  } as const;
}

function finished(table: string, inSyncAsOf: string | null) {
  return {
    type: "cycle_finished",
    table,
    mode: "incremental",
    rows: 0,
    batches: 0,
    durationMs: 3,
    idle: true,
    inSyncAsOf,
  } as const;
}

function summary(durationMs: number, failed = 0, tables = 1) {
  return {
    type: "cycle_summary",
    tables,
    table: null,
    upToDate: tables - failed,
    failed,
    rows: 0,
    batches: 0,
    durationMs,
  } as const;
}

Deno.test("MetricsState counts rows and batches per table, from zero for every table at ready", () => {
  const m = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  m.observe({ type: "ready", tables: [{ table: "a" }, { table: "b" }] }, T0);
  m.observe(batch("a", 10), T0 + 1000);
  m.observe(batch("a", 5), T0 + 2500);
  const text = m.render(T0 + 3000, 1234);
  assertEquals(value(text, 'pds_rows_copied_total{table="a"}'), 15);
  assertEquals(value(text, 'pds_batches_total{table="a"}'), 2);
  assertEquals(value(text, 'pds_rows_copied_total{table="b"}'), 0);
  assertEquals(value(text, 'pds_last_batch_timestamp_seconds{table="a"}'), (T0 + 2500) / 1000);
  assertEquals(value(text, 'pds_last_batch_timestamp_seconds{table="b"}'), null);
  assertEquals(value(text, "pds_process_resident_memory_bytes"), 1234);
  assertMatch(text, /^# HELP pds_rows_copied_total .+\n# TYPE pds_rows_copied_total counter\n/);
  assert(text.endsWith("\n"));
});

Deno.test("MetricsState: freshness is the age of the last inSyncAsOf, not reset by a null one", () => {
  const m = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  m.observe(finished("a", null), T0);
  assertEquals(value(m.render(T0, 0), 'pds_table_freshness_seconds{table="a"}'), null);
  m.observe(finished("a", new Date(T0 + 10_000).toISOString()), T0 + 12_000);
  m.observe(finished("a", null), T0 + 20_000);
  assertEquals(value(m.render(T0 + 40_000, 0), 'pds_table_freshness_seconds{table="a"}'), 30);
});

Deno.test("MetricsState: the cycle-duration histogram is cumulative, with sum and count", () => {
  const m = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  m.observe(summary(40), T0);
  m.observe(summary(700), T0);
  m.observe(summary(4_000_000), T0);
  const text = m.render(T0, 0);
  assertEquals(value(text, 'pds_cycle_duration_seconds_bucket{le="0.05"}'), 1);
  assertEquals(value(text, 'pds_cycle_duration_seconds_bucket{le="1"}'), 2);
  assertEquals(value(text, 'pds_cycle_duration_seconds_bucket{le="1800"}'), 2);
  assertEquals(value(text, 'pds_cycle_duration_seconds_bucket{le="+Inf"}'), 3);
  assertEquals(value(text, "pds_cycle_duration_seconds_count"), 3);
  assertEquals(value(text, "pds_cycle_duration_seconds_sum"), 4000.74);
});

Deno.test("MetricsState counts errors by code and table; health says why it is 503 and recovers", () => {
  const m = new MetricsState({ intervalSeconds: 10, startedAt: T0 });
  assertEquals(m.health(T0 + 1000), {
    ok: true,
    reason: "ok: the first cycle is running (0 batches)",
  });
  m.observe(summary(10), T0 + 2000);
  assertEquals(m.health(T0 + 5000), { ok: true, reason: "ok: the last cycle ended 3s ago" });
  m.observe({
    type: "error",
    code: "PG_UNREACHABLE",
    message: "Cannot connect to 127.0.0.1:5\nsecond line",
    transient: true,
    retryInSeconds: 4,
  }, T0 + 6000);
  const down = m.health(T0 + 6000);
  assertEquals(down, {
    ok: false,
    reason: "the last cycle failed: PG_UNREACHABLE: Cannot connect to 127.0.0.1:5 (retrying in 4s)",
  });
  m.observe({ type: "table_failed", table: "t", code: "PG_PERMISSION_DENIED", message: "m" }, 0);
  m.observe(summary(10, 1, 3), T0 + 7000);
  assertEquals(m.health(T0 + 7000), {
    ok: false,
    reason: "the last cycle: 1 of 3 tables failed: t (PG_PERMISSION_DENIED)",
  });
  const text = m.render(T0 + 7000, 0);
  assertEquals(value(text, 'pds_errors_total{code="PG_UNREACHABLE",table=""}'), 1);
  assertEquals(value(text, 'pds_errors_total{code="PG_PERMISSION_DENIED",table="t"}'), 1);
  assertEquals(value(text, "pds_healthy"), 0);
  m.observe(summary(10, 0, 3), T0 + 8000);
  assertEquals(m.health(T0 + 8000).ok, true);
  assertEquals(value(m.render(T0 + 8000, 0), "pds_healthy"), 1);
});

Deno.test("MetricsState health: stale after a few intervals, kept alive by batches, ok while paused", () => {
  const m = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  assertEquals(healthWindowSeconds(30), 90);
  assertEquals(healthWindowSeconds(1), 60);
  m.observe(summary(10), T0);
  assertEquals(m.health(T0 + 90_000).ok, true);
  const stale = m.health(T0 + 91_000);
  assertEquals(stale.ok, false);
  assertEquals(
    stale.reason,
    "no cycle has ended and no batch was written in 91s since the last cycle (allowed: 90s with SYNC_INTERVAL_SECONDS=30)",
  );
  // A long cycle that writes batches is alive.
  m.observe(batch("a", 1), T0 + 80_000);
  assertEquals(m.health(T0 + 150_000).ok, true);
  m.observe({ type: "loop_state", state: "paused" }, T0);
  assertEquals(m.health(T0 + 1_000_000), { ok: true, reason: "ok: paused" });
  assertEquals(value(m.render(T0, 0), "pds_loop_paused"), 1);
  m.observe({ type: "loop_state", state: "running" }, T0);
  assertEquals(value(m.render(T0, 0), "pds_loop_paused"), 0);
  m.observe({ type: "loop_state", state: "stopping" }, T0);
  assertEquals(m.health(T0), { ok: false, reason: "stopping" });
  // Before any cycle: stale after the window too.
  const fresh = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  assertEquals(fresh.health(T0 + 91_000).ok, false);
});

Deno.test("escapeLabel escapes backslash, double quote and newline", () => {
  assertEquals(escapeLabel('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const m = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  m.observe(batch('we"ird', 1), T0);
  assertMatch(m.render(T0, 0), /pds_rows_copied_total\{table="we\\"ird"\} 1/);
});

Deno.test("docs/metrics.md lists every metric with its type and labels", async () => {
  const markdown = await Deno.readTextFile(new URL("../../docs/metrics.md", import.meta.url));
  const rows = markdown.split("\n").filter((l) => /^\| `pds_/.test(l));
  const documented = rows.map((row) => {
    const [name, type, labels] = row.split("|").slice(1, 4).map((c) => c.trim());
    return {
      name: name!.replaceAll("`", ""),
      type: type!,
      labels: [...labels!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!),
    };
  });
  assertEquals(
    documented,
    (Object.values(METRICS) as MetricDef[]).map((d) => ({
      name: d.name,
      type: d.type,
      labels: [...d.labels],
    })),
  );
});

Deno.test("MetricsState: a batch from the write-ahead log counts changes by kind and sets the replication lag", () => {
  const m = new MetricsState({ intervalSeconds: 1, startedAt: T0 });
  m.observe({
    ...batch("a", 30),
    changes: { inserts: 20, updates: 8, deletes: 2 },
    commitLagMs: 1250,
  }, T0);
  m.observe(
    { ...batch("a", 5), changes: { inserts: 1, updates: 0, deletes: 4 }, commitLagMs: 400 },
    T0,
  );
  const text = m.render(T0, 0);
  assertEquals(value(text, 'pds_changes_total{table="a",kind="insert"}'), 21);
  assertEquals(value(text, 'pds_changes_total{table="a",kind="update"}'), 8);
  assertEquals(value(text, 'pds_changes_total{table="a",kind="delete"}'), 6);
  assertEquals(value(text, 'pds_replication_lag_seconds{table="a"}'), 0.4);
  // A cursor batch sets neither.
  const cursor = new MetricsState({ intervalSeconds: 30, startedAt: T0 });
  cursor.observe(batch("b", 3), T0);
  assert(!cursor.render(T0, 0).includes('pds_replication_lag_seconds{table="b"}'));
});
