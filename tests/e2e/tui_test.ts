// End to end: the real program in a real terminal (tmux) against the test
// PostgreSQL. The four panes appear, `s` inserts a row in Postgres, a query
// typed into the prompt returns the right count from DuckDB, a bad query shows
// an error while the app keeps running, and `q` exits 0.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, MAIN, REPO, sharedCluster } from "../support/fixture.ts";
import { newSession, shellQuote, tmux, waitForScreen } from "../support/tmux.ts";

const cluster = await sharedCluster();

/** Starts main.ts (the UI) in a new tmux session with exactly `env`; its exit code lands in a file. */
async function startApp(
  env: Record<string, string>,
  dir: string,
  columns: number,
  rows: number,
): Promise<{ session: string; exitFile: string }> {
  const session = `pds-e2e-${crypto.randomUUID().slice(0, 8)}`;
  const exitFile = `${dir}/exit-code`;
  const assignments = Object.entries({
    ...env,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/root",
  })
    .map(([k, v]) => `${k}=${shellQuote(v)}`).join(" ");
  const command = `cd ${shellQuote(REPO)} && env -i ${assignments} TERM=xterm-256color ${
    shellQuote(Deno.execPath())
  } run -A ${shellQuote(MAIN)}; echo $? > ${shellQuote(exitFile)}; sleep 30`;
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

Deno.test("terminal UI in tmux: panes, seed key, DuckDB query, bad query, quit", async () => {
  const db = await createTestDb(cluster);
  const { session, exitFile } = await startApp(
    db.env({ SYNC_INTERVAL_SECONDS: "60" }),
    db.dir,
    100,
    30,
  );
  try {
    const first = await waitForScreen(session, /incremental/, 60_000);
    for (const title of ["Checkpoint", "Throughput", "Schema drift", "Query"]) {
      assert(first.includes(title), `pane ${title} missing:\n${first}`);
    }
    assertMatch(first, /postgres:\/\/u_\w+:\*\*\*@127\.0\.0\.1/);
    assert(!first.includes(db.password), "password on screen");
    await waitForScreen(session, /copied 10,000/, 30_000);

    // `s` seeds one insert, one update and one soft delete into Postgres.
    const before = Number(await db.sql("SELECT count(*) FROM analytics.subscriptions"));
    await tmux("send-keys", "-t", session, "s");
    await waitForScreen(session, /seeded: inserted ids? \d+/, 20_000);
    const after = Number(await db.sql("SELECT count(*) FROM analytics.subscriptions"));
    assertEquals(after, before + 1);
    // The seed wakes a cycle: the new row reaches DuckDB.
    await waitForScreen(session, /copied 10,00[1-9]/, 30_000);

    await tmux("send-keys", "-t", session, "Tab");
    await tmux(
      "send-keys",
      "-t",
      session,
      "-l",
      "SELECT count(*) AS n FROM analytics_subscriptions",
    );
    await tmux("send-keys", "-t", session, "Enter");
    const result = await waitForScreen(session, /1 row in \d+ ms/, 20_000);
    assertMatch(result, new RegExp(`│\\s*${after}\\s*│|\\b${after}\\b`));

    await tmux("send-keys", "-t", session, "-l", "SELEC nonsense");
    await tmux("send-keys", "-t", session, "Enter");
    await waitForScreen(session, /error: Query failed: .*syntax error/, 20_000);
    // Still alive: another query works.
    await tmux("send-keys", "-t", session, "-l", "SELECT 40 + 2 AS answer");
    await tmux("send-keys", "-t", session, "Enter");
    await waitForScreen(session, /\b42\b[\s\S]*1 row in/, 20_000);

    await tmux("send-keys", "-t", session, "Escape");
    // A key right after Esc would read as Alt+key, as in any terminal program.
    await new Promise((r) => setTimeout(r, 300));
    await waitForScreen(session, /s seed · r sync now/, 5_000);
    await tmux("send-keys", "-t", session, "q");
    assertEquals(await exitCode(exitFile), "0");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});

Deno.test("terminal UI in tmux with several tables: the Checkpoint pane lists each, a full refresh included; q exits 0", async () => {
  const db = await createTestDb(cluster);
  await db.sql(`
    CREATE TABLE analytics.plans (code text PRIMARY KEY, price numeric(8,2));
    INSERT INTO analytics.plans VALUES ('free', 0), ('pro', 20);
    CREATE TABLE analytics.invoices (id bigint PRIMARY KEY, amount numeric(12,2),
      updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO analytics.invoices (id, amount) SELECT g, g FROM generate_series(1, 500) g;
    ALTER TABLE analytics.plans OWNER TO ${db.user};
    ALTER TABLE analytics.invoices OWNER TO ${db.user};`);
  const { session, exitFile } = await startApp(
    db.env({ SYNC_INTERVAL_SECONDS: "60", POSTGRES_TABLES: "analytics.*" }),
    db.dir,
    120,
    40,
  );
  try {
    const screen = await waitForScreen(
      session,
      /analytics_invoices[\s\S]*analytics_plans[\s\S]*analytics_subscriptions|analytics_plans[\s\S]*analytics_invoices/,
      60_000,
    );
    await waitForScreen(session, /full refresh|refresh 2 rows/, 30_000);
    await waitForScreen(session, /analytics_subscriptions {2}incr 10\.0k copied/, 30_000);
    assert(!screen.includes(db.password), "password on screen");
    await tmux("send-keys", "-t", session, "q");
    assertEquals(await exitCode(exitFile), "0");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});
