// The change-data-capture benchmark (`deno task bench:cdc`, and part of
// `deno task bench`): against a throwaway PostgreSQL with wal_level=logical and
// the demo shape, in one run:
// - sustained apply: CHANGES updated rows in transactions of 100, written while
//   no sync runs, then `sync --once --method cdc` as a whole process: rows/s
//   (target at least 20,000);
// - lag: `sync --loop --method cdc` while a writer commits RATE changed rows a
//   second for SECONDS; each batch reports the lag of its oldest transaction
//   (Postgres commit to DuckDB commit): p50/p95/max (target p95 under 2 s);
// - idle: the loop's CPU over 20 s with nothing changing (target under 2%).
// DuckDB is verified equal after each part. Prints a table and writes
// bench-results/cdc-<time>.json.
// Usage: deno task bench:cdc [--rows 200000] [--changes 300000] [--rate 2000] [--seconds 20]

import { parseArgs } from "node:util";
import { startCluster } from "../support/pg_cluster.ts";
import { createTestDb, REPO, runMain, spawnMain, type TestDb } from "../support/fixture.ts";

export interface CdcBenchOptions {
  readonly rows: number;
  readonly changes: number;
  readonly rate: number;
  readonly seconds: number;
}

const DEFAULTS: CdcBenchOptions = { rows: 200_000, changes: 300_000, rate: 2000, seconds: 20 };
let ROWS = DEFAULTS.rows;
let CHANGES = DEFAULTS.changes;
let RATE = DEFAULTS.rate;
let SECONDS = DEFAULTS.seconds;

const CLK_TCK = Number(
  new TextDecoder().decode(new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout),
) || 100;

/** CPU seconds (user + system) a running process has used. */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function verifyEqual(env: Record<string, string>): Promise<void> {
  const verify = await runMain(["verify"], env);
  if (verify.code !== 0) throw new Error(`verify: ${verify.stdout}${verify.stderr}`);
}

/** A loop with its JSON log read as it runs. */
function startLoop(env: Record<string, string>) {
  const child = spawnMain(["sync", "--loop", "--log-format", "json"], env);
  const lags: number[] = [];
  let batches = 0;
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const event = JSON.parse(line);
          if (event.type === "batch_finished" && typeof event.commitLagMs === "number") {
            lags.push(event.commitLagMs);
            batches += 1;
          }
        } catch { /* not JSON */ }
      }
    }
  })();
  return {
    child,
    lags,
    batches: () => batches,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await reading;
    },
  };
}

async function sustained(db: TestDb, env: Record<string, string>) {
  const statements: string[] = [];
  for (let done = 0; done < CHANGES; done += 100) {
    const from = 1 + (done % ROWS);
    statements.push(
      `UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1, plan = 'pro' WHERE id BETWEEN ${from} AND ${
        from + 99
      };`,
    );
  }
  const file = `${db.dir}/changes.sql`;
  await Deno.writeTextFile(file, statements.join("\n"));
  const wrote = await new Deno.Command("psql", { args: [db.url, "-X", "-q", "-f", file] }).output();
  if (!wrote.success) throw new Error(new TextDecoder().decode(wrote.stderr));
  const started = performance.now();
  const run = await runMain(["sync", "--once"], env);
  const seconds = (performance.now() - started) / 1000;
  if (run.code !== 0) throw new Error(run.stderr);
  await verifyEqual(env);
  return { changes: CHANGES, seconds, rowsPerSecond: CHANGES / seconds };
}

async function lag(db: TestDb, env: Record<string, string>) {
  const loop = startLoop(env);
  await new Promise((r) => setTimeout(r, 3000));
  const client = await db.client();
  const perTick = Math.max(1, Math.round(RATE / 20));
  const ends = performance.now() + SECONDS * 1000;
  let written = 0;
  let next = performance.now();
  while (performance.now() < ends) {
    const from = 1 + ((written * 7) % (ROWS - perTick));
    await client.query(
      `UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1 WHERE id BETWEEN $1 AND $2`,
      [from, from + perTick - 1],
    );
    written += perTick;
    next += 50;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await client.end();
  await new Promise((r) => setTimeout(r, 3000));
  const achieved = written / SECONDS;
  await loop.stop();
  await verifyEqual(env);
  return {
    ratePerSecond: Math.round(achieved),
    batches: loop.lags.length,
    p50Ms: percentile(loop.lags, 50),
    p95Ms: percentile(loop.lags, 95),
    maxMs: Math.max(...loop.lags),
  };
}

async function idle(env: Record<string, string>) {
  const loop = startLoop(env);
  await new Promise((r) => setTimeout(r, 5000));
  const before = cpuSeconds(loop.child.pid);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, 20_000));
  const cpu = cpuSeconds(loop.child.pid) - before;
  const wall = (performance.now() - started) / 1000;
  await loop.stop();
  return { seconds: wall, cpuSeconds: cpu, percentOfCore: (100 * cpu) / wall };
}

export async function runCdcBench(options: CdcBenchOptions = DEFAULTS) {
  ({ rows: ROWS, changes: CHANGES, rate: RATE, seconds: SECONDS } = options);
  const cluster = await startCluster();
  const db = await createTestDb(cluster);
  try {
    await cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    await db.sql(
      `INSERT INTO analytics.subscriptions (email, plan, lifetime_value)
       SELECT 'bench' || g || '@example.com', 'free', g FROM generate_series(1, ${
        Math.max(0, ROWS - 10000)
      }) g`,
    );
    await db.sql(`VACUUM ANALYZE analytics.subscriptions`);
    const env = db.env({ SYNC_METHOD: "cdc" });
    const copyStarted = performance.now();
    const first = await runMain(["sync", "--once"], env);
    if (first.code !== 0) throw new Error(first.stderr);
    const firstCopySeconds = (performance.now() - copyStarted) / 1000;
    const results = {
      at: new Date().toISOString(),
      rows: ROWS,
      firstCopySeconds,
      sustained: await sustained(db, env),
      lag: await lag(db, env),
      idle: await idle(env),
    };
    const rows: [string, string, string][] = [
      [
        `sustained apply (${CHANGES.toLocaleString("en-US")} updated rows, whole process)`,
        `${Math.round(results.sustained.rowsPerSecond).toLocaleString("en-US")} rows/s in ${
          results.sustained.seconds.toFixed(1)
        } s`,
        ">= 20,000 rows/s",
      ],
      [
        `lag at ${results.lag.ratePerSecond} changes/s (${results.lag.batches} batches)`,
        `p50 ${results.lag.p50Ms} ms, p95 ${results.lag.p95Ms} ms, max ${results.lag.maxMs} ms`,
        "p95 < 2,000 ms",
      ],
      [
        "idle loop CPU",
        `${results.idle.percentOfCore.toFixed(2)}% of a core`,
        "< 2%",
      ],
    ];
    console.log(
      `\nCDC bench, ${ROWS.toLocaleString("en-US")} rows (first copy ${
        firstCopySeconds.toFixed(1)
      } s)`,
    );
    for (const [what, measured, target] of rows) {
      console.log(`  ${what.padEnd(62)} ${measured.padEnd(44)} target ${target}`);
    }
    await Deno.mkdir(`${REPO}/bench-results`, { recursive: true });
    const file = `${REPO}/bench-results/cdc-${results.at.replace(/[:.]/g, "-")}.json`;
    await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
    console.log(`  written to ${file.slice(REPO.length + 1)}`);
    return results;
  } finally {
    await db.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots`).catch(
      () => {},
    );
    await db.cleanup();
    await cluster.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      rows: { type: "string", default: String(DEFAULTS.rows) },
      changes: { type: "string", default: String(DEFAULTS.changes) },
      rate: { type: "string", default: String(DEFAULTS.rate) },
      seconds: { type: "string", default: String(DEFAULTS.seconds) },
    },
  });
  await runCdcBench({
    rows: Number(values.rows),
    changes: Number(values.changes),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
  });
}
