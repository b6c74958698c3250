// `deno task fuzz`: runs generated cases against a throwaway PostgreSQL cluster
// until time runs out, prints each seed and its outcome, shrinks the first case of
// each distinct failure and prints its reproduction.
//
//   deno task fuzz --seed 42 --minutes 10     seeds 42, 43, … for ten minutes
//   deno task fuzz --minutes 30               random seeds, each printed
//   deno task fuzz --seed 42 --once           just seed 42
//   --exclude known,kill  (or FUZZ_EXCLUDE)   switch classes off ("known": KNOWN_DEFECT_CLASSES;
//                                             default: the classes refused by design)
//   --size N  operations per case (24)   --shrink-minutes M  shrink budget per failure (5; 0: none)

import { parseArgs } from "node:util";
import { attachCluster, startCluster } from "../support/pg_cluster.ts";
import { defaultExclusions, parseClassList } from "./classes.ts";
import { type FuzzCase, generateCase } from "./generate.ts";
import { reproduction, runCase, shrink } from "./runner.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    minutes: { type: "string", default: "5" },
    once: { type: "boolean", default: false },
    exclude: { type: "string" },
    size: { type: "string", default: "24" },
    "shrink-minutes": { type: "string", default: "5" },
    verbose: { type: "boolean", default: false },
    /** Runs the case in this JSON file (as written by --save) instead of generating one. */
    case: { type: "string" },
    /** Writes each shrunk case as JSON into this directory. */
    save: { type: "string" },
  },
});

const exclude = parseClassList(
  values.exclude ?? Deno.env.get("FUZZ_EXCLUDE") ?? defaultExclusions(),
);
const minutes = Number(values.minutes);
const size = Number(values.size);
const shrinkMs = Number(values["shrink-minutes"]) * 60_000;
const canMount = Deno.uid() === 0;
if (!canMount) console.log("disk_full fault skipped: mounting a tmpfs needs root");
console.log(`excluded classes: ${[...exclude].join(", ") || "none"}`);

const port = Deno.env.get("TEST_PG_PORT");
const dataDir = Deno.env.get("TEST_PG_DATADIR");
const cluster = port && dataDir ? attachCluster(Number(port), dataDir) : await startCluster();
const deadline = performance.now() + minutes * 60_000;
let seed = values.seed !== undefined ? Number(values.seed) : null;
let cases = 0;
let failures = 0;
const seen = new Map<string, number>();
try {
  do {
    const s = seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    const c: FuzzCase = values.case
      ? JSON.parse(await Deno.readTextFile(values.case))
      : generateCase(s, { exclude, size, canMount });
    cases += 1;
    const result = await runCase(c, {
      cluster,
      canMount,
      log: values.verbose ? (l) => console.log(l) : undefined,
    });
    const secs = (result.ms / 1000).toFixed(1);
    if (!result.failure) {
      console.log(
        `case ${cases} seed ${s}: pass (${result.opsRun} ops, ${result.checks} checks, ${secs} s)`,
      );
    } else {
      failures += 1;
      const f = result.failure;
      console.log(
        `case ${cases} seed ${s}: FAIL at op ${
          f.opIndex + 1
        }/${c.ops.length} [${f.signature}] (${secs} s)\n${f.detail}`,
      );
      const firstSeed = seen.get(f.signature);
      if (firstSeed !== undefined) {
        console.log(`  (same kind as seed ${firstSeed}; not shrunk again)`);
      } else {
        seen.set(f.signature, s);
        if (shrinkMs > 0) {
          const small = await shrink(c, f, {
            cluster,
            canMount,
            budgetMs: shrinkMs,
            log: (l) => console.log(l),
          });
          if (values.save) {
            await Deno.mkdir(values.save, { recursive: true });
            await Deno.writeTextFile(
              `${values.save}/seed-${s}.json`,
              JSON.stringify(small.case, null, 1),
            );
          }
          console.log(
            `seed ${s}: smallest reproduction (${small.case.ops.length} ops, ${small.runs} shrink runs) [${small.failure.signature}]\n${small.failure.detail}\n--- reproduction ---\n${
              reproduction(small.case)
            }\n--- end ---`,
          );
        } else {
          console.log(`--- reproduction ---\n${reproduction(c)}\n--- end ---`);
        }
      }
    }
    if (seed !== null) seed += 1;
  } while (!values.once && !values.case && performance.now() < deadline);
} finally {
  if (!(port && dataDir)) await cluster.stop();
}
console.log(`fuzz: ${cases} cases, ${failures} failed, ${seen.size} distinct failure kinds`);
Deno.exit(failures > 0 ? 1 : 0);
