// A password standing as itself in any string of any event the engine or a
// host sends never reaches the UI (the posted event) nor the log (its text or
// JSON line); a name it is part of stays whole. The samples are keyed by every
// type of the WorkerEvent union (which holds the EngineEvent union): a type
// added without a sample fails the type check.

import { assert, assertEquals } from "../support/assert.ts";
import { fatalEvent, ReportedFatal, scrubEvent } from "../../src/host/scrub_event.ts";
import { logLine } from "../../src/host/headless.ts";
import type { EngineEvent, WorkerEvent } from "../../src/host/protocol.ts";
import { SyncError } from "../../src/core/errors.ts";

const PW = "hunter22-secret";
const SECRETS = [PW];
const AT = new Date("2024-03-04T05:06:07.089Z");
const drift = {
  at: `2024 ${PW}`,
  table: PW,
  kind: "column_added",
  column: PW,
  detail: `detail ${PW}`,
  ddl: `ALTER TABLE ${PW}`,
} as const;

type Samples = { readonly [T in WorkerEvent["type"]]: Extract<WorkerEvent, { type: T }> };

const SAMPLES: Samples = {
  cycle_started: {
    type: "cycle_started",
    table: PW,
    mode: "bootstrap",
    at: PW,
    estimatedRows: 1,
  },
  batch_started: { type: "batch_started", table: PW, seq: 1, cursorFrom: PW },
  batch_finished: {
    type: "batch_finished",
    table: PW,
    seq: 1,
    mode: "incremental",
    rows: 1,
    bytes: 1,
    durationMs: 1,
    cursorFrom: PW,
    cursorTo: PW,
    file: `parquet/${PW}.parquet`,
  },
  checkpoint_advanced: {
    type: "checkpoint_advanced",
    table: PW,
    mode: "incremental",
    cursor: PW,
    key: [PW],
    rowsCopied: 1,
  },
  drift_applied: { type: "drift_applied", drift },
  cycle_finished: {
    type: "cycle_finished",
    table: PW,
    mode: "incremental",
    rows: 1,
    batches: 1,
    durationMs: 1,
    idle: false,
    inSyncAsOf: null,
  },
  cycle_summary: {
    type: "cycle_summary",
    tables: 1,
    table: PW,
    upToDate: 1,
    failed: 0,
    rows: 0,
    batches: 0,
    durationMs: 1,
  },
  cycle_idle: { type: "cycle_idle", nextInSeconds: 5 },
  table_failed: {
    type: "table_failed",
    table: PW,
    code: "PG_ERROR",
    message: `permission denied for table ${PW}`,
  },
  notice: { type: "notice", message: `connecting with postgres://u:${PW}@h/db` },
  error: {
    type: "error",
    code: "PG_UNREACHABLE",
    message: `password ${PW}\nDETAIL: ${PW}`,
    transient: true,
    retryInSeconds: 2,
  },
  ready: {
    type: "ready",
    connection: `postgres://u:${PW}@h/db`,
    duckdbPath: `/data/${PW}.duckdb`,
    demo: false,
    tables: [{ table: PW, mode: "incremental", cursor: PW, key: [PW], rowsCopied: 1 }],
    drift: [drift],
  },
  loop_state: { type: "loop_state", state: "stopping" },
  query_result: {
    type: "query_result",
    id: 1,
    columns: ["c"],
    rows: [[1]],
    rowCount: 1,
    truncated: false,
    elapsedMs: 1,
  },
  query_error: { type: "query_error", id: 1, message: `no table ${PW}`, elapsedMs: 1 },
  seed_result: { type: "seed_result", ok: false, message: `seed failed: ${PW}` },
  fatal: { type: "fatal", code: "PG_AUTH_FAILED", message: `password ${PW} refused`, exitCode: 2 },
};

const EVENTS: readonly WorkerEvent[] = Object.values(SAMPLES);

/** Every string in `value`, at any depth. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

Deno.test("every sample but the quiet ones carries the password before scrubbing", () => {
  const quiet = new Set<string>(["cycle_idle", "loop_state", "query_result"]);
  for (const event of EVENTS) {
    if (!quiet.has(event.type)) assert(JSON.stringify(event).includes(PW), event.type);
  }
});

Deno.test("scrubEvent() masks the password in every string of every event type", () => {
  for (const event of EVENTS) {
    const scrubbed = scrubEvent(event, SECRETS);
    assertEquals(scrubbed.type, event.type);
    for (const s of strings(scrubbed)) assert(!s.includes(PW), `${event.type}: ${s}`);
  }
});

Deno.test("scrubEvent() keeps every field but the masked text", () => {
  assertEquals(scrubEvent(SAMPLES.table_failed, SECRETS), {
    type: "table_failed",
    table: "***",
    code: "PG_ERROR",
    message: "permission denied for table ***",
  });
  assertEquals(scrubEvent(SAMPLES.ready, SECRETS).tables[0], {
    table: "***",
    mode: "incremental",
    cursor: "***",
    key: ["***"],
    rowsCopied: 1,
  });
  assertEquals(scrubEvent(SAMPLES.notice, []).message, "connecting with postgres://u:***@h/db");
});

Deno.test("scrubEvent() keeps a name the password is part of whole (it shows only inside it)", () => {
  const named: WorkerEvent = {
    type: "table_failed",
    table: `t_${PW}`,
    code: "PG_PERMISSION_DENIED",
    message: `permission denied for table t_${PW} (e.g. GRANT SELECT ON public.t_${PW} TO sync)`,
  };
  assertEquals(scrubEvent(named, SECRETS), named);
});

Deno.test("scrubEvent() leaves a query's result as the user's own data", () => {
  const result: WorkerEvent = { ...SAMPLES.query_result, columns: [PW], rows: [[PW]] };
  assertEquals(scrubEvent(result, SECRETS), result);
});

Deno.test("the log never shows the password, as text or JSON, for any event type", () => {
  for (const format of ["text", "json"] as const) {
    for (const event of EVENTS) {
      const line = logLine(scrubEvent(event, SECRETS), { format, at: AT });
      assert(line === null || !line.includes(PW), `${format} ${event.type}: ${line}`);
    }
  }
});

Deno.test("the log has a line for the engine's events that say something", () => {
  const engineEvents: EngineEvent[] = [SAMPLES.table_failed, SAMPLES.error, SAMPLES.notice];
  for (const event of engineEvents) {
    assert(
      logLine(scrubEvent(event, SECRETS), { format: "text", at: AT })?.includes("***"),
      event.type,
    );
  }
  assertEquals(
    logLine(SAMPLES.loop_state, { format: "text", at: AT }),
    `${AT.toISOString()} notice: stopping after the batch in flight`,
  );
});

Deno.test("fatalEvent() scrubs any error: a SyncError, a plain Error, a reported fatal", () => {
  assertEquals(
    fatalEvent(new SyncError("PG_AUTH_FAILED", `bad ${PW}`, { exitCode: 2 }), SECRETS),
    { type: "fatal", code: "PG_AUTH_FAILED", message: "bad ***", exitCode: 2 },
  );
  assertEquals(
    fatalEvent(new Error(`boom ${PW}`), SECRETS),
    { type: "fatal", code: "INTERNAL", message: "boom ***", exitCode: 1 },
  );
  assertEquals(
    fatalEvent(new ReportedFatal(SAMPLES.fatal), SECRETS),
    { type: "fatal", code: "PG_AUTH_FAILED", message: "password *** refused", exitCode: 2 },
  );
});
