import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { clip, compactNumber, formatBytesShort, formatDuration, wrap } from "../../ui/format.ts";
import { MAX_CELL_WIDTH, resultLines } from "../../ui/result_table.ts";
import { countdown } from "../../ui/checkpoint_pane.tsx";
import { statusText } from "../../ui/status_line.tsx";
import { initialState, type QueryView, type UiState } from "../../ui/state.ts";

const T0 = 1_700_000_000_000;

// --- format.ts ---------------------------------------------------------------

Deno.test("compactNumber() shortens thousands, millions and billions", () => {
  assertEquals(compactNumber(0), "0");
  assertEquals(compactNumber(12.6), "13");
  assertEquals(compactNumber(9999), "9999");
  assertEquals(compactNumber(10_000), "10.0k");
  assertEquals(compactNumber(12_345), "12.3k");
  assertEquals(compactNumber(-12_345), "-12.3k");
  assertEquals(compactNumber(1_500_000), "1.5M");
  assertEquals(compactNumber(2_500_000_000), "2.5G");
  assertEquals(compactNumber(Number.NaN), "-");
  assertEquals(compactNumber(Number.POSITIVE_INFINITY), "-");
});

Deno.test("formatBytesShort() uses B, KiB and MiB", () => {
  assertEquals(formatBytesShort(0), "0 B");
  assertEquals(formatBytesShort(1023), "1023 B");
  assertEquals(formatBytesShort(2048), "2.0 KiB");
  assertEquals(formatBytesShort(5 * 1024 * 1024), "5.0 MiB");
});

Deno.test("formatDuration() renders s, m s, h m and d h", () => {
  assertEquals(formatDuration(0), "0s");
  assertEquals(formatDuration(4_000), "4s");
  assertEquals(formatDuration(59_400), "59s");
  assertEquals(formatDuration(59_600), "1m 00s");
  assertEquals(formatDuration(192_000), "3m 12s");
  assertEquals(formatDuration((2 * 60 + 5) * 60_000), "2h 05m");
  assertEquals(formatDuration((47 * 60 + 59) * 60_000), "47h 59m");
  assertEquals(formatDuration((3 * 24 + 4) * 3_600_000), "3d 4h");
  assertEquals(formatDuration(-5_000), "0s");
  assertEquals(formatDuration(Number.NaN), "-");
});

Deno.test("clip() cuts to width with an ellipsis and flattens whitespace", () => {
  assertEquals(clip("hello", 10), "hello");
  assertEquals(clip("hello", 5), "hello");
  assertEquals(clip("hello", 4), "hel…");
  assertEquals(clip("hello", 1), "…");
  assertEquals(clip("hello", 0), "");
  assertEquals(clip("hello", -3), "");
  assertEquals(clip("a\nb\tc\rd", 20), "a b c d");
});

// --- result_table.ts ---------------------------------------------------------

function view(columns: string[], rows: unknown[][]): QueryView {
  return { columns, rows, rowCount: rows.length, truncated: false, elapsedMs: 1 };
}

/** Positions of the column separator in a line. */
function separators(line: string): number[] {
  return [...line].flatMap((c, i) => (c === "│" ? [i] : []));
}

Deno.test("resultLines() renders an aligned table with header, rule and NULLs", () => {
  const lines = resultLines(view(["id", "name"], [[1, "alice"], [22, null]]), 40, 10, 0);
  assertEquals(lines, [
    "id │ name",
    "───┼──────",
    " 1 │ alice",
    "22 │ NULL",
  ]);
});

Deno.test("resultLines() every data line has the same separator positions", () => {
  const r = view(
    ["plan", "count", "mrr_cents", "note"],
    [
      ["basic", "12", "1200", null],
      ["professional", "3", "999999", "x"],
      ["team", "1234567", "0", "longer note here"],
      [null, "0", "5", ""],
    ],
  );
  const lines = resultLines(r, 76, 10, 0);
  assertEquals(lines.length, 6);
  const header = separators(lines[0]!);
  assertEquals(header.length, 3);
  for (const line of lines.slice(2)) assertEquals(separators(line), header, line);
  // The rule crosses at the same positions.
  const rule = [...lines[1]!].flatMap((c, i) => (c === "┼" ? [i] : []));
  assertEquals(rule, header);
  // Cell text is intact.
  assertMatch(lines[3]!, /^professional │ +3 │ +999999 │ x$/);
});

Deno.test("resultLines() aligns numbers right and text and headers left", () => {
  const r = view(
    ["name", "amount", "code"],
    [["alice", "12.50", "7"], ["bob", null, "x"], ["carol", -3, "10"]],
  );
  assertEquals(resultLines(r, 60, 10, 0), [
    "name  │ amount │ code",
    "──────┼────────┼─────",
    "alice │  12.50 │ 7",
    "bob   │   NULL │ x",
    "carol │     -3 │ 10",
  ]);
});

Deno.test("resultLines() clips values wider than MAX_CELL_WIDTH with an ellipsis", () => {
  const wide = "w".repeat(45);
  const lines = resultLines(view(["id", "body"], [[1, wide], [2, "short"]]), 76, 10, 0);
  const cell = "w".repeat(MAX_CELL_WIDTH - 1) + "…";
  assertEquals(lines[2], ` 1 │ ${cell}`);
  assertEquals(lines[3], " 2 │ short");
  assertEquals(separators(lines[2]!), separators(lines[0]!));
  assert(lines.every((l) => l.length <= 76));
});

Deno.test("resultLines() drops columns that do not fit and marks them with a trailing …", () => {
  const r = view(["aaaa", "bbbb", "cccc"], [["1", "2", "3"], ["4", "5", "6"]]);
  const lines = resultLines(r, 16, 10, 0);
  assertEquals(lines, [
    "aaaa │ bbbb …",
    "─────┼─────",
    "   1 │    2 …",
    "   4 │    5 …",
  ]);
  // No column of the dropped one leaks through.
  assert(lines.every((l) => !l.includes("c") && !l.includes("3") && !l.includes("6")));
  // With enough room all three show and no marker.
  const all = resultLines(r, 40, 10, 0);
  assertEquals(all[0], "aaaa │ bbbb │ cccc");
  assert(all.every((l) => !l.includes("…")));
});

Deno.test("resultLines() never exceeds the width, even when one column is too wide", () => {
  const r = view(["x".repeat(25), "y"], [["a".repeat(28), "b"]]);
  const lines = resultLines(r, 12, 10, 0);
  assertEquals(lines.length, 3);
  for (const line of lines) assert(line.length <= 12, `${line} (${line.length})`);
  assertEquals(lines[0], "xxxxxxxxxxx…");
  assertEquals(lines[2], "aaaaaaaaaaa…");
});

Deno.test("resultLines() shows a window of rows around the selected row", () => {
  const r = view(["n"], Array.from({ length: 10 }, (_, i) => [i]));
  assertEquals(resultLines(r, 20, 4, 3), ["n", "─", "2", "3"]);
  assertEquals(resultLines(r, 20, 5, 9), ["n", "─", "7", "8", "9"]);
  assertEquals(resultLines(r, 20, 5, 0).slice(2), ["0", "1", "2"]);
});

Deno.test("resultLines() respects the height limit", () => {
  const r = view(["n"], Array.from({ length: 10 }, (_, i) => [i]));
  assertEquals(resultLines(r, 20, 0, 0), []);
  assertEquals(resultLines(r, 20, -1, 0), []);
  assertEquals(resultLines(r, 20, 1, 0), ["n"]);
  assertEquals(resultLines(r, 20, 2, 0), ["n", "─"]);
  assertEquals(resultLines(r, 20, 3, 0), ["n", "─", "0"]);
  assertEquals(resultLines(r, 20, 100, 0).length, 12);
});

Deno.test("resultLines() with no rows shows the header and rule only", () => {
  assertEquals(resultLines(view(["a", "bb"], []), 20, 5, 0), ["a │ bb", "──┼───"]);
});

Deno.test("resultLines() flattens newlines in values so each row stays one line", () => {
  const lines = resultLines(view(["t"], [["line1\nline2"]]), 40, 5, 0);
  assertEquals(lines, ["t", "───────────", "line1 line2"]);
});

// --- checkpoint_pane.tsx -----------------------------------------------------

function at(patch: Partial<UiState>): UiState {
  return { ...initialState(T0), ...patch };
}

Deno.test("countdown() names the status or counts down to the next cycle", () => {
  assertEquals(countdown(at({ status: "syncing" })), "syncing now");
  assertEquals(countdown(at({ status: "paused", nextCycleAt: T0 + 5000 })), "paused");
  assertEquals(countdown(at({ status: "starting" })), "starting");
  assertEquals(countdown(at({ status: "stopping" })), "stopping");
  assertEquals(countdown(at({ status: "stopped", nextCycleAt: T0 + 5000 })), "stopped");
  assertEquals(countdown(at({ status: "waiting", nextCycleAt: T0 + 12_000 })), "next in 12s");
  assertEquals(countdown(at({ status: "waiting", nextCycleAt: T0 + 90_000 })), "next in 1m 30s");
  assertEquals(countdown(at({ status: "retrying", nextCycleAt: T0 + 4_000 })), "next in 4s");
  assertEquals(countdown(at({ status: "waiting", nextCycleAt: null })), "-");
  // Overdue never goes negative.
  assertEquals(countdown(at({ status: "waiting", nextCycleAt: T0 - 3_000 })), "next in 0s");
});

// --- status_line.tsx ---------------------------------------------------------

Deno.test("statusText() per loop status", () => {
  assertEquals(statusText(at({ status: "syncing" })), { text: "running: syncing", color: "green" });
  assertEquals(
    statusText(at({ status: "waiting", nextCycleAt: T0 + 30_000 })),
    { text: "running: next in 30s", color: "green" },
  );
  assertEquals(statusText(at({ status: "paused" })), { text: "paused", color: "yellow" });
  assertEquals(statusText(at({ status: "starting" })), { text: "starting", color: "yellow" });
  assertEquals(statusText(at({ status: "stopping" })), { text: "stopping…", color: "yellow" });
  assertEquals(statusText(at({ status: "stopped" })), { text: "stopped", color: "yellow" });
});

Deno.test("statusText() shows the retry countdown and the last error", () => {
  assertEquals(
    statusText(at({
      status: "retrying",
      nextCycleAt: T0 + 4_000,
      lastError: "PG_CONNECT: connection refused",
    })),
    { text: "retrying (next in 4s): PG_CONNECT: connection refused", color: "red" },
  );
});

Deno.test("statusText() shows a fatal error as stopped", () => {
  assertEquals(
    statusText(at({ status: "stopping", lastError: "CONFIG: no tables" })),
    { text: "stopped: CONFIG: no tables", color: "red" },
  );
  assertEquals(
    statusText(at({ status: "stopped", lastError: "CONFIG: no tables" })),
    { text: "stopped: CONFIG: no tables", color: "red" },
  );
});

Deno.test("resultLines() keeps the first column while the others scroll right", () => {
  const lines = resultLines(
    {
      columns: ["a", "b", "c"],
      rows: [["1", "2", "3"]],
      rowCount: 1,
      truncated: false,
      elapsedMs: 1,
    },
    40,
    5,
    0,
    1,
  );
  assertEquals(lines[0], "a │ c");
  assertEquals(lines[2], "1 │ 3");
});

Deno.test("resultLines() aligns NULL like its column: left in text, right in numbers", () => {
  const r = view(
    ["id", "deleted_at", "email", "amount"],
    [[1, null, "a@x", "12.50"], [2, null, null, null], [3, null, "c@x", "7"]],
  );
  assertEquals(resultLines(r, 60, 10, 0), [
    "id │ deleted_at │ email │ amount",
    "───┼────────────┼───────┼───────",
    " 1 │ NULL       │ a@x   │  12.50",
    " 2 │ NULL       │ NULL  │   NULL",
    " 3 │ NULL       │ c@x   │      7",
  ]);
});

Deno.test("resultLines() keeps a column's alignment while scrolling past its NULLs", () => {
  const r = view(["note_text"], [["x"], ["12"], [null], [null], ["text"]]);
  // Rows 3-4 are all NULL on screen; the column has text above and below.
  assertEquals(resultLines(r, 40, 4, 2), ["note_text", "─────────", "NULL", "NULL"]);
  // A column of numbers and NULLs stays right-aligned in a window of NULLs.
  const n = view(["amount"], [["120"], ["7"], [null], [null]]);
  assertEquals(resultLines(n, 40, 4, 2), ["amount", "──────", "  NULL", "  NULL"]);
});

// --- format.ts: wrap() ---------------------------------------------------------

Deno.test("wrap() breaks at spaces within the width", () => {
  assertEquals(wrap("error: Parser Error: syntax error at or near x", 20, 5), [
    "error: Parser Error:",
    "syntax error at or",
    "near x",
  ]);
  assertEquals(wrap("short", 20, 3), ["short"]);
  assertEquals(wrap("", 20, 3), [""]);
});

Deno.test("wrap() splits words longer than a line and flattens newlines", () => {
  assertEquals(wrap("ab abcdefghij\nz", 4, 10), ["ab", "abcd", "efgh", "ij z"]);
});

Deno.test("wrap() cuts with an ellipsis only when the text does not fit in maxLines", () => {
  assertEquals(wrap("one two three four five", 9, 2), ["one two", "three…"]);
  assertEquals(wrap("aaaa bbbb cccc", 4, 2), ["aaaa", "bbb…"]);
  assertEquals(wrap("one two", 9, 0), []);
  assertEquals(wrap("one two", 0, 3), []);
  for (const line of wrap("x".repeat(300), 76, 5)) assert(line.length <= 76, line);
});
