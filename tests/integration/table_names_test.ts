// Table names that need quoting (spaces, dots, quotes, upper case, glob
// characters) against a real PostgreSQL and a real DuckDB file: selected through
// POSTGRES_TABLES and through a sync file, synced and compared row for row; and
// every command a message suggests for them run exactly as printed, in a shell.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, MAIN, REPO, runMain, type TestDb } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";

/** Schemas and tables with names that need quoting, owned by the sync role. */
const names = (fn: (db: TestDb) => Promise<void>) =>
  withDb({
    demo: false,
    setup: `CREATE SCHEMA "SalesEU"; CREATE SCHEMA "my.schema";
    CREATE TABLE "SalesEU"."order items" (
      id bigint PRIMARY KEY, "item name" text, qty numeric(10,2),
      changed_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO "SalesEU"."order items" (id, "item name", qty)
      SELECT g, 'item ' || g || ' "x", y', g * 1.5 FROM generate_series(1, 50) g;
    CREATE TABLE "SalesEU"."it's ""q"".x" (
      id int PRIMARY KEY, note text, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO "SalesEU"."it's ""q"".x" (id, note) SELECT g, 'n' || g FROM generate_series(1, 5) g;
    CREATE TABLE "SalesEU"."w!t" (id int PRIMARY KEY, v text);
    INSERT INTO "SalesEU"."w!t" VALUES (1, 'bang'), (2, 'bang'), (3, 'bang');
    CREATE TABLE "SalesEU"."w?t" (id int PRIMARY KEY, v text);
    INSERT INTO "SalesEU"."w?t" VALUES (11, 'what'), (12, 'what'), (13, 'what');
    CREATE TABLE "my.schema".t (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO "my.schema".t SELECT g FROM generate_series(1, 7) g;`,
  }, fn);

/** Rows of a Postgres query as "a|b|c" lines. */
async function pgLines(db: TestDb, sql: string): Promise<string[]> {
  const client = await db.client();
  try {
    return (await client.query(sql)).rows.map((r: Record<string, unknown>) =>
      Object.values(r).join("|")
    );
  } finally {
    await client.end();
  }
}

async function duckLines(path: string, sql: string): Promise<string[]> {
  return (await duckRows(path, sql)).map((r) => Object.values(r).join("|"));
}

const ORDER_ITEMS_PG =
  `SELECT id::text AS k, "item name", qty::text FROM "SalesEU"."order items" ORDER BY id`;
const orderItemsDuck = (table: string) =>
  `SELECT id::VARCHAR AS k, "item name", qty::VARCHAR FROM "${table}" ORDER BY id`;
const QUOTED_PG = `SELECT id::text AS k, note FROM "SalesEU"."it's ""q"".x" ORDER BY id`;
const QUOTED_DUCK = `SELECT id::VARCHAR AS k, note FROM "SalesEU_it's ""q"".x" ORDER BY id`;

/** The one `POSTGRES_TABLES=... reset --yes` command a message suggests. */
function suggestedReset(output: string): string {
  const commands = [...output.matchAll(/`(POSTGRES_TABLES=[^`]*reset --yes)`/g)].map((m) => m[1]!);
  assertEquals(commands.length, 1, output);
  return commands[0]!;
}

/**
 * Runs a suggested command exactly as printed, through bash, where `reset` is
 * this program's reset command.
 */
async function inShell(command: string, env: Record<string, string>) {
  const script = `reset() { "${Deno.execPath()}" run -A "${MAIN}" reset "$@"; }\n${command}`;
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    env: { ...env, NO_COLOR: "1" },
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("names with spaces, quotes and dots sync through POSTGRES_TABLES; status and files name them; the GRANT a refusal suggests works", () =>
  names(async (db) => {
    const env = db.env({
      POSTGRES_TABLES: `"SalesEU"."order items", SalesEU."it's ""q"".x"`,
      SYNC_LOOKBACK_SECONDS: "0",
    });
    const path = env.DUCKDB_PATH!;
    const r = await runMain(["sync", "--once"], env);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      await duckLines(path, orderItemsDuck("SalesEU_order items")),
      await pgLines(db, ORDER_ITEMS_PG),
    );
    assertEquals((await duckLines(path, QUOTED_DUCK)).length, 5);
    assertEquals(await duckLines(path, QUOTED_DUCK), await pgLines(db, QUOTED_PG));

    const status = await runMain(["status"], env);
    assertEquals(status.code, 0, status.stderr);
    assertMatch(status.stdout, /^SalesEU_order items \(SalesEU\."order items" on /m);
    assertMatch(status.stdout, /^SalesEU_it's "q"\.x \(SalesEU\."it's ""q""\.x" on /m);
    const files = [...Deno.readDirSync(env.PARQUET_DIR!)].map((f) => f.name);
    assert(files.some((f) => f.startsWith("SalesEU_order items__")), files.join(" "));
    assert(files.some((f) => f.startsWith(`SalesEU_it's "q".x__`)), files.join(" "));

    // Refused access names the table as SQL reads it; the GRANT, run as printed, fixes it.
    await db.sql(`REVOKE SELECT ON "SalesEU"."order items" FROM ${db.user}`);
    const denied = await runMain(["sync", "--once"], env);
    assertEquals(denied.code, 2, denied.stderr);
    const grant = /e\.g\. (GRANT SELECT ON [^)]*)\)/.exec(denied.stderr)?.[1];
    assertEquals(grant, `GRANT SELECT ON "SalesEU"."order items" TO ${db.user}`, denied.stderr);
    await db.sql(grant!);
    const granted = await runMain(["sync", "--once"], env);
    assertEquals(granted.code, 0, granted.stderr);

    // A bad entry is refused with the quoted form to write instead.
    const bad = await runMain(
      ["sync", "--once"],
      { ...env, POSTGRES_TABLES: "SalesEU.order items" },
    );
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(
      bad.stderr,
      /POSTGRES_TABLES entry `SalesEU\.order items` is not schema\.table or schema\.\* \(.*write it as SalesEU\."order items"/,
    );
  }));

Deno.test("a table named w?t loads only its own batch files, not those of w!t", () =>
  names(async (db) => {
    const env = db.env({ SYNC_LOOKBACK_SECONDS: "0" });
    const bang = await runMain(["sync", "--once"], { ...env, POSTGRES_TABLES: 'SalesEU."w!t"' });
    assertEquals(bang.code, 0, bang.stderr);
    const what = await runMain(["sync", "--once"], { ...env, POSTGRES_TABLES: 'SalesEU."w?t"' });
    assertEquals(what.code, 0, what.stderr);
    assertEquals(
      await duckLines(env.DUCKDB_PATH!, `SELECT id, v FROM "SalesEU_w?t" ORDER BY id`),
      ["11|what", "12|what", "13|what"],
    );
    assertEquals(
      await duckLines(env.DUCKDB_PATH!, `SELECT id, v FROM "SalesEU_w!t" ORDER BY id`),
      ["1|bang", "2|bang", "3|bang"],
    );
  }));

Deno.test("a sync file selects and configures quoted names; the reset commands its messages suggest work when pasted in a shell", () =>
  names(async (db) => {
    const file = `${db.dir}/sync.json`;
    const write = (include: string[], orderItems: Record<string, unknown>) =>
      Deno.writeTextFileSync(
        file,
        JSON.stringify({
          include,
          tables: { '"SalesEU"."order items"': { target: "orders_eu", ...orderItems } },
        }),
      );
    const all = ['"SalesEU"."order items"', `SalesEU."it's ""q"".x"`, '"my.schema".*'];
    write(all, {});
    const env = db.env({ SYNC_CONFIG: file, SYNC_LOOKBACK_SECONDS: "0" });
    const path = env.DUCKDB_PATH!;
    const first = await runMain(["sync", "--once"], env);
    assertEquals(first.code, 0, first.stderr);
    assertEquals(
      await duckLines(path, orderItemsDuck("orders_eu")),
      await pgLines(db, ORDER_ITEMS_PG),
    );
    assertEquals(await duckLines(path, QUOTED_DUCK), await pgLines(db, QUOTED_PG));
    assertEquals(
      await duckLines(path, `SELECT id FROM "my.schema_t" ORDER BY id`),
      await pgLines(db, `SELECT id FROM "my.schema".t ORDER BY id`),
    );

    // A wildcard matching nothing is named as written, with the file to check.
    Deno.writeTextFileSync(file, JSON.stringify({ include: ['"No such".*'] }));
    const none = await runMain(["sync", "--once"], env);
    assertEquals(none.code, 2, none.stderr);
    assertMatch(
      none.stderr,
      /error TABLE_MISSING: No table to sync: "No such"\.\* matches no table .*the "include" of .*sync\.json/,
    );

    // A bad include entry names the sync file, not POSTGRES_TABLES.
    Deno.writeTextFileSync(file, JSON.stringify({ include: ["SalesEU.order items"] }));
    const bad = await runMain(["sync", "--once"], env);
    assertEquals(bad.code, 2, bad.stderr);
    assertMatch(
      bad.stderr,
      new RegExp(
        `${
          file.replaceAll(".", "\\.")
        }: "include" entry "SalesEU\\.order items" is not schema\\.table`,
      ),
    );
    assert(!bad.stderr.includes("POSTGRES_TABLES"), bad.stderr);

    // A changed cursor is refused with a reset command; pasted in a shell, it works.
    write(all, { cursor: "changed_at" });
    const changed = await runMain(["sync", "--once"], env);
    assertEquals(changed.code, 2, changed.stderr);
    assertMatch(changed.stderr, /error KEYSET_CHANGED in table orders_eu: /);
    const reset = suggestedReset(changed.stderr);
    assertEquals(reset, `POSTGRES_TABLES='SalesEU."order items"' reset --yes`);
    const didReset = await inShell(reset, env);
    assertEquals(didReset.code, 0, didReset.stdout + didReset.stderr);
    assertMatch(didReset.stdout, /DuckDB table orders_eu dropped/);
    const again = await runMain(["sync", "--once"], env);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(
      await duckLines(path, orderItemsDuck("orders_eu")),
      await pgLines(db, ORDER_ITEMS_PG),
    );

    // A table no longer selected gets a notice with its reset command; that works too.
    write(['"SalesEU"."order items"', '"my.schema".*'], { cursor: "changed_at" });
    const dropped = await runMain(["sync", "--once"], env);
    assertEquals(dropped.code, 0, dropped.stderr);
    const forget = suggestedReset(dropped.stderr);
    assertEquals(forget, `POSTGRES_TABLES='SalesEU."it'\\''s ""q"".x"' reset --yes`);
    const didForget = await inShell(forget, env);
    assertEquals(didForget.code, 0, didForget.stdout + didForget.stderr);
    assertMatch(didForget.stdout, /DuckDB table SalesEU_it's "q"\.x dropped/);
    const status = await runMain(["status"], env);
    assert(!status.stdout.includes("it's"), status.stdout);
    assertMatch(status.stdout, /^orders_eu \(SalesEU\."order items" on /m);
    assertEquals(
      await duckRows(
        path,
        `SELECT table_name FROM information_schema.tables
                            WHERE table_schema = 'main' ORDER BY 1`,
      ),
      [{ table_name: "my.schema_t" }, { table_name: "orders_eu" }],
    );
  }));
