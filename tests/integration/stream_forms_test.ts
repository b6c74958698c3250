// inet, cidr, xml and their arrays read the same whether a row came with a
// first copy or later (a cursor batch, or the replication stream, which
// carries each type's output text): an inet keeps its mask (10.0.0.1/32,
// ::1/128), an xml value reads as its output (no <?xml version="1.0"?>
// declaration, which the stream never carries).

import { assertEquals } from "../support/assert.ts";
import { duckRows, runMain, settle, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { dropSlots, syncCdc } from "../support/cdc.ts";

const VALUES = `'10.0.0.1', '::1', '10.0.0.0/8', '<?xml version="1.0"?><r/>',
  '{10.0.0.1,NULL,::1/64,192.168.0.0/16}', ARRAY['<?xml version="1.0"?><a/>'::xml, NULL]`;

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.n (id int PRIMARY KEY, i inet, i6 inet, c cidr, x xml, ia inet[], xa xml[],
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  INSERT INTO app.n (id, i, i6, c, x, ia, xa) VALUES (1, ${VALUES});`;

/** What every row holds in DuckDB, first copy or not. */
const EXPECTED = {
  i: "10.0.0.1/32",
  i6: "::1/128",
  c: "10.0.0.0/8",
  x: "<r/>",
  ia: ["10.0.0.1/32", null, "::1/64", "192.168.0.0/16"],
  xa: ["<a/>", null],
};

async function assertForms(db: TestDb, ids: number[]): Promise<void> {
  const rows = await duckRows(
    db.duckPath,
    `SELECT id, i, i6, c, x, ia, xa FROM app_n ORDER BY id`,
  );
  assertEquals(rows.map((r) => r.id), ids);
  for (const { id, ...row } of rows) assertEquals(row, EXPECTED, `row ${id}`);
}

const CHANGES = `INSERT INTO app.n (id, i, i6, c, x, ia, xa) VALUES (2, ${VALUES});
  UPDATE app.n SET i = '10.0.0.1', x = '<?xml version="1.0"?><r/>', updated_at = clock_timestamp()
    WHERE id = 1;`;

Deno.test("inet, cidr, xml and arrays of them: a cursor batch reads as the first copy", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    const env = db.env({ POSTGRES_TABLES: "app.n" });
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    await assertForms(db, [1]);
    await db.sql(CHANGES);
    await settle();
    const second = await runMain(["sync", "--once"], env);
    assertEquals(second.code, 0, second.stderr);
    await assertForms(db, [1, 2]);
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  }));

Deno.test("inet, cidr, xml and arrays of them: streamed changes read as the first copy", () =>
  withDb({ demo: false, setup: SETUP }, async (db) => {
    await db.cluster.psql(`ALTER ROLE ${db.user} REPLICATION`);
    try {
      const env = { POSTGRES_TABLES: "app.n" };
      const first = await syncCdc(db, env);
      assertEquals(first.code, 0, first.stderr);
      await assertForms(db, [1]);
      await db.sql(CHANGES);
      const second = await syncCdc(db, env);
      assertEquals(second.code, 0, second.stderr);
      await assertForms(db, [1, 2]);
      const verify = await runMain(["verify"], db.env({ SYNC_METHOD: "cdc", ...env }));
      assertEquals(verify.code, 0, verify.stdout + verify.stderr);
    } finally {
      await dropSlots(db);
    }
  }));
