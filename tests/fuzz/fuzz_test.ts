// The generative test in CI: a fixed list of seeds, each a random schema, random
// awkward values and a random interleaving of writes, schema changes, syncs and
// faults, checked against PostgreSQL after every sync by the harness's own oracle.
// Bounded in time: it stops starting new seeds after FUZZ_CI_SECONDS (180) and
// says how many ran. Longer runs: `deno task fuzz --seed N --minutes M`.

import { assertEquals } from "../support/assert.ts";
import { sharedCluster } from "../support/fixture.ts";
import { defaultExclusions, parseClassList } from "./classes.ts";
import { generateCase } from "./generate.ts";
import { reproduction, runCase, shrink } from "./runner.ts";

/** Seeds of the CI run (the default exclusions apply: defaultExclusions()). */
export const CI_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

Deno.test({
  name: "fuzz: fixed seeds keep DuckDB equal to Postgres after every sync",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cluster = await sharedCluster();
    const exclude = parseClassList(
      Deno.env.get("FUZZ_EXCLUDE") ?? defaultExclusions(),
    );
    const budgetMs = Number(Deno.env.get("FUZZ_CI_SECONDS") ?? "180") * 1000;
    const started = performance.now();
    const canMount = Deno.uid() === 0;
    if (!canMount) console.log("disk_full fault skipped: mounting a tmpfs needs root");
    const failed: string[] = [];
    let ran = 0;
    for (const seed of CI_SEEDS) {
      if (performance.now() - started > budgetMs) break;
      const c = generateCase(seed, { exclude, size: 20, canMount });
      const result = await runCase(c, { cluster, canMount });
      ran += 1;
      if (!result.failure) {
        console.log(
          `seed ${seed}: pass (${result.opsRun} ops, ${(result.ms / 1000).toFixed(1)} s)`,
        );
        continue;
      }
      const f = result.failure;
      console.log(`seed ${seed}: FAIL at op ${f.opIndex + 1} [${f.signature}]\n${f.detail}`);
      const small = await shrink(c, f, { cluster, canMount, budgetMs: 60_000 });
      console.log(`smallest reproduction of seed ${seed}:\n${reproduction(small.case)}`);
      failed.push(`seed ${seed}: ${f.signature}`);
    }
    console.log(
      `fuzz: ${ran} of ${CI_SEEDS.length} seeds in ${
        ((performance.now() - started) / 1000).toFixed(0)
      } s, excluded classes: ${[...exclude].join(", ") || "none"}`,
    );
    assertEquals(failed, []);
  },
});
