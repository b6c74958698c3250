// Owns the headless run (`sync --once`, `sync --loop`, the UI's fallback off a
// terminal): the same EngineHost the terminal UI's worker uses, in-process, its
// events written as log lines, SIGINT/SIGTERM as the UI's quit (the first
// finishes the batch in flight, a second exits 130) and its fatal event thrown
// on as the command's error.

import type { Config } from "../core/config.ts";
import { formatEvent } from "../core/event_log.ts";
import { EngineHost } from "./engine_host.ts";
import { assertNever, type WorkerEvent } from "./protocol.ts";
import { type FatalEvent, ReportedFatal } from "./scrub_event.ts";

export interface HeadlessOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
  /** One cycle (`sync --once`) rather than the loop. */
  readonly once: boolean;
  /** Receives each log line (stderr). */
  readonly log: (line: string) => void;
  readonly now?: () => Date;
  /** Ends the process at once on a second signal. */
  readonly exit?: (code: number) => void;
}

/** Runs until the loop stops (or the one cycle is done); throws ReportedFatal on a fatal error. */
export async function runHeadless(options: HeadlessOptions): Promise<void> {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  let fatal: FatalEvent | null = null;
  const quietIdle = config.method === "cdc" && !options.once;
  let lastIdleLine = -Infinity;
  const host = new EngineHost({
    config,
    secrets: options.secrets,
    demo: options.demo,
    run: options.once ? "once" : "loop",
    announce: !options.once,
    post: (event) => {
      if (event.type === "fatal") fatal = event;
      // Streaming the WAL, the loop cycles every CDC_FLUSH_MS: an idle one is
      // logged once a minute, not every second.
      if (quietIdle && isIdleSummary(event)) {
        const at = now().getTime();
        if (at - lastIdleLine < 60_000) return;
        lastIdleLine = at;
      }
      const line = logLine(event, { format: config.logFormat, at: now() });
      if (line !== null) options.log(line);
    },
  });
  let stops = 0;
  const stop = () => {
    stops += 1;
    if (stops > 1) (options.exit ?? Deno.exit)(130);
    else void host.handle({ type: "shutdown" });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  try {
    await host.start();
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
  }
  if (fatal) throw new ReportedFatal(fatal);
}

/** A cycle that did nothing and failed nothing. */
function isIdleSummary(event: WorkerEvent): boolean {
  return event.type === "cycle_summary" && event.rows === 0 && event.batches === 0 &&
    event.failed === 0;
}

/**
 * The log line for a host's event, or null. Fatal errors are the command
 * line's one last line, not a log line.
 */
export function logLine(
  event: WorkerEvent,
  options: { readonly format: Config["logFormat"]; readonly at: Date },
): string | null {
  const { format, at } = options;
  switch (event.type) {
    case "ready":
    case "query_result":
    case "query_error":
    case "seed_result":
    case "fatal":
      return null;
    case "loop_state":
      return event.state === "stopping"
        ? formatEvent({ type: "notice", message: "stopping after the batch in flight" }, format, at)
        : null;
    case "cycle_started":
    case "batch_started":
    case "batch_finished":
    case "checkpoint_advanced":
    case "drift_applied":
    case "cycle_finished":
    case "cycle_summary":
    case "cycle_idle":
    case "table_failed":
    case "notice":
    case "error":
      return formatEvent(event, format, at);
    default:
      return assertNever(event);
  }
}
