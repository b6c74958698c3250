// Owns the bench's figures beside the big table: many small tables (the DuckDB
// file's size, an idle `sync --once` as a whole process) and the terminal UI's
// CPU (tests/bench/ui_cpu.ts in tmux).

import type { PgCluster } from "../support/pg_cluster.ts";
import { createTestDb, REPO, spawnMain } from "../support/fixture.ts";
import { manyTablesSql } from "../support/many_tables.ts";
import { median, round } from "./measure.ts";

/**
 * `tables` tables of 5 rows under schema.*: the first `sync --once` (the
 * bootstrap), the DuckDB file's size, then idle `sync --once` runs as whole
 * processes (start-up included) and the log lines each wrote.
 */
export async function manyTables(
  cluster: PgCluster,
  tables: number,
  reps: number,
): Promise<Record<string, unknown>> {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const client = await db.client();
    try {
      await client.query(manyTablesSql(tables, 5));
    } finally {
      await client.end();
    }
    const env = db.env({ POSTGRES_TABLES: "many.*" });
    const once = async () => {
      const started = performance.now();
      const out = await spawnMain(["sync", "--once"], env).output();
      const seconds = (performance.now() - started) / 1000;
      const log = new TextDecoder().decode(out.stderr);
      if (!out.success) throw new Error(log);
      return { seconds, lines: log.split("\n").filter((l) => l.trim() !== "").length };
    };
    const boot = await once();
    const fileMiB = (await Deno.stat(env.DUCKDB_PATH!)).size / 1048576;
    const idle = [];
    for (let rep = 0; rep < Math.max(reps, 5); rep++) idle.push(await once());
    return {
      tables,
      rowsPerTable: 5,
      bootstrapSeconds: round(boot.seconds),
      duckdbFileMiB: round(fileMiB, 1),
      idleOnceSeconds: {
        median: round(median(idle.map((r) => r.seconds))),
        runs: idle.map((r) => round(r.seconds)),
      },
      idleLogLines: median(idle.map((r) => r.lines)),
    };
  } finally {
    await db.cleanup();
  }
}

export function manyTablesRows(r: Record<string, unknown> | undefined): string[][] {
  if (!r) return [];
  const m = r as {
    tables: number;
    bootstrapSeconds: number;
    duckdbFileMiB: number;
    idleOnceSeconds: { median: number };
    idleLogLines: number;
  };
  return [
    [`${m.tables} tables of 5 rows: bootstrap`, `${m.bootstrapSeconds} s`],
    [`${m.tables} tables: DuckDB file`, `${m.duckdbFileMiB} MiB`],
    [
      `${m.tables} tables: idle sync --once (process)`,
      `${m.idleOnceSeconds.median} s (target <= 2), ${m.idleLogLines} log line(s)`,
    ],
  ];
}

export async function uiCpu(): Promise<Record<string, unknown> | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO}/tests/bench/ui_cpu.ts`, "--seconds", "10"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const json = /\{[\s\S]*"syncing"[\s\S]*?\n\}/.exec(text)?.[0];
  return json ? JSON.parse(json) : null;
}
