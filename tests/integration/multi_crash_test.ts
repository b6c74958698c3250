// Many tables under fire: five incremental tables and one full-refresh table,
// four synced at once, while a writer inserts, updates, hard-deletes and commits
// late across two tables; `sync --loop` is killed with SIGKILL fourteen times
// at random moments. Then one clean run (with hard-delete reconciliation) must
// leave every DuckDB table equal to Postgres, by an independent checksum and by
// `verify`.

import { assertEquals } from "../support/assert.ts";
import { createTestDb, duckRows, runMain, sharedCluster, spawnMain } from "../support/fixture.ts";

const cluster = await sharedCluster();
const TABLES = ["t1", "t2", "t3", "t4", "t5"];

Deno.test("kill -9 during multi-table loops with live writes and hard deletes, then one clean run: every table equals Postgres", async () => {
  const db = await createTestDb(cluster, { demo: false });
  try {
    let ddl = `SET ROLE ${db.user}; CREATE SCHEMA s;
      CREATE FUNCTION s.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
      CREATE TABLE s.ref (code int PRIMARY KEY, label text);
      INSERT INTO s.ref SELECT g, 'r' || g FROM generate_series(1, 2000) g;`;
    for (const t of TABLES) {
      ddl +=
        `CREATE TABLE s.${t} (id bigint PRIMARY KEY, v text, n bigint, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX ON s.${t} (updated_at, id);
        CREATE TRIGGER touch BEFORE UPDATE ON s.${t} FOR EACH ROW EXECUTE FUNCTION s.touch();
        INSERT INTO s.${t} SELECT g, '${t}|' || g || ':x', g FROM generate_series(1, 20000) g;`;
    }
    await db.sql(ddl);
    const env = db.env({
      POSTGRES_TABLES: "s.*",
      SYNC_CONCURRENCY: "4",
      BATCH_SIZE: "1500",
      SYNC_INTERVAL_SECONDS: "0.2",
      SYNC_LOOKBACK_SECONDS: "2",
      RECONCILE_DELETES_EVERY: "3",
    });
    const path = env.DUCKDB_PATH!;
    let stop = false;
    let round = 0;
    const writer = (async () => {
      const c = await db.client();
      while (!stop) {
        round++;
        const t = TABLES[round % TABLES.length]!;
        const u = TABLES[(round + 2) % TABLES.length]!;
        await c.query(
          `INSERT INTO s.${t} SELECT 100000 + ${round} * 100 + g, 'new', g FROM generate_series(1, 20) g`,
        );
        await c.query(`UPDATE s.${t} SET n = n + 1 WHERE id % 97 = ${round % 97}`);
        await c.query(`DELETE FROM s.${u} WHERE id % 211 = ${round % 211}`);
        await c.query(`UPDATE s.ref SET label = label || '.' WHERE code % 50 = ${round % 50}`);
        // A transaction over two tables that commits late.
        await c.query(`BEGIN; UPDATE s.${u} SET v = v || '~' WHERE id % 101 = ${round % 101};
          SELECT pg_sleep(0.3); UPDATE s.${t} SET v = v || '!' WHERE id % 103 = ${
          round % 103
        }; COMMIT;`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.end();
    })();
    for (let i = 0; i < 14; i++) {
      const child = spawnMain(["sync", "--loop"], env);
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 2500));
      child.kill("SIGKILL");
      await child.output();
    }
    stop = true;
    await writer;
    await new Promise((r) => setTimeout(r, 2500)); // past the lookback
    for (let pass = 0; pass < 30; pass++) {
      const clean = await runMain(["sync", "--once"], { ...env, RECONCILE_DELETES_EVERY: "1" });
      assertEquals(clean.code, 0, clean.stderr);
      if (!clean.stderr.includes("more remain")) break;
    }
    const c = await db.client();
    try {
      for (const t of [...TABLES, "ref"]) {
        const pgSql = t === "ref"
          ? `SELECT count(*)::int AS n, md5(string_agg(code || '|' || label, ',' ORDER BY code)) AS h FROM s.ref`
          : `SELECT count(*)::int AS n, md5(string_agg(id || '|' || v || '|' || n || '|' || (extract(epoch from updated_at) * 1000000)::int8, ',' ORDER BY id)) AS h FROM s.${t}`;
        const duckSql = t === "ref"
          ? `SELECT count(*)::INT AS n, md5(string_agg(code || '|' || label, ',' ORDER BY code)) AS h FROM s_ref`
          : `SELECT count(*)::INT AS n, md5(string_agg(id || '|' || v || '|' || n || '|' || epoch_us(updated_at), ',' ORDER BY id)) AS h FROM s_${t}`;
        const p = (await c.query(pgSql)).rows[0];
        const d = (await duckRows(path, duckSql))[0]!;
        assertEquals(
          { n: d.n, h: d.h },
          { n: p.n, h: p.h },
          `table ${t} after ${round} writer rounds`,
        );
      }
    } finally {
      await c.end();
    }
    const verify = await runMain(["verify"], env);
    assertEquals(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    await db.cleanup();
  }
});
