import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { formatBytes, formatEvent, formatRate } from "../../src/core/event_log.ts";
import type { EngineEvent } from "../../src/core/events.ts";

const at = new Date("2024-03-04T05:06:07.089Z");
const stamp = "2024-03-04T05:06:07.089Z";

const batchFinished: EngineEvent = {
  type: "batch_finished",
  table: "analytics_subscriptions",
  seq: 3,
  mode: "bootstrap",
  rows: 5000,
  bytes: 2048,
  durationMs: 250.4,
  cursorFrom: "2024-01-01 00:00:00+00",
  cursorTo: "2024-01-02 00:00:00+00",
  file: "parquet/x.parquet",
};

Deno.test("formatRate() gives rows per second, grouped, or - for no time", () => {
  assertEquals(formatRate(5000, 250), "20,000 rows/s");
  assertEquals(formatRate(3, 1000), "3 rows/s");
  assertEquals(formatRate(10, 0), "-");
  assertEquals(formatRate(10, -5), "-");
});

Deno.test("formatBytes() picks B, KiB or MiB", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(1023), "1023 B");
  assertEquals(formatBytes(1024), "1.0 KiB");
  assertEquals(formatBytes(1536), "1.5 KiB");
  assertEquals(formatBytes(5 * 1024 * 1024), "5.0 MiB");
});

Deno.test("formatEvent() text line for batch_finished has table, rows, range, ms and rate", () => {
  assertEquals(
    formatEvent(batchFinished, "text", at),
    `${stamp} batch analytics_subscriptions #3 bootstrap: 5,000 rows, ` +
      `2024-01-01 00:00:00+00 .. 2024-01-02 00:00:00+00, 250 ms, 19,968 rows/s, 2.0 KiB`,
  );
});

Deno.test("formatEvent() shows start when a batch has no lower cursor", () => {
  const line = formatEvent({ ...batchFinished, cursorFrom: null, durationMs: 0 }, "text", at);
  assert(line !== null);
  assertMatch(line, / start \.\. 2024-01-02 00:00:00\+00, 0 ms, -, /);
});

Deno.test("formatEvent() text line for drift_applied includes the DDL when there is one", () => {
  const drift = {
    at: stamp,
    table: "t",
    kind: "column_added" as const,
    column: "note",
    detail: "added text as VARCHAR",
    ddl: `ALTER TABLE "t" ADD COLUMN "note" VARCHAR`,
  };
  assertEquals(
    formatEvent({ type: "drift_applied", drift }, "text", at),
    `${stamp} drift t: column_added note: added text as VARCHAR [ALTER TABLE "t" ADD COLUMN "note" VARCHAR]`,
  );
  assertEquals(
    formatEvent({ type: "drift_applied", drift: { ...drift, ddl: null } }, "text", at),
    `${stamp} drift t: column_added note: added text as VARCHAR`,
  );
});

Deno.test("formatEvent() text line for an error mentions the retry", () => {
  assertEquals(
    formatEvent(
      {
        type: "error",
        code: "PG_UNREACHABLE",
        message: "connection refused",
        transient: true,
        retryInSeconds: 4,
      },
      "text",
      at,
    ),
    `${stamp} error PG_UNREACHABLE: connection refused (retrying in 4s)`,
  );
  assertEquals(
    formatEvent(
      { type: "error", code: "INTERNAL", message: "boom", transient: false, retryInSeconds: null },
      "text",
      at,
    ),
    `${stamp} error INTERNAL: boom`,
  );
});

Deno.test("formatEvent() text line for a notice", () => {
  assertEquals(
    formatEvent({ type: "notice", message: "table is empty" }, "text", at),
    `${stamp} notice: table is empty`,
  );
});

Deno.test("formatEvent() text line for cycle_finished only when the table did something", () => {
  const base = {
    type: "cycle_finished" as const,
    table: "t",
    mode: "incremental" as const,
    rows: 0,
    batches: 0,
    durationMs: 12.6,
    idle: true,
    inSyncAsOf: null,
  };
  // An idle table is counted in the cycle's summary line.
  assertEquals(formatEvent(base, "text", at), null);
  assertEquals(
    formatEvent({ ...base, idle: false, rows: 120, batches: 2, durationMs: 1500 }, "text", at),
    `${stamp} cycle t incremental: 120 rows in 2 batches, 1500 ms`,
  );
});

Deno.test("formatEvent() cycle_summary: one line a cycle, the one table named", () => {
  const summary = {
    type: "cycle_summary" as const,
    tables: 300,
    table: null,
    upToDate: 300,
    failed: 0,
    rows: 0,
    batches: 0,
    durationMs: 12.4,
  };
  assertEquals(formatEvent(summary, "text", at), `${stamp} cycle: 300 tables up to date (12 ms)`);
  assertEquals(
    formatEvent({ ...summary, tables: 1, table: "t", upToDate: 1 }, "text", at),
    `${stamp} cycle t: up to date (12 ms)`,
  );
  assertEquals(
    formatEvent({ ...summary, upToDate: 297, failed: 1, rows: 1200, batches: 3 }, "text", at),
    `${stamp} cycle: 300 tables: 2 synced (1,200 rows in 3 batches), 297 up to date, 1 failed (12 ms)`,
  );
  // One table that did something has its cycle_finished line already; no table, no line.
  assertEquals(
    formatEvent(
      { ...summary, tables: 1, table: "t", upToDate: 0, rows: 5, batches: 1 },
      "text",
      at,
    ),
    null,
  );
  assertEquals(formatEvent({ ...summary, tables: 0, upToDate: 0 }, "text", at), null);
});

Deno.test("formatEvent() writes no text line for progress-only events", () => {
  const quiet: EngineEvent[] = [
    { type: "batch_started", table: "t", seq: 1, cursorFrom: null },
    { type: "cycle_started", table: "t", mode: "bootstrap", at: stamp, estimatedRows: 10 },
    {
      type: "checkpoint_advanced",
      table: "t",
      mode: "bootstrap",
      cursor: null,
      key: null,
      rowsCopied: 0,
    },
    { type: "cycle_idle", nextInSeconds: 30 },
  ];
  for (const event of quiet) assertEquals(formatEvent(event, "text", at), null, event.type);
});

Deno.test("formatEvent() json gives parseable JSON with time and type", () => {
  const line = formatEvent(batchFinished, "json", at);
  assert(line !== null);
  assert(!line.includes("\n"));
  const parsed = JSON.parse(line);
  assertEquals(parsed, { time: stamp, ...batchFinished });
  assertEquals(parsed.type, "batch_finished");
});

Deno.test("formatEvent() json keeps events the text format skips, except batch_started", () => {
  const idle = formatEvent({ type: "cycle_idle", nextInSeconds: 30 }, "json", at);
  assert(idle !== null);
  assertEquals(JSON.parse(idle), { time: stamp, type: "cycle_idle", nextInSeconds: 30 });
  assertEquals(
    formatEvent({ type: "batch_started", table: "t", seq: 1, cursorFrom: null }, "json", at),
    null,
  );
});

Deno.test("formatEvent() json escapes newlines in messages", () => {
  const line = formatEvent({ type: "notice", message: "two\nlines" }, "json", at);
  assert(line !== null);
  assert(!line.includes("\n"));
  assertEquals(JSON.parse(line).message, "two\nlines");
});

Deno.test("formatEvent() keeps a multi-line server message on one text line", () => {
  const line = formatEvent(
    { type: "notice", message: "first\nDETAIL: second" },
    "text",
    new Date(0),
  );
  assertEquals(line, "1970-01-01T00:00:00.000Z notice: first DETAIL: second");
});
