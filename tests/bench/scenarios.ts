// Owns what the bench runs against one table of the orders shape: filling it,
// the baselines (psql's COPY to /dev/null, the hand-made psql + DuckDB
// pipeline) and the program's runs as whole processes (a first copy, verify,
// a running loop's idle and 50,000-row cycles), each timed with its peak RSS.

import { REPO, spawnMain, type TestDb } from "../support/fixture.ts";
import { type Run, timedCommand, waitMeasured } from "./measure.ts";

export const TABLE = "analytics.subscriptions";

/** Adds `count` rows of the demo shape with ids from `from`, then VACUUM ANALYZE. */
export async function insertRows(db: TestDb, from: number, count: number): Promise<void> {
  for (let at = from; at < from + count; at += 1_000_000) {
    const n = Math.min(1_000_000, from + count - at);
    await db.sql(
      `INSERT INTO ${TABLE} (email, plan, lifetime_value, created_at, updated_at, deleted_at)
      SELECT 'user' || g || '@example.com',
             (ARRAY['free','starter','pro','business','enterprise'])[1 + g % 5],
             round((g % 100000) / 7.0, 2),
             now() - (g % 700) * interval '1 day' - (g % 86400000) * interval '1 microsecond',
             now() - (g % 200) * interval '1 day' - (g % 86400000) * interval '1 microsecond',
             CASE WHEN g % 17 = 0 THEN now() END
      FROM generate_series(${at}, ${at + n - 1}) g`,
    );
  }
  await db.sql(`VACUUM ANALYZE ${TABLE}`);
}

/** `psql \copy (SELECT * ...) TO '/dev/null'`: seconds. */
export function copyBaseline(db: TestDb): Promise<number> {
  return timedCommand("psql", [
    db.url,
    "-X",
    "-q",
    "-c",
    `\\copy (SELECT * FROM ${TABLE}) TO '/dev/null'`,
  ]);
}

/**
 * The hand-made pipeline: `psql \copy` to a CSV file, then DuckDB's read_csv
 * into a table and ADD PRIMARY KEY (handmade_duckdb.ts, its own process).
 */
export async function handmadePipeline(db: TestDb): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "pds-bench-hand-" });
  try {
    const started = performance.now();
    await timedCommand("psql", [
      db.url,
      "-X",
      "-q",
      "-c",
      `\\copy (SELECT * FROM ${TABLE}) TO '${dir}/t.csv' WITH (FORMAT csv)`,
    ]);
    await timedCommand(Deno.execPath(), [
      "run",
      "-A",
      `${REPO}/tests/bench/handmade_duckdb.ts`,
      `${dir}/t.csv`,
      `${dir}/t.duckdb`,
    ]);
    return (performance.now() - started) / 1000;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A state directory of the program's own (DuckDB file, Parquet files, checkpoints). */
export interface SyncDir {
  readonly dir: string;
  readonly env: Record<string, string>;
}

export async function syncDir(db: TestDb, extra: Record<string, string> = {}): Promise<SyncDir> {
  const dir = await Deno.makeTempDir({ prefix: "pds-bench-" });
  return {
    dir,
    env: {
      ...db.env(),
      ...extra,
      DUCKDB_PATH: `${dir}/w.duckdb`,
      PARQUET_DIR: `${dir}/p`,
      STATE_DIR: `${dir}/s`,
    },
  };
}

/** `main.ts <args>` as a whole process in `at`. */
export async function runProgram(at: SyncDir, args: string[]): Promise<Run> {
  const started = performance.now();
  return await waitMeasured(spawnMain(args, at.env), started);
}

/** A first copy (`sync --once` with fresh state) with `extra` settings; the state is removed. */
export async function firstCopy(db: TestDb, extra: Record<string, string> = {}): Promise<Run> {
  const at = await syncDir(db, extra);
  try {
    return await runProgram(at, ["sync", "--once"]);
  } finally {
    await Deno.remove(at.dir, { recursive: true });
  }
}

/** Updates `rows` rows (their trigger moves updated_at), the `round`-th slice of ids. */
export async function updateRows(db: TestDb, rows: number, round: number): Promise<void> {
  await db.sql(
    `UPDATE ${TABLE} SET lifetime_value = lifetime_value + 1
     WHERE id > ${round * rows} AND id <= ${(round + 1) * rows}`,
  );
}

export interface LoopFigures {
  /** Idle cycles' durations (ms). */
  readonly idleMs: number[];
  /** Durations (ms) of the cycles that copied the updated rows. */
  readonly updatedMs: number[];
  /** The loop process's peak RSS (MB): incremental cycles only (the copy was made before). */
  readonly peakMb: number;
}

/**
 * `sync --loop` (every second) on a copy already made: waits for idle cycles,
 * then `reps` times updates `rows` rows and times the cycle that copies them.
 */
export async function loopCycles(
  db: TestDb,
  at: SyncDir,
  rows: number,
  reps: number,
  /** Which slice of ids the first update takes (each later one the next). */
  firstSlice: number,
): Promise<LoopFigures> {
  const child = spawnMain(["sync", "--loop"], {
    ...at.env,
    LOG_FORMAT: "json",
    SYNC_INTERVAL_SECONDS: "1",
  });
  const cycles: { idle: boolean; rows: number; durationMs: number }[] = [];
  const reader = (async () => {
    let buffer = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const e = JSON.parse(line);
          if (e.type === "cycle_finished") cycles.push(e);
        } catch { /* not json */ }
      }
    }
  })();
  const waitFor = async (done: () => boolean) => {
    const deadline = Date.now() + 600_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  const idleMs: number[] = [];
  const updatedMs: number[] = [];
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch { /* ended */ }
  }, 50);
  try {
    for (let rep = 0; rep < reps; rep++) {
      const before = cycles.length;
      // The process's first idle cycle (connections still cold) is left out.
      await waitFor(() => cycles.slice(before).filter((c) => c.idle).length >= 3);
      idleMs.push(...cycles.slice(before).filter((c) => c.idle).slice(1).map((c) => c.durationMs));
      await updateRows(db, rows, firstSlice + rep);
      const mark = cycles.length;
      await waitFor(() => cycles.slice(mark).some((c) => c.rows >= rows));
      const cycle = cycles.slice(mark).find((c) => c.rows >= rows);
      if (cycle) updatedMs.push(cycle.durationMs);
    }
  } finally {
    clearInterval(poll);
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await reader.catch(() => {});
  }
  return { idleMs, updatedMs, peakMb: peakKb / 1024 };
}
