// The Web Worker entry: receives the init message (config, secrets), runs the
// engine through EngineHost and relays commands in and events out. It owns the
// process's only DuckDB instance of the warehouse file.

/// <reference lib="deno.worker" />

import { EngineHost } from "./engine_host.ts";
import type { WorkerCommand, WorkerEvent, WorkerInit } from "./protocol.ts";

let host: EngineHost | null = null;

self.onmessage = (message: MessageEvent<WorkerInit | WorkerCommand>) => {
  const data = message.data;
  if (data.type === "init") {
    host = new EngineHost({
      config: data.config,
      secrets: data.secrets,
      demo: data.demo,
      post: (event: WorkerEvent) => self.postMessage(event),
    });
    host.start();
    return;
  }
  host?.handle(data);
};
