// A whole schema of our own against a real PostgreSQL and a real DuckDB file:
// composite keys, a partitioned table, a table without the cursor column (full
// refresh), one without a key (skipped), a view (skipped), many types; then
// incremental changes, drift, verify (equal, then after rows are removed or
// altered behind the tool's back), verify --repair, hard-delete reconciliation,
// and one table failing while the others sync.

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { duckRows, duckWrite, runMain, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

const SCHEMA = `
CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN shop.cents AS numeric(12,2) CHECK (VALUE >= 0);
CREATE TABLE shop.customers (
  tenant_id integer NOT NULL,
  id bigint NOT NULL,
  name text NOT NULL,
  tags text[],
  balance shop.cents,
  mood shop.mood,
  profile jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE TABLE shop.events (
  id bigint NOT NULL,
  day date NOT NULL,
  kind text,
  payload bytea,
  took interval,
  amount numeric,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (id, day)
) PARTITION BY RANGE (day);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.countries (code char(2) PRIMARY KEY, name text NOT NULL, population bigint);
CREATE TABLE shop.log_lines (line text, updated_at timestamptz DEFAULT now());
CREATE VIEW shop.big_customers AS SELECT * FROM shop.customers WHERE balance > 100;
INSERT INTO shop.customers (tenant_id, id, name, tags, balance, mood, profile)
  SELECT t, i, 'customer ' || t || '/' || i, ARRAY['a', 'b,c', NULL, 'q"uote'], (i * 1.25)::numeric(12,2),
         (ARRAY['sad','ok','happy'])[1 + i % 3]::shop.mood, jsonb_build_object('i', i, 'nested', jsonb_build_array(t, null))
  FROM generate_series(1, 3) t, generate_series(1, 400) i;
INSERT INTO shop.events (id, day, kind, payload, took, amount)
  SELECT i, DATE '2024-06-01' + (i % 400), 'k' || (i % 7), decode(lpad(to_hex(i), 8, '0'), 'hex'),
         make_interval(days => i % 5, secs => i * 0.5), (i::numeric / 7)
  FROM generate_series(1, 2000) i;
INSERT INTO shop.countries VALUES ('DE', 'Germany', 84000000), ('FR', 'France', 68000000), ('JP', 'Japan', NULL);
INSERT INTO shop.log_lines (line) VALUES ('no key here');
`;

/** A database holding SCHEMA, owned by the sync role. */
const shop = (fn: (db: TestDb) => Promise<void>) =>
  withDb({ demo: false, setup: `CREATE SCHEMA shop; ${SCHEMA}` }, fn);

const ENV = { POSTGRES_TABLES: "shop.*", SYNC_LOOKBACK_SECONDS: "0" };

async function count(path: string, table: string): Promise<number> {
  const rows = await duckRows(path, `SELECT count(*)::INTEGER AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

Deno.test("many tables: schema.* syncs tables and partitioned parents, refreshes cursorless tables, skips keyless ones and views", () =>
  shop(async (db) => {
    const env = db.env(ENV);
    const path = env.DUCKDB_PATH!;
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    assertMatch(
      first.stderr,
      /skipped 2 partition\(s\) \(synced through their partitioned parent table\)/,
    );
    assertMatch(first.stderr, /shop\.log_lines has no primary key and is skipped/);
    assertMatch(
      first.stderr,
      /shop\.countries has no "updated_at" column: copied whole every cycle/,
    );
    assertNotMatch(first.stderr, /big_customers/);
    const tables = await duckRows(
      path,
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1",
    );
    assertEquals(tables.map((r) => r.t), ["shop_countries", "shop_customers", "shop_events"]);
    assertEquals(await count(path, "shop_customers"), 1200);
    assertEquals(await count(path, "shop_events"), 2000);
    assertEquals(await count(path, "shop_countries"), 3);
    const key = await duckRows(
      path,
      "SELECT key_columns::VARCHAR AS k FROM _sync.keys WHERE target = 'shop_customers'",
    );
    assertEquals(key[0]!.k, "[tenant_id, id]");

    const status = await runMain(["status", "--json"], env);
    const modes = Object.fromEntries(
      (JSON.parse(status.stdout) as { table: string; mode: string }[]).map((
        t,
      ) => [t.table, t.mode]),
    );
    assertEquals(modes, {
      shop_countries: "full_refresh",
      shop_customers: "incremental",
      shop_events: "incremental",
    });

    const equal = await runMain(["verify"], env);
    assertEquals(equal.code, 0, equal.stdout + equal.stderr);
    assertMatch(equal.stdout, /^shop_customers: equal, 1,200 rows$/m);
    assertMatch(equal.stdout, /^shop_events: equal, 2,000 rows$/m);
    assertMatch(equal.stdout, /^shop_countries: equal, 3 rows$/m);

    // Incremental changes, a new partition's rows, drift, and a refreshed country.
    await db.sql(`
      UPDATE shop.customers SET name = 'renamed', tags = '{}', updated_at = now() WHERE tenant_id = 2 AND id <= 10;
      INSERT INTO shop.events (id, day, kind) VALUES (5000, '2025-03-01', 'new');
      ALTER TABLE shop.customers ADD COLUMN vip boolean NOT NULL DEFAULT false;
      UPDATE shop.customers SET vip = true, updated_at = now() WHERE id = 7;
      UPDATE shop.countries SET population = 1 WHERE code = 'JP';
      INSERT INTO shop.countries VALUES ('NZ', 'New Zealand', 5000000);`);
    const second = await runMain(["sync", "--once"], env);
    assertEquals(second.code, 0, second.stderr);
    assertMatch(second.stderr, /drift shop_customers: column_added vip/);
    assertEquals(await count(path, "shop_events"), 2001);
    assertEquals(
      (await duckRows(path, "SELECT count(*)::INTEGER AS n FROM shop_customers WHERE vip"))[0]!.n,
      3,
    );
    assertEquals(
      (await duckRows(
        path,
        "SELECT population::VARCHAR AS p FROM shop_countries WHERE code = 'JP'",
      ))[0]!.p,
      "1",
    );
    assertEquals(await count(path, "shop_countries"), 4);
    const again = await runMain(["verify", "--json"], env);
    assertEquals(again.code, 0, again.stdout + again.stderr);
    const verdicts = JSON.parse(again.stdout) as { table: string; status: string }[];
    assertEquals(verdicts.map((v) => `${v.table} ${v.status}`).sort(), [
      "shop_countries equal",
      "shop_customers equal",
      "shop_events equal",
      "shop_log_lines skipped",
    ]);

    // Behind the tool's back: a row removed and a value altered in DuckDB, a row
    // deleted outright in Postgres, and a row changed after the last sync.
    await duckWrite(
      path,
      `DELETE FROM shop_customers WHERE tenant_id = 1 AND id = 2;
       UPDATE shop_events SET kind = 'tampered' WHERE id = 17;`,
    );
    await db.sql(`DELETE FROM shop.customers WHERE tenant_id = 3 AND id = 400;
                  UPDATE shop.customers SET name = 'later', updated_at = now() WHERE tenant_id = 3 AND id = 1;`);
    const differs = await runMain(["verify"], env);
    assertEquals(differs.code, 1, differs.stdout + differs.stderr);
    assertMatch(
      differs.stdout,
      /^shop_customers: DIFFERS: .*1 missing in DuckDB \[tenant_id=1, id=2\].*1 only in DuckDB \(gone from Postgres\) \[tenant_id=3, id=400\].*1 row changed since the last sync \(or with a NULL cursor\), not compared/m,
    );
    assertMatch(
      differs.stdout,
      /^shop_events: DIFFERS: .*1 with other values \[id=17, day=2024-06-18\]/m,
    );
    assertMatch(differs.stdout, /^shop_countries: equal/m);
    assertMatch(
      differs.stderr,
      /^error VERIFY_DIFFERS: 2 of 3 tables are not equal: shop_customers \(differs\), shop_events \(differs\) \(run verify --repair/m,
    );

    const repaired = await runMain(["verify", "--repair"], env);
    assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
    assertMatch(repaired.stdout, /^shop_customers: equal, .*repaired 2 rows/m);
    assertMatch(repaired.stdout, /^shop_events: equal, .*repaired 1 row/m);
    assertEquals(
      (await duckRows(path, "SELECT kind FROM shop_events WHERE id = 17"))[0]!.kind,
      "k3",
    );
    assertEquals(
      await duckRows(path, "SELECT name FROM shop_customers WHERE tenant_id = 1 AND id = 2"),
      [{ name: "customer 1/2" }],
    );
    const after = await runMain(["verify"], env);
    assertEquals(after.code, 0, after.stdout + after.stderr);
  }));

Deno.test("hard deletes: RECONCILE_DELETES_EVERY removes (or marks) rows deleted outright in Postgres", () =>
  shop(async (db) => {
    const env = db.env({ ...ENV, POSTGRES_TABLES: "shop.customers,shop.events" });
    const path = env.DUCKDB_PATH!;
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await db.sql(`DELETE FROM shop.customers WHERE id IN (5, 6) AND tenant_id = 1;
                  DELETE FROM shop.events WHERE id = 9;`);
    const off = await runMain(["sync", "--once"], env);
    assertEquals(off.code, 0, off.stderr);
    assertEquals(await count(path, "shop_customers"), 1200, "off by default: nothing removed");

    const on = await runMain(["sync", "--once"], { ...env, RECONCILE_DELETES_EVERY: "1" });
    assertEquals(on.code, 0, on.stderr);
    assertMatch(
      on.stderr,
      /shop_customers: 2 rows gone from Postgres, deleted in DuckDB \[tenant_id=1, id=5; tenant_id=1, id=6\]/,
    );
    assertMatch(
      on.stderr,
      /shop_events: 1 row gone from Postgres, deleted in DuckDB \[id=9, day=/,
    );
    assertEquals(await count(path, "shop_customers"), 1198);
    assertEquals(await count(path, "shop_events"), 1999);

    await db.sql(`DELETE FROM shop.customers WHERE tenant_id = 2 AND id = 1;`);
    const marked = await runMain(["sync", "--once"], {
      ...env,
      RECONCILE_DELETES_EVERY: "1",
      RECONCILE_DELETES_MODE: "mark",
    });
    assertEquals(marked.code, 0, marked.stderr);
    assertMatch(
      marked.stderr,
      /shop_customers: 1 row gone from Postgres, marked deleted \(deleted_at set\)/,
    );
    const row = await duckRows(
      path,
      "SELECT deleted_at IS NOT NULL AS gone FROM shop_customers WHERE tenant_id = 2 AND id = 1",
    );
    assertEquals(row, [{ gone: true }]);
  }));

Deno.test("one table failing is reported and the others still sync; sync --once exits 1 naming it", () =>
  shop(async (db) => {
    // A table the sync role may not read.
    await db.sql(
      `CREATE TABLE shop.secrets (id int PRIMARY KEY, updated_at timestamptz DEFAULT now());
                  INSERT INTO shop.secrets (id) VALUES (1);`,
    );
    const env = db.env({ ...ENV, SYNC_CONCURRENCY: "3" });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(
      r.stderr,
      /error PG_PERMISSION_DENIED in table shop_secrets: Postgres refused access: permission denied for table secrets .*GRANT SELECT ON shop\.secrets TO u_/,
    );
    assertMatch(
      r.stderr,
      /^error TABLES_FAILED: 1 of 4 tables failed: shop_secrets \(PG_PERMISSION_DENIED\); the others are synced/m,
    );
    const path = env.DUCKDB_PATH!;
    assertEquals(await count(path, "shop_customers"), 1200);
    assertEquals(await count(path, "shop_events"), 2000);
    assertEquals(await count(path, "shop_countries"), 3);
    assert(!r.stderr.includes(db.password));
  }));

Deno.test("sync file: targets, keys and modes per table; a keyless table refreshed whole is verified and repaired", () =>
  shop(async (db) => {
    const file = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        include: ["shop.*"],
        tables: {
          "shop.customers": { target: "customers" },
          "shop.events": { mode: "skip" },
          "shop.log_lines": { mode: "full_refresh" },
          "shop.countries": { refresh_every: 2 },
        },
      }),
    );
    const env = db.env({ SYNC_LOOKBACK_SECONDS: "0" });
    const r = await runMain(["sync", "--once", "--config", file], env);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /skipped shop\.events \(mode skip in .*sync\.json\)/);
    const path = env.DUCKDB_PATH!;
    const tables = await duckRows(
      path,
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1",
    );
    assertEquals(tables.map((x) => x.t), ["customers", "shop_countries", "shop_log_lines"]);
    assertEquals(await count(path, "shop_log_lines"), 1);

    // refresh_every 2: the second cycle leaves countries alone, the third refreshes it.
    await db.sql(`INSERT INTO shop.countries VALUES ('IT', 'Italy', 59000000);
                  INSERT INTO shop.log_lines (line) VALUES ('another'), ('another');`);
    assertEquals((await runMain(["sync", "--once", "--config", file], env)).code, 0);
    assertEquals(await count(path, "shop_countries"), 3);
    assertEquals(await count(path, "shop_log_lines"), 3, "refreshed every cycle");
    assertEquals((await runMain(["sync", "--once", "--config", file], env)).code, 0);
    assertEquals(await count(path, "shop_countries"), 4);

    // A keyless table: rows are told apart by their whole content, duplicates counted.
    await duckWrite(path, "DELETE FROM shop_log_lines WHERE line = 'another'");
    const differs = await runMain(["verify", "--config", file], env);
    assertEquals(differs.code, 1, differs.stdout + differs.stderr);
    assertMatch(
      differs.stdout,
      /^shop_log_lines: DIFFERS: Postgres 3 rows, DuckDB 1; 2 missing in DuckDB/m,
    );
    assertMatch(differs.stdout, /^customers: equal, 1,200 rows$/m);
    const repaired = await runMain(["verify", "--repair", "--config", file], env);
    assertEquals(repaired.code, 0, repaired.stdout + repaired.stderr);
    assertEquals(await count(path, "shop_log_lines"), 3);
  }));

Deno.test("guards: a changed cursor or key, a key that repeats, a selection matching nothing, NULL cursors and marked rows", () =>
  shop(async (db) => {
    const file = `${db.dir}/sync.json`;
    const writeFile = (tables: Record<string, unknown>) =>
      Deno.writeTextFile(file, JSON.stringify({ include: ["shop.customers"], tables }));
    const env = db.env({ SYNC_LOOKBACK_SECONDS: "0", SYNC_CONFIG: file });
    const path = env.DUCKDB_PATH!;

    // A configured key that repeats is refused before anything is copied.
    await writeFile({ "shop.customers": { key: ["id"] } });
    const repeats = await runMain(["sync", "--once"], env);
    assertEquals(repeats.code, 2, repeats.stderr);
    assertMatch(
      repeats.stderr,
      /error KEY_NOT_UNIQUE: Cannot sync shop\.customers: the configured key \(id\) is not unique \(id=\d+ appears 3 times\)/,
    );

    // An invalid unique index (a failed CREATE INDEX CONCURRENTLY) proves nothing.
    await db.sql(`CREATE UNIQUE INDEX CONCURRENTLY customers_id_broken ON shop.customers (id)`)
      .catch(() => "failed on the duplicates, leaving an invalid index");
    assertEquals(
      await db.sql(`SELECT count(*) FROM pg_index WHERE NOT indisvalid
                    AND indexrelid = 'shop.customers_id_broken'::regclass`),
      "1",
    );
    const stillRepeats = await runMain(["sync", "--once"], env);
    assertEquals(stillRepeats.code, 2, stillRepeats.stderr);
    assertMatch(stillRepeats.stderr, /error KEY_NOT_UNIQUE/);
    await db.sql(`DROP INDEX shop.customers_id_broken`);

    // A unique index on the configured key answers without a scan; the sync goes on.
    await db.sql(`CREATE UNIQUE INDEX ON shop.customers (id, tenant_id);`);
    await writeFile({ "shop.customers": { key: ["id", "tenant_id"] } });
    const ok = await runMain(["sync", "--once"], env);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(await count(path, "shop_customers"), 1200);

    // The key (or the cursor) cannot change under an existing checkpoint.
    await writeFile({ "shop.customers": {} });
    const changed = await runMain(["sync", "--once"], env);
    assertEquals(changed.code, 2, changed.stderr);
    assertMatch(
      changed.stderr,
      /error KEYSET_CHANGED: The checkpoint of shop_customers is a position in \(updated_at, id, tenant_id\) but the cursor and key are now \(updated_at, tenant_id, id\)/,
    );
    await writeFile({ "shop.customers": { key: ["id", "tenant_id"] } });

    // A row whose cursor becomes NULL still exists: verify does not call it gone,
    // and reconciliation (mark mode) leaves it; a hard-deleted row is marked once,
    // and verify in mark mode counts it as marked, not as a difference.
    await db.sql(`ALTER TABLE shop.customers ALTER COLUMN updated_at DROP NOT NULL;
                  UPDATE shop.customers SET updated_at = NULL WHERE tenant_id = 1 AND id = 3;
                  DELETE FROM shop.customers WHERE tenant_id = 1 AND id = 4;`);
    const markEnv = { ...env, RECONCILE_DELETES_EVERY: "1", RECONCILE_DELETES_MODE: "mark" };
    const marked = await runMain(["sync", "--once"], markEnv);
    assertEquals(marked.code, 0, marked.stderr);
    assertMatch(
      marked.stderr,
      /shop_customers: 1 row gone from Postgres, marked deleted \(deleted_at set\) in DuckDB \[id=4, tenant_id=1\]/,
    );
    const again = await runMain(["sync", "--once"], markEnv);
    assertNotMatch(again.stderr, /gone from Postgres/);
    assertEquals(await count(path, "shop_customers"), 1200);
    const verified = await runMain(["verify"], markEnv);
    assertEquals(verified.code, 0, verified.stdout + verified.stderr);
    assertMatch(
      verified.stdout,
      /^shop_customers: equal, 1,198 rows \(1 row changed since the last sync \(or with a NULL cursor\), not compared; 1 row gone from Postgres and marked deleted in DuckDB\)/m,
    );

    // A selection that matches nothing is an error, not a quiet success.
    const nothing = await runMain(["sync", "--once"], { ...env, POSTGRES_TABLES: "nosuch.*" });
    assertEquals(nothing.code, 2, nothing.stderr);
    assertMatch(
      nothing.stderr,
      /error TABLE_MISSING: No table to sync: nosuch\.\* matches no table/,
    );
    const several = await runMain(["sync", "--once"], {
      ...env,
      POSTGRES_TABLES: "shop.*",
      POSTGRES_PRIMARY_KEY: "id",
    });
    assertEquals(several.code, 2);
    assertMatch(
      several.stderr,
      /POSTGRES_PRIMARY_KEY names one table's key but several tables are selected/,
    );
  }));
