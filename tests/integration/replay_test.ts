// replay never rolls a row back: batch files older than a change made without
// a newer cursor (reconciled deletes, a schema change's re-copy, a repair) are
// refused whole, against a real PostgreSQL and DuckDB file.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { DatabaseSync } from "node:sqlite";
import {
  createTestDb,
  duckRows,
  duckWrite,
  runMain,
  sharedCluster,
  type TestDb,
} from "../support/fixture.ts";

const cluster = await sharedCluster();

async function duckState(path: string): Promise<string[]> {
  const rows = await duckRows(
    path,
    `SELECT id::VARCHAR || '|' || qty::VARCHAR AS line FROM public_stock ORDER BY id`,
  );
  return rows.map((r) => String(r.line));
}

async function pgState(db: TestDb): Promise<string[]> {
  const out = await db.sql(`SELECT string_agg(id::text || '|' || qty::text, E'\\n' ORDER BY id)
    FROM public.stock`);
  return out.split("\n");
}

function batchFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".parquet"))
    .sort().map((n) => `${dir}/${n}`);
}

Deno.test("replay refuses batch files older than reconciled deletes or a schema change, and applies newer ones", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.stock (id int PRIMARY KEY, qty int NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.stock SELECT g, g % 200, '2024-01-01'::timestamptz + g * interval '1 second'
      FROM generate_series(1, 1000) g;`);
    const env = db.env({
      POSTGRES_SCHEMA: "public",
      POSTGRES_TABLE: "stock",
      SYNC_LOOKBACK_SECONDS: "0",
      BATCH_SIZE: "300",
      BOOTSTRAP_BATCH_SIZE: "300",
      RECONCILE_DELETES_EVERY: "1",
    });
    const path = env.DUCKDB_PATH!;
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const first = batchFiles(env.PARQUET_DIR!);

    // Before any change without a newer cursor, every file replays harmlessly.
    r = await runMain(["replay", ...first], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await duckState(path), await pgState(db));

    // Hard deletes, reconciled; then a retype that changes every value in
    // place (no trigger fires, no cursor moves), re-copied by drift.
    await db.sql(`DELETE FROM public.stock WHERE id IN (2, 3, 5, 7, 11);`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    await db.sql(`ALTER TABLE public.stock ALTER COLUMN qty TYPE numeric(10,1) USING qty * 1.5;`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const synced = await pgState(db);
    assertEquals(await duckState(path), synced);

    r = await runMain(["replay", ...first.slice(0, 2)], env);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertMatch(r.stderr, /REPLAY_UNSAFE/);
    assertMatch(r.stderr, /replay only batches from #\d+ on/);
    assertEquals(await duckState(path), synced, "nothing replayed, nothing rolled back");

    // A batch written after those changes replays, as the advice says.
    await db.sql(
      `UPDATE public.stock SET qty = qty + 1, updated_at = '2025-01-01' WHERE id <= 10;`,
    );
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const floor = Number(
      /from #(\d+) on/.exec(
        (await runMain(["replay", first[0]!], env)).stderr,
      )?.[1],
    );
    const newer = batchFiles(env.PARQUET_DIR!).filter((f) =>
      Number(/__(\d{8})__/.exec(f)?.[1]) >= floor
    );
    assertEquals(newer.length > 0, true, batchFiles(env.PARQUET_DIR!).join(" "));
    r = await runMain(["replay", ...newer], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await duckState(path), await pgState(db));

    // A file of another table is refused.
    await Deno.copyFile(newer[0]!, `${db.dir}/other.parquet`);
    r = await runMain(["replay", `${db.dir}/other.parquet`], env);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /not a batch file of DuckDB table public_stock/);

    // A file kept from before a reset belongs to the dropped copy: refused,
    // although the new copy's numbers would otherwise start over at 1.
    const saved = `${db.dir}/saved.parquet`;
    await Deno.copyFile(first[0]!, saved);
    r = await runMain(["reset", "--yes"], env);
    assertEquals(r.code, 0, r.stderr);
    await db.sql(`DELETE FROM public.stock WHERE id > 900;`);
    r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const kept = `${env.PARQUET_DIR}/${first[0]!.split("/").pop()}`;
    await Deno.copyFile(saved, kept);
    r = await runMain(["replay", kept], env);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertMatch(r.stderr, /REPLAY_UNSAFE/);
    assertEquals(await duckState(path), await pgState(db), "nothing brought back");
  } finally {
    await db.cleanup();
  }
});

Deno.test("replay refuses a batch file whose bytes differ from the checksum recorded when it was written, and says when a file has none", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.stock (id int PRIMARY KEY, qty int NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public.stock SELECT g, g % 200, '2024-01-01'::timestamptz + g * interval '1 second'
      FROM generate_series(1, 400) g;`);
    const env = db.env({ POSTGRES_SCHEMA: "public", POSTGRES_TABLE: "stock", BATCH_SIZE: "1000" });
    const path = env.DUCKDB_PATH!;
    let r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const [file] = batchFiles(env.PARQUET_DIR!);
    // A change in DuckDB that a replay of this file would overwrite.
    await duckWrite(path, "UPDATE public_stock SET qty = -1 WHERE id = 1");

    // One bit flipped in the middle of the file (its data pages).
    const bytes = await Deno.readFile(file!);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x04;
    await Deno.writeFile(file!, bytes);
    r = await runMain(["replay", file!], env);
    assertEquals(r.code, 2, r.stdout + r.stderr);
    assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
    assertMatch(
      r.stderr,
      new RegExp(
        `^error REPLAY_UNSAFE: replay: ${file} is not the file batch #1 wrote: its SHA-256 is [0-9a-f]{64}, the checkpoint recorded [0-9a-f]{64} .*nothing was replayed`,
      ),
    );
    const [kept] = await duckRows(path, "SELECT qty FROM public_stock WHERE id = 1");
    assertEquals(kept?.qty, -1, "nothing applied");

    // Restored, it replays; a file recorded before checksums existed replays, said unchecked.
    bytes[Math.floor(bytes.length / 2)]! ^= 0x04;
    await Deno.writeFile(file!, bytes);
    r = await runMain(["replay", file!], env);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(
      r.stdout + r.stderr,
      /replayed .*: 400 rows written \(rows already newer in DuckDB kept\)/,
    );
    const store = new DatabaseSync(`${env.STATE_DIR}/checkpoint.sqlite`);
    store.exec("UPDATE batches SET sha256 = NULL");
    store.close();
    r = await runMain(["replay", file!], env);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(
      r.stdout + r.stderr,
      /replayed .*: 400 rows written \(rows already newer in DuckDB kept; no checksum recorded for it \(written by an earlier version\): not checked\)/,
    );
  } finally {
    await db.cleanup();
  }
});
