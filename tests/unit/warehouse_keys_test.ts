// Keys without a PRIMARY KEY index (src/io/duckdb/warehouse_keys.ts) on a real DuckDB
// file: upserts replace by key and keep columns the batch does not carry, a
// batch holding a key twice is refused, keying a first copy keeps the newest
// copy of a key met twice, and a table made with a PRIMARY KEY keeps working.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { openWarehouse } from "../../src/io/duckdb/warehouse_file.ts";
import type { Warehouse } from "../../src/io/duckdb/warehouse.ts";
import { SyncError } from "../../src/core/errors.ts";

async function withWarehouse(fn: (w: Warehouse, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "warehouse_keys_test_" });
  const warehouse = await openWarehouse(`${dir}/w.duckdb`, { lockWaitSeconds: 0 });
  try {
    await fn(warehouse, dir);
  } finally {
    warehouse.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const COLUMNS = [
  { name: "id", duckType: "INTEGER" },
  { name: "v", duckType: "VARCHAR" },
  { name: "n", duckType: "INTEGER" },
];

async function batch(w: Warehouse, dir: string, name: string, values: string): Promise<string> {
  const path = `${dir}/${name}.parquet`;
  await w.run(`COPY (SELECT * FROM (VALUES ${values}) AS b(id, v, n)) TO '${path}'`);
  return path;
}

async function rows(w: Warehouse, sql = "SELECT * FROM t ORDER BY ALL"): Promise<unknown[][]> {
  return (await w.connection.runAndReadAll(sql)).getRowsJson();
}

Deno.test("upsertParquet() replaces rows by their recorded key and keeps a column the batch lacks", () =>
  withWarehouse(async (w, dir) => {
    await w.createTable("t", COLUMNS, ["id"]);
    assertEquals(await w.primaryKey("t"), ["id"]);
    assertEquals(await w.hasKeyConstraint("t"), false);
    await w.upsertParquet("t", await batch(w, dir, "a", "(1, 'a', 1), (2, 'b', 1)"), [
      "id",
      "v",
      "n",
    ]);
    // A column kept in DuckDB after the source dropped it keeps its values.
    await w.run("ALTER TABLE t ADD COLUMN gone VARCHAR");
    await w.run("UPDATE t SET gone = 'kept'");
    const again = await batch(w, dir, "b", "(2, 'B', 2), (3, 'c', 2)");
    await w.upsertParquet("t", again, ["id", "v", "n"]);
    await w.upsertParquet("t", again, ["id", "v", "n"]);
    assertEquals(await rows(w), [[1, "a", 1, "kept"], [2, "B", 2, "kept"], [3, "c", 2, null]]);
  }));

Deno.test("upsertParquet() refuses a batch that holds a key twice, and changes nothing", () =>
  withWarehouse(async (w, dir) => {
    await w.createTable("t", COLUMNS, ["id"]);
    await w.upsertParquet("t", await batch(w, dir, "a", "(1, 'a', 1)"), ["id", "v", "n"]);
    const twice = await batch(w, dir, "b", "(1, 'x', 2), (1, 'y', 3)");
    let error: unknown = null;
    await w.upsertParquet("t", twice, ["id", "v", "n"]).catch((e) => (error = e));
    assertEquals(error instanceof SyncError && error.code, "KEY_NOT_UNIQUE");
    assertMatch(String(error), /occur more than once/);
    assertEquals(await rows(w), [[1, "a", 1]]);
  }));

Deno.test("keyTable() keeps the newest copy of a key met twice and records the key", () =>
  withWarehouse(async (w, dir) => {
    await w.createTable("t", COLUMNS, []);
    assertEquals(await w.primaryKey("t"), []);
    await w.appendParquet(
      "t",
      await batch(w, dir, "a", "(1, 'old', 1), (2, 'b', 1)"),
      ["id", "v", "n"],
      ["id"],
      "n >= 5",
    );
    await w.appendParquet(
      "t",
      await batch(w, dir, "b", "(1, 'new', 2), (3, 'c', 1)"),
      ["id", "v", "n"],
      ["id"],
      "n >= 5",
    );
    assertEquals((await rows(w, "SELECT count(*) FROM t"))[0], ["4"]);
    assertEquals(await w.keyTable("t", ["id"], "n"), 1);
    assertEquals(await rows(w), [[1, "new", 2], [2, "b", 1], [3, "c", 1]]);
    assertEquals(await w.primaryKey("t"), ["id"]);
  }));

Deno.test("a table made with a PRIMARY KEY (an earlier version) is upserted through it", () =>
  withWarehouse(async (w, dir) => {
    await w.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR, n INTEGER)");
    assertEquals(await w.primaryKey("t"), ["id"]);
    assertEquals(await w.hasKeyConstraint("t"), true);
    await w.upsertParquet("t", await batch(w, dir, "a", "(1, 'a', 1)"), ["id", "v", "n"]);
    await w.upsertParquet("t", await batch(w, dir, "b", "(1, 'A', 2)"), ["id", "v", "n"]);
    assertEquals(await rows(w), [[1, "A", 2]]);
  }));

Deno.test("replaceFromParquet() records the key of the table it replaces", () =>
  withWarehouse(async (w, dir) => {
    await w.createTable("t", COLUMNS, []);
    await w.replaceFromParquet("t", await batch(w, dir, "a", "(1, 'a', 1)"), COLUMNS, ["id"]);
    assertEquals(await w.primaryKey("t"), ["id"]);
    await w.replaceFromParquet("t", await batch(w, dir, "b", "(2, 'b', 1)"), COLUMNS, []);
    assertEquals(await w.primaryKey("t"), []);
    assertEquals(await rows(w), [[2, "b", 1]]);
  }));
