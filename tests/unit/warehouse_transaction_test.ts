import { assertEquals, assertMatch } from "../support/assert.ts";
import { openWarehouse } from "../../src/io/duckdb/warehouse_file.ts";
import { Warehouse } from "../../src/io/duckdb/warehouse.ts";

async function withWarehouse(fn: (warehouse: Warehouse) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "warehouse_transaction_test_" });
  const warehouse = await openWarehouse(`${dir}/w.duckdb`, { lockWaitSeconds: 0 });
  try {
    await warehouse.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)");
    await warehouse.run("INSERT INTO t VALUES (1, 'old')");
    await fn(warehouse);
  } finally {
    warehouse.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What `fn` rejects with. */
async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

async function rows(warehouse: Warehouse): Promise<unknown[][]> {
  const reader = await warehouse.connection.runAndReadAll("SELECT id, v FROM t ORDER BY id");
  return reader.getRowsJson();
}

Deno.test("Warehouse.transaction() commits when fn returns, and returns its result", async () => {
  await withWarehouse(async (warehouse) => {
    const result = await warehouse.transaction(async () => {
      await warehouse.run("UPDATE t SET v = 'new' WHERE id = 1");
      await warehouse.run("INSERT INTO t VALUES (2, 'two')");
      return 42;
    });
    assertEquals(result, 42);
    assertEquals(await rows(warehouse), [[1, "new"], [2, "two"]]);
  });
});

Deno.test("Warehouse.transaction() rolls back every statement when fn throws, and rethrows its error", async () => {
  await withWarehouse(async (warehouse) => {
    const error = await failure(() =>
      warehouse.transaction(async () => {
        await warehouse.run("UPDATE t SET v = 'new' WHERE id = 1");
        // A DuckDB failure: the key is held already.
        await warehouse.run("INSERT INTO t VALUES (1, 'again')");
      })
    );
    assertMatch(String(error), /Constraint Error/);
    assertEquals(await rows(warehouse), [[1, "old"]]);
    // The connection is usable afterwards: no transaction was left open.
    await warehouse.transaction(() => warehouse.run("INSERT INTO t VALUES (3, 'three')"));
    assertEquals(await rows(warehouse), [[1, "old"], [3, "three"]]);
  });
});

Deno.test("Warehouse.transaction() keeps fn's error when the ROLLBACK fails too", async () => {
  await withWarehouse(async (warehouse) => {
    const mine = new Error("fn failed after ending the transaction itself");
    const error = await failure(() =>
      warehouse.transaction(async () => {
        await warehouse.run("COMMIT");
        throw mine;
      })
    );
    assertEquals(error, mine);
  });
});
