// Owns turning one batch of Postgres COPY CSV into one Parquet file. The work is
// done by a private in-memory DuckDB instance (not the warehouse file), so batch
// files can be prepared without holding the warehouse lock, and no row ever
// crosses into JavaScript.

import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import { explainConversionError, type SourceTable } from "./unsupported_value.ts";

/**
 * read_csv() arguments matching Postgres' COPY ... WITH (FORMAT csv) output,
 * rows up to `maxLineSize` bytes long (withLineSize() picks it).
 */
export function readCsvSql(
  path: string,
  columns: readonly ColumnMapping[],
  maxLineSize: number,
): string {
  const struct = columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.csvType)}`).join(
    ", ",
  );
  return `read_csv(${quoteLiteral(path)}, header = false, auto_detect = false, delim = ',', ` +
    `quote = '"', escape = '"', new_line = '\\n', allow_quoted_nulls = false, null_padding = false, ` +
    `max_line_size = ${
      Math.max(MIN_LINE_SIZE, Math.ceil(maxLineSize) + 1)
    }, columns = {${struct}})`;
}

const MIN_LINE_SIZE = 1 << 20;

/** How every batch file is written: zstd at its fastest level. */
export const PARQUET_OPTIONS = "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)";

/**
 * Runs a read of a CSV file of `fileSize` bytes with a small max_line_size
 * first: DuckDB's read buffer is a multiple of it (about 16x), so sizing it
 * to the file would allocate hundreds of MB for a 25 MB batch (more than
 * DUCKDB_MEMORY_LIMIT allows). Only a file holding a longer row is read again
 * with room for it (no row is longer than its file).
 */
export async function withLineSize<T>(
  fileSize: number,
  read: (maxLineSize: number) => Promise<T>,
): Promise<T> {
  const small = Math.min(fileSize, MIN_LINE_SIZE);
  try {
    return await read(small);
  } catch (error) {
    if (fileSize <= small || !/line size|max_line_size/i.test(String(error))) throw error;
    return await read(fileSize);
  }
}

function selectFromCsv(columns: readonly ColumnMapping[]): string {
  return columns.map((c) =>
    c.fromCsv ? `${c.fromCsv} AS ${quoteIdent(c.name)}` : quoteIdent(c.name)
  ).join(", ");
}

/**
 * selectFromCsv() as the values come back from a Parquet batch file, for a
 * load that skips the file: a Parquet file keeps a time with time zone as its
 * instant (at +00), so such a column is moved to UTC the same way. Null when
 * a column holds a list of them (such a batch goes through the file).
 */
export function selectAsFromParquet(columns: readonly ColumnMapping[]): string | null {
  if (columns.some((c) => /TIME WITH TIME ZONE\[/i.test(c.duckType))) return null;
  return columns.map((c) => {
    if (!/^TIME WITH TIME ZONE$/i.test(c.duckType)) return selectFromCsv([c]);
    const value = c.fromCsv ?? quoteIdent(c.name);
    return `timezone('UTC', ${value}) AS ${quoteIdent(c.name)}`;
  }).join(", ");
}

export class BatchConverter {
  #instance: DuckDBInstance;
  #connection: DuckDBConnection;

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection) {
    this.#instance = instance;
    this.#connection = connection;
  }

  static async create(): Promise<BatchConverter> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    // Rows of one batch have distinct keys, so their order in the Parquet file
    // does not matter; not keeping it makes the CSV -> Parquet pass faster
    // (measured in `deno task bench`, docs/performance.md).
    await connection.run("SET preserve_insertion_order = false");
    return new BatchConverter(instance, connection);
  }

  /**
   * Writes the CSV batch of `table` as a zstd Parquet file; returns its size in
   * bytes. A value DuckDB cannot hold fails it with VALUE_UNSUPPORTED.
   */
  async csvToParquet(
    csvPath: string,
    parquetPath: string,
    columns: readonly ColumnMapping[],
    table: SourceTable,
  ): Promise<number> {
    const size = (await Deno.stat(csvPath)).size;
    try {
      await withLineSize(size, (lineSize) =>
        this.#connection.run(
          `COPY (SELECT ${selectFromCsv(columns)} FROM ${
            readCsvSql(csvPath, columns, lineSize)
          }) TO ${quoteLiteral(parquetPath)} ${PARQUET_OPTIONS}`,
        ));
    } catch (error) {
      const asText = columns.map((c) => ({ ...c, csvType: "VARCHAR" }));
      throw await explainConversionError(
        error,
        this.#connection,
        readCsvSql(csvPath, asText, size),
        columns,
        table,
      );
    }
    return (await Deno.stat(parquetPath)).size;
  }

  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }
}
