// Pure layout and chart logic of the terminal UI: band heights at 80x24,
// 120x40, 200x50 and 40x16; the throughput buckets, scale, outage gaps and
// failure marks; display widths for CJK and emoji in a result.

import { assert, assertEquals } from "../support/assert.ts";
import { computeLayout, type LayoutInput } from "../../ui/layout.ts";
import { axis, bars, buildChart, niceCeil, topTables } from "../../ui/throughput_chart.ts";
import { displayWidth, positionInfo, windowStart } from "../../ui/format.ts";
import { resultLines } from "../../ui/result_table.ts";

const base: LayoutInput = {
  columns: 80,
  rows: 24,
  tables: 20,
  logEntries: 40,
  resultRows: 0,
  promptLines: 1,
};

function sums(l: ReturnType<typeof computeLayout>) {
  return l.top + l.events + l.query + l.status;
}

Deno.test("computeLayout() fills each size exactly and keeps the status line", () => {
  for (const [columns, rows] of [[80, 24], [120, 40], [200, 50]] as const) {
    const l = computeLayout({ ...base, columns, rows });
    assertEquals(l.tooSmall, false);
    assertEquals(sums(l), rows, `${columns}x${rows}`);
    assert(l.status >= 2);
    assert(l.events >= 3 && l.query >= 6 && l.top >= 6, JSON.stringify(l));
  }
  assertEquals(computeLayout({ ...base, columns: 40, rows: 16 }).tooSmall, true);
  assertEquals(computeLayout({ ...base, columns: 60, rows: 16 }).tooSmall, false);
  // Detail columns only on wide terminals.
  assertEquals(computeLayout({ ...base, columns: 200, rows: 50 }).wide, true);
  assertEquals(computeLayout({ ...base, columns: 120, rows: 40 }).wide, false);
});

Deno.test("computeLayout() at 80x24 gives a 5-row result all its rows", () => {
  const l = computeLayout({ ...base, tables: 1, logEntries: 2, resultRows: 5 });
  // Borders, prompt, header, rule, 5 rows, footer.
  assert(l.query >= 2 + 1 + 2 + 5 + 1, JSON.stringify(l));
  assertEquals(sums(l), 24);
});

Deno.test("computeLayout() shrinks empty panes and grows the tables band with its tables", () => {
  const few = computeLayout({ ...base, columns: 120, rows: 40, tables: 2, logEntries: 0 });
  const many = computeLayout({ ...base, columns: 120, rows: 40, tables: 10, logEntries: 0 });
  assertEquals(few.events, 3);
  assert(many.top > few.top);
  assertEquals(many.top, 10 + 2);
});

Deno.test("windowStart() pages: a page key moves the window by exactly a page", () => {
  assertEquals(windowStart(0, 20, 6), 0);
  assertEquals(windowStart(5, 20, 6), 0);
  assertEquals(windowStart(6, 20, 6), 6);
  assertEquals(windowStart(19, 20, 6), 14);
  assertEquals(windowStart(3, 4, 6), 0);
  assertEquals(positionInfo(6, 6, 20), "7-12 of 20");
  assertEquals(positionInfo(0, 6, 4), "");
});

Deno.test("buildChart() sums rows per fixed bucket, scales to a round number, leaves outage gaps", () => {
  // Late in a 2 s bucket (buckets are aligned to the clock).
  const now = 1_000_000_001_999;
  const chart = buildChart({
    batches: [
      { at: now - 1000, table: "a", rows: 300, bytes: 1, durationMs: 1 },
      { at: now - 500, table: "b", rows: 100, bytes: 1, durationMs: 1 },
      { at: now - 8000, table: "a", rows: 50, bytes: 1, durationMs: 1 },
    ],
    outages: [{ from: now - 6500, to: now - 4500 }],
    failures: [now - 9500],
    startedAt: now - 15_000,
    now,
  }, 10);
  assertEquals(chart.bucketSeconds, 2);
  // Newest bucket right: 400 rows in 2 s.
  assertEquals(chart.rates.at(-1), 200);
  assertEquals(chart.rates.at(-5), 25);
  assertEquals(chart.rates.at(-3), null);
  assertEquals(chart.rates.at(-4), null);
  assertEquals(chart.scale, 200);
  assertEquals(axis(chart), "─────!××──");
  const [top, bottom] = bars(chart, 2);
  assertEquals([...top!].at(-1), "█");
  // 25 of 200 rows/s over 16 levels: two eighths in the bottom row.
  assertEquals([...bottom!].at(-5), "▂");
  assertEquals([...bottom!].at(-3), " ");
});

Deno.test("niceCeil() rounds a scale up to 1, 2 or 5 times a power of ten", () => {
  assertEquals([niceCeil(0), niceCeil(3), niceCeil(4936), niceCeil(200), niceCeil(12_001)], [
    1,
    5,
    5000,
    200,
    20_000,
  ]);
});

Deno.test("resultLines() aligns CJK and emoji by display width", () => {
  const r = {
    columns: ["name", "n"],
    rows: [["東京", 1], ["abc", 22], ["🙂x", 3]],
    rowCount: 3,
    truncated: false,
    elapsedMs: 1,
  };
  const lines = resultLines(r, 40, 10, 0);
  const bars = lines.slice(2).map((l) => displayWidth(l.slice(0, l.indexOf("│"))));
  assertEquals(new Set(bars).size, 1, lines.join("\n"));
  assertEquals(displayWidth("東京"), 4);
  assertEquals(displayWidth("🙂"), 2);
});

Deno.test("computeLayout() on a short terminal gives a result the events' rows", () => {
  const l = computeLayout({ ...base, columns: 60, rows: 16, resultRows: 3 });
  assertEquals(l.events, 0);
  assertEquals(sums(l), 16);
  // Prompt, header, rule, at least two rows, footer.
  assert(l.query - 2 >= 6, JSON.stringify(l));
});

Deno.test("topTables() names the busiest tables of the window with their share", () => {
  const b = (at: number, table: string, rows: number) => ({
    at,
    table,
    rows,
    bytes: 0,
    durationMs: 1,
  });
  assertEquals(
    topTables(
      [b(5, "old", 999), b(10, "orders", 60), b(11, "users", 30), b(12, "items", 10)],
      10,
      2,
    ),
    "orders 60% · users 30%",
  );
  assertEquals(topTables([], 0, 3), "");
});
