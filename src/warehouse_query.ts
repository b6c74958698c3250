// Owns ad-hoc SQL against the DuckDB file from another process (the `query`
// command): a read-only open that waits briefly while a sync cycle holds the
// lock, then a clear error.

import { errorMessage, SyncError } from "./errors.ts";
import { openDuckDb } from "./duckdb_target.ts";
import type { QueryResult } from "./query_result.ts";

export async function queryWarehouse(
  path: string,
  sql: string,
  lockWaitSeconds: number,
): Promise<QueryResult> {
  try {
    await Deno.stat(path);
  } catch {
    throw new SyncError(
      "TARGET_MISSING",
      `No DuckDB file at ${path} yet (run \`sync --once\` first, or set DUCKDB_PATH)`,
    );
  }
  const instance = await openDuckDb(path, { readOnly: true, lockWaitSeconds });
  try {
    const connection = await instance.connect();
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() };
    } catch (error) {
      throw new SyncError("DUCKDB_ERROR", `Query failed: ${errorMessage(error).split("\n")[0]}`, {
        cause: error,
      });
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
