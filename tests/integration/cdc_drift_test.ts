// SYNC_METHOD=cdc and schema drift against a real PostgreSQL and DuckDB file:
// a column added with a DEFAULT (which the WAL does not carry for old rows),
// a widened type, a dropped and a renamed column, each while the stream runs
// or while nothing streams, and DuckDB ends up equal to Postgres.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows } from "../support/fixture.ts";
import { assertSameRows, syncCdc, withCdcDb } from "../support/cdc.ts";

const SETUP = `CREATE SCHEMA app;
  CREATE TABLE app.items (id int PRIMARY KEY, name text, qty int, note text);
  INSERT INTO app.items SELECT g, 'item ' || g, g, 'n' || g FROM generate_series(1, 200) g;`;
const TABLE = { POSTGRES_TABLES: "app.items" };

Deno.test("cdc: an added column with a default, a widened type, a dropped and a renamed column: DuckDB follows and ends equal", () =>
  withCdcDb(SETUP, async (db) => {
    assertEquals((await syncCdc(db, TABLE)).code, 0);
    // In one stream: changes, then a column added with a default, then more changes.
    await db.sql(`UPDATE app.items SET name = 'before' WHERE id <= 10;
      ALTER TABLE app.items ADD COLUMN region text NOT NULL DEFAULT 'eu';
      INSERT INTO app.items VALUES (500, 'new', 1, 'x', 'us');
      UPDATE app.items SET qty = qty + 1 WHERE id BETWEEN 11 AND 20;`);
    const added = await syncCdc(db, TABLE);
    assertEquals(added.code, 0, added.stderr);
    assertMatch(added.stderr, /region/);
    await assertSameRows(db, "app.items", "app_items", {
      pg: `concat_ws('|', id, name, qty, note, region)`,
      duck: `concat_ws('|', id, name, qty, note, region)`,
    });

    // A widened type, with a value only the new type holds.
    await db.sql(`ALTER TABLE app.items ALTER COLUMN qty TYPE bigint;
      UPDATE app.items SET qty = 9000000000 WHERE id = 3;`);
    const widened = await syncCdc(db, TABLE);
    assertEquals(widened.code, 0, widened.stderr);
    const [big] = await duckRows(
      db.duckPath,
      `SELECT qty::VARCHAR AS q FROM app_items WHERE id = 3`,
    );
    assertEquals(big?.q, "9000000000");

    // A dropped and a renamed column while nothing streams, then changes.
    await db.sql(`ALTER TABLE app.items DROP COLUMN note;
      ALTER TABLE app.items RENAME COLUMN name TO title;
      UPDATE app.items SET title = 'after' WHERE id <= 5;
      DELETE FROM app.items WHERE id = 6;`);
    const renamed = await syncCdc(db, TABLE);
    assertEquals(renamed.code, 0, renamed.stderr);
    await assertSameRows(db, "app.items", "app_items", {
      pg: `concat_ws('|', id, title, qty, region)`,
      duck: `concat_ws('|', id, title, qty, region)`,
    });
    const verify = await syncCdc(db, TABLE);
    assertEquals(verify.code, 0, verify.stderr);
  }));
