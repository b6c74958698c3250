// Owns what a running sync tells a monitoring system: the engine's events folded
// into counters, gauges and a histogram (METRICS declares each once: name, type,
// labels, help), and whether the loop is healthy. Pure: the caller passes the
// time with each event and at each read. To add a metric fed by an event,
// declare it in METRICS and set it in MetricsState.observe().

import type { EngineEvent } from "./events.ts";

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly help: string;
}

/** Every metric, in the order they are served (and documented in the README). */
export const METRICS = {
  rowsCopied: {
    name: "pds_rows_copied_total",
    type: "counter",
    labels: ["table"],
    help: "Rows written to the DuckDB table by committed batches (inserted or replaced).",
  },
  batches: {
    name: "pds_batches_total",
    type: "counter",
    labels: ["table"],
    help: "Batches committed to DuckDB and checkpointed.",
  },
  lastBatch: {
    name: "pds_last_batch_timestamp_seconds",
    type: "gauge",
    labels: ["table"],
    help: "Unix time of the last committed batch.",
  },
  freshness: {
    name: "pds_table_freshness_seconds",
    type: "gauge",
    labels: ["table"],
    help:
      "Seconds since the table was last known to be in sync (the start of the last cycle that found nothing pending, or copied all of it).",
  },
  cycleDuration: {
    name: "pds_cycle_duration_seconds",
    type: "histogram",
    labels: [],
    help: "Duration of cycles over every table that ended (failed cycles are not counted).",
  },
  errors: {
    name: "pds_errors_total",
    type: "counter",
    labels: ["code", "table"],
    help:
      "Failures by error code; table is empty when the whole cycle failed (e.g. PG_UNREACHABLE).",
  },
  paused: {
    name: "pds_loop_paused",
    type: "gauge",
    labels: [],
    help: "1 while the loop is paused (the terminal UI's p key), else 0.",
  },
  changes: {
    name: "pds_changes_total",
    type: "counter",
    labels: ["table", "kind"],
    help:
      "SYNC_METHOD=cdc: row changes applied from the write-ahead log, by kind (insert, update, delete).",
  },
  replicationLag: {
    name: "pds_replication_lag_seconds",
    type: "gauge",
    labels: ["table"],
    help:
      "SYNC_METHOD=cdc: seconds from the commit in Postgres of the last batch's oldest transaction to the batch's commit in DuckDB.",
  },
  healthy: {
    name: "pds_healthy",
    type: "gauge",
    labels: [],
    help: "1 when /healthz answers 200, else 0.",
  },
  residentMemory: {
    name: "pds_process_resident_memory_bytes",
    type: "gauge",
    labels: [],
    help: "Resident set size of the process.",
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/** Upper bounds of the cycle-duration histogram's buckets, seconds. */
const CYCLE_BUCKETS: readonly number[] = [
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
  600,
  1800,
];

/** The events the metrics read: the engine's, and the host's loop state and start. */
export type MetricsEvent =
  | EngineEvent
  | { readonly type: "loop_state"; readonly state: string }
  | { readonly type: "ready"; readonly tables: readonly { readonly table: string }[] };

export interface Health {
  readonly ok: boolean;
  /** One line saying why. */
  readonly reason: string;
}

interface Sample {
  readonly labels: readonly string[];
  value: number;
}

/** What the last cycle over every table came to. */
type Outcome =
  | { readonly kind: "none" }
  | { readonly kind: "ok"; readonly at: number }
  | { readonly kind: "failed"; readonly at: number; readonly reason: string };

export class MetricsState {
  readonly #intervalSeconds: number;
  readonly #startedAt: number;
  readonly #samples = new Map<MetricKey, Map<string, Sample>>();
  /** Per table: epoch seconds of the last inSyncAsOf, for the freshness gauge. */
  readonly #inSyncAsOf = new Map<string, number>();
  readonly #buckets = CYCLE_BUCKETS.map(() => 0);
  #durationSum = 0;
  #durationCount = 0;
  #paused = false;
  #stopping = false;
  #outcome: Outcome = { kind: "none" };
  /** Epoch ms of the last committed batch (any table): progress within a long cycle. */
  #lastBatchAt: number | null = null;
  #batchesThisCycle = 0;
  #failedThisCycle: string[] = [];

  /** `intervalSeconds`: the loop's interval (health allows a few); `startedAt`: epoch ms. */
  constructor(options: { readonly intervalSeconds: number; readonly startedAt: number }) {
    this.#intervalSeconds = options.intervalSeconds;
    this.#startedAt = options.startedAt;
  }

  /** Folds one event in; `at` is when it arrived (epoch ms). */
  observe(event: MetricsEvent, at: number): void {
    switch (event.type) {
      case "ready":
        for (const t of event.tables) this.#ensureTable(t.table);
        return;
      case "loop_state":
        this.#paused = event.state === "paused";
        this.#stopping = event.state === "stopping" || event.state === "stopped";
        return;
      case "batch_finished":
        this.#ensureTable(event.table);
        this.#add("rowsCopied", [event.table], event.rows);
        this.#add("batches", [event.table], 1);
        this.#set("lastBatch", [event.table], at / 1000);
        this.#lastBatchAt = at;
        this.#batchesThisCycle += 1;
        if (event.changes) {
          this.#add("changes", [event.table, "insert"], event.changes.inserts);
          this.#add("changes", [event.table, "update"], event.changes.updates);
          this.#add("changes", [event.table, "delete"], event.changes.deletes);
        }
        if (event.commitLagMs !== undefined) {
          this.#set("replicationLag", [event.table], event.commitLagMs / 1000);
        }
        return;
      case "cycle_finished":
        if (event.inSyncAsOf !== null) {
          const time = Date.parse(event.inSyncAsOf);
          if (Number.isFinite(time)) this.#inSyncAsOf.set(event.table, time / 1000);
        }
        return;
      case "table_failed":
        this.#add("errors", [event.code, event.table], 1);
        this.#failedThisCycle.push(`${event.table} (${event.code})`);
        return;
      case "error":
        this.#add("errors", [event.code, ""], 1);
        this.#outcome = {
          kind: "failed",
          at,
          reason: `the last cycle failed: ${event.code}: ${firstLine(event.message)}${
            event.retryInSeconds === null ? "" : ` (retrying in ${event.retryInSeconds}s)`
          }`,
        };
        this.#endCycle();
        return;
      case "cycle_summary": {
        this.#observeDuration(event.durationMs / 1000);
        this.#outcome = event.failed === 0 ? { kind: "ok", at } : {
          kind: "failed",
          at,
          reason: `the last cycle: ${event.failed} of ${event.tables} tables failed: ${
            this.#failedThisCycle.join(", ")
          }`,
        };
        this.#endCycle();
        return;
      }
      case "cycle_started":
      case "batch_started":
      case "checkpoint_advanced":
      case "drift_applied":
      case "cycle_idle":
      case "notice":
        return;
      default:
        assertNeverEvent(event);
    }
  }

  /** 200-or-503 verdict at `now` (epoch ms), with a one-line reason. */
  health(now: number): Health {
    if (this.#stopping) return { ok: false, reason: "stopping" };
    if (this.#paused) return { ok: true, reason: "ok: paused" };
    const outcome = this.#outcome;
    if (outcome.kind === "failed") return { ok: false, reason: outcome.reason };
    const window = healthWindowSeconds(this.#intervalSeconds);
    const since = outcome.kind === "ok" ? outcome.at : this.#startedAt;
    const progress = Math.max(since, this.#lastBatchAt ?? 0);
    const age = Math.max(0, (now - progress) / 1000);
    if (age > window) {
      return {
        ok: false,
        reason: outcome.kind === "none"
          ? `no cycle has ended and no batch was written in ${seconds(age)} (allowed: ${window}s)`
          : `no cycle has ended and no batch was written in ${
            seconds(age)
          } since the last cycle (allowed: ${window}s with SYNC_INTERVAL_SECONDS=${this.#intervalSeconds})`,
      };
    }
    if (outcome.kind === "none") {
      return {
        ok: true,
        reason: `ok: the first cycle is running (${this.#batchesThisCycle} batches)`,
      };
    }
    return {
      ok: true,
      reason: `ok: the last cycle ended ${seconds((now - outcome.at) / 1000)} ago`,
    };
  }

  /** Every metric in the Prometheus text format (version 0.0.4) at `now` (epoch ms). */
  render(now: number, residentMemoryBytes: number): string {
    const lines: string[] = [];
    for (const [key, def] of Object.entries(METRICS) as [MetricKey, MetricDef][]) {
      lines.push(`# HELP ${def.name} ${def.help}`, `# TYPE ${def.name} ${def.type}`);
      switch (key) {
        case "freshness":
          for (const [table, time] of [...this.#inSyncAsOf].sort(byKey)) {
            lines.push(sampleLine(def, [table], Math.max(0, now / 1000 - time)));
          }
          break;
        case "cycleDuration": {
          let cumulative = 0;
          CYCLE_BUCKETS.forEach((bound, i) => {
            cumulative += this.#buckets[i]!;
            lines.push(`${def.name}_bucket{le="${bound}"} ${cumulative}`);
          });
          lines.push(`${def.name}_bucket{le="+Inf"} ${this.#durationCount}`);
          lines.push(`${def.name}_sum ${formatNumber(this.#durationSum)}`);
          lines.push(`${def.name}_count ${this.#durationCount}`);
          break;
        }
        case "paused":
          lines.push(sampleLine(def, [], this.#paused ? 1 : 0));
          break;
        case "healthy":
          lines.push(sampleLine(def, [], this.health(now).ok ? 1 : 0));
          break;
        case "residentMemory":
          lines.push(sampleLine(def, [], residentMemoryBytes));
          break;
        default:
          for (const sample of this.#sorted(key)) {
            lines.push(sampleLine(def, sample.labels, sample.value));
          }
      }
    }
    return lines.join("\n") + "\n";
  }

  #ensureTable(table: string): void {
    this.#add("rowsCopied", [table], 0);
    this.#add("batches", [table], 0);
  }

  #endCycle(): void {
    this.#batchesThisCycle = 0;
    this.#failedThisCycle = [];
  }

  #observeDuration(value: number): void {
    this.#durationSum += value;
    this.#durationCount += 1;
    const i = CYCLE_BUCKETS.findIndex((bound) => value <= bound);
    if (i >= 0) this.#buckets[i]! += 1;
  }

  #sample(key: MetricKey, labels: readonly string[]): Sample {
    let samples = this.#samples.get(key);
    if (!samples) this.#samples.set(key, samples = new Map());
    const id = JSON.stringify(labels);
    let sample = samples.get(id);
    if (!sample) samples.set(id, sample = { labels, value: 0 });
    return sample;
  }

  #add(key: MetricKey, labels: readonly string[], by: number): void {
    this.#sample(key, labels).value += by;
  }

  #set(key: MetricKey, labels: readonly string[], value: number): void {
    this.#sample(key, labels).value = value;
  }

  #sorted(key: MetricKey): Sample[] {
    return [...(this.#samples.get(key)?.values() ?? [])].sort((a, b) =>
      a.labels.join("\0") < b.labels.join("\0") ? -1 : 1
    );
  }
}

/** How long the loop may go without ending a cycle or writing a batch and stay healthy. */
export function healthWindowSeconds(intervalSeconds: number): number {
  return Math.max(60, Math.ceil(3 * intervalSeconds));
}

function sampleLine(def: MetricDef, values: readonly string[], value: number): string {
  const labels = def.labels.map((name, i) => `${name}="${escapeLabel(values[i] ?? "")}"`);
  return `${def.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${formatNumber(value)}`;
}

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

function seconds(value: number): string {
  return `${Math.round(value)}s`;
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function byKey(a: [string, number], b: [string, number]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function assertNeverEvent(value: never): never {
  throw new TypeError(`Cannot fold event into metrics: ${JSON.stringify(value)}`);
}
