// `deno task test`: starts one throwaway PostgreSQL cluster for the whole run,
// runs every test file against it (tests that need to stop a server start their
// own), tears the cluster down, and prints a closing "N passed, N failed" line.

import { startCluster } from "./support/pg_cluster.ts";

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
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
    tail = (tail + text).slice(-4000);
  }
  code = (await child.status).code;
  const summary =
    /(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/.exec(
      tail,
    );
  if (summary) {
    const ignored = summary[5] ? `, ${summary[5]} skipped` : "";
    console.log(`\ntests: ${summary[2]} passed, ${summary[4]} failed${ignored}`);
  } else {
    console.log("\ntests: no deno test summary found");
    if (code === 0) code = 1;
  }
} finally {
  await cluster.stop();
}
Deno.exit(code);
