// The core sync guarantees against a real PostgreSQL and a real DuckDB file,
// through the real CLI: bootstrap then incremental, keyset ties, exact values,
// soft deletes, idempotent upserts, Parquet batch files, checkpoint contents and
// the per-batch log lines.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { DatabaseSync } from "node:sqlite";
import {
  duckDemoRows,
  duckRows,
  pgDemoRows,
  runMain,
  settle,
  type TestDb,
} from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

async function syncOnce(db: TestDb, extra: Record<string, string> = {}) {
  const r = await runMain(["sync", "--once"], db.env(extra));
  assertEquals(r.code, 0, r.stderr);
  return r;
}

async function status(db: TestDb, env: Record<string, string> = {}) {
  const r = await runMain(["status", "--json"], db.env(env));
  assertEquals(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    mode: string;
    cursor: string;
    key: string[];
    rowsCopied: number;
  }[];
}

Deno.test("sync bootstraps, then stays incremental across restarts", () =>
  withDb({}, async (db) => {
    const first = await syncOnce(db, { BATCH_SIZE: "4000" });
    // The first copy reads the heap in block ranges of about BATCH_SIZE rows.
    assertMatch(first.stderr, /bootstrap: \d,\d{3} rows, start \.\. block \d+ of \d+/);
    assertMatch(first.stderr, /Bootstrap of analytics.subscriptions complete: 10,000 rows/);
    let s = await status(db);
    assertEquals(s[0]!.mode, "incremental");
    assertEquals(s[0]!.rowsCopied, 10000);
    assertEquals(await duckDemoRows(db.duckPath), await pgDemoRows(db));

    const seeded = await runMain(["seed-changes", "--inserts", "3", "--updates", "2"], db.env());
    assertEquals(seeded.code, 0, seeded.stderr);
    // The checkpoint reaches the newest row only once it is behind the safe horizon.
    await settle();
    const second = await syncOnce(db);
    assertMatch(second.stderr, /incremental: [\d,]+ rows?/);
    assert(!/bootstrap/.test(second.stderr), second.stderr);
    s = await status(db);
    assertEquals(s[0]!.mode, "incremental");
    const client = await db.client();
    const max = await client.query(
      "SELECT s.updated_at::text AS u, s.id::text AS k FROM analytics.subscriptions s ORDER BY s.updated_at DESC, s.id DESC LIMIT 1",
    );
    await client.end();
    assertEquals(s[0]!.cursor, max.rows[0].u, "cursor is Postgres' exact text");
    assertEquals(s[0]!.key, [max.rows[0].k]);
    assertEquals(await duckDemoRows(db.duckPath), await pgDemoRows(db));

    const idle = await syncOnce(db);
    assertMatch(idle.stderr, /up to date/);
  }));

Deno.test("a bulk UPDATE giving many rows one updated_at is paged completely, without looping", () =>
  withDb({}, async (db) => {
    await syncOnce(db);
    // One transaction: the trigger gives all 10,000 rows the same now().
    await db.sql("UPDATE analytics.subscriptions SET lifetime_value = lifetime_value + 1");
    const distinct = await db.sql("SELECT count(DISTINCT updated_at) FROM analytics.subscriptions");
    assertEquals(distinct, "1");
    const r = await syncOnce(db, { BATCH_SIZE: "300" });
    const batches = r.stderr.split("\n").filter((l) => / batch analytics_subscriptions #/.test(l));
    assertEquals(batches.length, Math.ceil(10000 / 300), r.stderr);
    assertMatch(r.stderr, /10,000 rows in 34 batches/);
    assertEquals(await duckDemoRows(db.duckPath), await pgDemoRows(db));
    const dupes = await duckRows(
      db.duckPath,
      "SELECT count(*) - count(DISTINCT id) AS d FROM analytics_subscriptions",
    );
    assertEquals(dupes[0]!.d, "0");
  }));

Deno.test("values arrive exactly: microseconds, numeric, bigint beyond 2^53, text, booleans, nulls", () =>
  withDb({ demo: false }, async (db) => {
    await db.sql(`
      CREATE SCHEMA s AUTHORIZATION ${db.user};
      CREATE TABLE s.exact (
        id bigint PRIMARY KEY,
        big bigint,
        n numeric(38,10),
        money_like numeric(12,2),
        ts timestamptz,
        ts_local timestamp,
        t text,
        flag boolean,
        d date,
        updated_at timestamptz NOT NULL
      );
      ALTER TABLE s.exact OWNER TO ${db.user};
      INSERT INTO s.exact VALUES
        (9223372036854775807, 9007199254740993, 1234567890123456789012345678.0123456789, 0.01,
         '2024-02-29 23:59:59.999999+00', '1999-12-31 23:59:59.000001', 'comma, "quote"\nnewline ünïcødé', true,
         '2024-02-29', '2024-03-01 00:00:00.000001+00'),
        (-9223372036854775808, -9007199254740993, -0.0000000001, -9999999999.99,
         '1970-01-01 00:00:00+00', '2000-01-01 00:00:00', '', false, '0001-01-01', '2024-03-01 00:00:00.000002+00'),
        (0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-03-01 00:00:00.000002+00');`);
    const env = { POSTGRES_SCHEMA: "s", POSTGRES_TABLE: "exact", BATCH_SIZE: "2" };
    await syncOnce(db, env);
    const rows = await duckRows(
      db.duckPath,
      `SELECT id::VARCHAR id, big::VARCHAR big, n::VARCHAR n, money_like::VARCHAR m,
              ts::VARCHAR ts, ts_local::VARCHAR tl, t, flag, d::VARCHAR d,
              typeof(n) tn, typeof(money_like) tm, typeof(big) tb
       FROM s_exact ORDER BY id`,
    );
    assertEquals(rows, [
      {
        id: "-9223372036854775808",
        big: "-9007199254740993",
        n: "-0.0000000001",
        m: "-9999999999.99",
        ts: "1970-01-01 00:00:00+00",
        tl: "2000-01-01 00:00:00",
        t: "",
        flag: false,
        d: "0001-01-01",
        tn: "DECIMAL(38,10)",
        tm: "DECIMAL(12,2)",
        tb: "BIGINT",
      },
      {
        id: "0",
        big: null,
        n: null,
        m: null,
        ts: null,
        tl: null,
        t: null,
        flag: null,
        d: null,
        tn: "DECIMAL(38,10)",
        tm: "DECIMAL(12,2)",
        tb: "BIGINT",
      },
      {
        id: "9223372036854775807",
        big: "9007199254740993",
        n: "1234567890123456789012345678.0123456789",
        m: "0.01",
        ts: "2024-02-29 23:59:59.999999+00",
        tl: "1999-12-31 23:59:59.000001",
        t: 'comma, "quote"\nnewline ünïcødé',
        flag: true,
        d: "2024-02-29",
        tn: "DECIMAL(38,10)",
        tm: "DECIMAL(12,2)",
        tb: "BIGINT",
      },
    ]);
    const s = await status(db, env);
    assertEquals(s[0]!.cursor, "2024-03-01 00:00:00.000002+00");
    assertEquals(s[0]!.key, ["0"]);
    // The checkpoint file holds the cursor as text, not a number or a Date.
    const sqlite = new DatabaseSync(`${db.dir}/state/checkpoint.sqlite`);
    const row = sqlite.prepare("SELECT typeof(cursor) AS t, cursor FROM tables").get() as Record<
      string,
      unknown
    >;
    sqlite.close();
    assertEquals({ ...row }, { t: "text", cursor: "2024-03-01 00:00:00.000002+00" });
  }));

Deno.test("soft-deleted rows stay in DuckDB with their deleted_at", () =>
  withDb({}, async (db) => {
    await syncOnce(db);
    const seeded = await runMain(
      ["seed-changes", "--inserts", "0", "--updates", "0", "--deletes", "5"],
      db.env(),
    );
    assertEquals(seeded.code, 0, seeded.stderr);
    const ids = /soft-deleted 5 \[([\d,]+)\]/.exec(seeded.stdout)![1]!;
    await syncOnce(db);
    const pg = await db.sql(
      `SELECT string_agg(id || '=' || deleted_at::text, ';' ORDER BY id) FROM analytics.subscriptions WHERE id IN (${ids})`,
    );
    const duck = await duckRows(
      db.duckPath,
      `SELECT string_agg(id || '=' || strftime(deleted_at, '%Y-%m-%d %H:%M:%S.%f'), ';' ORDER BY id) AS s
       FROM analytics_subscriptions WHERE id IN (${ids})`,
    );
    assertEquals(
      String(duck[0]!.s).replace(/(\.\d*?)0+(;|$)/g, "$1$2").replace(/\.(;|$)/g, "$1"),
      pg.replace(/\+00/g, ""),
    );
    const live = await db.sql(
      "SELECT count(*) FROM analytics.subscriptions WHERE deleted_at IS NULL",
    );
    const duckLive = await duckRows(
      db.duckPath,
      "SELECT count(*)::VARCHAR AS n FROM analytics_subscriptions WHERE deleted_at IS NULL",
    );
    assertEquals(duckLive[0]!.n, live);
    assertEquals(await duckDemoRows(db.duckPath), await pgDemoRows(db));
  }));

Deno.test("one Parquet file per batch, named by table and cursor range; replay changes nothing", () =>
  withDb({}, async (db) => {
    const r = await syncOnce(db, { BATCH_SIZE: "2500" });
    const files = [...Deno.readDirSync(`${db.dir}/parquet`)].map((e) => e.name).sort();
    // A bootstrap batch is named by its block range, a later one by its cursor
    // range: the re-read of rows written while the copy ran is one, when a
    // transaction elsewhere on the server was open as it began (their inserts
    // then count as written during the copy).
    assert(files.length >= 3 && files.length <= 5, files.join(" "));
    const stamp = String.raw`\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(\.\d+)?Z`;
    for (const [i, f] of files.entries()) {
      assertMatch(
        f,
        i < files.length - 1
          ? /^analytics_subscriptions__0000000\d__(start|block_\d+)__block_\d+_of_\d+\.parquet$/
          : new RegExp(
            `^analytics_subscriptions__0000000\\d__((start|block_\\d+)__block_\\d+_of_\\d+|${stamp}__${stamp})\\.parquet$`,
          ),
      );
    }
    const perFile = await duckRows(
      ":memory:",
      `SELECT count(*)::VARCHAR AS n FROM read_parquet('${db.dir}/parquet/*.parquet')`,
    );
    assertEquals(perFile[0]!.n, "10000");
    assertEquals(r.stderr.split("\n").filter((l) => / batch /.test(l)).length, files.length);

    const before = await duckDemoRows(db.duckPath);
    const replay = await runMain(
      ["replay", ...files.map((f) => `${db.dir}/parquet/${f}`)],
      db.env(),
    );
    assertEquals(replay.code, 0, replay.stderr);
    assertEquals(await duckDemoRows(db.duckPath), before, "replaying every batch changes nothing");

    // Replaying an old batch after rows changed must not bring old versions back.
    await runMain(
      ["seed-changes", "--inserts", "0", "--updates", "50", "--deletes", "0"],
      db.env(),
    );
    await syncOnce(db);
    const current = await duckDemoRows(db.duckPath);
    await runMain(["replay", `${db.dir}/parquet/${files[0]}`], db.env());
    assertEquals(await duckDemoRows(db.duckPath), current);
    assertEquals(current, await pgDemoRows(db));

    // Retention: only the newest PARQUET_KEEP_BATCHES files are kept.
    await runMain(["seed-changes", "--inserts", "5"], db.env());
    await syncOnce(db, { PARQUET_KEEP_BATCHES: "2" });
    assertEquals([...Deno.readDirSync(`${db.dir}/parquet`)].length, 2);
  }));

Deno.test("checkpoint records cursor, key, rows and batch history; status reads it", () =>
  withDb({}, async (db) => {
    await syncOnce(db, { BATCH_SIZE: "5000" });
    const sqlite = new DatabaseSync(`${db.dir}/state/checkpoint.sqlite`);
    const batches = sqlite.prepare("SELECT * FROM batches ORDER BY id").all() as Record<
      string,
      unknown
    >[];
    const table = sqlite.prepare("SELECT * FROM tables").get() as Record<string, unknown>;
    sqlite.close();
    // The block ranges hold every row once; a last batch may read again rows
    // written while the copy ran (a transaction open elsewhere on the server
    // as it began makes the seeded rows count as such).
    assert(batches.length >= 2 && batches.length <= 5, `${batches.length} batches`);
    const ranges = batches.filter((b) => /^block \d+ of \d+$/.test(String(b.cursor_to)));
    assert(batches.length - ranges.length <= 2, batches.map((b) => b.cursor_to).join(", "));
    assertEquals(ranges.reduce((sum, b) => sum + Number(b.rows), 0), 10000);
    for (const b of batches) {
      assert(Number(b.rows) <= 5000 * 1.3, `batch of ${b.rows} rows`);
      assert(Number(b.bytes) > 10_000, `bytes ${b.bytes}`);
      assert(Number(b.duration_ms) > 0);
      assertMatch(String(b.finished_at), /^\d{4}-\d\d-\d\dT/);
    }
    assertEquals(table.rows_copied, 10000);
    assertEquals(table.state, "incremental");
    const text = await runMain(["status"], db.env());
    assertMatch(
      text.stdout,
      new RegExp(
        `analytics_subscriptions \\(analytics.subscriptions on 127\\.0\\.0\\.1:\\d+/t\\w+\\): incremental, cursor \\d{4}-.*10,000 rows copied in ${batches.length} batches`,
      ),
    );
  }));

Deno.test("one log line per batch, or JSON lines with --log-format json", () =>
  withDb({}, async (db) => {
    const r = await syncOnce(db, { BATCH_SIZE: "5000" });
    const lines = r.stderr.trim().split("\n").filter((l) => / batch /.test(l));
    assert(lines.length >= 2 && lines.length <= 3, lines.join("\n"));
    assertMatch(
      lines[1]!,
      /batch analytics_subscriptions #2 bootstrap: [\d,]+ rows, block \d+ \.\. block \d+ of \d+, \d+ ms, [\d,]+ rows\/s/,
    );
    await runMain(["seed-changes"], db.env());
    const json = await runMain(["sync", "--once", "--log-format", "json"], db.env());
    assertEquals(json.code, 0, json.stderr);
    const events = json.stderr.trim().split("\n").map((l) => JSON.parse(l));
    const batch = events.find((e) => e.type === "batch_finished");
    assertEquals(batch.table, "analytics_subscriptions");
    assert(batch.rows >= 2);
    assert(typeof batch.durationMs === "number" && typeof batch.cursorTo === "string");
    // An incremental batch is named by its cursor range.
    assertMatch(batch.cursorFrom, /^\d{4}-\d\d-\d\d \S+$/);
    assertMatch(batch.cursorTo, /^\d{4}-\d\d-\d\d \S+$/);
    assert(events.some((e) => e.type === "cycle_finished"));
  }));

Deno.test("reset forgets only the configured table; other tables in STATE_DIR keep their checkpoints", () =>
  withDb({}, async (db) => {
    await db.sql(
      `CREATE TABLE analytics.plans (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
      ALTER TABLE analytics.plans OWNER TO ${db.user};
      INSERT INTO analytics.plans (id, name) VALUES (1, 'free'), (2, 'pro');`,
    );
    await syncOnce(db);
    await syncOnce(db, { POSTGRES_TABLE: "plans" });
    const r = await runMain(["reset", "--yes"], db.env({ POSTGRES_TABLE: "plans" }));
    assertEquals(r.code, 0, r.stderr);
    const s = await status(db);
    assertEquals(s.map((t) => (t as unknown as { table: string }).table), [
      "analytics_subscriptions",
    ]);
    assertEquals(s[0]!.rowsCopied, 10000);
    // The kept table resumes from its checkpoint: never a new first copy. (Rows
    // inside the safe horizon may be read again when a transaction is open
    // elsewhere on the server, so "up to date" is not promised here.)
    const again = await syncOnce(db);
    assertMatch(again.stderr, /analytics_subscriptions (incremental|.*up to date)|up to date/);
    assertEquals(/bootstrap|first copy/.test(again.stderr), false, again.stderr);
  }));
