// Shared by the frame tests: the App rendered by ink-testing-library at a fixed
// size with a scripted event source, and a realistic event script (many
// tables, a failure, drift, notices, a query result).

import { EventEmitter } from "node:events";
import { render as inkRender } from "ink";
import type { ReactElement } from "react";
import { App } from "../../ui/app.tsx";
import type { WorkerCommand, WorkerEvent } from "../../src/host/protocol.ts";
import type { EventSource } from "../../ui/use_batched_events.ts";

export const FLUSH_MS = 20;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds or `timeoutMs` passes; callers assert afterwards. */
export async function until(check: () => boolean, timeoutMs = 1000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await sleep(5);
}

/** An EventSource the test drives: push() hands events to the App's listener. */
export class ScriptedSource implements EventSource {
  listener: ((event: WorkerEvent) => void) | null = null;
  subscribe(listener: (event: WorkerEvent) => void): () => void {
    this.listener = listener;
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

// deno-lint-ignore no-control-regex
export const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");

/** A fake terminal of a given size (ink-testing-library's is 100 columns wide). */
class SizedStdout extends EventEmitter {
  frames: string[] = [];
  constructor(readonly columns: number, readonly rows: number) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
  };
  lastFrame = (): string | undefined => this.frames[this.frames.length - 1];
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (data: string) => {
    this.data = data;
    this.emit("readable");
    this.emit("data", data);
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const { data } = this;
    this.data = null;
    return data;
  };
}

/** Renders `tree` into a fake terminal of `columns` x `rows`. */
export function renderSized(tree: ReactElement, columns: number, rows: number) {
  const stdout = new SizedStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = inkRender(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: new SizedStdout(columns, rows) as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return { unmount: instance.unmount, stdin, stdout, lastFrame: stdout.lastFrame };
}

export async function startApp(
  size: { columns: number; rows: number },
  options: {
    history?: string[];
    onHistory?: (h: readonly string[]) => void;
    flushMs?: number;
  } = {},
) {
  const source = new ScriptedSource();
  const sent: WorkerCommand[] = [];
  let quits = 0;
  const app = renderSized(
    <App
      events={source}
      send={(command) => sent.push(command)}
      onQuit={() => {
        quits += 1;
      }}
      flushMs={options.flushMs ?? FLUSH_MS}
      size={size}
      history={options.history}
      onHistory={options.onHistory}
    />,
    size.columns,
    size.rows,
  );
  await until(() => source.listener !== null && app.lastFrame() !== undefined);
  const frame = () => stripAnsi(app.lastFrame() ?? "");
  const lines = () => frame().split("\n");
  const frameWith = async (text: string | RegExp, timeoutMs = 1000) => {
    const has = () => typeof text === "string" ? frame().includes(text) : text.test(frame());
    await until(has, timeoutMs);
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
      await sleep(FLUSH_MS * 2);
    },
    /** Pushes events and waits for them to be rendered. */
    push: async (...events: WorkerEvent[]) => {
      source.push(...events);
      await sleep(FLUSH_MS * 3);
    },
  };
}

export const IN_SYNC_AS_OF = "2026-01-05T10:00:00.000Z";

/** `count` tables: all in sync, table_07 failed, a drift event and a notice. */
export function manyTables(count: number): WorkerEvent[] {
  const names = Array.from(
    { length: count },
    (_, i) => `public_table_${String(i + 1).padStart(2, "0")}`,
  );
  const events: WorkerEvent[] = [{
    type: "ready",
    connection: "postgres://app:***@db.internal:5432/shop",
    duckdbPath: "warehouse.duckdb",
    demo: false,
    tables: names.map((table) => ({
      table,
      mode: "incremental",
      cursor: "2026-01-05 09:59:58.123456+00",
      key: ["41"],
      rowsCopied: 1000,
    })),
    drift: [],
  }];
  for (const table of names) {
    events.push({
      type: "cycle_finished",
      table,
      mode: "incremental",
      rows: 0,
      batches: 0,
      durationMs: 3,
      idle: true,
      inSyncAsOf: IN_SYNC_AS_OF,
    });
  }
  events.push(
    {
      type: "table_failed",
      table: names[Math.min(6, names.length - 1)]!,
      code: "SOURCE_QUERY_FAILED",
      message:
        'permission denied for table table_07 (is the role granted SELECT? GRANT SELECT ON public.table_07 TO "sync")',
    },
    {
      type: "drift_applied",
      drift: {
        at: "2026-01-05 10:00:01+00",
        table: names[2]!,
        kind: "column_added",
        column: "region",
        detail: "text",
        ddl: `ALTER TABLE ${names[2]} ADD COLUMN region VARCHAR`,
      },
    },
    {
      type: "notice",
      message: "public.no_key_table skipped: no primary key (set KEY_COLUMNS for it)",
    },
    { type: "cycle_idle", nextInSeconds: 30 },
  );
  return events;
}
