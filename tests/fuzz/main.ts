// `deno task fuzz`: runs generated cases against a throwaway PostgreSQL cluster
// until time runs out, prints each seed and its outcome, shrinks the first case of
// each distinct failure and prints its reproduction.
//
//   deno task fuzz --seed 42 --minutes 10     seeds 42, 43, … for ten minutes
//   deno task fuzz --minutes 30               random seeds, each printed
//   deno task fuzz --seed 42 --once           just seed 42 (in both methods)
//   --method cursor|cdc|both                  the sync method(s) each seed runs under (both)
//   --exclude known,kill  (or FUZZ_EXCLUDE)   switch classes off ("known": the method's
//                                             KNOWN_DEFECT_CLASSES; "none": nothing;
//                                             default: known and the classes refused by design)
//   --include partitioned                     take classes out of the exclusions (a known
//                                             defect, to check its fix)
//   --size N  operations per case (24)   --shrink-minutes M  shrink budget per failure (5; 0: none)

import { parseArgs } from "node:util";
import { attachCluster, startCluster } from "../support/pg_cluster.ts";
import {
  defaultExclusions,
  type Method,
  METHODS,
  NOT_FOR_METHOD,
  parseClassList,
} from "./classes.ts";
import { type FuzzCase, generateCase } from "./generate.ts";
import { opLabel, reproduction, runCase, shrink } from "./runner.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    minutes: { type: "string", default: "5" },
    once: { type: "boolean", default: false },
    exclude: { type: "string" },
    /** Classes taken out of the exclusions (a known defect checked after its fix). */
    include: { type: "string" },
    method: { type: "string", default: "both" },
    size: { type: "string", default: "24" },
    "shrink-minutes": { type: "string", default: "5" },
    verbose: { type: "boolean", default: false },
    /** Runs the case in this JSON file (as written by --save) instead of generating one. */
    case: { type: "string" },
    /** Writes each shrunk case as JSON into this directory. */
    save: { type: "string" },
  },
});

const methods: readonly Method[] = values.method === "both"
  ? METHODS
  : (METHODS as readonly string[]).includes(values.method!)
  ? [values.method as Method]
  : (() => {
    throw new RangeError(`Cannot run --method ${values.method}: not cursor, cdc or both`);
  })();
const exclusionText = values.exclude ?? Deno.env.get("FUZZ_EXCLUDE") ?? defaultExclusions();
const excludeFor = new Map(methods.map((m) => {
  const ex = parseClassList(exclusionText, m);
  for (const c of parseClassList(values.include ?? "", m)) {
    if (!NOT_FOR_METHOD[m].includes(c)) ex.delete(c);
  }
  return [m, ex];
}));
const minutes = Number(values.minutes);
const size = Number(values.size);
const shrinkMs = Number(values["shrink-minutes"]) * 60_000;
const canMount = Deno.uid() === 0;
if (!canMount) console.log("disk_full fault skipped: mounting a tmpfs needs root");
for (const [m, ex] of excludeFor) {
  console.log(`${m}: excluded classes: ${[...ex].join(", ") || "none"}`);
}

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
    for (const method of methods) {
      const c: FuzzCase = values.case
        ? { method, ...JSON.parse(await Deno.readTextFile(values.case)) }
        : generateCase(s, { exclude: excludeFor.get(method)!, method, size, canMount });
      if (values.case && c.method !== method) continue;
      cases += 1;
      const result = await runCase(c, {
        cluster,
        canMount,
        log: values.verbose ? (l) => console.log(l) : undefined,
      });
      const secs = (result.ms / 1000).toFixed(1);
      const name = `case ${cases} seed ${s} ${c.method}`;
      if (!result.failure) {
        console.log(`${name}: pass (${result.opsRun} ops, ${result.checks} checks, ${secs} s)`);
        continue;
      }
      failures += 1;
      const f = result.failure;
      console.log(
        `${name}: FAIL at op ${f.opIndex + 1}/${c.ops.length} [${f.signature}] (${secs} s)\n${
          opLabel(f.op)
        }\n${f.detail}`,
      );
      const kind = `${c.method} ${f.signature}`;
      const firstSeed = seen.get(kind);
      if (firstSeed !== undefined) {
        console.log(`  (same kind as seed ${firstSeed}; not shrunk again)`);
        continue;
      }
      seen.set(kind, s);
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
            `${values.save}/seed-${s}-${c.method}.json`,
            JSON.stringify(small.case, null, 1),
          );
        }
        console.log(
          `seed ${s} ${c.method}: smallest reproduction (${small.case.ops.length} ops, ${small.runs} shrink runs) [${small.failure.signature}]\n${small.failure.detail}\n--- reproduction ---\n${
            reproduction(small.case)
          }\n--- end ---`,
        );
      } else {
        console.log(`--- reproduction ---\n${reproduction(c)}\n--- end ---`);
      }
    }
    if (seed !== null) seed += 1;
  } while (!values.once && !values.case && performance.now() < deadline);
} finally {
  if (!(port && dataDir)) await cluster.stop();
}
console.log(`fuzz: ${cases} cases, ${failures} failed, ${seen.size} distinct failure kinds`);
Deno.exit(failures > 0 ? 1 : 0);
