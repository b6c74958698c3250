// Zero set-up: a fresh clone with no Postgres configured. `deno task start`
// runs the embedded demo database, rows reach lake/warehouse.duckdb, `q` exits
// 0, a second start resumes instead of bootstrapping again, and seed-changes
// changes the demo table.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { REPO } from "../support/fixture.ts";
import { newSession, tmux, waitForScreen } from "../support/tmux.ts";

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function startAndQuit(dir: string, exitFile: string, check: (screen: string) => void) {
  const session = `pds-demo-${crypto.randomUUID().slice(0, 8)}`;
  const deno = Deno.execPath();
  await newSession(
    session,
    100,
    30,
    `cd '${dir}' && env -i PATH='${Deno.env.get("PATH")}' HOME='${
      Deno.env.get("HOME")
    }' TERM=xterm-256color '${deno}' task start; echo $? > '${exitFile}'; sleep 30`,
  );
  try {
    const screen = await waitForScreen(
      session,
      /analytics_subscriptions +in sync[\s\S]*embedded demo database/,
      120_000,
    );
    check(screen);
    await tmux("send-keys", "-t", session, "q");
    const deadline = Date.now() + 30_000;
    let code: string | null = null;
    while (code === null && Date.now() < deadline) {
      code = await Deno.readTextFile(exitFile).catch(() => null);
      await new Promise((r) => setTimeout(r, 250));
    }
    assertEquals(code?.trim(), "0", "q exits 0");
    await Deno.remove(exitFile);
  } finally {
    await tmux("kill-session", "-t", session).catch(() => "");
  }
}

Deno.test("fresh clone, no Postgres configured: the demo syncs, quits cleanly, resumes, and seeds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-clone-" });
  try {
    const clone = await run("git", ["clone", "--quiet", REPO, dir], "/", {
      PATH: Deno.env.get("PATH") ?? "",
    });
    assertEquals(clone.code, 0, clone.stderr);
    const env = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/root" };
    const exitFile = `${dir}/.exit-code`;

    await startAndQuit(dir, exitFile, (screen) => {
      for (const title of ["1 Tables", "Throughput", "2 Events", "3 Query"]) {
        assert(screen.includes(title), title);
      }
    });
    const count = await run(
      Deno.execPath(),
      [
        "run",
        "-A",
        "main.ts",
        "query",
        "SELECT count(*) AS n FROM analytics_subscriptions",
        "--format",
        "csv",
      ],
      dir,
      env,
    );
    assertEquals(count.code, 0, count.stderr);
    assertEquals(count.stdout.trim(), "n\n10000");
    const status1 = JSON.parse(
      (await run(Deno.execPath(), ["run", "-A", "main.ts", "status", "--json"], dir, env)).stdout,
    );

    // Second start: resumes incremental, copies nothing again.
    await startAndQuit(dir, exitFile, (screen) => {
      assertMatch(screen, /in sync/);
      assert(!/copying/.test(screen), screen);
    });
    const status2 = JSON.parse(
      (await run(Deno.execPath(), ["run", "-A", "main.ts", "status", "--json"], dir, env)).stdout,
    );
    assertEquals(status2[0].rowsCopied, status1[0].rowsCopied, "nothing re-copied");
    assertEquals(status2[0].mode, "incremental");

    // seed-changes against the demo (no UI running: it opens the embedded database itself).
    const seed = await run(Deno.execPath(), ["task", "seed"], dir, env);
    assertEquals(seed.code, 0, seed.stderr);
    assertMatch(seed.stdout, /inserted 1 \[10001\], updated 1 \[\d+\], soft-deleted 1 \[\d+\]/);
    const once = await run(Deno.execPath(), ["run", "-A", "main.ts", "demo", "--once"], dir, env);
    assertEquals(once.code, 0, once.stderr);
    assertMatch(once.stderr, /incremental: 3 rows/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
