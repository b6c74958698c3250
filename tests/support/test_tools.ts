// Owns what `deno task test` needs on the machine before any test runs:
// PostgreSQL's server binaries (for the throwaway clusters) and tmux (for the
// terminal tests). Missing ones are installed from the distribution's packages
// when the run is root, as CI runs; otherwise the run stops with one line
// naming the command that installs them.

const POSTGRES_VERSIONS = ["17", "16", "15", "14", "13"];

function hasPostgres(): boolean {
  for (const version of POSTGRES_VERSIONS) {
    try {
      Deno.statSync(`/usr/lib/postgresql/${version}/bin/initdb`);
      return true;
    } catch { /* next */ }
  }
  return onPath("initdb");
}

function onPath(command: string): boolean {
  const out = new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
    .outputSync();
  return out.success;
}

async function aptInstall(packages: string[]): Promise<boolean> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const run = async (args: string[]) =>
    (await new Deno.Command("apt-get", { args, env, stdout: "null", stderr: "inherit" }).output())
      .success;
  return await run(["update", "-qq"]) && await run(["install", "-y", "-qq", ...packages]);
}

/** Installs (as root) or names what is missing; false when the run cannot go on. */
export async function ensureTestTools(): Promise<boolean> {
  const missing: { what: string; pkg: string }[] = [];
  if (!hasPostgres()) missing.push({ what: "PostgreSQL's server binaries", pkg: "postgresql" });
  if (!onPath("tmux")) missing.push({ what: "tmux", pkg: "tmux" });
  if (missing.length === 0) return true;
  const packages = missing.map((m) => m.pkg);
  if (Deno.uid() === 0 && onPath("apt-get")) {
    console.log(`installing ${packages.join(" and ")} from apt`);
    if (await aptInstall(packages)) return true;
  }
  console.error(
    `Cannot run the tests: ${
      missing.map((m) => m.what).join(" and ")
    } missing (run: sudo apt-get install -y ${packages.join(" ")})`,
  );
  return false;
}
