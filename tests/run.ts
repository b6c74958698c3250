// `deno task test`: installs or names what the tests need (support/test_tools.ts),
// checks formatting, lint and types when the whole suite runs, starts one
// throwaway PostgreSQL cluster for the whole run,
// runs every test file against it (tests that need to stop a server start their
// own), tears the cluster down, and prints the slowest files and a closing
// "N passed, N failed in <wall-clock time>" line.

import { startCluster } from "./support/pg_cluster.ts";
import { ensureTestTools } from "./support/test_tools.ts";
import { FileTimer, formatDuration } from "./support/run_timing.ts";

const started = performance.now();
if (!(await ensureTestTools())) Deno.exit(1);
// The whole suite checks formatting, lint and types first: cheap, and a failure there is a defect too.
if (Deno.args.length === 0) {
  const check = await new Deno.Command(Deno.execPath(), { args: ["task", "check"] }).output();
  if (!check.success) {
    console.error("tests: deno task check failed (run deno fmt, and see deno lint and deno check)");
    Deno.exit(1);
  }
}
const cluster = await startCluster();
console.log(`test PostgreSQL on 127.0.0.1:${cluster.port} (${cluster.dataDir})`);
let code = 1;
try {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...(Deno.args.length > 0 ? Deno.args : ["tests/"])],
    env: { TEST_PG_PORT: String(cluster.port), TEST_PG_DATADIR: cluster.dataDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  const files = new FileTimer();
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    files.write(text);
    tail = (tail + text).slice(-4000);
  }
  code = (await child.status).code;
  const slowest = files.slowest(5);
  if (slowest.length > 1) {
    console.log("\nslowest files:");
    for (const f of slowest) console.log(`  ${formatDuration(f.ms).padStart(7)}  ${f.file}`);
  }
  const took = ` in ${formatDuration(performance.now() - started)}`;
  const summary =
    /(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/.exec(
      tail,
    );
  if (summary) {
    const ignored = summary[5] ? `, ${summary[5]} skipped` : "";
    console.log(`\ntests: ${summary[2]} passed, ${summary[4]} failed${ignored}${took}`);
  } else {
    console.log(`\ntests: no deno test summary found${took}`);
    if (code === 0) code = 1;
  }
} finally {
  await cluster.stop();
}
Deno.exit(code);
