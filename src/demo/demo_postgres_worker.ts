// Web Worker that hosts the embedded demo database, so PGlite's WASM work never
// runs on the terminal UI's thread.

/// <reference lib="deno.worker" />

import { type EmbeddedPostgres, startEmbeddedPostgres } from "./demo_postgres.ts";
import type { DemoWorkerMessage } from "./demo_files.ts";

let running: EmbeddedPostgres | null = null;

self.onmessage = async (
  message: MessageEvent<{ type: "start"; stateDir: string } | { type: "stop" }>,
) => {
  const post = (m: DemoWorkerMessage) => self.postMessage(m);
  if (message.data.type === "start") {
    try {
      running = await startEmbeddedPostgres(message.data.stateDir);
      post({ type: "started", port: running.port });
    } catch (error) {
      post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
    }
  } else {
    await running?.stop().catch(() => {});
    running = null;
    post({ type: "stopped" });
  }
};
