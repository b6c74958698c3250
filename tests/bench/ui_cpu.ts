// Measures the terminal UI's CPU: the real program in tmux against a throwaway
// PostgreSQL, (a) idle and (b) during steady syncing (a writer updates rows
// every second, the loop syncs every second). Reports the main thread's CPU
// (where Ink renders) and the whole process's (main thread + engine worker), as
// percent of one core from /proc over a fixed window.
// Usage: deno run -A tests/bench/ui_cpu.ts [--seconds 20]

import { parseArgs } from "node:util";
import { startCluster } from "../support/pg_cluster.ts";
import { createTestDb, MAIN, REPO } from "../support/fixture.ts";
import { newSession, tmux } from "../support/tmux.ts";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" } } });
const seconds = Number(values.seconds);
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(path: string): number {
  const fields = Deno.readTextFileSync(path).split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function findPid(marker: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const out = await new Deno.Command("pgrep", { args: ["-f", marker], stdout: "piped" }).output();
    const pids = new TextDecoder().decode(out.stdout).trim().split("\n").filter(Boolean).map(
      Number,
    );
    for (const pid of pids) {
      const cmd = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "");
      const argv = cmd.split("\0");
      if (argv[0]?.endsWith("deno") && argv.some((a) => a.endsWith("main.ts"))) return pid;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("program did not start");
}

async function measure(pid: number, windowSeconds: number) {
  const main0 = cpuTicks(`/proc/${pid}/task/${pid}/stat`);
  const all0 = cpuTicks(`/proc/${pid}/stat`);
  await new Promise((r) => setTimeout(r, windowSeconds * 1000));
  const main1 = cpuTicks(`/proc/${pid}/task/${pid}/stat`);
  const all1 = cpuTicks(`/proc/${pid}/stat`);
  const pct = (ticks: number) => Math.round((ticks / TICKS / windowSeconds) * 1000) / 10;
  return { uiThreadPercent: pct(main1 - main0), processPercent: pct(all1 - all0) };
}

const cluster = await startCluster();
const db = await createTestDb(cluster);
const session = `pds-bench-${crypto.randomUUID().slice(0, 6)}`;
const marker = db.dir;
const env = db.env({ SYNC_INTERVAL_SECONDS: "1" });
const assignments = Object.entries({ ...env, PATH: Deno.env.get("PATH") ?? "" })
  .map(([k, v]) => `${k}='${v}'`).join(" ");
await newSession(
  session,
  100,
  30,
  `cd ${REPO} && env ${assignments} TERM=xterm-256color ${Deno.execPath()} run -A ${MAIN} --state-dir ${marker}/state; sleep 5`,
);
try {
  const pid = await findPid(marker);
  await new Promise((r) => setTimeout(r, 8000)); // bootstrap done, first idle cycles
  // Idle: the loop still polls Postgres every second, nothing changes.
  const idle = await measure(pid, seconds);
  // Steady syncing: 500 rows updated every second.
  let writing = true;
  const writer = (async () => {
    let i = 0;
    while (writing) {
      await db.sql(
        `UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1 WHERE id % 20 = ${
          i++ % 20
        }`,
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  await new Promise((r) => setTimeout(r, 3000));
  const syncing = await measure(pid, seconds);
  writing = false;
  await writer;
  const screen = await tmux("capture-pane", "-t", session, "-p");
  const result = {
    seconds,
    idle,
    syncing,
    rowsPerCycle: 500,
    cores: navigator.hardwareConcurrency,
  };
  console.log(screen);
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `UI thread: idle ${idle.uiThreadPercent}% / syncing ${syncing.uiThreadPercent}% of one core; whole process: idle ${idle.processPercent}% / syncing ${syncing.processPercent}%`,
  );
} finally {
  await tmux("send-keys", "-t", session, "q");
  await new Promise((r) => setTimeout(r, 2000));
  await tmux("kill-session", "-t", session).catch(() => "");
  await cluster.stop();
  await db.cleanup();
}
