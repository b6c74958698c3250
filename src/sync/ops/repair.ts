// Owns `verify --repair`: re-copying the rows a comparison found missing or
// changed from Postgres (the batch sink's first step, CSV to Parquet, then one
// DuckDB transaction) and removing the rows Postgres no longer has; a keyless
// table is replaced whole.

import type pg from "pg";
import type { ComparePlan, ComparisonResult } from "./compare_tables.ts";
import { toParquet } from "../batch_sink.ts";
import type { Config } from "../../core/config.ts";
import { copyQueryToCsv } from "../../io/postgres/mod.ts";
import { type Warehouse } from "../../io/duckdb/warehouse.ts";
import { type TablePlan } from "../../core/table_plan.ts";
import { quoteIdent } from "../../core/sql.ts";
import { keyHashIn } from "../../core/table_compare.ts";
import { BatchConverter } from "../../io/duckdb/parquet_batch.ts";
import { withScratchFiles } from "../../io/state/batch_files.ts";

/**
 * Re-copies the differing rows from Postgres and removes the rows Postgres no
 * longer has, in one DuckDB transaction. A keyless table is replaced whole.
 */
export async function repairTable(
  client: pg.Client,
  warehouse: Warehouse,
  plan: TablePlan,
  compare: ComparePlan,
  result: ComparisonResult,
  config: Config,
): Promise<number> {
  const { shape } = compare;
  await Deno.mkdir(config.parquetDir, { recursive: true });
  const converter = await BatchConverter.create();
  try {
    return await withScratchFiles(
      config.parquetDir,
      `${plan.target}__repair`,
      async (csv, parquet) => {
        if (shape.key.length === 0) {
          // No key to re-copy rows by: the table is refreshed whole.
          const copied = await copyQueryToCsv(
            client,
            `SELECT ${compare.allColumns.map((m) => m.pgSelect).join(", ")} FROM ${compare.pgFrom}`,
            csv,
          );
          await toParquet(converter, { csv, parquet, columns: compare.allColumns, from: plan });
          await warehouse.replaceFromParquet(plan.target, parquet, compare.allColumns, []);
          return copied.rows;
        }
        const recopy = [...result.missing, ...result.changed];
        const remove = result.extra;
        // Every column DuckDB has from Postgres is re-copied (also those left
        // out of the comparison); columns only DuckDB has keep their values.
        const columns = compare.repairColumns;
        const keyNames = shape.key.map((k) => k.name);
        const names = columns.map((c) => quoteIdent(c.name)).join(", ");
        const source = `read_parquet('${parquet.replaceAll("'", "''")}')`;
        const on = keyNames.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(" AND ");
        const set = columns.filter((c) => !keyNames.includes(c.name))
          .map((c) => `${quoteIdent(c.name)} = s.${quoteIdent(c.name)}`).join(", ");
        if (recopy.length > 0) {
          const select = columns.map((m) => m.pgSelect).join(", ");
          await copyQueryToCsv(
            client,
            `SELECT ${select} FROM ${compare.pgFrom} WHERE ${keyHashIn("pg", shape.key, recopy)}`,
            csv,
          );
          await toParquet(converter, { csv, parquet, columns, from: plan });
        }
        await warehouse.transaction(async () => {
          if (remove.length > 0) {
            await warehouse.run(
              `DELETE FROM ${compare.duckFrom} WHERE ${keyHashIn("duck", shape.key, remove)}`,
            );
          }
          if (recopy.length > 0) {
            if (set) {
              await warehouse.run(
                `UPDATE ${compare.duckFrom} AS t SET ${set} FROM ${source} AS s WHERE ${on}`,
              );
            }
            await warehouse.run(
              `INSERT INTO ${compare.duckFrom} (${names}) SELECT ${names} FROM ${source} AS s
               WHERE NOT EXISTS (SELECT 1 FROM ${compare.duckFrom} AS t WHERE ${on})`,
            );
          }
        });
        return new Set([...recopy, ...remove].map((r) => r.kh)).size;
      },
    );
  } finally {
    converter.close();
  }
}
