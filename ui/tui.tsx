// Owns the terminal UI's process side: renders the App with Ink on the
// alternate screen at once, then starts the engine in a Web Worker, relays
// commands, keeps the prompt history in STATE_DIR, and on quit (q, SIGTERM,
// SIGINT) shuts the worker down (the batch in flight finishes), restores the
// terminal (also after a crash) and returns the exit code. The main thread
// never opens DuckDB.

import process from "node:process";
import { render } from "ink";
import type { Config } from "../src/mod.ts";
import type { WorkerCommand, WorkerEvent, WorkerInit } from "../src/host/protocol.ts";
import { App } from "./app.tsx";
import type { EventSource } from "./use_batched_events.ts";
import { readHistory, writeHistory } from "./history_file.ts";

export interface TuiOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
}

const SHUTDOWN_TIMEOUT_MS = 15_000;
/** Leaves the alternate screen and shows the cursor: what Ink's unmount does, for a crash. */
const RESTORE_TERMINAL = "\x1b[?2004l\x1b[?25h\x1b[?1049l";

export async function runTui(options: TuiOptions): Promise<number> {
  const stateDir = options.config.stateDir;
  const history = await readHistory(stateDir);
  let saving = Promise.resolve();
  const saveHistory = (entries: readonly string[]) => {
    saving = saving.then(() => writeHistory(stateDir, entries)).catch(() => {});
  };
  const worker = new Worker(new URL("../src/host/worker.ts", import.meta.url).href, {
    type: "module",
  });
  const listeners = new Set<(event: WorkerEvent) => void>();
  let fatal: Extract<WorkerEvent, { type: "fatal" }> | null = null;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const deliver = (event: WorkerEvent) => {
    if (event.type === "fatal") fatal = event;
    if (event.type === "loop_state" && event.state === "stopped") markStopped();
    for (const listener of listeners) listener(event);
  };
  worker.onmessage = (message: MessageEvent<WorkerEvent>) => deliver(message.data);
  worker.onerror = (error: ErrorEvent) => {
    error.preventDefault();
    deliver({ type: "fatal", code: "INTERNAL", message: error.message, exitCode: 1 });
    // The worker is gone: nothing else will report that the engine stopped.
    deliver({ type: "loop_state", state: "stopped" });
  };
  const init: WorkerInit = {
    type: "init",
    config: options.config,
    secrets: options.secrets,
    demo: options.demo,
  };
  worker.postMessage(init);

  const source: EventSource = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const send = (command: WorkerCommand) => worker.postMessage(command);
  let quitting = false;
  // deno-lint-ignore prefer-const
  let app: ReturnType<typeof render>;
  const quit = async () => {
    if (quitting) return;
    quitting = true;
    send({ type: "shutdown" });
    await Promise.race([stopped, new Promise((r) => setTimeout(r, SHUTDOWN_TIMEOUT_MS))]);
    app.unmount();
  };
  const onSignal = () => void quit();
  // Through node:process, so Ink's exit hook sees a listener and does not re-raise the
  // signal (which would end the process before the batch in flight finishes).
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A crash must not leave the terminal on the alternate screen.
  const onCrash = () => {
    try {
      app.unmount();
    } finally {
      Deno.stdout.writeSync(new TextEncoder().encode(RESTORE_TERMINAL));
    }
  };
  globalThis.addEventListener("error", onCrash);
  globalThis.addEventListener("unhandledrejection", onCrash);
  app = render(
    <App
      events={source}
      send={send}
      onQuit={() => void quit()}
      history={history}
      onHistory={saveHistory}
    />,
    { exitOnCtrlC: false, alternateScreen: true },
  );
  try {
    await app.waitUntilExit();
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    globalThis.removeEventListener("error", onCrash);
    globalThis.removeEventListener("unhandledrejection", onCrash);
    worker.terminate();
    await saving;
  }
  const failure = fatal as Extract<WorkerEvent, { type: "fatal" }> | null;
  if (failure) {
    console.error(`error ${failure.code}: ${failure.message}`);
    return failure.exitCode;
  }
  return 0;
}
