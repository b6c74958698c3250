// Owns ad-hoc SQL against the DuckDB file: streaming a result so that only the
// first rows are kept (the count is exact, memory is not the result's size),
// and the `query` command's read-only open that waits briefly while a sync
// cycle holds the lock, then gives a clear error.

import type { DuckDBConnection } from "@duckdb/node-api";
import { errorMessage, SyncError } from "../../core/errors.ts";
import { openDuckDb } from "./warehouse_file.ts";
import type { QueryResult } from "../../core/query_result.ts";
import { type Cell, exactCell, keepLeadingBom } from "./cells.ts";

export interface StreamedResult extends QueryResult {
  readonly rowCount: number;
  /** True when rows holds fewer rows than rowCount. */
  readonly truncated: boolean;
}

/** Runs SQL, keeping at most `maxRows` rows (values as exact cells, see duckdb_cells.ts). */
export async function runQuery(
  connection: DuckDBConnection,
  sql: string,
  maxRows: number,
): Promise<StreamedResult> {
  keepLeadingBom();
  try {
    const result = await connection.stream(sql);
    const columns = result.columnNames();
    const rows: Cell[][] = [];
    let rowCount = 0;
    for await (const chunk of result.yieldConvertedRows(exactCell)) {
      for (const row of chunk) {
        if (rows.length < maxRows) rows.push(row);
        rowCount += 1;
      }
    }
    return { columns, rows, rowCount, truncated: rows.length < rowCount };
  } catch (error) {
    throw new SyncError("DUCKDB_ERROR", `Query failed: ${errorMessage(error).split("\n")[0]}`, {
      cause: error,
    });
  }
}

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
      return await runQuery(connection, sql, Number.MAX_SAFE_INTEGER);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
