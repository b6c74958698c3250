// Owns the one place secrets are scrubbed from what leaves the engine: every
// event a host posts (to the UI or the log) and every fatal error passes
// through scrubEvent. The switch on `type` is exhaustive, so an event type
// added to the protocol cannot leave without a decision here.

import { errorMessage, SyncError } from "../core/errors.ts";
import { scrub } from "../core/secrets.ts";
import { assertNever, type WorkerEvent } from "./protocol.ts";

export type FatalEvent = Extract<WorkerEvent, { type: "fatal" }>;

/** The event with every secret (and every URL's password) masked in each string it holds. */
export function scrubEvent<E extends WorkerEvent>(event: E, secrets: readonly string[]): E {
  const e: WorkerEvent = event;
  switch (e.type) {
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
    case "ready":
    case "loop_state":
    case "query_error":
    case "seed_result":
    case "fatal":
      return scrubStrings(event, secrets);
    case "query_result":
      // The user's own query over their own DuckDB file: its cells are data,
      // not messages, and masking would silently change the answer (the
      // `query` command prints them as they are too).
      return event;
    default:
      return assertNever(e);
  }
}

/** Every string inside `value` (object fields and array items, at any depth) scrubbed. */
function scrubStrings<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === "string") return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, secrets)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, scrubStrings(v, secrets)]),
    ) as T;
  }
  return value;
}

/** A fatal event already reported (and scrubbed) by a host, thrown on to the command line. */
export class ReportedFatal extends Error {
  constructor(readonly event: FatalEvent) {
    super(event.message);
    this.name = "ReportedFatal";
  }
}

/** Any error as the one scrubbed fatal event: its code, one-line message and exit code. */
export function fatalEvent(error: unknown, secrets: readonly string[]): FatalEvent {
  if (error instanceof ReportedFatal) return scrubEvent(error.event, secrets);
  const e = error instanceof SyncError
    ? error
    : new SyncError("INTERNAL", errorMessage(error), { cause: error });
  return scrubEvent(
    { type: "fatal", code: e.code, message: e.message, exitCode: e.exitCode },
    secrets,
  );
}
