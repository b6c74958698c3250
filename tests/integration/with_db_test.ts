// The test fixture's own contract: withDb hands a test its database, settings
// and temp dir, runs its setup as the sync role, and removes the dir even when
// the test fails.

import { assert, assertEquals } from "../support/assert.ts";
import { withDb } from "../support/with_db.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("withDb: setup runs as the sync role, env carries the defaults, the dir goes afterwards", async () => {
  let dir = "";
  await withDb({
    demo: false,
    env: { BATCH_SIZE: "7" },
    setup: "CREATE TABLE mine (id int PRIMARY KEY)",
  }, async (db) => {
    dir = db.dir;
    assertEquals(
      await db.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'mine'"),
      db.user,
    );
    const env = db.env({ DUCKDB_TABLE: "t" });
    assertEquals([env.BATCH_SIZE, env.DUCKDB_TABLE], ["7", "t"]);
    assertEquals(db.env({ BATCH_SIZE: "9" }).BATCH_SIZE, "9", "a call's own settings win");
    assertEquals(env.DUCKDB_PATH, db.duckPath);
    assert(await exists(dir));
  });
  assert(!(await exists(dir)));
});

Deno.test("withDb: the dir is removed when the test fails, and the failure is passed on", async () => {
  let dir = "";
  const failure = await withDb({ demo: false }, (db) => {
    dir = db.dir;
    return Promise.reject(new Error("the test failed"));
  }).catch((error: Error) => error.message);
  assertEquals(failure, "the test failed");
  assert(dir !== "" && !(await exists(dir)));
});
