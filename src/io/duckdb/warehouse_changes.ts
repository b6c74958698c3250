// Owns applying a batch of net row changes from the write-ahead log to a
// DuckDB table, in one transaction: the table emptied first when the batch
// holds a TRUNCATE, then rows deleted (or marked, RECONCILE_DELETES_MODE=mark)
// and rows written, each key once. A value an UPDATE left out of the stream (an
// unchanged TOASTed value) is taken from the row DuckDB holds before the batch,
// at the key the change names (the old key when the UPDATE moved the row).
//
// The batch file's columns: `_pds_op` ('u' write, 'd' delete), `_pds_keep` (a
// JSON array of the columns to keep, or NULL), `_pds_from_<i>` (the key to keep
// them from, one per key column), then the table's columns.

import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import type { Warehouse } from "./warehouse.ts";

export const OP_COLUMN = "_pds_op";
export const KEEP_COLUMN = "_pds_keep";
export const fromColumn = (i: number) => `_pds_from_${i}`;

export interface ChangeLoad {
  readonly columns: readonly string[];
  readonly key: readonly string[];
  /** The batch holds a TRUNCATE: the table is emptied before its changes. */
  readonly truncate: boolean;
  /** Columns some row keeps from DuckDB (empty: none). */
  readonly kept: readonly string[];
  /** RECONCILE_DELETES_MODE=mark: the soft-delete column deleted rows get set. */
  readonly markColumn: string | null;
}

export async function applyChanges(
  warehouse: Warehouse,
  table: string,
  parquetPath: string,
  load: ChangeLoad,
): Promise<void> {
  const t = quoteIdent(table);
  const stage = quoteIdent(`${table}__cdc_stage`);
  const rows = quoteIdent(`${table}__cdc_rows`);
  const kept = new Set(load.kept);
  const select = load.columns.map((c) => {
    const col = quoteIdent(c);
    return kept.has(c)
      ? `CASE WHEN list_contains(CAST(CAST(s.${KEEP_COLUMN} AS JSON) AS VARCHAR[]), ${
        quoteLiteral(c)
      }) THEN cur.${col} ELSE s.${col} END AS ${col}`
      : `s.${col}`;
  }).join(", ");
  const join = load.kept.length === 0
    ? ""
    : ` LEFT JOIN ${t} AS cur ON ${
      load.key.map((k, i) => `cur.${quoteIdent(k)} = s.${fromColumn(i)}`).join(" AND ")
    }`;
  const keys = load.key.map(quoteIdent).join(", ");
  const onKey = load.key.map((k) => `${t}.${quoteIdent(k)} = d.${quoteIdent(k)}`).join(" AND ");
  const list = load.columns.map(quoteIdent).join(", ");
  await warehouse.transaction(async () => {
    await warehouse.run(
      `CREATE OR REPLACE TEMP TABLE ${stage} AS SELECT * FROM read_parquet(${
        quoteLiteral(parquetPath)
      })`,
    );
    // Kept values are read before anything in the table changes; without any,
    // the rows are written straight from the stage.
    const written = load.kept.length === 0 ? stage : rows;
    if (load.kept.length > 0) {
      await warehouse.run(
        `CREATE OR REPLACE TEMP TABLE ${rows} AS SELECT ${select} FROM ${stage} AS s${join} WHERE s.${OP_COLUMN} = 'u'`,
      );
    }
    if (load.truncate) await warehouse.run(`DELETE FROM ${t}`);
    if (load.markColumn) {
      await warehouse.run(
        `UPDATE ${t} SET ${
          quoteIdent(load.markColumn)
        } = now() FROM (SELECT ${keys} FROM ${stage} WHERE ${OP_COLUMN} = 'd') AS d WHERE ${onKey} AND ${t}.${
          quoteIdent(load.markColumn)
        } IS NULL`,
      );
      await warehouse.run(
        `DELETE FROM ${t} USING (SELECT ${keys} FROM ${stage} WHERE ${OP_COLUMN} = 'u') AS d WHERE ${onKey}`,
      );
    } else {
      await warehouse.run(
        `DELETE FROM ${t} USING (SELECT ${keys} FROM ${stage}) AS d WHERE ${onKey}`,
      );
    }
    await warehouse.run(
      `INSERT INTO ${t} (${list}) SELECT ${list} FROM ${written}${
        written === stage ? ` WHERE ${OP_COLUMN} = 'u'` : ""
      }`,
    );
    await warehouse.run(`DROP TABLE ${stage}`);
    if (written === rows) await warehouse.run(`DROP TABLE ${rows}`);
  });
}
