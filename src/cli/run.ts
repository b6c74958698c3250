// Owns the command line as a whole: parses the arguments, dispatches to the
// command's module, and turns any failure into the one fatal line and its exit
// code (2 = configuration, 1 = runtime). Returns the code; the caller exits.

import { loadConfig, secretsOf } from "../core/config.ts";
import { postgresConfigured } from "../demo/demo.ts";
import { fatalEvent } from "../host/scrub_event.ts";
import {
  configFrom,
  type EnvLookup,
  flagsFrom,
  parseCommandLine,
  refuseStrayArguments,
  USAGE,
  UsageError,
  wantsJsonLog,
} from "./args.ts";
import type { CliContext, StartTui } from "./context.ts";
import { defaultsHint, fatalLine } from "./fatal.ts";
import { commandQuery } from "./query.ts";
import { commandReplay } from "./replay.ts";
import { commandReset } from "./reset.ts";
import { commandSeed } from "./seed.ts";
import { commandStatus } from "./status.ts";
import { commandSync } from "./sync.ts";
import { commandTui } from "./tui.ts";
import { commandVerify } from "./verify.ts";

export interface RunCliOptions {
  /** The terminal UI (it lives above src/); without it the UI commands fail. */
  readonly startTui?: StartTui;
  /** The environment (default: the process's). */
  readonly env?: EnvLookup;
  /** Result lines (default: stdout). */
  readonly out?: (line: string) => void;
  /** Log lines and the fatal line (default: stderr). */
  readonly err?: (line: string) => void;
  readonly now?: () => Date;
}

/** Runs the command `args` name; resolves to the process's exit code. */
export async function runCli(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const err = options.err ?? ((line: string) => console.error(line));
  try {
    const parsed = parseCommandLine(args);
    const ctx: CliContext = {
      parsed,
      env,
      out: options.out ?? ((line: string) => console.log(line)),
      err,
      startTui: options.startTui,
    };
    return await dispatch(ctx);
  } catch (error) {
    const fatal = fatalEvent(error, secretsFor(args, env));
    err(fatalLine(fatal, {
      json: wantsJsonLog(args, env),
      at: (options.now ?? (() => new Date()))(),
      hint: defaultsHint(fatal.code, configuredByArgs(args, env)),
    }));
    return fatal.exitCode;
  }
}

async function dispatch(ctx: CliContext): Promise<number> {
  const command = ctx.parsed.positionals[0];
  if (ctx.parsed.values.help || command === "help") {
    ctx.out(USAGE);
    return 0;
  }
  refuseStrayArguments(ctx.parsed);
  if (ctx.parsed.values.target !== undefined && command !== "reset") {
    throw new UsageError("--target is an option of reset only (reset --yes --target T)");
  }
  switch (command) {
    case "sync":
      return await commandSync(ctx);
    case "status":
      return commandStatus(ctx);
    case "verify":
      return await commandVerify(ctx);
    case "query":
      return await commandQuery(ctx);
    case "seed-changes":
      return await commandSeed(ctx);
    case "reset":
      return await commandReset(ctx);
    case "replay":
      return await commandReplay(ctx);
    case undefined:
    case "tui":
      return await commandTui(ctx, false);
    case "demo":
      return await commandTui(ctx, true);
    default:
      throw new UsageError(`Unknown command "${command}" (run with --help for usage)`);
  }
}

/** The configured secrets: from the environment and flags, else the environment alone, else none. */
function secretsFor(args: readonly string[], env: EnvLookup): string[] {
  try {
    return secretsOf(configFrom(parseCommandLine(args), env));
  } catch {
    try {
      return secretsOf(loadConfig(env, {}, (path) => Deno.readTextFileSync(path)));
    } catch {
      return [];
    }
  }
}

/** Whether the arguments or environment name a Postgres (false when they do not parse). */
function configuredByArgs(args: readonly string[], env: EnvLookup): boolean {
  try {
    return postgresConfigured(env, flagsFrom(parseCommandLine(args)));
  } catch {
    return true;
  }
}
