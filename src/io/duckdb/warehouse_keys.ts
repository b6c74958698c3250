// Owns how a DuckDB table's key is known and kept unique without a PRIMARY KEY
// index. DuckDB holds a primary key's index in memory (about 60 MB per million
// keys of a bigint key), so a table copied by this tool has no index: its key
// columns are recorded in `_sync.keys`, every load replaces the rows sharing a
// key with the batch's rows in the same transaction (delete by key, then
// insert), and a batch holding a key twice is refused, so no key is ever held
// twice after a commit. Tables made before this (with a PRIMARY KEY) keep it
// and keep being upserted through it.

import type { DuckDBConnection } from "@duckdb/node-api";
import { SyncError } from "../../core/errors.ts";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";

const SYNC_SCHEMA = "_sync";
const KEYS_TABLE = `${quoteIdent(SYNC_SCHEMA)}.${quoteIdent("keys")}`;

async function rows(connection: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await connection.runAndReadAll(sql)).getRowsJson();
}

/** Columns of the table's PRIMARY KEY constraint (a table made before keys were recorded). */
export async function keyConstraint(
  connection: DuckDBConnection,
  table: string,
): Promise<string[]> {
  const found = await rows(
    connection,
    `SELECT unnest(constraint_column_names) FROM duckdb_constraints()
     WHERE schema_name = 'main' AND table_name = ${
      quoteLiteral(table)
    } AND constraint_type = 'PRIMARY KEY'`,
  );
  return found.map((r) => String(r[0]));
}

async function hasKeysTable(connection: DuckDBConnection): Promise<boolean> {
  return (await rows(
    connection,
    `SELECT 1 FROM duckdb_tables() WHERE schema_name = ${
      quoteLiteral(SYNC_SCHEMA)
    } AND table_name = 'keys'`,
  )).length > 0;
}

/** The key recorded for a table (empty when none: not keyed yet, or never). */
export async function recordedKey(
  connection: DuckDBConnection,
  table: string,
): Promise<string[]> {
  if (!(await hasKeysTable(connection))) return [];
  const found = await rows(
    connection,
    `SELECT to_json(key_columns)::VARCHAR FROM ${KEYS_TABLE} WHERE target = ${quoteLiteral(table)}`,
  );
  const json = found[0]?.[0];
  return json === undefined ? [] : (JSON.parse(String(json)) as string[]);
}

/** Records the table's key columns, or forgets them when `key` is empty. */
export async function recordKey(
  connection: DuckDBConnection,
  table: string,
  key: readonly string[],
): Promise<void> {
  if (key.length === 0 && !(await hasKeysTable(connection))) return;
  await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(SYNC_SCHEMA)}`);
  await connection.run(
    `CREATE TABLE IF NOT EXISTS ${KEYS_TABLE} (target VARCHAR NOT NULL, key_columns VARCHAR[] NOT NULL)`,
  );
  await connection.run(`DELETE FROM ${KEYS_TABLE} WHERE target = ${quoteLiteral(table)}`);
  if (key.length === 0) return;
  await connection.run(
    `INSERT INTO ${KEYS_TABLE} VALUES (${quoteLiteral(table)}, [${
      key.map(quoteLiteral).join(", ")
    }])`,
  );
}

/**
 * Refuses a batch file that holds a key twice: loaded by delete-then-insert it
 * would leave both rows (a PRIMARY KEY refused it too).
 */
export async function checkBatchKeys(
  connection: DuckDBConnection,
  table: string,
  file: string,
  key: readonly string[],
): Promise<void> {
  const keys = key.map(quoteIdent).join(", ");
  const found = await rows(
    connection,
    `SELECT count(*) - count(DISTINCT (${keys}))
     FROM (SELECT ${keys} FROM ${file})`,
  );
  const twice = Number(found[0]?.[0] ?? 0);
  if (twice > 0) {
    throw new SyncError(
      "KEY_NOT_UNIQUE",
      `Cannot load a batch into ${table}: ${twice} of its key values (${
        key.join(", ")
      }) occur more than once; rows sharing a key would overwrite each other (configure unique columns as the key)`,
    );
  }
}

/**
 * Keeps the newest copy (by `cursor`) of each key held more than once (a first
 * copy by block ranges can read a row an UPDATE moved twice). Only the keys
 * found twice are sorted, so the cost is one aggregate over the key columns.
 * Returns how many rows were removed.
 */
export async function dropDuplicateKeys(
  connection: DuckDBConnection,
  table: string,
  key: readonly string[],
  cursor: string,
): Promise<number> {
  const t = quoteIdent(table);
  const keys = key.map(quoteIdent).join(", ");
  const twice = await rows(
    connection,
    `SELECT count(*) FROM (SELECT ${keys} FROM ${t} GROUP BY ALL HAVING count(*) > 1)`,
  );
  if (Number(twice[0]?.[0] ?? 0) === 0) return 0;
  const found = await rows(
    connection,
    `DELETE FROM ${t} WHERE rowid IN (
       SELECT rowid FROM (
         SELECT rowid, row_number() OVER (
           PARTITION BY ${keys} ORDER BY ${quoteIdent(cursor)} DESC NULLS LAST) AS n
         FROM ${t} SEMI JOIN (SELECT ${keys} FROM ${t} GROUP BY ALL HAVING count(*) > 1)
           USING (${keys}))
       WHERE n > 1)`,
  );
  return Number(found[0]?.[0] ?? 0);
}

/**
 * A MERGE of `source`'s rows into `table` by `key`: a row sharing a key is
 * updated in the listed columns (so a column the source no longer has, kept
 * in DuckDB, keeps its value, as with an upsert), other rows are inserted. Its
 * key join needs no index and spills to disk like any join.
 */
export function mergeSql(
  table: string,
  source: string,
  columns: readonly string[],
  key: readonly string[],
): string {
  const t = quoteIdent(table);
  const keys = new Set(key);
  const on = key.map((k) => `${t}.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
  const set = columns.filter((c) => !keys.has(c)).map((c) =>
    `${quoteIdent(c)} = s.${quoteIdent(c)}`
  );
  const list = columns.map(quoteIdent);
  return `MERGE INTO ${t} USING ${source} AS s ON ${on}
    WHEN MATCHED THEN ${set.length > 0 ? `UPDATE SET ${set.join(", ")}` : "DO NOTHING"}
    WHEN NOT MATCHED THEN INSERT (${list.join(", ")}) VALUES (${
    list.map((c) => `s.${c}`).join(", ")
  })`;
}
