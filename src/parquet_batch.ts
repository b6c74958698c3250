// Owns turning one batch of Postgres COPY CSV into one Parquet file. The work is
// done by a private in-memory DuckDB instance (not the warehouse file), so batch
// files can be prepared without holding the warehouse lock, and no row ever
// crosses into JavaScript.

import { DuckDBInstance } from "@duckdb/node-api";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "./sql.ts";
import type { ColumnMapping } from "./type_map.ts";

/**
 * read_csv() arguments matching Postgres' COPY ... WITH (FORMAT csv) output.
 * `maxLineSize` bounds a row's length in bytes; DuckDB refuses a longer row
 * with an error (never a split or cut row), see BatchConverter.csvToParquet.
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
    `quote = '"', escape = '"', allow_quoted_nulls = false, null_padding = false, ` +
    `max_line_size = ${
      Math.max(MIN_LINE_SIZE, Math.ceil(maxLineSize) + 1)
    }, columns = {${struct}})`;
}

const MIN_LINE_SIZE = 1 << 20;

/**
 * The row length a batch is first read with. DuckDB's read buffer is a
 * multiple of max_line_size, and a buffer larger than the file leaves its CSV
 * parse on one thread: a file-sized limit made the CSV -> Parquet pass 1.75x
 * slower than this one (tests/bench/stages.ts). A batch with a longer row is
 * read again with its file's size, which every row fits in.
 */
export const FAST_LINE_SIZE = 2 << 20;

/** DuckDB's error for a row longer than read_csv's max_line_size. */
export function isLineTooLong(error: unknown): boolean {
  return /Maximum line size of \d+ bytes exceeded/.test(String(error));
}

export function selectFromCsv(columns: readonly ColumnMapping[]): string {
  return columns.map((c) =>
    c.fromCsv ? `${c.fromCsv} AS ${quoteIdent(c.name)}` : quoteIdent(c.name)
  ).join(", ");
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
    // (measured in `deno task bench`, README Performance).
    await connection.run("SET preserve_insertion_order = false");
    return new BatchConverter(instance, connection);
  }

  /**
   * Writes the CSV batch as a zstd Parquet file; returns its size in bytes.
   * Read with FAST_LINE_SIZE first, and again with the file's size when a row
   * is longer (the failed attempt's output is overwritten).
   */
  async csvToParquet(
    csvPath: string,
    parquetPath: string,
    columns: readonly ColumnMapping[],
  ): Promise<number> {
    const fileSize = (await Deno.stat(csvPath)).size;
    const write = (maxLineSize: number) =>
      this.#connection.run(
        `COPY (SELECT ${selectFromCsv(columns)} FROM ${
          readCsvSql(csvPath, columns, maxLineSize)
        }) TO ${quoteLiteral(parquetPath)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
      );
    if (fileSize <= FAST_LINE_SIZE) {
      await write(fileSize);
    } else {
      try {
        await write(FAST_LINE_SIZE);
      } catch (error) {
        if (!isLineTooLong(error)) throw error;
        await write(fileSize);
      }
    }
    return (await Deno.stat(parquetPath)).size;
  }

  close(): void {
    this.#connection.closeSync();
    this.#instance.closeSync();
  }
}
