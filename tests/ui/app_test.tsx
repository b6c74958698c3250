// Component tests of the terminal UI: the App rendered into a fake terminal of
// a fixed size with a scripted event source, asserting on the frames Ink
// writes: health words and badge, outage and recovery, scrolling, detail views,
// the prompt, the result browser, the help overlay and render batching.

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import type { WorkerEvent } from "../../src/host/protocol.ts";
import {
  FLUSH_MS,
  IN_SYNC_AS_OF,
  manyTables,
  sleep,
  startApp,
  stripAnsi,
  until,
} from "./frames_support.tsx";
import { localClock } from "../../ui/format.ts";

const SIZE = { columns: 80, rows: 24 };
const CURSOR = "2024-05-01 12:34:56.123456+00";
const AS_OF = localClock(Date.parse(IN_SYNC_AS_OF));

function result(rows: number, columns = ["id", "name"]): WorkerEvent {
  return {
    type: "query_result",
    id: 1,
    columns,
    rows: Array.from(
      { length: rows },
      (_, i) => columns.map((_, c) => c === 0 ? i + 1 : `v${i + 1}`),
    ),
    rowCount: rows,
    truncated: false,
    elapsedMs: 3,
  };
}

Deno.test("App at 80x24 before any event: four panes, the status line at the bottom", async () => {
  const t = await startApp(SIZE);
  try {
    const lines = t.lines();
    assertEquals(lines.length, 24, t.frame());
    for (const line of lines) assert(line.length <= 80, `wider than 80: ${line}`);
    assertMatch(lines[0]!, /╭─ 1 Tables .*╮╭─ Throughput .*╮/);
    assertMatch(t.frame(), /╭─ 2 Events, UTC[+-]?[\d:]* ─/);
    assertMatch(t.frame(), /╭─ 3 Query ─/);
    assertMatch(lines[22]!, /^ starting {2}starting/);
    assertMatch(lines[23]!, /q quit/);
    assertMatch(t.frame(), /waiting for the first cycle…/);
    assertMatch(t.frame(), /no batches yet/);
    assertMatch(t.frame(), /duckdb> /);
  } finally {
    t.app.unmount();
  }
});

for (
  const size of [{ columns: 80, rows: 24 }, { columns: 120, rows: 40 }, { columns: 200, rows: 50 }]
) {
  Deno.test(`App at ${size.columns}x${size.rows} with 20 tables: fills the screen, a failed table red, badge degraded`, async () => {
    const t = await startApp(size);
    try {
      await t.push(...manyTables(20));
      const frame = await t.frameWith("degraded");
      const lines = frame.split("\n");
      assertEquals(lines.length, size.rows, frame);
      for (const line of lines) assert(line.length <= size.columns, `too wide: ${line}`);
      assertMatch(frame, /public_table_01 +in sync +as of /);
      assertMatch(frame, new RegExp(`as of ${AS_OF}`));
      // Failed tables come first, so they are never scrolled out of view.
      assertMatch(frame, /╭─ 1 Tables[^\n]*\n│ public_table_07 +failed +SOURCE_QUERY_F/);
      // The status line: badge then loop state, key help last.
      const status = lines.findIndex((l) => l.startsWith(" degraded: 1 failed "));
      assert(status >= size.rows - 3, frame);
      assertMatch(lines[size.rows - 1]!, /j\/k move/);
      if (size.columns >= 200) assertMatch(frame, /1,000 +2026-01-05 09:59:58\.123456\+00 +41/);
    } finally {
      t.app.unmount();
    }
  });
}

Deno.test("App below 60x16 says the terminal is too small", async () => {
  const t = await startApp({ columns: 40, rows: 16 });
  try {
    await t.push(...manyTables(3));
    const frame = t.frame();
    assertMatch(frame.replace(/\s+/g, " "), /terminal too small: 40x16, needs at least 60x16/);
    assertEquals(frame.split("\n").length, 16);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App scrolls a 20-table Tables pane with j and PgDn and opens a table's detail", async () => {
  const t = await startApp(SIZE);
  try {
    await t.push(...manyTables(20));
    assertNotMatch(t.frame(), /public_table_20/);
    await t.type("\u001b[6~"); // PgDn
    await t.type("\u001b[6~");
    await t.type("\u001b[6~");
    await t.type("G");
    const frame = await t.frameWith("public_table_20");
    assertMatch(frame, /\d+-20 of 20/);
    // Back to the failed table (first) and open it: the whole error, not cut.
    await t.type("g");
    await t.type("\r");
    const detail = (await t.frameWith("╭─ Table public_table_07")).replace(/[│\s]+/g, " ");
    assertMatch(detail, /GRANT SELECT ON public\.table_07 TO "sync"\)/);
    await t.type(" "); // a page down: the table's history
    assertMatch(
      t.frame(),
      /history \(1, times UTC[^)]*\)[\s\S]*failed[│\s]+public_table_07 failed: SOURCE/,
    );
    // The status line stays visible under the detail view.
    assertMatch(t.lines()[23]!, /Esc close/);
    await t.type("\u001b");
    await until(() => !t.frame().includes("╭─ Table public_table_07"));
    assertMatch(t.frame(), /╭─ 2 Events/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App keeps every notice in the Events pane, filters it by table, shows a drift event whole", async () => {
  const t = await startApp({ columns: 80, rows: 30 });
  try {
    await t.push(...manyTables(5));
    const frame = t.frame();
    assertMatch(frame, /notice +public\.no_key_table skipped: no primary key/);
    assertMatch(frame, /drift +public_table_03 column_added region/);
    assertMatch(frame, /failed +public_table_05 failed/);
    await t.type("2"); // focus Events
    await t.type("f"); // first table with entries
    const filtered = (await t.frameWith("table public_table_03")).split("\n");
    const events = filtered.slice(
      filtered.findIndex((l) => l.includes("╭─ 2 Events")),
      filtered.findIndex((l) => l.includes("╭─ 3 Query")),
    ).join("\n");
    assertMatch(events, /drift +public_table_03/);
    assertNotMatch(events, /no_key_table/);
    await t.type("\r");
    const detail = (await t.frameWith("DDL applied")).replace(/[│\s]+/g, " ");
    assertMatch(detail, /ALTER TABLE public_table_03 ADD COLUMN region VARCHAR/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App during an outage: rows red with last good, badge down; recovery turns them back", async () => {
  const t = await startApp(SIZE);
  try {
    await t.push(...manyTables(3).filter((e) => e.type !== "table_failed"));
    assertMatch(t.frame(), /^ healthy /m);
    await t.push({
      type: "error",
      code: "PG_CONNECT",
      message: "connection refused (is Postgres running?)",
      transient: true,
      retryInSeconds: 4,
    });
    const down = t.frame();
    assertMatch(down, /^ down {2}retrying \(next in 4s\): PG_CONNECT/m);
    assertMatch(down, /public_table_01 +retrying +last good \d+s ago/);
    assertNotMatch(down, /in sync/);
    assertMatch(down, /×/); // the throughput axis marks the outage
    await t.push(
      {
        type: "cycle_started",
        table: "public_table_01",
        mode: "incremental",
        at: "2026-01-05T10:01:00Z",
        estimatedRows: null,
      },
      {
        type: "cycle_finished",
        table: "public_table_01",
        mode: "incremental",
        rows: 0,
        batches: 0,
        durationMs: 2,
        idle: true,
        inSyncAsOf: IN_SYNC_AS_OF,
      },
      { type: "notice", message: "recovered after 1 failed attempt" },
      {
        type: "cycle_idle",
        nextInSeconds: 30,
      },
    );
    const back = t.frame();
    assertMatch(back, /^ healthy /m);
    assertMatch(back, /public_table_01 +in sync/);
    assertMatch(back, /recovered +recovered after 1 failed attempt/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App shows a first copy's percent, rows/s and ETA", async () => {
  const t = await startApp({ columns: 120, rows: 30 });
  try {
    await t.push({
      type: "cycle_started",
      table: "public_orders",
      mode: "bootstrap",
      at: "2026-01-05T10:00:00Z",
      estimatedRows: 100_000,
    });
    await sleep(1100);
    await t.push({
      type: "checkpoint_advanced",
      table: "public_orders",
      mode: "bootstrap",
      cursor: CURSOR,
      key: ["1"],
      rowsCopied: 25_000,
    });
    const frame = t.frame();
    assertMatch(frame, /public_orders +copying +25% of ~100\.0k rows, [\d.]+k rows\/s, ETA \d+s/);
    assertMatch(frame, /^ healthy {2}running: syncing │ public_orders: first copy/m);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App prompt: / focuses, q is text, Enter runs, a failed query stays with its whole error", async () => {
  const t = await startApp(SIZE);
  try {
    await t.type("/");
    await t.type("SELECT q");
    assertEquals(t.quits(), 0);
    await t.type("\r");
    await until(() => t.sent.length > 0);
    assertEquals(t.sent, [{ type: "run_query", id: 1, sql: "SELECT q" }]);
    assertMatch(t.frame(), /running \d+s…/);
    const message =
      'Binder Error: Referenced column "q" not found in FROM clause!\nLINE 1: SELECT q\n               ^';
    await t.push({ type: "query_error", id: 1, message, elapsedMs: 2 });
    const frame = t.frame();
    assertMatch(frame, /duckdb> SELECT q/);
    assertMatch(
      frame.replace(/[│\s]+/g, " "),
      /error: Binder Error: Referenced column "q" not found in FROM clause! LINE 1: SELECT q \^/,
    );
    assertMatch(frame, /the SQL is still in the prompt/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App result browser: PgDn moves a page, widths stay, the first column stays, Enter shows a row", async () => {
  const t = await startApp(SIZE);
  try {
    await t.type("/");
    await t.type("SELECT 1\r");
    await until(() => t.sent.length > 0);
    await t.push(
      result(100, [
        "id",
        "name",
        "c3",
        "c4",
        "c5",
        "c6",
        "c7",
        "c8",
        "c9",
        "c10",
        "c11",
        "c12",
        "c13",
        "c14",
        "c15",
      ]),
    );
    // The prompt empties after a query that worked; Tab moves on to the panes.
    assertMatch(t.frame(), /duckdb> +│/);
    await t.type("\u001b");
    await until(() => /rows 1-\d+/.test(t.frame()));
    const rowsShown = Number(/rows 1-(\d+)/.exec(t.frame())![1]);
    await t.type("\u001b[6~");
    const paged = t.frame();
    const m = /rows (\d+)-(\d+)/.exec(paged)!;
    assertEquals(Number(m[1]), rowsShown + 1, paged);
    assertMatch(paged, /id +│ name │ c3 /);
    await t.type("\u001b[C"); // Right: the first column stays
    await t.frameWith(/id +│ c3 +│ c4/);
    assertNotMatch(t.frame(), /│ name │/);
    await t.type("\r");
    await t.frameWith(/╭─ Row \d+ of 100/);
    await t.type(" ");
    await t.type(" ");
    const record = t.frame().replace(/[│\s]+/g, " ");
    assertMatch(record, /c15 v\d+/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App ? shows the help above the status line, which stays visible", async () => {
  const t = await startApp(SIZE);
  try {
    await t.push(...manyTables(5));
    await t.type("?");
    const frame = await t.frameWith("╭─ Help");
    const lines = frame.split("\n");
    assertEquals(lines.length, 24);
    assertMatch(lines[22]!, /^ degraded/);
    assertMatch(lines[23]!, /q quit/);
    await t.type("?");
    await until(() => !t.frame().includes("╭─ Help"));
    assertNotMatch(t.frame(), /╭─ Help/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App prompt history: earlier runs' entries recall with Up; new ones are reported", async () => {
  const saved: (readonly string[])[] = [];
  const t = await startApp(SIZE, {
    history: ["SELECT 'from yesterday'"],
    onHistory: (h) => saved.push(h),
  });
  try {
    await t.type("/");
    await t.type("\u001b[A");
    assertMatch(t.frame(), /duckdb> SELECT 'from yesterday'/);
    await t.type("\u0015"); // Ctrl+U
    await t.type("SELECT 2\r");
    await until(() => saved.length > 0);
    assertEquals(saved.at(-1), ["SELECT 'from yesterday'", "SELECT 2"]);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App renders at most about 5 times a second under an event burst", async () => {
  const t = await startApp(SIZE, { flushMs: 200 });
  try {
    const before = t.app.stdout.frames.length;
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 10; j++) {
        t.source.push({
          type: "batch_finished",
          table: "public.orders",
          seq: i * 10 + j,
          mode: "incremental",
          rows: 1,
          bytes: 10,
          durationMs: 1,
          cursorFrom: null,
          cursorTo: CURSOR,
          file: "f.parquet",
        });
      }
      await sleep(20);
    }
    await sleep(Math.max(0, 1000 - (Date.now() - t0)));
    const renders = t.app.stdout.frames.length - before;
    assert(renders >= 1, "the burst was rendered");
    assert(renders <= 6, `${renders} renders in ${Date.now() - t0} ms`);
    assertMatch(t.frame(), /Σ 100 rows/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App unsubscribes from its event source on unmount", async () => {
  const t = await startApp(SIZE);
  t.app.unmount();
  await sleep(FLUSH_MS);
  assertEquals(t.source.listener, null);
});

Deno.test("App applies several keys from one read in order (held Backspace, / then text)", async () => {
  const t = await startApp(SIZE);
  try {
    t.app.stdin.write("/");
    t.app.stdin.write("SELECT 1");
    await t.frameWith("duckdb> SELECT 1");
    await t.type("\x7f\x7f\x7f");
    await t.frameWith(/duckdb> SELEC(?!T)/);
    assertNotMatch(t.frame(), /duckdb> SELECT/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App shows a fatal engine error whole in a Stopped pane; badge down", async () => {
  const t = await startApp(SIZE);
  try {
    const message =
      "Cannot connect to Postgres at postgres://app:***@db:5432/shop: password authentication failed for user app (check POSTGRES_USER and POSTGRES_PASSWORD, or DATABASE_URL)";
    await t.push({ type: "fatal", code: "PG_AUTH_FAILED", message, exitCode: 2 });
    const frame = await t.frameWith("Stopped");
    const flat = frame.replace(/[│\s]+/g, " ");
    assertMatch(flat, /PG_AUTH_FAILED: Cannot connect .* or DATABASE_URL\)/);
    assertMatch(frame, /^ down /m);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App strips nothing but ANSI from frames (helper sanity)", () => {
  assertEquals(stripAnsi("\u001b[31mred\u001b[39m │"), "red │");
});
