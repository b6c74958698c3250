// BatchConverter (src/parquet_batch.ts) against an in-memory DuckDB: a batch
// whose rows fit the fast row length, and one with a row longer than it, which
// DuckDB refuses at that length and the converter reads again whole.

import { assert, assertEquals } from "../support/assert.ts";
import { createHash } from "node:crypto";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  BatchConverter,
  FAST_LINE_SIZE,
  isLineTooLong,
  readCsvSql,
} from "../../src/parquet_batch.ts";
import { mapColumn } from "../../src/type_map.ts";

const columns = [
  mapColumn({
    name: "id",
    pgType: "integer",
    baseTypeName: "int4",
    baseType: "integer",
    category: "N",
    notNull: true,
  }),
  mapColumn({
    name: "body",
    pgType: "text",
    baseTypeName: "text",
    baseType: "text",
    category: "S",
    notNull: false,
  }),
];

async function parquetRows(path: string): Promise<unknown[][]> {
  const db = await (await DuckDBInstance.create(":memory:")).connect();
  const r = await db.runAndReadAll(
    `SELECT id, length(body), md5(body) FROM read_parquet('${path}') ORDER BY id`,
  );
  return r.getRowsJson();
}

Deno.test("a row longer than the fast row length is refused by DuckDB, then converted whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-" });
  try {
    const long = 'a "quoted", line\n'.repeat(Math.ceil((FAST_LINE_SIZE * 1.5) / 17));
    const quoted = `"${long.replaceAll('"', '""')}"`;
    await Deno.writeTextFile(`${dir}/b.csv`, `1,short\n2,${quoted}\n3,\n`);
    // The first read fails loudly rather than cutting the row.
    const db = await (await DuckDBInstance.create(":memory:")).connect();
    const error = await db.run(
      `SELECT count(*) FROM ${readCsvSql(`${dir}/b.csv`, columns, FAST_LINE_SIZE)}`,
    ).then(() => null, (e) => e);
    assert(isLineTooLong(error), String(error).slice(0, 200));
    assert(!isLineTooLong(new Error("Conversion Error: Could not convert string 'x' to INT32")));

    const converter = await BatchConverter.create();
    try {
      await converter.csvToParquet(`${dir}/b.csv`, `${dir}/b.parquet`, columns);
    } finally {
      converter.close();
    }
    const md5 = (text: string) => createHash("md5").update(text).digest("hex");
    assertEquals(await parquetRows(`${dir}/b.parquet`), [
      [1, "5", md5("short")],
      [2, String(long.length), md5(long)],
      [3, null, null],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
