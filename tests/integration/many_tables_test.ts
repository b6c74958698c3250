// Hundreds of small tables (the demo's shape: a key, updated_at kept by a
// trigger) against a real PostgreSQL and a real DuckDB file: the DuckDB file
// stays small, an idle cycle logs one line for the cycle (not one per table),
// a table that changed still gets its own line, and a DuckDB table dropped
// behind the checkpoint is still reported (TARGET_MISSING). Timings belong to
// the bench (tests/bench/bench.ts), not here.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  createTestDb,
  duckRows,
  duckWrite,
  runMain,
  settle,
  sharedCluster,
} from "../support/fixture.ts";
import { manyTablesSql } from "../support/many_tables.ts";

const cluster = await sharedCluster();

const TABLES = 300;
const ROWS = 5;

/** Log lines, without their timestamps. */
function lines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.trim() !== "").map((l) => l.replace(/^\S+ /, ""));
}

Deno.test(`${TABLES} small tables: a small DuckDB file, one log line per idle cycle, TARGET_MISSING still seen`, async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    const client = await db.client();
    try {
      await client.query(manyTablesSql(TABLES, ROWS));
    } finally {
      await client.end();
    }
    await settle();
    const env = db.env({ POSTGRES_TABLES: "many.*", SYNC_LOOKBACK_SECONDS: "0" });
    const path = env.DUCKDB_PATH!;

    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    const [copied] = await duckRows(
      path,
      `SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE schema_name = 'main'`,
    );
    assertEquals(copied!.n, TABLES);

    // DuckDB gives each table a block of its own (and its key another): with
    // its default 256 KiB blocks these 1,500 rows took 157 MiB.
    const size = (await Deno.stat(path)).size;
    assert(size < 56 * 1024 * 1024, `DuckDB file is ${(size / 1048576).toFixed(1)} MiB`);

    assertMatch(
      first.stderr,
      new RegExp(`cycle: ${TABLES} tables: ${TABLES} synced \\(1,500 rows in ${TABLES} batches\\)`),
    );

    const idle = await runMain(["sync", "--once"], env);
    assertEquals(idle.code, 0, idle.stderr);
    const idleLines = lines(idle.stderr).filter((l) => !l.startsWith("notice:"));
    assertEquals(idleLines, [idleLines[0]!]);
    assertMatch(idleLines[0]!, new RegExp(`^cycle: ${TABLES} tables up to date \\(\\d+ ms\\)$`));

    // A table that did something keeps its own line; the cycle's line counts it.
    await db.sql(`UPDATE many.t123 SET plan = 'team' WHERE id = 2`);
    await settle();
    const one = await runMain(["sync", "--once"], env);
    assertEquals(one.code, 0, one.stderr);
    const oneLines = lines(one.stderr).filter((l) => !l.startsWith("notice:"));
    assertEquals(oneLines.length, 3, one.stderr);
    assertMatch(oneLines[0]!, /^batch many_t123 #2 incremental: 1 row/);
    assertMatch(oneLines[1]!, /^cycle many_t123 incremental: 1 row in 1 batch/);
    assertMatch(
      oneLines[2]!,
      new RegExp(
        `^cycle: ${TABLES} tables: 1 synced \\(1 row in 1 batch\\), ${
          TABLES - 1
        } up to date, 0 failed`,
      ),
    );

    // A table dropped behind the checkpoint is not called up to date.
    await duckWrite(path, `DROP TABLE many_t200`);
    const missing = await runMain(["sync", "--once"], env);
    assertEquals(missing.code, 1, missing.stderr);
    assertMatch(missing.stderr, /error TARGET_MISSING in table many_t200: DuckDB table many_t200/);
    assertMatch(
      missing.stderr,
      new RegExp(`cycle: ${TABLES} tables: 0 synced .*, ${TABLES - 1} up to date, 1 failed`),
    );
    assertMatch(
      missing.stderr,
      /TABLES_FAILED: 1 of 300 tables failed: many_t200 \(TARGET_MISSING\)/,
    );
  } finally {
    await db.cleanup();
  }
});
