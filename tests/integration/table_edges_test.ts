// Edge cases found by review, each against a real PostgreSQL and DuckDB file:
// tables whose names differ only by "/" vs "_" synced at once, a narrowed key
// column under hard-delete reconciliation, a keyless full-refresh table that
// gains a key, a bootstrap that never loaded a row under verify, --repair with
// a column left out of the comparison, and pooled connections the server
// closed.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, duckWrite, runMain, settle } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

const count = async (path: string, table: string) =>
  Number((await duckRows(path, `SELECT count(*)::INTEGER AS n FROM ${table}`))[0]!.n);

Deno.test("tables named a/b and a_b sync at the same time without sharing files", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public."a/b" (id int PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      CREATE TABLE public.a_b (id int PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01');
      INSERT INTO public."a/b" SELECT g, 'SLASH' FROM generate_series(1, 50000) g;
      INSERT INTO public.a_b SELECT g, 'UNDER' FROM generate_series(1, 50000) g;`);
    const env = db.env({
      POSTGRES_TABLES: "public.*",
      SYNC_LOOKBACK_SECONDS: "0",
      SYNC_CONCURRENCY: "2",
    });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    const path = env.DUCKDB_PATH!;
    assertEquals(
      await duckRows(path, `SELECT v, count(*)::INTEGER AS n FROM "public_a/b" GROUP BY v`),
      [{ v: "SLASH", n: 50000 }],
    );
    assertEquals(
      await duckRows(path, `SELECT v, count(*)::INTEGER AS n FROM public_a_b GROUP BY v`),
      [{ v: "UNDER", n: 50000 }],
    );
    const files = [...Deno.readDirSync(env.PARQUET_DIR!)].map((f) => f.name).sort();
    assert(files.some((f) => f.startsWith("public_a%2Fb__")), files.join(" "));
    assert(files.some((f) => f.startsWith("public_a_b__")), files.join(" "));
    assertEquals((await runMain(["verify"], env)).code, 0);
  }));

Deno.test("a key column narrowed in Postgres (DuckDB keeps the wider type): reconciliation is skipped, nothing deleted", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.prices (id numeric(12,4) PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO public.prices SELECT g + 0.5, 'p' || g FROM generate_series(1, 50) g;`);
    const env = db.env({
      POSTGRES_TABLE: "prices",
      POSTGRES_SCHEMA: "public",
      SYNC_LOOKBACK_SECONDS: "0",
      RECONCILE_DELETES_EVERY: "1",
    });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await db.sql(`ALTER TABLE public.prices ALTER COLUMN id TYPE numeric(10,2);`);
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(
      r.stderr,
      /hard-delete reconciliation skipped: key column\(s\) id \(DuckDB DECIMAL\(12,4\), mapped DECIMAL\(10,2\)\)/,
    );
    assertEquals(await count(env.DUCKDB_PATH!, "public_prices"), 50);
  }));

Deno.test("a keyless table copied whole that gains a key and a cursor turns incremental, without rows deleted since", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.logs (id int NOT NULL, line text);
      INSERT INTO public.logs SELECT g, 'l' || g FROM generate_series(1, 10) g;`);
    const file = `${db.dir}/sync.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        include: ["public.logs"],
        tables: { "public.logs": { mode: "full_refresh" } },
      }),
    );
    const env = db.env({ SYNC_LOOKBACK_SECONDS: "0", SYNC_CONFIG: file });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await db.sql(`ALTER TABLE public.logs ADD COLUMN seq bigserial PRIMARY KEY;
      ALTER TABLE public.logs ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      UPDATE public.logs SET line = 'changed', updated_at = now() WHERE id = 1;
      DELETE FROM public.logs WHERE id IN (3, 4);`);
    await Deno.writeTextFile(file, JSON.stringify({ include: ["public.logs"] }));
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stderr, /public_logs now syncs incrementally .*copying it again from the start/);
    const path = env.DUCKDB_PATH!;
    assertEquals(await count(path, "public_logs"), 8);
    assertEquals(await duckRows(path, "SELECT line FROM public_logs WHERE id = 1"), [{
      line: "changed",
    }]);
    const again = await runMain(["sync", "--once"], env);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((await runMain(["verify"], env)).code, 0);
  }));

Deno.test("verify: an empty synced table is equal", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.empty (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());`);
    const env = db.env({ POSTGRES_TABLES: "public.empty", SYNC_LOOKBACK_SECONDS: "0" });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    const v = await runMain(["verify"], env);
    assertEquals(v.code, 0, v.stdout + v.stderr);
    assertMatch(v.stdout, /^public_empty: equal, 0 rows$/m);
  }));

Deno.test("rows with a NULL cursor do not make verify differ; hard deletes among them are repaired", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.big (id int PRIMARY KEY, v text, updated_at timestamptz DEFAULT '2024-01-01');
      INSERT INTO public.big SELECT g, 'v' FROM generate_series(1, 20000) g;
      UPDATE public.big SET updated_at = NULL WHERE id % 50 = 0;`);
    const env = db.env({ POSTGRES_TABLES: "public.big", SYNC_LOOKBACK_SECONDS: "0" });
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    const equal = await runMain(["verify"], env);
    assertEquals(equal.code, 0, equal.stdout + equal.stderr);
    assertMatch(equal.stdout, /^public_big: equal, 19,600 rows$/m);
    await db.sql(`DELETE FROM public.big WHERE id % 1000 = 1`);
    const differs = await runMain(["verify"], env);
    assertEquals(differs.code, 1);
    assertMatch(differs.stdout, /20 only in DuckDB \(gone from Postgres\)/);
    assertEquals((await runMain(["verify", "--repair"], env)).code, 0);
    assertEquals(await count(env.DUCKDB_PATH!, "public_big"), 19580);
  }));

Deno.test("verify never calls a table equal when its bootstrap has not checkpointed a batch", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.m (id int PRIMARY KEY, a int[], updated_at timestamptz NOT NULL DEFAULT now() - interval '1 hour');
      INSERT INTO public.m SELECT g, ARRAY[g] FROM generate_series(1, 100) g;
      UPDATE public.m SET a = '{{1,2},{3,4}}' WHERE id = 100;`);
    const env = db.env({ POSTGRES_TABLES: "public.m", SYNC_LOOKBACK_SECONDS: "0" });
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 1, r.stderr);
    const v = await runMain(["verify"], env);
    assertEquals(v.code, 1, v.stdout + v.stderr);
    assertMatch(v.stdout, /^public_m: not synced: no batch of it has been checkpointed yet/m);
  }));

Deno.test("verify --repair keeps the values of a column it does not compare", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.acc (id int PRIMARY KEY, n bigint, v text, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO public.acc SELECT g, g * 10, 'v' || g FROM generate_series(1, 20) g;`);
    const env = db.env({
      POSTGRES_TABLE: "acc",
      POSTGRES_SCHEMA: "public",
      SYNC_LOOKBACK_SECONDS: "0",
    });
    const path = env.DUCKDB_PATH!;
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await db.sql(`ALTER TABLE public.acc ALTER COLUMN n TYPE integer;`);
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    await duckWrite(path, "UPDATE public_acc SET v = 'tampered' WHERE id = 3");
    const r = await runMain(["verify", "--repair"], env);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertMatch(
      r.stdout,
      /columns not compared: n \(DuckDB keeps BIGINT, Postgres maps to INTEGER\); repaired 1 row/,
    );
    assertEquals(
      await duckRows(path, "SELECT n::VARCHAR AS n, v FROM public_acc WHERE id = 3"),
      [{ n: "30", v: "v3" }],
    );
  }));

Deno.test("pooled connections closed by the server are replaced, not failed on", () =>
  withDb({}, async (db) => {
    await db.sql(
      `CREATE TABLE analytics.more (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO analytics.more SELECT generate_series(1, 10);
      ALTER TABLE analytics.more OWNER TO ${db.user};`,
    );
    const env = db.env({
      POSTGRES_TABLES: "analytics.*",
      SYNC_INTERVAL_SECONDS: "1",
      SYNC_LOOKBACK_SECONDS: "0",
      LOG_FORMAT: "json",
    });
    const { spawnMain } = await import("../support/fixture.ts");
    const child = spawnMain(["sync", "--loop"], env);
    const lines: string[] = [];
    const reader = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        lines.push(...chunk.split("\n").filter((l) => l));
      }
    })();
    const until = async (check: () => boolean) => {
      const end = Date.now() + 30_000;
      while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    };
    await until(() => lines.filter((l) => l.includes('"cycle_idle"')).length >= 2);
    await db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${db.user}'`,
    );
    const mark = lines.length;
    await until(() => lines.slice(mark).filter((l) => l.includes('"cycle_idle"')).length >= 2);
    child.kill("SIGTERM");
    await child.status;
    await reader.catch(() => {});
    const after = lines.slice(mark);
    assert(after.filter((l) => l.includes('"cycle_idle"')).length >= 2, after.join("\n"));
    assertEquals(after.filter((l) => /"type":"(error|table_failed)"/.test(l)), []);
  }));

Deno.test("a partition attached after the checkpoint is copied whole; a detached one is named", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`SET ROLE ${db.user};
      CREATE TABLE public.ev (id int NOT NULL, day date NOT NULL, v text,
        updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
      CREATE TABLE public.ev_2024 PARTITION OF public.ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
      INSERT INTO public.ev (id, day, v) SELECT g, DATE '2024-03-01' + g % 200, 'a' FROM generate_series(1, 100) g;
      CREATE TABLE public.ev_2023 (LIKE public.ev INCLUDING DEFAULTS);
      INSERT INTO public.ev_2023 (id, day, v, updated_at)
        SELECT g, DATE '2023-03-01' + g % 200, 'old', '2023-06-01' FROM generate_series(1, 10) g;`);
    // The first copy's rows behind the safe horizon, so the next cycle has only the partition.
    await settle();
    const env = db.env({ POSTGRES_TABLES: "public.ev", SYNC_LOOKBACK_SECONDS: "0" });
    const path = env.DUCKDB_PATH!;
    assertEquals((await runMain(["sync", "--once"], env)).code, 0);
    assertEquals(await count(path, "public_ev"), 100);
    await db.sql(
      `ALTER TABLE public.ev ATTACH PARTITION public.ev_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');`,
    );
    const attached = await runMain(["sync", "--once"], env);
    assertEquals(attached.code, 0, attached.stderr);
    assertMatch(
      attached.stderr,
      /public_ev: partition public\.ev_2023 was attached to public\.ev: copied its 10 rows/,
    );
    assertEquals(await count(path, "public_ev"), 110);
    assertEquals((await runMain(["verify"], env)).code, 0);
    const quiet = await runMain(["sync", "--once"], env);
    assert(!quiet.stderr.includes("was attached"), quiet.stderr);

    await db.sql(`ALTER TABLE public.ev DETACH PARTITION public.ev_2023;`);
    const detached = await runMain(["sync", "--once"], env);
    assertEquals(detached.code, 0, detached.stderr);
    assertMatch(
      detached.stderr,
      /partition\(s\) public\.ev_2023 detached from public\.ev: their rows stay in DuckDB/,
    );
    const repair = await runMain(["verify", "--repair"], env);
    assertEquals(repair.code, 0, repair.stdout + repair.stderr);
    assertEquals(await count(path, "public_ev"), 100);
  }));
