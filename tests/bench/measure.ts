// Owns the bench's measuring tools: medians, CPU seconds of reaped children
// (the bench's own, and Postgres' backends through the postmaster), and a
// child process's wall time and peak RSS.

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(
  new TextDecoder().decode(new Deno.Command("getconf", { args: ["CLK_TCK"] }).outputSync().stdout),
) || 100;

/** CPU seconds (user + system) of a process's waited-for children, from /proc/<pid>/stat. */
export function reapedChildrenCpu(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 (cutime, cstime); the slice starts at field 3.
  return (Number(fields[13]) + Number(fields[14])) / CLK_TCK;
}

/**
 * The CPU a run costs: the bench's own children (all their threads) and
 * Postgres' backends, which the postmaster reaps once the client disconnects.
 */
export async function cpuOf<T>(
  postmaster: number,
  run: () => Promise<T>,
): Promise<{ result: T; client: number; pg: number }> {
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

export interface Run {
  readonly seconds: number;
  /** Peak RSS (VmHWM) in MB. */
  readonly peakMb: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Waits for a spawned child (stdout and stderr piped), polling its peak RSS; throws on failure. */
export async function waitMeasured(child: Deno.ChildProcess, started: number): Promise<Run> {
  let peak = 0;
  const poll = setInterval(() => (peak = Math.max(peak, vmHwmKb(child.pid))), 20);
  const out = await child.output();
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`exit ${out.code}: ${stderr || stdout}`);
  return { seconds, peakMb: peak / 1024, stdout, stderr };
}

/** Runs a command, returning its wall time; throws on failure. */
export async function timedCommand(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return (performance.now() - started) / 1000;
}
