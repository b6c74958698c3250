// `deno task bench`: the performance benchmark. Starts a throwaway PostgreSQL,
// creates N rows of the demo shape, and measures in the same run (medians of
// several repetitions): the COPY baseline (psql \copy to /dev/null), a full
// bootstrap as a whole process (`main.ts sync --once`, fresh state) with its
// peak RSS at N and 2N rows (also with DUCKDB_MEMORY_LIMIT, --memory-limit,
// default 64MB), an incremental cycle after 10,000 updated rows and
// an idle cycle inside a running loop, `verify` on the synced copy, and the
// terminal UI's CPU, and the CPU seconds the baseline and a bootstrap cost
// (client process and Postgres); and, over many small tables (300 of 5 rows),
// the DuckDB file's size and an idle `sync --once` as a whole process. Prints a
// table and writes bench-results/bench-<time>.json.
// Usage: deno task bench [--rows 1000000] [--reps 3] [--skip-ui] [--memory-limit 64MB]
//        [--many-tables 300 (0 skips)] [--only-many-tables]

import { parseArgs } from "node:util";
import { type PgCluster, startCluster } from "../support/pg_cluster.ts";
import { createTestDb, REPO, spawnMain, type TestDb } from "../support/fixture.ts";
import { manyTablesSql } from "../support/many_tables.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    reps: { type: "string", default: "3" },
    "skip-ui": { type: "boolean", default: false },
    "memory-limit": { type: "string", default: "64MB" },
    "many-tables": { type: "string", default: "300" },
    "only-many-tables": { type: "boolean", default: false },
  },
});
const MANY_TABLES = Number(values["many-tables"]);
const ROWS = Number(values.rows);
const MEMORY_LIMIT = String(values["memory-limit"]);
const REPS = Number(values.reps);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function insertRows(db: TestDb, from: number, count: number) {
  await db.sql(
    `INSERT INTO analytics.subscriptions (email, plan, lifetime_value, created_at, updated_at, deleted_at)
    SELECT 'user' || g || '@example.com',
           (ARRAY['free','starter','pro','business','enterprise'])[1 + g % 5],
           round((g % 100000) / 7.0, 2),
           now() - (g % 700) * interval '1 day' - (g % 86400000) * interval '1 microsecond',
           now() - (g % 200) * interval '1 day' - (g % 86400000) * interval '1 microsecond',
           CASE WHEN g % 17 = 0 THEN now() END
    FROM generate_series(${from}, ${from + count - 1}) g`,
  );
  await db.sql("VACUUM ANALYZE analytics.subscriptions");
}

async function copyBaseline(db: TestDb): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command("psql", {
    args: [
      db.url,
      "-X",
      "-q",
      "-c",
      "\\copy (SELECT * FROM analytics.subscriptions) TO '/dev/null'",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return (performance.now() - started) / 1000;
}

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(
  new TextDecoder().decode(new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout),
) || 100;

/** CPU seconds (user + system) of a process's waited-for children, from /proc/<pid>/stat. */
function reapedChildrenCpu(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 (cutime, cstime); the slice starts at field 3.
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/**
 * Measures the CPU a run costs: the bench's own children (psql, main.ts, all
 * their threads) and Postgres' backends, which the postmaster reaps once the
 * client disconnects.
 */
async function cpuOf<T>(run: () => Promise<T>): Promise<{ result: T; client: number; pg: number }> {
  const postmaster = Number(
    Deno.readTextFileSync(`${cluster.dataDir}/postmaster.pid`).split("\n")[0],
  );
  const client0 = reapedChildrenCpu("self");
  const pg0 = reapedChildrenCpu(postmaster);
  const result = await run();
  // Backends exit after their client; give the postmaster time to reap them.
  await new Promise((r) => setTimeout(r, 300));
  return {
    result,
    client: reapedChildrenCpu("self") - client0,
    pg: reapedChildrenCpu(postmaster) - pg0,
  };
}

function vmHwmKb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Postgres' side of one bootstrap batch (a quarter of the table) two ways: in
 * keyset order through the (updated_at, id) index, as before, and by heap
 * block range (a TID range scan), as the first copy now reads. Seconds each.
 */
async function pgBatchRead(db: TestDb): Promise<{ keyset: number; blocks: number }> {
  const quarter = Math.round(ROWS / 4);
  const blocks = Number(
    await db.sql(
      "SELECT pg_relation_size('analytics.subscriptions') / current_setting('block_size')::int",
    ),
  );
  const timed = async (select: string) => {
    const started = performance.now();
    const out = await new Deno.Command("psql", {
      args: [db.url, "-X", "-q", "-c", `\\copy (${select}) TO '/dev/null' WITH (FORMAT csv)`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return (performance.now() - started) / 1000;
  };
  return {
    keyset: await timed(
      `SELECT * FROM analytics.subscriptions ORDER BY updated_at, id LIMIT ${quarter}`,
    ),
    blocks: await timed(
      `SELECT * FROM analytics.subscriptions WHERE ctid >= '(0,0)'::tid AND ctid < '(${
        Math.ceil(blocks / 4)
      },0)'::tid`,
    ),
  };
}

/**
 * Runs main.ts with fresh state; returns seconds and peak RSS (MB). Its state
 * directory is removed unless `keep` (then the caller removes `dir`).
 */
async function bootstrap(
  db: TestDb,
  extraEnv: Record<string, string> = {},
  keep = false,
): Promise<{ seconds: number; peakMb: number; env: Record<string, string>; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pds-bench-" });
  const env = {
    ...db.env(),
    ...extraEnv,
    DUCKDB_PATH: `${dir}/w.duckdb`,
    PARQUET_DIR: `${dir}/p`,
    STATE_DIR: `${dir}/s`,
  };
  const started = performance.now();
  const child = spawnMain(["sync", "--once"], env);
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, vmHwmKb(child.pid))), 25);
  const out = await child.output();
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  if (!keep) await Deno.remove(dir, { recursive: true });
  return { seconds, peakMb: peak / 1024, env, dir };
}

/** Idle and 10k-row incremental cycle durations inside one running loop. */
async function loopCycles(db: TestDb): Promise<{ idleMs: number[]; incrementalMs: number[] }> {
  const dir = await Deno.makeTempDir({ prefix: "pds-bench-loop-" });
  const env = {
    ...db.env(),
    DUCKDB_PATH: `${dir}/w.duckdb`,
    PARQUET_DIR: `${dir}/p`,
    STATE_DIR: `${dir}/s`,
    LOG_FORMAT: "json",
    SYNC_INTERVAL_SECONDS: "1",
  };
  const child = spawnMain(["sync", "--loop"], env);
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
  const waitCycles = async (n: number) => {
    const deadline = Date.now() + 600_000;
    while (cycles.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };
  await waitCycles(1); // bootstrap
  const idleMs: number[] = [];
  const incrementalMs: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const before = cycles.length;
    await waitCycles(before + 2);
    idleMs.push(...cycles.slice(before).filter((c) => c.idle).map((c) => c.durationMs));
    await db.sql(
      `UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1 WHERE id IN (SELECT id FROM analytics.subscriptions ORDER BY id LIMIT 10000 OFFSET ${
        rep * 10000
      })`,
    );
    const mark = cycles.length;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !cycles.slice(mark).some((c) => c.rows >= 10000)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const cycle = cycles.slice(mark).find((c) => c.rows >= 10000);
    if (cycle) incrementalMs.push(cycle.durationMs);
  }
  child.kill("SIGTERM");
  await child.status;
  await child.stdout.cancel().catch(() => {});
  await reader.catch(() => {});
  await Deno.remove(dir, { recursive: true });
  return { idleMs, incrementalMs };
}

/** `main.ts verify` on a synced copy, as a whole process: seconds per run. */
/**
 * `tables` tables of 5 rows under schema.*: the first `sync --once` (the
 * bootstrap), the DuckDB file's size, then idle `sync --once` runs as whole
 * processes (start-up included) and the log lines each wrote.
 */
async function manyTables(cluster: PgCluster, tables: number): Promise<Record<string, unknown>> {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const client = await db.client();
    try {
      await client.query(manyTablesSql(tables, 5));
    } finally {
      await client.end();
    }
    const env = db.env({ POSTGRES_TABLES: "many.*" });
    const once = async () => {
      const started = performance.now();
      const out = await spawnMain(["sync", "--once"], env).output();
      const seconds = (performance.now() - started) / 1000;
      const log = new TextDecoder().decode(out.stderr);
      if (!out.success) throw new Error(log);
      return { seconds, lines: log.split("\n").filter((l) => l.trim() !== "").length };
    };
    const boot = await once();
    const fileMiB = (await Deno.stat(env.DUCKDB_PATH!)).size / 1048576;
    const idle = [];
    for (let rep = 0; rep < Math.max(REPS, 5); rep++) idle.push(await once());
    return {
      tables,
      rowsPerTable: 5,
      bootstrapSeconds: round(boot.seconds),
      duckdbFileMiB: round(fileMiB, 1),
      idleOnceSeconds: {
        median: round(median(idle.map((r) => r.seconds))),
        runs: idle.map((r) => round(r.seconds)),
      },
      idleLogLines: median(idle.map((r) => r.lines)),
    };
  } finally {
    await db.cleanup();
  }
}

function manyTablesRows(r: Record<string, unknown> | undefined): string[][] {
  if (!r) return [];
  const m = r as {
    tables: number;
    bootstrapSeconds: number;
    duckdbFileMiB: number;
    idleOnceSeconds: { median: number };
    idleLogLines: number;
  };
  return [
    [`${m.tables} tables of 5 rows: bootstrap`, `${m.bootstrapSeconds} s`],
    [`${m.tables} tables: DuckDB file`, `${m.duckdbFileMiB} MiB`],
    [
      `${m.tables} tables: idle sync --once (process)`,
      `${m.idleOnceSeconds.median} s (target <= 2), ${m.idleLogLines} log line(s)`,
    ],
  ];
}

async function verifyRuns(env: Record<string, string>): Promise<number[]> {
  const runs: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const started = performance.now();
    const child = spawnMain(["verify"], env);
    const out = await child.output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stdout));
    runs.push((performance.now() - started) / 1000);
  }
  return runs;
}

async function uiCpu(): Promise<Record<string, unknown> | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO}/tests/bench/ui_cpu.ts`, "--seconds", "10"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const json = /\{[\s\S]*"syncing"[\s\S]*?\n\}/.exec(text)?.[0];
  return json ? JSON.parse(json) : null;
}

const cluster = await startCluster();
const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  rows: ROWS,
  reps: REPS,
  machine: { cores: navigator.hardwareConcurrency, deno: Deno.version.deno },
};
if (values["only-many-tables"]) {
  try {
    results.manyTables = await manyTables(cluster, MANY_TABLES || 300);
  } finally {
    await cluster.stop();
  }
  console.log("");
  for (const [k, v] of manyTablesRows(results.manyTables as Record<string, unknown>)) {
    console.log(`${k!.padEnd(44)} ${v}`);
  }
  await writeResults();
  Deno.exit(0);
}
try {
  const db = await createTestDb(cluster, { seedRows: false });
  await insertRows(db, 1, ROWS);
  const baseline: number[] = [];
  const boot: number[] = [];
  const peaks: number[] = [];
  let verify: number[] = [];
  const keysetReads: number[] = [];
  const blockReads: number[] = [];
  const cpu = {
    baselineClient: [] as number[],
    baselinePg: [] as number[],
    bootClient: [] as number[],
    bootPg: [] as number[],
  };
  // Untimed: the table's pages in cache for every measured run alike, and the
  // backends of the set-up reaped before CPU is counted.
  await copyBaseline(db);
  for (let rep = 0; rep < REPS; rep++) {
    const copied = await cpuOf(() => copyBaseline(db));
    baseline.push(copied.result);
    cpu.baselineClient.push(copied.client);
    cpu.baselinePg.push(copied.pg);
    const read = await pgBatchRead(db);
    keysetReads.push(read.keyset);
    blockReads.push(read.blocks);
    const booted = await cpuOf(() => bootstrap(db, {}, true));
    const b = booted.result;
    cpu.bootClient.push(booted.client);
    cpu.bootPg.push(booted.pg);
    if (rep === 0) verify = await verifyRuns(b.env);
    await Deno.remove(b.dir, { recursive: true });
    boot.push(b.seconds);
    peaks.push(b.peakMb);
  }
  const baselineS = median(baseline);
  const bootS = median(boot);
  results.copyBaselineSeconds = { median: round(baselineS), runs: baseline.map((x) => round(x)) };
  results.bootstrapSeconds = { median: round(bootS), runs: boot.map((x) => round(x)) };
  results.bootstrapRowsPerSecond = Math.round(ROWS / bootS);
  results.bootstrapToBaselineRatio = round(bootS / baselineS, 2);
  results.peakRssMb = { rows: ROWS, median: round(median(peaks), 1) };
  results.pgQuarterReadSeconds = {
    keysetOrder: round(median(keysetReads)),
    blockRange: round(median(blockReads)),
    ratio: round(median(blockReads) / median(keysetReads), 2),
  };
  const cpuMedian = (xs: number[]) => round(median(xs), 2);
  results.cpuSeconds = {
    cores: navigator.hardwareConcurrency,
    baseline: { client: cpuMedian(cpu.baselineClient), postgres: cpuMedian(cpu.baselinePg) },
    bootstrap: { client: cpuMedian(cpu.bootClient), postgres: cpuMedian(cpu.bootPg) },
    runs: cpu,
  };
  results.verifySeconds = { median: round(median(verify)), runs: verify.map((x) => round(x)) };
  results.verifyToBaselineRatio = round(median(verify) / baselineS, 2);

  const loop = await loopCycles(db);
  results.idleCycleMs = {
    median: round(median(loop.idleMs), 1),
    runs: loop.idleMs.map((x) => round(x, 1)),
  };
  results.incremental10kCycleMs = {
    median: round(median(loop.incrementalMs), 1),
    runs: loop.incrementalMs.map((x) => round(x, 1)),
  };

  // Memory with DuckDB's memory_limit set for the warehouse (DUCKDB_MEMORY_LIMIT).
  const limited = { DUCKDB_MEMORY_LIMIT: MEMORY_LIMIT };
  const limited1x = await bootstrap(db, limited);

  await insertRows(db, ROWS + 1, ROWS);
  const big = await bootstrap(db);
  const limited2x = await bootstrap(db, limited);
  results.peakRssLimited = {
    memoryLimit: MEMORY_LIMIT,
    mb1x: round(limited1x.peakMb, 1),
    mb2x: round(limited2x.peakMb, 1),
    ratio: round(limited2x.peakMb / limited1x.peakMb, 2),
    seconds1x: round(limited1x.seconds),
  };
  results.peakRssMb2x = {
    rows: 2 * ROWS,
    mb: round(big.peakMb, 1),
    ratioTo1x: round(big.peakMb / median(peaks), 2),
  };
  results.bootstrapSeconds2x = round(big.seconds);
  await db.cleanup();
  if (MANY_TABLES > 0) results.manyTables = await manyTables(cluster, MANY_TABLES);
} finally {
  await cluster.stop();
}
if (!values["skip-ui"]) results.uiCpu = await uiCpu();

const table = [
  [
    "COPY baseline (psql \\copy to /dev/null)",
    `${
      results.copyBaselineSeconds && (results.copyBaselineSeconds as { median: number }).median
    } s`,
  ],
  [
    "bootstrap, whole process (sync --once)",
    `${
      (results.bootstrapSeconds as { median: number }).median
    } s, ${results.bootstrapRowsPerSecond} rows/s`,
  ],
  ["bootstrap / baseline", `${results.bootstrapToBaselineRatio}x (target <= 2.0x)`],
  ...(() => {
    const c = results.cpuSeconds as {
      cores: number;
      baseline: { client: number; postgres: number };
      bootstrap: { client: number; postgres: number };
    };
    const total = c.bootstrap.client + c.bootstrap.postgres;
    const base = (results.copyBaselineSeconds as { median: number }).median;
    return [
      [
        "CPU, baseline: psql + Postgres",
        `${c.baseline.client} + ${c.baseline.postgres} s`,
      ],
      [
        "CPU, bootstrap: sync process + Postgres",
        `${c.bootstrap.client} + ${c.bootstrap.postgres} = ${
          round(total, 2)
        } s; spread over ${c.cores} cores at best ${round(total / c.cores, 2)} s (${
          round(total / c.cores / base, 2)
        }x the baseline)`,
      ],
    ];
  })(),
  [
    "Postgres read of a quarter, keyset / blocks",
    (() => {
      const r = results.pgQuarterReadSeconds as {
        keysetOrder: number;
        blockRange: number;
        ratio: number;
      };
      return `${r.keysetOrder} s / ${r.blockRange} s (${r.ratio}x)`;
    })(),
  ],
  [
    "verify (equal tables), whole process",
    `${
      (results.verifySeconds as { median: number }).median
    } s, ${results.verifyToBaselineRatio}x the COPY baseline`,
  ],
  [
    `peak RSS at ${ROWS} rows`,
    `${(results.peakRssMb as { median: number }).median} MB (target < 500)`,
  ],
  [
    `peak RSS at ${2 * ROWS} rows`,
    `${(results.peakRssMb2x as { mb: number }).mb} MB (${
      (results.peakRssMb2x as { ratioTo1x: number }).ratioTo1x
    }x, target <= 1.2x)`,
  ],
  [
    `peak RSS, DUCKDB_MEMORY_LIMIT=${MEMORY_LIMIT}`,
    (() => {
      const r = results.peakRssLimited as { mb1x: number; mb2x: number; ratio: number };
      return `${r.mb1x} / ${r.mb2x} MB at ${ROWS} / ${2 * ROWS} rows (${r.ratio}x)`;
    })(),
  ],
  [
    "idle cycle in a running loop",
    `${(results.idleCycleMs as { median: number }).median} ms (target < 150)`,
  ],
  [
    "cycle after 10,000 updated rows",
    `${(results.incremental10kCycleMs as { median: number }).median} ms (target < idle + 500)`,
  ],
  [
    "UI CPU while syncing (UI thread / process)",
    results.uiCpu
      ? `${
        (results.uiCpu as { syncing: { uiThreadPercent: number; processPercent: number } }).syncing
          .uiThreadPercent
      }% / ${
        (results.uiCpu as { syncing: { processPercent: number } }).syncing.processPercent
      }% of one core (target < 5%)`
      : "skipped",
  ],
  ...manyTablesRows(results.manyTables as Record<string, unknown> | undefined),
];
console.log("");
for (const [k, v] of table) console.log(`${k!.padEnd(44)} ${v}`);
await writeResults();

async function writeResults(): Promise<void> {
  await Deno.mkdir(`${REPO}/bench-results`, { recursive: true });
  const file = `${REPO}/bench-results/bench-${(results.at as string).replace(/[:.]/g, "-")}.json`;
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwrote ${file}`);
}
