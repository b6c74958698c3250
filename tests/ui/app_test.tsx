// Component tests of the terminal UI: the App rendered by ink-testing-library
// with a scripted event source, asserting on the frames Ink writes.

import { render } from "ink-testing-library";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { App } from "../../ui/app.tsx";
import { driftLine } from "../../ui/drift_pane.tsx";
import type { DriftRecord, WorkerCommand, WorkerEvent } from "../../src/host/protocol.ts";
import type { EventSource } from "../../ui/use_batched_events.ts";

const SIZE = { columns: 80, rows: 24 } as const;
const FLUSH_MS = 20;
const CURSOR = "2024-05-01 12:34:56.123456+00";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds or `timeoutMs` passes; callers assert afterwards. */
async function until(check: () => boolean, timeoutMs = 1000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await sleep(5);
}

/** An EventSource the test drives: push() hands events to the App's listener. */
class ScriptedSource implements EventSource {
  listener: ((event: WorkerEvent) => void) | null = null;
  subscriptions = 0;
  subscribe(listener: (event: WorkerEvent) => void): () => void {
    this.listener = listener;
    this.subscriptions += 1;
    return () => {
      if (this.listener === listener) this.listener = null;
    };
  }
  push(...events: WorkerEvent[]): void {
    const listener = this.listener;
    if (!listener) throw new Error("the App has not subscribed");
    for (const event of events) listener(event);
  }
}

async function start(options: { flushMs?: number } = { flushMs: FLUSH_MS }) {
  const source = new ScriptedSource();
  const sent: WorkerCommand[] = [];
  let quits = 0;
  const app = render(
    <App
      events={source}
      send={(command) => sent.push(command)}
      onQuit={() => {
        quits += 1;
      }}
      flushMs={options.flushMs}
      size={SIZE}
    />,
  );
  await until(() => source.listener !== null && app.lastFrame() !== undefined);
  assert(source.listener, "the App subscribes to its event source");
  const frame = () => app.lastFrame() ?? "";
  const lines = () => frame().split("\n");
  /** Waits until the frame contains `text` (or a second passes). */
  const frameWith = async (text: string | RegExp) => {
    const has = () => typeof text === "string" ? frame().includes(text) : text.test(frame());
    await until(has);
    return frame();
  };
  return {
    app,
    source,
    sent,
    quits: () => quits,
    frame,
    lines,
    frameWith,
    type: async (data: string) => {
      app.stdin.write(data);
      await sleep(FLUSH_MS);
    },
  };
}

const ready: WorkerEvent = {
  type: "ready",
  connection: "postgres://app:****@localhost:5432/shop",
  duckdbPath: "/tmp/warehouse.duckdb",
  demo: false,
  tables: [{ table: "public.orders", mode: "bootstrap", cursor: null, key: null, rowsCopied: 0 }],
  drift: [],
};

const syncEvents: WorkerEvent[] = [
  ready,
  {
    type: "cycle_started",
    table: "public.orders",
    mode: "bootstrap",
    at: "2024-05-01T12:35:00.000Z",
    estimatedRows: 2000,
  },
  {
    type: "batch_finished",
    table: "public.orders",
    seq: 1,
    mode: "bootstrap",
    rows: 1234,
    bytes: 56_789,
    durationMs: 250,
    cursorFrom: null,
    cursorTo: CURSOR,
    file: "batch-000001.parquet",
  },
  {
    type: "checkpoint_advanced",
    table: "public.orders",
    mode: "bootstrap",
    cursor: CURSOR,
    key: ["1234"],
    rowsCopied: 1234,
  },
];

function lineIndex(lines: string[], text: string): number {
  return lines.findIndex((l) => l.includes(text));
}

Deno.test("App renders the four panes and the status line at 80x24", async () => {
  const t = await start();
  try {
    const lines = t.lines();
    assertEquals(lines.length, 24, t.frame());
    for (const line of lines) assert(line.length <= 80, `wider than 80: ${line}`);
    for (const title of ["Checkpoint", "Throughput", "Schema drift", "Query"]) {
      assertMatch(t.frame(), new RegExp(`│ ${title} +│`), title);
    }
    // Checkpoint and Throughput side by side on the same line.
    assertMatch(lines[1]!, /│ Checkpoint +││ Throughput +│/);
    // Status line (status, then the key help) at the bottom.
    assertMatch(lines[22]!, /^starting/);
    assertMatch(lines[23]!, /q quit/);
    assertMatch(t.frame(), /waiting for the first cycle…/);
    assertMatch(t.frame(), /no batches yet/);
    assertMatch(t.frame(), /no schema changes seen/);
    assertMatch(t.frame(), /duckdb> /);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App shows the exact cursor, rows copied and a rows/s figure after sync events", async () => {
  const t = await start();
  try {
    t.source.push(...syncEvents);
    // Events are buffered: nothing renders until the next flush.
    assertNotMatch(t.frame(), /cursor 2024/);
    const frame = await t.frameWith(`cursor ${CURSOR}`);
    const lines = frame.split("\n");
    const cursorLine = lines[lineIndex(lines, "cursor ")]!;
    assertMatch(cursorLine, /│ cursor 2024-05-01 12:34:56\.123456\+00 │/);
    assertMatch(frame, /key 1234 {2}copied 1,234/);
    assertMatch(frame, /│ public\.orders +│/);
    assertMatch(frame, /│ bootstrap 1234 \/ ~2000 rows \(61%\)/);
    // 1234 rows in 250 ms = 4936 rows/s.
    assertMatch(frame, /peak 4936 rows\/s/);
    assertMatch(frame, /last 1,234 rows, 4936 rows\/s, 250 m/);
    assertMatch(frame, /total 1,234 rows in 1 batch,/);
    assertMatch(frame, /^running: syncing │ postgres:\/\/app:\*\*\*\*@localhost:5432\/shop/m);
    assertNotMatch(frame, /no batches yet/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App shows a drift_applied event with its DDL in the Schema drift pane", async () => {
  const t = await start();
  try {
    const drift: DriftRecord = {
      at: "2024-05-01T12:34:56.000Z",
      table: "orders",
      kind: "column_added",
      column: "note",
      detail: "TEXT",
      ddl: "ALTER TABLE orders ADD note TEXT",
    };
    const expected = driftLine(drift);
    assertEquals(
      expected,
      "12:34:56 orders column_added note: TEXT | ALTER TABLE orders ADD note TEXT",
    );
    t.source.push({ type: "drift_applied", drift });
    const frame = await t.frameWith(expected);
    const lines = frame.split("\n");
    const title = lineIndex(lines, "Schema drift");
    assert(title > 0, frame);
    assertEquals(lines[title + 1], `│ ${expected.padEnd(76)} │`);
    assertNotMatch(frame, /no schema changes seen/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App sends run_query after Tab, typing and Enter", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.frameWith("Esc leave prompt");
    await t.type("SELECT 1");
    assertMatch(await t.frameWith("duckdb> SELECT 1"), /│ duckdb> SELECT 1 +│/);
    assertEquals(t.sent, []);
    await t.type("\r");
    await until(() => t.sent.length > 0);
    assertEquals(t.sent, [{ type: "run_query", id: 1, sql: "SELECT 1" }]);
    // The prompt clears and the pane says the query is running.
    const frame = await t.frameWith("running…");
    assertMatch(frame, /│ duckdb> +│/);
    assertEquals(t.quits(), 0);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App submits text and Enter arriving in one read", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.frameWith("Esc leave prompt");
    await t.type("SELECT 1\r");
    await until(() => t.sent.length > 0);
    assertEquals(t.sent, [{ type: "run_query", id: 1, sql: "SELECT 1" }]);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App renders a query_result as an aligned table with the row count", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.type("SELECT plan, count(*) FROM subs GROUP BY ALL\r");
    await until(() => t.sent.length > 0);
    t.source.push({
      type: "query_result",
      id: 1,
      columns: ["plan", "subscriptions"],
      rows: [["basic", "12"], ["professional", "3"], [null, "0"]],
      rowCount: 3,
      truncated: false,
      elapsedMs: 4.4,
    });
    const frame = await t.frameWith("3 rows in 4 ms");
    const lines = frame.split("\n");
    const header = lineIndex(lines, "plan ");
    assert(header > 0, frame);
    const body = lines.slice(header, header + 5).map((l) => l.slice(2, 78).trimEnd());
    assertEquals(body, [
      "plan         │ subscriptions",
      "─────────────┼──────────────",
      "basic        │            12",
      "professional │             3",
      "NULL         │             0",
    ]);
    assertMatch(
      lines[header + 5]!,
      /│ 3 rows in 4 ms · SELECT plan, count\(\*\) FROM subs GROUP BY ALL +│/,
    );
    assertNotMatch(frame, /running…/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App scrolls a long result with PgDn/PgUp", async () => {
  const t = await start();
  try {
    t.source.push({
      type: "query_result",
      id: 1,
      columns: ["n"],
      rows: Array.from({ length: 12 }, (_, i) => [`row${i}`]),
      rowCount: 12,
      truncated: false,
      elapsedMs: 1,
    });
    let frame = await t.frameWith("12 rows in 1 ms, rows 1-3 (PgUp/PgDn)");
    assertMatch(frame, /│ row0 /);
    await t.type("\u001b[6~");
    frame = await t.frameWith("rows 6-8");
    assertMatch(frame, /│ row5 /);
    assertNotMatch(frame, /│ row0 /);
    await t.type("\u001b[5~");
    frame = await t.frameWith("rows 1-3");
    assertMatch(frame, /│ row0 /);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App renders a query_error and keeps running", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.type("SELEC 1\r");
    await until(() => t.sent.length > 0);
    t.source.push({
      type: "query_error",
      id: 1,
      message: 'Parser Error: syntax error at or near "SELEC"',
      elapsedMs: 1,
    });
    const frame = await t.frameWith("error: Parser Error");
    assertMatch(frame, /│ error: Parser Error: syntax error at or near "SELEC" +│/);
    assertMatch(frame, /the app keeps running; fix the SQL and press Enter/);
    // The next query can be sent.
    await t.type("SELECT 1\r");
    await until(() => t.sent.length > 1);
    assertEquals(t.sent[1], { type: "run_query", id: 2, sql: "SELECT 1" });
  } finally {
    t.app.unmount();
  }
});

Deno.test("App calls onQuit once for q and shows a quitting notice", async () => {
  const t = await start();
  try {
    await t.type("q");
    await until(() => t.quits() > 0);
    assertEquals(t.quits(), 1);
    await t.type("q");
    await t.type("\u0003");
    assertEquals(t.quits(), 1);
    // The notice shares the 80-column key-help line, so only its start shows.
    assertMatch(await t.frameWith("quitting"), /q quit {2}· {2}quitting: /);
    assertEquals(t.sent, []);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App quits on Ctrl+C from the prompt, where q is typed text", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.frameWith("Esc leave prompt");
    await t.type("q");
    assertMatch(await t.frameWith("duckdb> q"), /duckdb> q/);
    assertEquals(t.quits(), 0);
    await t.type("\u0003");
    await until(() => t.quits() > 0);
    assertEquals(t.quits(), 1);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App Esc leaves the prompt so pane keys work again", async () => {
  const t = await start();
  try {
    await t.type("\t");
    await t.frameWith("Esc leave prompt");
    await t.type("\u001b");
    await t.frameWith("s seed");
    await t.type("r");
    await until(() => t.sent.length > 0);
    assertEquals(t.sent, [{ type: "sync_now" }]);
    assertMatch(await t.frameWith("sync requested"), /sync requested/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App sends seed_changes, pause and resume from the panes", async () => {
  const t = await start();
  try {
    await t.type("s");
    await until(() => t.sent.length > 0);
    assertEquals(t.sent, [{ type: "seed_changes", inserts: 1, updates: 1, deletes: 1 }]);
    await t.frameWith("seeding changes");
    await t.type("p");
    await until(() => t.sent.length > 1);
    assertEquals(t.sent[1], { type: "pause" });
    t.source.push(ready, { type: "loop_state", state: "paused" });
    assertMatch(await t.frameWith(/^paused │/m), /^paused │ postgres/m);
    await t.type("p");
    await until(() => t.sent.length > 2);
    assertEquals(t.sent[2], { type: "resume" });
  } finally {
    t.app.unmount();
  }
});

Deno.test("App ? shows the help in place of the drift pane and hides it again", async () => {
  const t = await start();
  try {
    await t.type("?");
    let frame = await t.frameWith("close this help");
    assertMatch(frame, /│ q {6}quit \(the batch in flight finishes\)/);
    assertMatch(frame, /│ s {6}seed changes into Postgres/);
    assertNotMatch(frame, /Schema drift/);
    // (The "Help" title row is not asserted: at 80x24 it is cut, see the report.)
    await t.type("?");
    frame = await t.frameWith("Schema drift");
    assertNotMatch(frame, /close this help/);
    assertEquals(frame.split("\n").length, 24);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App renders at most about 5 times a second under an event burst", async () => {
  const t = await start({}); // default flushMs (200)
  try {
    const before = t.app.frames.length;
    const t0 = Date.now();
    // 100 events in about 200 ms: 10 every 20 ms.
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
    const renders = t.app.frames.length - before;
    assert(renders >= 1, "the burst was rendered");
    assert(renders <= 6, `${renders} renders in ${Date.now() - t0} ms`);
    // Every event reached the state.
    assertMatch(t.frame(), /total 100 rows in 100 batches/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App unsubscribes from its event source on unmount", async () => {
  const t = await start();
  assertEquals(t.source.subscriptions, 1);
  t.app.unmount();
  await sleep(FLUSH_MS);
  assertEquals(t.source.listener, null);
});

Deno.test("App applies several keys from one read in order (held Backspace, Tab then text)", async () => {
  const t = await start();
  try {
    t.app.stdin.write("\t");
    t.app.stdin.write("SELECT 1");
    await t.frameWith("duckdb> SELECT 1");
    await t.type("\x7f\x7f\x7f");
    assertMatch(await t.frameWith("duckdb> SELEC"), /│ duckdb> SELEC +│/);
    assertNotMatch(t.frame(), /duckdb> SELECT/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App shows a fatal engine error whole in a Stopped pane", async () => {
  const t = await start();
  try {
    const message =
      "Cannot connect to Postgres at postgres://app:***@db:5432/shop: password authentication failed for user app (check POSTGRES_USER and POSTGRES_PASSWORD, or DATABASE_URL)";
    t.source.push({ type: "fatal", code: "PG_AUTH_FAILED", message, exitCode: 2 });
    const frame = await t.frameWith("Stopped");
    const flat = frame.split("\n").map((l) => l.replace(/^│ ?/, "").replace(/ *│$/, "")).join(" ");
    assertMatch(flat.replace(/\s+/g, " "), /PG_AUTH_FAILED: Cannot connect .* or DATABASE_URL\)/);
  } finally {
    t.app.unmount();
  }
});

Deno.test("App: the Checkpoint pane lists every table, one line each when they do not fit, failures in it", async () => {
  const ui = await start();
  const tables = ["shop_customers", "shop_events", "shop_countries", "shop_orders", "shop_items"];
  for (const [i, table] of tables.entries()) {
    ui.source.push({
      type: "checkpoint_advanced",
      table,
      mode: i === 2 ? "full_refresh" : "incremental",
      cursor: i === 2 ? null : CURSOR,
      key: ["1"],
      rowsCopied: 1000 * (i + 1),
    });
  }
  ui.source.push({
    type: "table_failed",
    table: "shop_orders",
    code: "PG_PERMISSION_DENIED",
    message: "permission denied for table orders",
  });
  const frame = await ui.frameWith("shop_items");
  for (const table of tables) assertMatch(frame, new RegExp(table));
  assertMatch(frame, /shop_countries {2}refresh 3000 rows/);
  assertMatch(frame, /shop_customers {2}incr 1000 copied/);
  assertMatch(frame, /shop_orders {2}FAILED PG_PERMISSION_D/);
  // The failure clears when the table syncs again.
  ui.source.push({
    type: "cycle_finished",
    table: "shop_orders",
    mode: "incremental",
    rows: 0,
    batches: 0,
    durationMs: 3,
    idle: true,
    inSyncAsOf: null,
  });
  await until(() => !ui.frame().includes("FAILED"));
  assertNotMatch(ui.frame(), /FAILED/);
  ui.app.unmount();
});
