// Owns what is done to the warehouse's tables through one connection: creating
// a target table, drift DDL, idempotent upserts and replacements from a batch's
// Parquet file, the owners record, and the one transaction helper
// (io/warehouse_file.ts opens the file and hands out connections). Tables carry
// no PRIMARY KEY index (warehouse_keys.ts says why and how keys stay unique).

import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import type { TargetColumn } from "../../core/drift.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import { PARQUET_OPTIONS, readCsvSql, selectAsFromParquet, withLineSize } from "./parquet_batch.ts";
import {
  checkBatchKeys,
  dropDuplicateKeys,
  keyConstraint,
  mergeSql,
  recordedKey,
  recordKey,
} from "./warehouse_keys.ts";

/**
 * The table in the DuckDB file recording which STATE_DIR owns each synced
 * table, in its own schema so that `SHOW TABLES` lists only synced tables.
 */
const OWNERS_SCHEMA = "_sync";
const OWNERS_TABLE = `${quoteIdent(OWNERS_SCHEMA)}.${quoteIdent("owners")}`;

export class Warehouse {
  readonly connection: DuckDBConnection;
  #release: () => void;

  constructor(connection: DuckDBConnection, release: () => void) {
    this.connection = connection;
    this.#release = release;
  }

  /** Columns of a table in the main schema, or null when it does not exist. */
  async columns(table: string): Promise<TargetColumn[] | null> {
    const reader = await this.connection.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_name = ${quoteLiteral(table)}
       ORDER BY ordinal_position`,
    );
    const rows = reader.getRowObjectsJson();
    if (rows.length === 0) return null;
    return rows.map((r) => ({ name: String(r.column_name), duckType: String(r.data_type) }));
  }

  /** Names of the tables in the main schema (those columns() finds). */
  async tables(): Promise<string[]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'main'`,
    );
    return reader.getRowsJson().map((r) => String(r[0]));
  }

  /**
   * Creates a table and records its key (none: a table loaded by replace_keys
   * until keyTable(), or one that has no key).
   */
  async createTable(
    table: string,
    columns: readonly { name: string; duckType: string }[],
    key: readonly string[],
  ): Promise<string> {
    const ddl = `CREATE TABLE ${quoteIdent(table)} (${
      columns.map((c) => `${quoteIdent(c.name)} ${c.duckType}`).join(", ")
    })`;
    await this.connection.run(ddl);
    await recordKey(this.connection, table, key);
    return ddl;
  }

  /**
   * Replaces the rows sharing a key with the file's rows by the file's rows, in
   * one transaction: re-applying a file changes nothing. A table made with a
   * PRIMARY KEY (by an earlier version) is upserted through it.
   */
  async upsertParquet(
    table: string,
    parquetPath: string,
    columns: readonly string[],
  ): Promise<void> {
    const list = columns.map(quoteIdent).join(", ");
    const file = `read_parquet(${quoteLiteral(parquetPath)})`;
    if ((await keyConstraint(this.connection, table)).length > 0) {
      await this.connection.run(
        `INSERT OR REPLACE INTO ${quoteIdent(table)} (${list}) SELECT ${list} FROM ${file}`,
      );
      return;
    }
    const key = await recordedKey(this.connection, table);
    if (key.length === 0) throw new Error(`Cannot upsert into ${table}: it has no key recorded`);
    await checkBatchKeys(this.connection, table, file, key);
    await this.connection.run(mergeSql(table, file, columns, key));
  }

  /**
   * Loads a batch into a table that has no primary key yet (a bootstrap's block
   * scan, see block_scan.ts), in one transaction: first the rows of the table
   * that share a key with the batch's rows matching `replaceWhere` (all of them
   * when null) are deleted, so a row copied again (it changed while the scan
   * ran, or the batch is re-applied after a crash) is never held twice.
   */
  async appendParquet(
    table: string,
    parquetPath: string,
    columns: readonly string[],
    key: readonly string[],
    replaceWhere: string | null,
  ): Promise<void> {
    await this.transaction(() =>
      this.#replaceKeys(
        table,
        `read_parquet(${quoteLiteral(parquetPath)})`,
        columns,
        key,
        replaceWhere,
      )
    );
  }

  /**
   * appendParquet() straight from a batch's CSV: DuckDB parses it once, into a
   * temporary table, which is loaded the same way. With `parquet`, the batch
   * file is written from that table too (zstd), and `parquet.written` runs
   * before the transaction commits (so the file is in place first, as when it
   * is loaded from the file). Returns the file's size in bytes (0 without), or
   * null, having done nothing, when the table's values need the file's round
   * trip (see selectAsFromParquet).
   */
  async appendCsv(
    table: string,
    csvPath: string,
    columns: readonly ColumnMapping[],
    key: readonly string[],
    replaceWhere: string | null,
    parquet?: { readonly path: string; readonly written: () => Promise<number> },
  ): Promise<number | null> {
    const select = selectAsFromParquet(columns);
    if (select === null) return null;
    const size = (await Deno.stat(csvPath)).size;
    const staged = quoteIdent(`batch_${crypto.randomUUID().slice(0, 8)}`);
    // The batch's rows have distinct keys: their order does not matter, and
    // not keeping it saves about a sixth of DuckDB's work (docs/performance.md).
    await this.run("SET preserve_insertion_order = false");
    try {
      return await this.#appendStaged(
        table,
        csvPath,
        size,
        staged,
        select,
        columns,
        key,
        replaceWhere,
        parquet,
      );
    } finally {
      await this.run("RESET preserve_insertion_order");
    }
  }

  #appendStaged(
    table: string,
    csvPath: string,
    size: number,
    staged: string,
    select: string,
    columns: readonly ColumnMapping[],
    key: readonly string[],
    replaceWhere: string | null,
    parquet?: { readonly path: string; readonly written: () => Promise<number> },
  ): Promise<number> {
    return withLineSize(size, (lineSize) =>
      this.transaction(async () => {
        await this.run(
          `CREATE TEMP TABLE ${staged} AS SELECT ${select} FROM ${
            readCsvSql(csvPath, columns, lineSize)
          }`,
        );
        try {
          let bytes = 0;
          if (parquet) {
            await this.run(`COPY ${staged} TO ${quoteLiteral(parquet.path)} ${PARQUET_OPTIONS}`);
            bytes = await parquet.written();
          }
          await this.#replaceKeys(table, staged, columns.map((c) => c.name), key, replaceWhere);
          return bytes;
        } finally {
          await this.run(`DROP TABLE IF EXISTS ${staged}`);
        }
      }));
  }

  async #replaceKeys(
    table: string,
    source: string,
    columns: readonly string[],
    key: readonly string[],
    replaceWhere: string | null,
  ): Promise<void> {
    const t = quoteIdent(table);
    const list = columns.map(quoteIdent).join(", ");
    const keys = key.map(quoteIdent).join(", ");
    const on = key.map((k) => `${t}.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
    // "false": nothing to replace (a scan read as of one snapshot meets no row twice).
    if (replaceWhere !== "false") {
      await this.run(
        `DELETE FROM ${t} USING (SELECT DISTINCT ${keys} FROM ${source}${
          replaceWhere ? ` WHERE ${replaceWhere}` : ""
        }) AS s WHERE ${on}`,
      );
    }
    await this.run(`INSERT INTO ${t} (${list}) SELECT ${list} FROM ${source}`);
  }

  /**
   * Makes a table loaded by replace_keys keyed, in one transaction: a key held
   * twice (a row an UPDATE moved while the scan ran, without a newer cursor)
   * keeps its copy with the newest cursor, and the key is recorded; the caller
   * then re-reads every row written during the scan. Returns how many rows
   * were removed. `duplicatesPossible` false (the caller knows no key was
   * loaded twice) skips looking for them.
   */
  async keyTable(
    table: string,
    key: readonly string[],
    cursor: string,
    duplicatesPossible = true,
  ): Promise<number> {
    return await this.transaction(async () => {
      const removed = duplicatesPossible
        ? await dropDuplicateKeys(this.connection, table, key, cursor)
        : 0;
      await recordKey(this.connection, table, key);
      return removed;
    });
  }

  /** True when the table exists and holds at least one row. */
  async hasRows(table: string): Promise<boolean> {
    if (!(await this.columns(table))) return false;
    const reader = await this.connection.runAndReadAll(
      `SELECT 1 FROM ${quoteIdent(table)} LIMIT 1`,
    );
    return reader.getRowsJson().length > 0;
  }

  /** Which STATE_DIR owns the table (see CheckpointStore.stateId), or null if none is recorded. */
  async owner(table: string): Promise<{ stateId: string; origin: string } | null> {
    if (!(await this.#hasOwners())) return null;
    const reader = await this.connection.runAndReadAll(
      `SELECT state_id, origin FROM ${OWNERS_TABLE} WHERE target = ${quoteLiteral(table)}`,
    );
    const row = reader.getRowsJson()[0];
    return row ? { stateId: String(row[0]), origin: String(row[1]) } : null;
  }

  async #hasOwners(): Promise<boolean> {
    const reader = await this.connection.runAndReadAll(
      `SELECT 1 FROM duckdb_tables() WHERE schema_name = ${
        quoteLiteral(OWNERS_SCHEMA)
      } AND table_name = 'owners'`,
    );
    return reader.getRowsJson().length > 0;
  }

  /** Records `stateId` (copying from `origin`) as the table's owner. */
  async claim(table: string, stateId: string, origin: string): Promise<void> {
    await this.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(OWNERS_SCHEMA)}`);
    await this.run(
      `CREATE TABLE IF NOT EXISTS ${OWNERS_TABLE} (target VARCHAR PRIMARY KEY, state_id VARCHAR NOT NULL, origin VARCHAR NOT NULL)`,
    );
    await this.run(
      `INSERT OR REPLACE INTO ${OWNERS_TABLE} VALUES (${quoteLiteral(table)}, ${
        quoteLiteral(stateId)
      }, ${quoteLiteral(origin)})`,
    );
  }

  /** Forgets the table's owner (after the table is dropped). */
  async disown(table: string): Promise<void> {
    if (!(await this.#hasOwners())) return;
    await this.run(
      `DELETE FROM ${OWNERS_TABLE} WHERE target = ${quoteLiteral(table)}`,
    );
    await recordKey(this.connection, table, []);
  }

  /** The table's row count. */
  async countRows(table: string): Promise<number> {
    const reader = await this.connection.runAndReadAll(
      `SELECT count(*) AS n FROM ${quoteIdent(table)}`,
    );
    return Number(reader.getRowsJson()[0]![0]);
  }

  /**
   * Replaces the whole table with a Parquet file's rows, atomically: a staging
   * table is loaded and renamed over the old one in one transaction, so readers
   * see the old rows or the new, never a mix or an empty table.
   */
  async replaceFromParquet(
    table: string,
    parquetPath: string,
    columns: readonly { name: string; duckType: string }[],
    key: readonly string[],
  ): Promise<void> {
    // A name no synced table can have (a random suffix), so the staging table
    // never drops another table's copy.
    const staging = `${table}__refresh_${crypto.randomUUID().slice(0, 8)}`;
    const list = columns.map((c) => quoteIdent(c.name)).join(", ");
    await this.transaction(async () => {
      await this.run(`DROP TABLE IF EXISTS ${quoteIdent(staging)}`);
      await this.createTable(staging, columns, []);
      if (key.length > 0) {
        await checkBatchKeys(
          this.connection,
          table,
          `read_parquet(${quoteLiteral(parquetPath)})`,
          key,
        );
      }
      await this.run(
        `INSERT INTO ${quoteIdent(staging)} (${list}) SELECT ${list} FROM read_parquet(${
          quoteLiteral(parquetPath)
        })`,
      );
      await this.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
      await this.run(`ALTER TABLE ${quoteIdent(staging)} RENAME TO ${quoteIdent(table)}`);
      await recordKey(this.connection, table, key);
    });
  }

  /**
   * Key columns of a DuckDB table: its PRIMARY KEY (a table made by an earlier
   * version), else the key recorded once it was keyed; empty when neither.
   */
  async primaryKey(table: string): Promise<string[]> {
    const declared = await keyConstraint(this.connection, table);
    return declared.length > 0 ? declared : await recordedKey(this.connection, table);
  }

  /** Whether the table has a PRIMARY KEY constraint (made by an earlier version). */
  async hasKeyConstraint(table: string): Promise<boolean> {
    return (await keyConstraint(this.connection, table)).length > 0;
  }

  /**
   * Re-applies a batch file, matching columns by name. A row is replaced only
   * when the file's version is at least as new (by cursor) as the one held, so
   * replaying an old batch never turns a row back to an older version.
   * Returns the number of rows written.
   */
  async replayParquet(table: string, parquetPath: string, cursorColumn: string): Promise<number> {
    const key = await this.primaryKey(table);
    const t = quoteIdent(table);
    const c = quoteIdent(cursorColumn);
    const on = key.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
    const newer = `SELECT s.* FROM read_parquet(${quoteLiteral(parquetPath)}) AS s
       LEFT JOIN ${t} AS t ON ${on}
       WHERE t.${quoteIdent(key[0]!)} IS NULL OR s.${c} >= t.${c}`;
    if (await this.hasKeyConstraint(table)) {
      const reader = await this.connection.runAndReadAll(
        `INSERT OR REPLACE INTO ${t} BY NAME ${newer}`,
      );
      return Number(reader.getRowsJson()[0]?.[0] ?? 0);
    }
    const staged = quoteIdent(`replay_${crypto.randomUUID().slice(0, 8)}`);
    return await this.transaction(async () => {
      await this.run(`CREATE TEMP TABLE ${staged} AS ${newer}`);
      try {
        await checkBatchKeys(this.connection, table, staged, key);
        const described = await this.connection.runAndReadAll(`DESCRIBE ${staged}`);
        const columns = described.getRowsJson().map((r) => String(r[0]));
        const reader = await this.connection.runAndReadAll(
          mergeSql(table, staged, columns, key),
        );
        return Number(reader.getRowsJson()[0]?.[0] ?? 0);
      } finally {
        await this.run(`DROP TABLE IF EXISTS ${staged}`);
      }
    });
  }

  /** Sets `columns` of existing rows from a Parquet file of (key..., columns...). */
  async updateColumnsFromParquet(
    table: string,
    parquetPath: string,
    key: readonly string[],
    columns: readonly string[],
  ): Promise<void> {
    const set = columns.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(", ");
    const on = key.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
    await this.connection.run(
      `UPDATE ${quoteIdent(table)} AS t SET ${set} FROM read_parquet(${
        quoteLiteral(parquetPath)
      }) AS s WHERE ${on}`,
    );
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /**
   * Runs `fn` in one DuckDB transaction: committed when it returns, rolled back
   * when it (or the COMMIT) throws. The original error is what the caller sees;
   * a ROLLBACK that fails too (DuckDB may have ended the transaction already)
   * does not replace it.
   */
  /**
   * Writes what DuckDB holds in memory and in its WAL to the file. Returns
   * false when it could not (another connection has a transaction open): a
   * checkpoint is an economy, never needed for correctness.
   */
  async checkpoint(): Promise<boolean> {
    return await this.run("CHECKPOINT").then(() => true, () => false);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.run("BEGIN TRANSACTION");
    try {
      const result = await fn();
      await this.run("COMMIT");
      return result;
    } catch (error) {
      await this.run("ROLLBACK").catch(() => {});
      throw error;
    }
  }

  /** Closes this connection; the file closes when its last user is done. */
  close(): void {
    try {
      this.connection.closeSync();
    } finally {
      this.#release();
      this.#release = () => {};
    }
  }
}
