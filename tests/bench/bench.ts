// `deno task bench`: the performance benchmark. Starts a throwaway PostgreSQL
// and grows one table of the orders shape (bigint key, text, numeric(12,2),
// three timestamptz) through the sizes of --rows. At each size it measures, in
// the same run and in alternation (medians of the repetitions): the COPY
// baseline (psql \copy to /dev/null), the hand-made pipeline (psql \copy to a
// CSV file, DuckDB read_csv into a table plus ADD PRIMARY KEY), and the
// program's first copy as a whole process with default settings, with
// BOOTSTRAP_PARQUET=off and with BOOTSTRAP_PARALLELISM=2 (time and peak RSS);
// then `verify` of the copy, and inside a running loop an idle cycle and the
// cycle after 50,000 updated rows (with the loop's peak RSS). Then the
// terminal UI's CPU and many small tables. Prints every figure with its
// target and baseline, and writes bench-results/bench-<time>.json.
// Usage: deno task bench [--rows 1000000[,5000000,...]] [--reps 3] [--big-reps 1]
//        [--skip-ui] [--skip-cdc] [--many-tables 300 (0 skips)] [--only-many-tables]
// The change-data-capture figures come from cdc_bench.ts (also `deno task bench:cdc`).

import { parseArgs } from "node:util";
import { startCluster } from "../support/pg_cluster.ts";
import { createTestDb, REPO } from "../support/fixture.ts";
import { cpuOf, median, round } from "./measure.ts";
import {
  copyBaseline,
  firstCopy,
  handmadePipeline,
  insertRows,
  loopCycles,
  runProgram,
  syncDir,
} from "./scenarios.ts";
import {
  flatnessVerdicts,
  printVerdicts,
  type SizeFigures,
  sizeVerdicts,
  type Verdict,
} from "./targets.ts";
import { manyTables, manyTablesRows, uiCpu } from "./other_figures.ts";
import { runCdcBench } from "./cdc_bench.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    reps: { type: "string", default: "3" },
    "big-reps": { type: "string", default: "1" },
    "skip-ui": { type: "boolean", default: false },
    "skip-cdc": { type: "boolean", default: false },
    "many-tables": { type: "string", default: "300" },
    "only-many-tables": { type: "boolean", default: false },
  },
});
const SIZES = String(values.rows).split(",").map(Number).sort((a, b) => a - b);
const REPS = Number(values.reps);
/** Repetitions at sizes above 1,000,000 rows. */
const BIG_REPS = Number(values["big-reps"]);
const MANY_TABLES = Number(values["many-tables"]);
const UPDATED_ROWS = 50_000;

const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  sizes: SIZES,
  reps: REPS,
  bigReps: BIG_REPS,
  machine: { cores: navigator.hardwareConcurrency, deno: Deno.version.deno },
};
const started = performance.now();
const cluster = await startCluster();
const postmaster = Number(
  Deno.readTextFileSync(`${cluster.dataDir}/postmaster.pid`).split("\n")[0],
);
const figures: SizeFigures[] = [];
try {
  if (!values["only-many-tables"]) {
    const db = await createTestDb(cluster, { seedRows: false });
    const perSize: Record<string, unknown>[] = [];
    let have = 0;
    for (const [index, size] of SIZES.entries()) {
      const filled = performance.now();
      await insertRows(db, have + 1, size - have);
      have = size;
      const fillSeconds = (performance.now() - filled) / 1000;
      const reps = size > 1_000_000 ? BIG_REPS : REPS;
      const runs = {
        copy: [] as number[],
        handmade: [] as number[],
        first: [] as number[],
        firstPeak: [] as number[],
        noParquet: [] as number[],
        twoConnections: [] as number[],
        cpuClient: [] as number[],
        cpuPg: [] as number[],
      };
      // Untimed: the table's pages in cache for every measured run alike.
      await copyBaseline(db);
      const kept = await syncDir(db);
      for (let rep = 0; rep < reps; rep++) {
        runs.copy.push(await copyBaseline(db));
        runs.handmade.push(await handmadePipeline(db));
        // The first repetition's copy is kept for verify and the loop.
        const first = await cpuOf(postmaster, async () => {
          if (rep > 0) return await firstCopy(db);
          return await runProgram(kept, ["sync", "--once"]);
        });
        runs.first.push(first.result.seconds);
        runs.firstPeak.push(first.result.peakMb);
        runs.cpuClient.push(first.client);
        runs.cpuPg.push(first.pg);
        runs.noParquet.push((await firstCopy(db, { BOOTSTRAP_PARQUET: "off" })).seconds);
        runs.twoConnections.push(
          (await firstCopy(db, { BOOTSTRAP_PARALLELISM: "2" })).seconds,
        );
      }
      const verify = await runProgram(kept, ["verify"]);
      const loop = await loopCycles(db, kept, UPDATED_ROWS, reps, index * reps);
      await Deno.remove(kept.dir, { recursive: true });
      const f: SizeFigures = {
        rows: size,
        copySeconds: median(runs.copy),
        handmadeSeconds: median(runs.handmade),
        firstCopySeconds: median(runs.first),
        firstCopyNoParquetSeconds: median(runs.noParquet),
        firstCopyTwoConnectionsSeconds: median(runs.twoConnections),
        firstCopyPeakMb: median(runs.firstPeak),
        verifySeconds: verify.seconds,
        verifyPeakMb: verify.peakMb,
        updatedCycleMs: median(loop.updatedMs),
        idleCycleMs: median(loop.idleMs),
        loopPeakMb: loop.peakMb,
      };
      figures.push(f);
      perSize.push({
        ...Object.fromEntries(
          Object.entries(f).map(([k, v]) => [k, k === "rows" ? v : round(v as number)]),
        ),
        fillSeconds: round(fillSeconds, 1),
        cpuSeconds: {
          firstCopy: {
            sync: round(median(runs.cpuClient), 2),
            postgres: round(median(runs.cpuPg), 2),
          },
        },
        runs: {
          ...Object.fromEntries(
            Object.entries(runs).map(([k, v]) => [k, v.map((n) => round(n))]),
          ),
          idleMs: loop.idleMs.map((n) => round(n, 1)),
          updatedMs: loop.updatedMs.map((n) => round(n, 1)),
        },
      });
      console.log(`measured ${size.toLocaleString("en-US")} rows`);
    }
    results.perSize = perSize;
    await db.cleanup();
  }
  if (MANY_TABLES > 0 || values["only-many-tables"]) {
    results.manyTables = await manyTables(cluster, MANY_TABLES || 300, REPS);
  }
} finally {
  await cluster.stop();
}
if (!values["skip-ui"] && !values["only-many-tables"]) results.uiCpu = await uiCpu();
// SYNC_METHOD=cdc on a cluster of its own: sustained apply, lag, idle CPU (prints its table).
if (!values["skip-cdc"] && !values["only-many-tables"]) results.cdc = await runCdcBench();

const verdicts: Verdict[] = [...figures.flatMap(sizeVerdicts), ...flatnessVerdicts(figures)];
const ui = results.uiCpu as
  | { syncing: { uiThreadPercent: number; processPercent: number } }
  | null
  | undefined;
if (ui) {
  verdicts.push({
    figure: "UI CPU while syncing (UI thread / process)",
    measured: `${ui.syncing.uiThreadPercent}% / ${ui.syncing.processPercent}% of one core`,
    target: "UI thread < 5%",
    met: ui.syncing.uiThreadPercent < 5,
  });
}
results.verdicts = verdicts;
results.benchSeconds = round((performance.now() - started) / 1000, 0);
console.log("");
for (const f of figures) {
  console.log(
    `${f.rows.toLocaleString("en-US")} rows: COPY baseline ${round(f.copySeconds, 2)} s, ` +
      `hand-made pipeline ${round(f.handmadeSeconds, 2)} s, first copy ${
        round(f.firstCopySeconds, 2)
      } s`,
  );
}
console.log("");
printVerdicts(verdicts);
for (const [k, v] of manyTablesRows(results.manyTables as Record<string, unknown> | undefined)) {
  console.log(`${k!.padEnd(44)} ${v}`);
}
console.log(`\nbench took ${results.benchSeconds} s`);
await Deno.mkdir(`${REPO}/bench-results`, { recursive: true });
const file = `${REPO}/bench-results/bench-${(results.at as string).replace(/[:.]/g, "-")}.json`;
await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
console.log(`wrote ${file}`);
