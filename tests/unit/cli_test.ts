// The command line without a database: parsing (did-you-mean), flags to
// ConfigFlags, the JSON choice for the fatal line, the fatal line itself, and
// runCli's dispatch and exit codes, with its output captured.

import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { flagsFrom, parseCommandLine, USAGE, wantsJsonLog } from "../../src/cli/args.ts";
import { defaultsHint, fatalLine } from "../../src/cli/fatal.ts";
import { runCli } from "../../src/cli/run.ts";
import { SyncError } from "../../src/core/errors.ts";

const AT = new Date("2024-03-04T05:06:07.089Z");

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: (name) => env[name],
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => AT,
  });
  return { code, out, err };
}

Deno.test("parseCommandLine() names the nearest option to an unknown one", () => {
  let error: unknown;
  try {
    parseCommandLine(["sync", "--bath-size=5"]);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${error}`);
  assertEquals(error.code, "CONFIG_INVALID");
  assertEquals(error.exitCode, 2);
  assertMatch(
    error.message,
    /^Unknown option --bath-size \(did you mean --batch-size\?\); run with --help/,
  );
});

Deno.test("parseCommandLine() splits commands, command options and configuration flags", () => {
  const parsed = parseCommandLine(["query", "SELECT 1", "--format", "csv", "--batch-size=7"]);
  assertEquals(parsed.positionals, ["query", "SELECT 1"]);
  assertEquals(parsed.values.format, "csv");
  assertEquals(flagsFrom(parsed), { "batch-size": "7" });
});

Deno.test("wantsJsonLog() reads LOG_FORMAT and both spellings of --log-format", () => {
  assert(wantsJsonLog([], (name) => (name === "LOG_FORMAT" ? "json" : undefined)));
  assert(wantsJsonLog(["--log-format=json"], () => undefined));
  assert(wantsJsonLog(["--log-format", "json"], () => undefined));
  assert(!wantsJsonLog(["--log-format", "text"], () => undefined));
});

Deno.test("fatalLine() is one line of text or one JSON object", () => {
  const fatal = { type: "fatal", code: "PG_ERROR", message: "a\nb", exitCode: 1 } as const;
  assertEquals(fatalLine(fatal, { json: false, at: AT }), "error PG_ERROR: a b");
  assertEquals(JSON.parse(fatalLine(fatal, { json: true, at: AT, hint: "; hint" })), {
    time: AT.toISOString(),
    type: "fatal",
    code: "PG_ERROR",
    message: "a b; hint",
    exitCode: 1,
  });
});

Deno.test("defaultsHint() only for an unreachable Postgres nobody configured", () => {
  assertMatch(defaultsHint("PG_UNREACHABLE", false), /docker compose up -d postgres/);
  assertEquals(defaultsHint("PG_UNREACHABLE", true), "");
  assertEquals(defaultsHint("PG_AUTH_FAILED", false), "");
});

Deno.test("runCli() prints the usage for --help and help", async () => {
  for (const args of [["--help"], ["help"], ["sync", "-h"]]) {
    const r = await run(args);
    assertEquals(r.code, 0);
    assertEquals(r.out, [USAGE]);
    assertEquals(r.err, []);
  }
  assertMatch(USAGE, /--batch-size/);
});

Deno.test("runCli() turns an unknown command into the one fatal line and exit code 2", async () => {
  const r = await run(["frobnicate"]);
  assertEquals(r.code, 2);
  assertEquals(r.out, []);
  assertEquals(r.err, [
    'error CONFIG_INVALID: Unknown command "frobnicate" (run with --help for usage)',
  ]);
  const json = await run(["frobnicate"], { LOG_FORMAT: "json" });
  assertEquals(JSON.parse(json.err[0]!), {
    time: AT.toISOString(),
    type: "fatal",
    code: "CONFIG_INVALID",
    message: 'Unknown command "frobnicate" (run with --help for usage)',
    exitCode: 2,
  });
});

Deno.test("runCli() refuses --once with --loop", async () => {
  const r = await run(["sync", "--once", "--loop"]);
  assertEquals(r.code, 2);
  assertEquals(r.err, ["error CONFIG_INVALID: Choose one of --once or --loop"]);
});

Deno.test("runCli()'s fatal line never shows the password, from the environment or a flag", async () => {
  const pw = "hunter22-secret";
  const fromEnv = await run(["replay", `/nonexistent/${pw}.parquet`], { POSTGRES_PASSWORD: pw });
  assertEquals(fromEnv.code, 2);
  assertEquals(fromEnv.err, [
    "error CONFIG_INVALID: replay: no such file /nonexistent/***.parquet",
  ]);
  const fromFlag = await run([
    "replay",
    `/nonexistent/${pw}.parquet`,
    `--database-url=postgres://u:${pw}@h/db`,
  ]);
  assertEquals(fromFlag.err, [
    "error CONFIG_INVALID: replay: no such file /nonexistent/***.parquet",
  ]);
});

Deno.test("flag mistakes are told in the product's words, and the fix each names works", async () => {
  const env = { STATE_DIR: await Deno.makeTempDir() };
  const cases: [string[], RegExp, string[]][] = [
    [
      ["status", "--interval", "-1"],
      /^error CONFIG_INVALID: Invalid configuration: --interval="-1" is not a number of at least 0\.1 \(e\.g\. --interval=30\)$/,
      ["status", "--interval=30"],
    ],
    [
      ["status", "--interval"],
      /^error CONFIG_INVALID: --interval needs a value \(e\.g\. --interval 30\)$/,
      ["status", "--interval", "30"],
    ],
    [
      ["status", "--batch-size"],
      /^error CONFIG_INVALID: --batch-size needs a value \(e\.g\. --batch-size 10000\)$/,
      ["status", "--batch-size", "10000"],
    ],
    [
      ["status", "--json=yes"],
      /^error CONFIG_INVALID: --json takes no value \(write --json alone\)$/,
      ["status", "--json"],
    ],
    [
      ["status", "extra"],
      /^error CONFIG_INVALID: status takes no argument, but got "extra" \(options start with --/,
      ["status"],
    ],
    [
      ["status", "json"],
      /^error CONFIG_INVALID: status takes no argument, but got "json" \(did you mean --json\? /,
      ["status", "--json"],
    ],
  ];
  try {
    for (const [args, message, fixed] of cases) {
      const bad = await run(args, env);
      assertEquals(bad.code, 2, args.join(" "));
      assertEquals(bad.err.length, 1);
      assertMatch(bad.err[0]!, message);
      const good = await run(fixed, env);
      assertEquals(good.code, 0, `${fixed.join(" ")}: ${good.err.join("\n")}`);
    }
  } finally {
    await Deno.remove(env.STATE_DIR, { recursive: true });
  }
});
