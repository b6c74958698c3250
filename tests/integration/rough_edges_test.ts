// Rough edges a new user meets, each against a real PostgreSQL and DuckDB file:
// `status` honours the table selection; a changed "target" leaves the old
// DuckDB table behind, said once with how to drop it (and that works); a DuckDB
// table dropped during a long-running loop is reported by the next cycle,
// while another program holding the file never makes an idle cycle wait.

import { DuckDBInstance } from "@duckdb/node-api";
import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { duckRows, duckWrite, runMain, spawnMain, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { collect, waitFor } from "../support/child_output.ts";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.a (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE app.b (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO app.a (id) SELECT g FROM generate_series(1, 5) g;
  INSERT INTO app.b (id) SELECT g FROM generate_series(1, 7) g;`;

async function tables(path: string): Promise<string[]> {
  const rows = await duckRows(
    path,
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' AND table_name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY 1",
  );
  return rows.map((r) => String(r.t));
}

Deno.test("status shows the selected tables only, and names the others with a --tables that shows them", () =>
  withDb({ setup: SETUP, env: { SYNC_LOOKBACK_SECONDS: "0" } }, async (db) => {
    const all = db.env({ POSTGRES_TABLES: "app.*,analytics.subscriptions" });
    assertEquals((await runMain(["sync", "--once"], all)).code, 0);
    const one = await runMain(["status", "--json"], db.env({ POSTGRES_TABLES: "app.a" }));
    assertEquals(JSON.parse(one.stdout).map((r: { table: string }) => r.table), ["app_a"]);
    const text = await runMain(["status"], db.env({ POSTGRES_TABLES: "app.a" }));
    assertEquals(text.code, 0);
    assertMatch(text.stdout, /^app_a \(app\.a on /);
    assertEquals(text.stdout.trim().split("\n").length, 1, text.stdout);
    const notice = /--tables (\S+)$/m.exec(text.stderr);
    assert(notice, text.stderr);
    assertMatch(
      text.stderr,
      /^notice: 2 other tables in .* are not selected; see them with --tables /,
    );
    // The advice, followed (the word is ready for a shell; here it has no quotes).
    const others = await runMain(["status", "--json", "--tables", notice[1]!], db.env());
    assertEquals(
      JSON.parse(others.stdout).map((r: { table: string }) => r.table).sort(),
      ["analytics_subscriptions", "app_b"],
    );
    // The default selection (POSTGRES_SCHEMA.POSTGRES_TABLE) is the demo table.
    const plain = await runMain(["status", "--json"], db.env());
    assertEquals(JSON.parse(plain.stdout).map((r: { table: string }) => r.table), [
      "analytics_subscriptions",
    ]);
    const wild = await runMain(["status", "--json"], all);
    assertEquals(JSON.parse(wild.stdout).length, 3);
    assertNotMatch(wild.stderr, /not selected/);
  }));

Deno.test('a changed "target" says once that the old DuckDB table is left behind, and how to drop it; that works', () =>
  withDb({ setup: SETUP, env: { SYNC_LOOKBACK_SECONDS: "0" } }, async (db) => {
    const file = `${db.dir}/sync.json`;
    const env = db.env({ SYNC_CONFIG: file });
    const write = (target: string) =>
      Deno.writeTextFile(
        file,
        JSON.stringify({ include: ["app.*"], tables: { "app.a": { target } } }),
      );
    await write("a_v1");
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await write("a_v2");
    const moved = await runMain(["sync", "--once"], env);
    assertEquals(moved.code, 0, moved.stderr);
    const said = moved.stderr.split("\n").filter((l) => /left behind/.test(l));
    assertEquals(said.length, 1, moved.stderr);
    assertMatch(
      said[0]!,
      /app\.a now lands in DuckDB table a_v2; its old table a_v1 in .* is left behind as it was and no longer synced \(drop it and its checkpoint with `reset --yes --target a_v1`\)/,
    );
    assertEquals(await tables(db.duckPath), ["a_v1", "a_v2", "app_b"]);
    // The advice, followed.
    const reset = await runMain(["reset", "--yes", "--target", "a_v1"], env);
    assertEquals(reset.code, 0, reset.stderr);
    assertMatch(reset.stdout, /DuckDB table a_v1 dropped/);
    assertEquals(await tables(db.duckPath), ["a_v2", "app_b"]);
    const after = await runMain(["sync", "--once"], env);
    assertEquals(after.code, 0, after.stderr);
    assertNotMatch(after.stderr, /left behind|no longer selected/);
    assertEquals((await duckRows(db.duckPath, "SELECT count(*)::INT AS n FROM a_v2"))[0]!.n, 5);
    // --target belongs to reset alone.
    const stray = await runMain(["sync", "--once", "--target", "x"], env);
    assertEquals(stray.code, 2);
    assertMatch(stray.stderr, /--target is an option of reset only/);
  }));

Deno.test("a loop reports a DuckDB table dropped behind it at the next idle cycle, and never waits on another program's lock", () =>
  withDb({ setup: SETUP, env: { SYNC_LOOKBACK_SECONDS: "0" } }, async (db: TestDb) => {
    const env = db.env({ POSTGRES_TABLES: "app.a,app.b", SYNC_INTERVAL_SECONDS: "0.5" });
    const child = spawnMain(["sync", "--loop"], env);
    const err = collect(child.stderr);
    const out = collect(child.stdout);
    const idle = () => (err.text().match(/cycle: 2 tables up to date/g) ?? []).length;
    try {
      await waitFor(() => idle() >= 2, 30_000, () => `idle cycles; log:\n${err.text()}`);
      // Another program holds the file for 3 s: idle cycles go on without waiting.
      const holder = await holdFile(db.duckPath);
      const before = idle();
      await new Promise((r) => setTimeout(r, 3000));
      holder.closeSync();
      assert(idle() >= before + 2, `idle cycles while the file was held: ${idle() - before}`);
      assertNotMatch(err.text(), /is locked by|waiting up to/);
      // A table dropped behind the loop: the next cycle says so.
      await dropWhenFree(db.duckPath, "app_b");
      await waitFor(
        () => /TARGET_MISSING/.test(err.text()),
        10_000,
        () => `TARGET_MISSING; log:\n${err.text()}`,
      );
      assertMatch(
        err.text(),
        /error TARGET_MISSING in table app_b: DuckDB table app_b in .* is missing but the checkpoint says rows were copied \(restore the file, or run `reset --yes --target app_b` to copy it again\)/,
      );
      child.kill("SIGTERM");
      await child.status;
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await err.done;
      await out.done;
    }
    // The advice, followed.
    const reset = await runMain(["reset", "--yes", "--target", "app_b"], env);
    assertEquals(reset.code, 0, reset.stderr);
    const again = await runMain(["sync", "--once"], env);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((await duckRows(db.duckPath, "SELECT count(*)::INT AS n FROM app_b"))[0]!.n, 7);
    assertEquals((await duckRows(db.duckPath, "SELECT count(*)::INT AS n FROM app_a"))[0]!.n, 5);
  }));

/** Opens the DuckDB file read-write (its lock held) once the loop lets go of it between cycles. */
async function holdFile(path: string): Promise<{ closeSync(): void }> {
  for (let i = 0; i < 100; i++) {
    try {
      return await DuckDBInstance.create(path);
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error("the DuckDB file was never free");
}

async function dropWhenFree(path: string, table: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      return await duckWrite(path, `DROP TABLE ${table}`);
    } catch (error) {
      if (!/lock/i.test(String(error))) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error("the DuckDB file was never free");
}
