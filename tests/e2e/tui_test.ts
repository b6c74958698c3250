// End to end: the real program in a real terminal (tmux) against the test
// PostgreSQL. At 80x24: the panes and the health badge appear, `s` inserts a
// row in Postgres, the prompt edits like a shell's (Left, Ctrl+W), a
// multi-line paste is kept and runs, a failed query stays in the prompt, `q`
// exits 0 leaving no frames in the scrollback, and the prompt history survives
// a restart. With 20 tables: a failed table turns red and the badge degraded,
// the Tables pane scrolls to the last table, an outage turns the rows to
// "retrying" with "last good", and the UI recovers when PostgreSQL is back.

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import { createTestDb, freePortForTest, MAIN, REPO, sharedCluster } from "../support/fixture.ts";
import { newSession, shellQuote, tmux, waitForScreen } from "../support/tmux.ts";
import { manyTablesSql } from "../support/many_tables.ts";
import { TcpProxy } from "./tcp_proxy.ts";

const cluster = await sharedCluster();

/** Starts main.ts (the UI) in a new tmux session with exactly `env`; its exit code lands in a file. */
async function startApp(
  env: Record<string, string>,
  dir: string,
  columns: number,
  rows: number,
): Promise<{ session: string; exitFile: string }> {
  const session = `pds-e2e-${crypto.randomUUID().slice(0, 8)}`;
  const exitFile = `${dir}/exit-code-${session}`;
  const assignments = Object.entries({
    ...env,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/root",
  })
    .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
  const command = `cd ${shellQuote(REPO)} && env -i ${assignments} TERM=xterm-256color ${
    shellQuote(Deno.execPath())
  } run -A ${shellQuote(MAIN)} --state-dir ${
    shellQuote(env.STATE_DIR ?? `${dir}/state`)
  }; echo $? > ${shellQuote(exitFile)}; sleep 30`;
  await newSession(session, columns, rows, command);
  return { session, exitFile };
}

/** The app's exit code once it has quit (or null after 20 s). */
async function exitCode(exitFile: string): Promise<string | null> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const code = await Deno.readTextFile(exitFile).catch(() => null);
    if (code !== null) return code.trim();
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

/** The pid of the program (deno running main.ts) whose command line names `marker`. */
async function programPid(marker: string): Promise<number> {
  const out = await new Deno.Command("pgrep", { args: ["-f", marker], stdout: "piped" }).output();
  for (const pid of new TextDecoder().decode(out.stdout).trim().split("\n").filter(Boolean)) {
    const argv = (await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "")).split("\0");
    if (argv[0]?.endsWith("deno") && argv.some((a) => a.endsWith("main.ts"))) return Number(pid);
  }
  throw new Error(`no program running with ${marker}`);
}

const keys = (session: string, ...k: string[]) => tmux("send-keys", "-t", session, ...k);
const text = (session: string, s: string) => tmux("send-keys", "-t", session, "-l", s);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("terminal UI in tmux at 80x24: seed, prompt editing, multi-line paste, failed query kept, clean quit, history across restarts", async () => {
  const db = await createTestDb(cluster);
  const env = db.env({ SYNC_INTERVAL_SECONDS: "60" });
  let { session, exitFile } = await startApp(env, db.dir, 80, 24);
  try {
    const first = await waitForScreen(session, /analytics_subscriptions +in sync +as of/, 60_000);
    for (const title of ["1 Tables", "Throughput", "2 Events", "3 Query"]) {
      assert(first.includes(title), `pane ${title} missing:\n${first}`);
    }
    assertMatch(first, /^ healthy /m);
    assert(!first.includes(db.password), "password on screen");

    // `s` seeds one insert, one update and one soft delete into Postgres.
    const before = Number(await db.sql("SELECT count(*) FROM analytics.subscriptions"));
    await keys(session, "s");
    await waitForScreen(session, /seeded: inserted ids? \d+/, 20_000);
    assertEquals(
      Number(await db.sql("SELECT count(*) FROM analytics.subscriptions")),
      before + 1,
    );

    // Explicit focus: / enters the prompt; Left and Ctrl+W edit in the middle.
    await keys(session, "/");
    await text(session, "SELECT 4 AS answer oops");
    await keys(session, "C-w");
    // "SELECT 4 AS answer " with the caret at its end: back to just after the 4.
    for (let i = 0; i < 11; i++) await keys(session, "Left");
    await text(session, "0 + 2");
    await waitForScreen(session, /duckdb> SELECT 40 \+ 2 AS answer/, 5_000);
    await keys(session, "Enter");
    await waitForScreen(session, /answer[\s\S]*\b42\b[\s\S]*1 row in \d+ ms/, 20_000);

    // A failed query stays in the prompt with its error.
    await text(session, "SELEC nonsense");
    await keys(session, "Enter");
    const failed = await waitForScreen(session, /error: [^│]*[\s\S]*syntax\s/, 20_000);
    assertMatch(failed, /duckdb> SELEC nonsense/);
    await keys(session, "C-u");

    // A multi-line paste (bracketed) is kept as written: the comment ends at its line.
    const buffer = `${db.dir}/paste.sql`;
    await Deno.writeTextFile(buffer, "SELECT 1 AS a, -- the first\n  2 AS b");
    await tmux("load-buffer", "-b", "pds", buffer);
    await tmux("paste-buffer", "-p", "-b", "pds", "-t", session);
    await waitForScreen(
      session,
      /duckdb> SELECT 1 AS a, -- the first[^\n]*\n.*\.\.\.> {3}2 AS b/,
      5_000,
    );
    await keys(session, "Enter");
    await waitForScreen(session, /a +│ b[\s\S]*1 row in/, 20_000);
    await keys(session, "C-u");

    // A long query shows a timer; Esc cancels it in DuckDB and the UI goes on.
    await text(session, "SELECT count(*) FROM range(10000000000000) a");
    await keys(session, "Enter");
    await waitForScreen(session, /running \d+(\.\d+)?s?.*cancels the query/, 20_000);
    await keys(session, "Escape");
    await waitForScreen(session, /query cancelled/, 20_000);
    await keys(session, "C-u");
    await text(session, "SELECT 7 AS after");
    await keys(session, "Enter");
    await waitForScreen(session, /after[\s\S]*\b7\b[\s\S]*1 row in/, 20_000);

    await keys(session, "Escape");
    // A key right after Esc would read as Alt+key, as in any terminal program.
    await pause(300);
    await keys(session, "q");
    assertEquals(await exitCode(exitFile), "0");
    // The alternate screen: nothing of the UI is left in the scrollback.
    const history = await tmux("capture-pane", "-t", session, "-p", "-S", "-2000");
    assertNotMatch(history, /╭─|duckdb>/);
    await tmux("kill-session", "-t", session).catch(() => "");

    // History survives a restart (kept in STATE_DIR).
    ({ session, exitFile } = await startApp(env, db.dir, 80, 24));
    await waitForScreen(session, /analytics_subscriptions +in sync/, 60_000);
    await keys(session, "/");
    await keys(session, "Up");
    await waitForScreen(session, /duckdb> SELECT 7 AS after/, 5_000);
    await keys(session, "Up");
    await waitForScreen(session, /duckdb> SELECT count\(\*\) FROM range/, 5_000);
    await keys(session, "Up");
    await waitForScreen(
      session,
      /duckdb> SELECT 1 AS a, -- the first[^\n]*\n.*\.\.\.> {3}2 AS b/,
      5_000,
    );
    await keys(session, "Up");
    await waitForScreen(session, /duckdb> SELEC nonsense/, 5_000);
    // SIGTERM quits cleanly too, and leaves the alternate screen.
    Deno.kill(await programPid(env.STATE_DIR!), "SIGTERM");
    assertEquals(await exitCode(exitFile), "0");
    assertNotMatch(await tmux("capture-pane", "-t", session, "-p", "-S", "-2000"), /╭─|duckdb>/);
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});

Deno.test("terminal UI in tmux with 20 tables: a failed table red and the badge degraded, the Tables pane scrolls, an outage and recovery", async () => {
  const db = await createTestDb(cluster, { demo: false });
  await db.sql(manyTablesSql(20, 30));
  await db.sql(`ALTER SCHEMA many OWNER TO ${db.user};
    DO $$ DECLARE t text; BEGIN
      FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'many' LOOP
        EXECUTE format('ALTER TABLE many.%I OWNER TO ${db.user}', t);
      END LOOP; END $$;
    REVOKE SELECT ON many.t007 FROM ${db.user};`);
  const proxy = new TcpProxy(freePortForTest(), { hostname: "127.0.0.1", port: cluster.port });
  proxy.start();
  const { session, exitFile } = await startApp(
    db.env({
      SYNC_INTERVAL_SECONDS: "5",
      POSTGRES_TABLES: "many.*",
      POSTGRES_PORT: String(proxy.port),
    }),
    db.dir,
    80,
    24,
  );
  try {
    // The failed table comes first, red, and the badge says degraded.
    await waitForScreen(session, /╭─ 1 Tables \(20\)/, 90_000);
    const degraded = await waitForScreen(session, /^ degraded: 1 failed /m, 30_000);
    assertMatch(degraded, /╭─ 1 Tables \(20\)[^\n]*\n│ many_t007 +failed +PG_/);
    await waitForScreen(session, /many_t000 +in sync +as of/, 30_000);
    const tablesPane = async () =>
      (await tmux("capture-pane", "-t", session, "-p")).split("\n").slice(0, 8).join("\n");
    assertNotMatch(await tablesPane(), /many_t019/);
    // The Tables pane scrolls to the last table.
    await keys(session, "G");
    await waitForScreen(session, /\d+-20 of 20[\s\S]*many_t019 +in sync/, 5_000);
    await keys(session, "g");

    // Outage: PostgreSQL unreachable. Everything turns red with "last good".
    proxy.stop();
    await keys(session, "r");
    const down = await waitForScreen(session, /^ down +retrying/m, 30_000);
    assertMatch(down, /many_t000 +retrying +last good \d+(s|m \d+s) ago/);
    assertNotMatch(down, /in sync/);

    // Recovery.
    proxy.start();
    await waitForScreen(session, /many_t000 +in sync/, 60_000);
    await waitForScreen(session, /^ degraded: 1 failed /m, 10_000);

    // Resizing redraws at the new size: 200x50 shows the detail columns.
    await tmux("resize-window", "-t", session, "-x", "200", "-y", "50");
    await waitForScreen(session, /many_t000 +in sync +as of \S+ +\d+ +\d{4}-\d\d-\d\d /, 10_000);
    await tmux("resize-window", "-t", session, "-x", "80", "-y", "24");
    await keys(session, "q");
    assertEquals(await exitCode(exitFile), "0");
  } finally {
    proxy.stop();
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});
