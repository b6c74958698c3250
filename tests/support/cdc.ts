// Owns what the change-data-capture tests share: a database whose sync role
// may stream (REPLICATION), `sync --once` with SYNC_METHOD=cdc, row-for-row
// comparison of a table in Postgres and DuckDB (every column as text, large
// values by md5), and dropping the test's replication slots afterwards so the
// shared cluster never holds WAL or runs out of slots.

import { assertEquals } from "./assert.ts";
import { duckRows, runMain, type RunResult, type TestDb } from "./fixture.ts";
import { withDb } from "./with_db.ts";

/** A fresh database (tables from `setup`) whose role has REPLICATION. */
export function withCdcDb<T>(setup: string, fn: (db: TestDb) => Promise<T>): Promise<T> {
  return withDb({ demo: false, setup }, async (db) => {
    await db.cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    try {
      return await fn(db);
    } finally {
      await dropSlots(db);
    }
  });
}

/** Drops every replication slot of the test's database (ending a stream still on it). */
export async function dropSlots(db: TestDb): Promise<void> {
  await db.cluster.psql(
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '${db.name}' AND active_pid IS NOT NULL`,
  );
  for (let i = 0; i < 50; i++) {
    const left = await db.cluster.psql(
      `SELECT count(*) FROM pg_replication_slots WHERE database = '${db.name}' AND active`,
    );
    if (left === "0") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await db.cluster.psql(
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '${db.name}'`,
  );
}

export function cdcEnv(db: TestDb, extra: Record<string, string> = {}): Record<string, string> {
  return db.env({ SYNC_METHOD: "cdc", ...extra });
}

export async function syncCdc(
  db: TestDb,
  extra: Record<string, string> = {},
): Promise<RunResult> {
  return await runMain(["sync", "--once"], cdcEnv(db, extra));
}

/**
 * Rows of `table` in Postgres and of `target` in DuckDB as "|"-joined text,
 * ordered by id: every column's text, `big` by its md5 and length.
 */
export async function assertSameRows(
  db: TestDb,
  table: string,
  target: string,
  columns: { pg: string; duck: string },
  orderBy = "id",
): Promise<void> {
  const client = await db.client();
  let pgRows: string[];
  try {
    pgRows = (await client.query(`SELECT ${columns.pg} AS line FROM ${table} ORDER BY ${orderBy}`))
      .rows
      .map((r: { line: string }) => r.line);
  } finally {
    await client.end();
  }
  const duck = (await duckRows(
    db.duckPath,
    `SELECT ${columns.duck} AS line FROM "${target}" ORDER BY ${orderBy}`,
  )).map((r) => String(r.line));
  assertEquals(duck.length, pgRows.length, "row count");
  assertEquals(duck, pgRows);
}
