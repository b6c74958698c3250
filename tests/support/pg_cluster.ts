// Owns throwaway PostgreSQL clusters for tests: initdb into a temp dir, start on a
// free 127.0.0.1 port with fsync off, stop and remove at the end. As root the server
// binaries run as the `postgres` user (initdb refuses root).

export interface PgCluster {
  readonly port: number;
  readonly dataDir: string;
  /** Superuser connection URL (trust auth on 127.0.0.1). */
  readonly adminUrl: string;
  /** Runs SQL as the superuser through psql; returns trimmed stdout. */
  psql(sql: string, db?: string): Promise<string>;
  stop(): Promise<void>;
  /** Synchronous stop and removal, for unload handlers. */
  stopSync(): void;
  /** Stops the server (committed work kept) but keeps the data directory (to simulate an outage). */
  pause(): Promise<void>;
  /** Starts the server again on the same port after pause(). */
  resume(): Promise<void>;
}

/** The directory of PostgreSQL's server binaries (initdb, pg_ctl). */
export function findBinDir(): string {
  for (const version of ["17", "16", "15", "14", "13"]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    try {
      Deno.statSync(`${dir}/initdb`);
      return dir;
    } catch { /* try next */ }
  }
  const which = new Deno.Command("sh", { args: ["-c", "command -v initdb"] })
    .outputSync();
  const path = new TextDecoder().decode(which.stdout).trim();
  if (path) return path.replace(/\/initdb$/, "");
  throw new Error(
    "Cannot start test PostgreSQL: initdb not found (apt-get install -y postgresql)",
  );
}

const isRoot = Deno.uid() === 0;
const SUPERUSER_PASSWORD = "postgres-test";

async function run(cmd: string, args: string[], opts: { check?: boolean } = {}) {
  const full = isRoot ? ["-u", "postgres", "--", cmd, ...args] : args;
  const command = new Deno.Command(isRoot ? "runuser" : cmd, {
    args: full,
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  });
  const out = await command.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if ((opts.check ?? true) && !out.success) {
    throw new Error(`${cmd} failed: ${stderr || stdout}`);
  }
  return { stdout, stderr, success: out.success };
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts a throwaway cluster. It streams logical changes (wal_level = logical,
 * set in postgresql.conf so a test may ALTER SYSTEM it) unless `logical` is false.
 */
export async function startCluster(
  options: { readonly logical?: boolean } = {},
): Promise<PgCluster> {
  const bin = findBinDir();
  const dataDir = await Deno.makeTempDir({ prefix: "pgtest-" });
  if (isRoot) {
    await new Deno.Command("chown", { args: ["postgres:postgres", dataDir] })
      .output();
  }
  // Password auth over TCP, so that a wrong password is really refused.
  const pwfile = `${dataDir}.pw`;
  await Deno.writeTextFile(pwfile, `${SUPERUSER_PASSWORD}\n`);
  if (isRoot) await new Deno.Command("chown", { args: ["postgres", pwfile] }).output();
  await run(`${bin}/initdb`, [
    "-D",
    dataDir,
    "-U",
    "postgres",
    `--pwfile=${pwfile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  await Deno.remove(pwfile);
  if (options.logical !== false) {
    await Deno.writeTextFile(
      `${dataDir}/postgresql.conf`,
      "\nwal_level = logical\nmax_replication_slots = 40\nmax_wal_senders = 40\n",
      { append: true },
    );
  }
  const port = freePort();
  const cluster = clusterFor(bin, dataDir, port);
  await cluster.resume();
  return cluster;
}

/** A handle on a cluster started elsewhere (tests/run.ts); stop() is left to it. */
export function attachCluster(port: number, dataDir: string): PgCluster {
  const cluster = clusterFor(findBinDir(), dataDir, port);
  return { ...cluster, stop: () => Promise.resolve(), stopSync: () => {} };
}

function clusterFor(bin: string, dataDir: string, port: number): PgCluster {
  const start = async () => {
    await run(`${bin}/pg_ctl`, [
      "-D",
      dataDir,
      "-w",
      "-t",
      "30",
      "-l",
      `${dataDir}/server.log`,
      "-o",
      `-p ${port} -h 127.0.0.1 -k ${dataDir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c max_prepared_transactions=10`,
      "start",
    ]);
  };
  const stopServer = async () => {
    await run(`${bin}/pg_ctl`, ["-D", dataDir, "-w", "-m", "immediate", "stop"], {
      check: false,
    });
  };
  const cluster: PgCluster = {
    port,
    dataDir,
    adminUrl: `postgres://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`,
    async psql(sql: string, db = "postgres") {
      const out = await new Deno.Command(`${bin}/psql`, {
        args: [
          "-X",
          "-q",
          "-v",
          "ON_ERROR_STOP=1",
          "-At",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          db,
          "-c",
          sql,
        ],
        stdout: "piped",
        stderr: "piped",
        env: { PGPASSWORD: SUPERUSER_PASSWORD },
      }).output();
      if (!out.success) {
        throw new Error(`psql failed: ${new TextDecoder().decode(out.stderr)}`);
      }
      return new TextDecoder().decode(out.stdout).trim();
    },
    async stop() {
      await stopServer();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
    stopSync() {
      const args = ["-D", dataDir, "-w", "-m", "immediate", "stop"];
      new Deno.Command(isRoot ? "runuser" : `${bin}/pg_ctl`, {
        args: isRoot ? ["-u", "postgres", "--", `${bin}/pg_ctl`, ...args] : args,
        stdout: "null",
        stderr: "null",
      }).outputSync();
      try {
        Deno.removeSync(dataDir, { recursive: true });
      } catch { /* already gone */ }
    },
    async pause() {
      // The server commits asynchronously and stops in immediate mode: a
      // CHECKPOINT first keeps every committed transaction (a role or table
      // made just before) across the outage.
      await this.psql("CHECKPOINT").catch(() => "");
      await stopServer();
    },
    resume: start,
  };
  return cluster;
}
