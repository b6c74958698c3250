// Owns the demo's live-change helper: in the demo-shaped table, insert new
// subscriptions, update existing ones and soft-delete some (deleted_at = now()),
// in one transaction. Used by `seed-changes`, the UI's seed key and tests.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import { configError } from "../core/errors.ts";
import { qualified, quoteIdent } from "../core/sql.ts";

export interface SeedCounts {
  readonly inserts: number;
  readonly updates: number;
  readonly deletes: number;
}

export interface SeedResult {
  readonly inserted: string[];
  readonly updated: string[];
  readonly deleted: string[];
}

/** The table comment postgres/init/01_schema.sql sets on the demo table. */
const DEMO_TABLE_COMMENT = "postgres-duckdb-sync demo table";

const REQUIRED = ["id", "email", "plan", "lifetime_value"];
const PLANS = ["free", "starter", "pro", "business", "enterprise"];

export async function seedChanges(
  client: pg.Client,
  config: Config,
  counts: SeedCounts,
): Promise<SeedResult> {
  if (config.multiTable) {
    throw configError(
      "SEED_UNSUPPORTED",
      "Cannot seed changes: several tables are selected (POSTGRES_TABLES or a sync file), and seeding writes to one, the demo table (select it alone: POSTGRES_SCHEMA=analytics POSTGRES_TABLE=subscriptions)",
    );
  }
  const table = qualified(config.schema, config.table);
  const cols = await client.query(
    `SELECT a.attname AS name FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [config.schema, config.table],
  );
  const names = new Set(cols.rows.map((r: Record<string, unknown>) => String(r.name)));
  const missing = REQUIRED.filter((c) => !names.has(c));
  if (names.size === 0 || missing.length > 0) {
    throw configError(
      "SEED_UNSUPPORTED",
      `Cannot seed changes into ${config.schema}.${config.table}: ${
        names.size === 0 ? "table not found" : `missing column(s) ${missing.join(", ")}`
      } (seed-changes works on the demo table analytics.subscriptions from postgres/init)`,
    );
  }
  const marked = await client.query(
    `SELECT obj_description(c.oid, 'pg_class') AS comment FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [config.schema, config.table],
  );
  if (marked.rows[0]?.comment !== DEMO_TABLE_COMMENT) {
    throw configError(
      "SEED_UNSUPPORTED",
      `Refusing to write fake rows into ${config.schema}.${config.table}: it is not marked as the demo table (seed-changes only writes to a table created by postgres/init, whose comment is '${DEMO_TABLE_COMMENT}')`,
    );
  }
  const soft = config.softDeleteColumn && names.has(config.softDeleteColumn)
    ? quoteIdent(config.softDeleteColumn)
    : null;
  const alive = soft ? `${soft} IS NULL` : "true";
  await client.query("BEGIN");
  try {
    const inserted = await client.query(
      `INSERT INTO ${table} (email, plan, lifetime_value${
        names.has("created_at") ? ", created_at" : ""
      })
       SELECT 'user' || substr(md5(random()::text), 1, 10) || '@example.com',
              ($2::text[])[1 + floor(random() * 5)::int],
              round((random() * 5000)::numeric, 2)${names.has("created_at") ? ", now()" : ""}
       FROM generate_series(1, $1::int)
       RETURNING id::text AS id`,
      [counts.inserts, PLANS],
    );
    const updated = await client.query(
      `UPDATE ${table} SET plan = ($2::text[])[1 + floor(random() * 5)::int],
              lifetime_value = lifetime_value + 10
       WHERE id IN (SELECT id FROM ${table} WHERE ${alive} ORDER BY random() LIMIT $1::int)
       RETURNING id::text AS id`,
      [counts.updates, PLANS],
    );
    const deleted = soft
      ? await client.query(
        `UPDATE ${table} SET ${soft} = now()
         WHERE id IN (SELECT id FROM ${table} WHERE ${alive} ORDER BY random() LIMIT $1::int)
         RETURNING id::text AS id`,
        [counts.deletes],
      )
      : { rows: [] };
    await client.query("COMMIT");
    const ids = (r: { rows: Record<string, unknown>[] }) => r.rows.map((x) => String(x.id));
    return { inserted: ids(inserted), updated: ids(updated), deleted: ids(deleted) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
