// End to end: the terminal UI in a real terminal (tmux) with METRICS_PORT set
// serves /metrics and /healthz while it runs; with the port in use it never
// opens: one error line, exit 2.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { createTestDb, freePortForTest, MAIN, REPO, sharedCluster } from "../support/fixture.ts";
import { newSession, shellQuote, tmux, waitForScreen } from "../support/tmux.ts";

const cluster = await sharedCluster();

/** Starts main.ts (the UI) in a new tmux session with exactly `env`; its exit code lands in a file. */
async function startApp(
  env: Record<string, string>,
  dir: string,
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
  await newSession(session, 100, 30, command);
  return { session, exitFile };
}

async function exitCode(exitFile: string): Promise<string | null> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const code = await Deno.readTextFile(exitFile).catch(() => null);
    if (code !== null) return code.trim();
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

Deno.test("terminal UI with METRICS_PORT: /metrics and /healthz answer while it runs", async () => {
  const db = await createTestDb(cluster);
  const port = freePortForTest();
  const { session, exitFile } = await startApp(
    db.env({ SYNC_INTERVAL_SECONDS: "60", METRICS_PORT: String(port) }),
    db.dir,
  );
  try {
    await waitForScreen(session, /analytics_subscriptions +in sync +as of/, 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assertMatch(metrics, /\npds_rows_copied_total\{table="analytics_subscriptions"\} 10000\n/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assertEquals(health.status, 200);
    assertMatch(await health.text(), /^ok: /);
    await tmux("send-keys", "-t", session, "q");
    assertEquals(await exitCode(exitFile), "0");
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});

Deno.test("terminal UI with METRICS_PORT in use: one error line naming the fix, exit 2, no UI", async () => {
  const db = await createTestDb(cluster);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = (listener.addr as Deno.NetAddr).port;
  const { session, exitFile } = await startApp(db.env({ METRICS_PORT: String(busy) }), db.dir);
  try {
    assertEquals(await exitCode(exitFile), "2");
    const screen = await waitForScreen(session, /METRICS_UNAVAILABLE/, 5_000);
    // One line, wrapped by the 100-column terminal.
    assertMatch(
      screen.replaceAll("\n", "").trim(),
      new RegExp(
        `error METRICS_UNAVAILABLE: Cannot serve metrics on 127\\.0\\.0\\.1:${busy}: the port is in use \\(set METRICS_PORT to a free port, or stop the program using ${busy}\\)$`,
      ),
    );
    assertEquals(screen.includes("Checkpoint"), false, screen);
  } finally {
    listener.close();
    await tmux("kill-session", "-t", session).catch(() => "");
    await db.cleanup();
  }
});
