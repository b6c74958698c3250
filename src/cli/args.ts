// Owns the command line's vocabulary: the usage text, the commands' own
// options, parsing (an unknown option gets a did-you-mean), and the Config
// built from the environment and the configuration flags.

import { parseArgs } from "node:util";
import { type Config, type ConfigFlags, FLAG_TO_ENV, loadConfig } from "../core/config.ts";
import { optionsUsage, type Setting, SETTINGS } from "../core/settings.ts";
import { errorMessage, SyncError } from "../core/errors.ts";
import { closest } from "../core/did_you_mean.ts";

export const USAGE = `postgres-duckdb-sync: keep a DuckDB copy of live PostgreSQL tables

Usage: deno run -A main.ts [command] [options]

Commands:
  (none) or tui            the terminal UI (the headless loop when not on a terminal);
                           with no Postgres configured it runs the embedded demo database
  demo                     the terminal UI on the embedded demo database, always
  sync --once              one cycle (bootstrap on first run, incremental after)
  sync --loop              a cycle every SYNC_INTERVAL_SECONDS until SIGINT/SIGTERM
  status [--json]          per table: mode, cursor, key, rows copied, last batch
  verify [--json] [--repair]
                           compare every table with Postgres by key-bucket checksums;
                           exit 1 naming the tables that differ; --repair re-copies them
  query "SQL" [--format table|csv|json]
                           run SQL on the DuckDB file (read-only)
  seed-changes [--inserts N --updates N --deletes N]
                           live changes into the demo table
  reset [--yes] [--force]  remove the state so the next run bootstraps again (--force: also
                           a DuckDB table this STATE_DIR has no checkpoint for)
  reset --yes --target T   remove DuckDB table T, its checkpoint and batch files, whatever
                           is selected (e.g. a table left behind when its "target" changed)
  replay FILE...           re-apply Parquet batch files (never regresses a newer row)

Options (each overrides its environment variable; see the README's Configuration):
${optionsUsage()}`;

/** A mistake on the command line: exit code 2. */
export class UsageError extends SyncError {
  constructor(message: string) {
    super("CONFIG_INVALID", message, { exitCode: 2 });
  }
}

/** Options of the commands themselves (the configuration flags are FLAG_TO_ENV). */
const COMMAND_OPTIONS = {
  once: { type: "boolean" },
  loop: { type: "boolean" },
  json: { type: "boolean" },
  repair: { type: "boolean" },
  force: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  format: { type: "string" },
  target: { type: "string" },
  inserts: { type: "string" },
  updates: { type: "string" },
  deletes: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Parses the arguments; a UsageError names an unknown option's nearest known one. */
export function parseCommandLine(args: readonly string[]) {
  const configOptions = Object.fromEntries(
    Object.keys(FLAG_TO_ENV).map((flag) => [flag, { type: "string" as const }]),
  );
  const options = { ...configOptions, ...COMMAND_OPTIONS };
  try {
    return parseArgs({
      args: withNegatives(args, options),
      allowPositionals: true,
      strict: true,
      options,
    });
  } catch (error) {
    const message = errorMessage(error);
    const missing = /^Option '(-[a-z], )?--([a-z-]+)(?: <value>)?' argument (missing|is ambiguous)/
      .exec(message);
    if (missing) {
      throw new UsageError(`--${missing[2]} needs a value (e.g. ${exampleOf(missing[2]!)})`);
    }
    const takesNone = /^Option '(-[a-z], )?--([a-z-]+)' does not take an argument/.exec(message);
    if (takesNone) {
      throw new UsageError(`--${takesNone[2]} takes no value (write --${takesNone[2]} alone)`);
    }
    const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
    if (unknown) {
      const known = [...Object.keys(FLAG_TO_ENV), ...Object.keys(COMMAND_OPTIONS)];
      const near = closest(unknown.replace(/^-+/, "").split("=")[0]!, known);
      throw new UsageError(
        `Unknown option ${unknown}${
          near ? ` (did you mean --${near}?)` : ""
        }; run with --help for usage`,
      );
    }
    throw new UsageError(`${errorMessage(error)} (run with --help for usage)`);
  }
}

/**
 * "--interval -1" as "--interval=-1": a negative number after an option that
 * takes a value is its value, so the setting's own check names the problem.
 */
function withNegatives(
  args: readonly string[],
  options: Record<string, { readonly type: string }>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = /^--([a-z-]+)$/.exec(arg)?.[1];
    if (name && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

/** An option with a value, as the usage would write it: "--batch-size 10000". */
function exampleOf(flag: string): string {
  const env = FLAG_TO_ENV[flag as keyof typeof FLAG_TO_ENV];
  if (env) {
    const setting = SETTINGS[env] as Setting;
    return `--${flag} ${setting.default || setting.value}`;
  }
  const examples: Record<string, string> = {
    format: "--format csv",
    target: "--target public_orders",
    inserts: "--inserts 5",
    updates: "--updates 5",
    deletes: "--deletes 5",
  };
  return examples[flag] ?? `--${flag} VALUE`;
}

export type Parsed = ReturnType<typeof parseCommandLine>;

/** Commands that take words after them: query's SQL, replay's files. */
const TAKES_ARGUMENTS = new Set(["query", "replay"]);

/** A word after a command that takes none is refused, not ignored (a quoting slip, a lost "--"). */
export function refuseStrayArguments(parsed: Parsed): void {
  const [command, ...rest] = parsed.positionals;
  if (command === undefined || rest.length === 0 || TAKES_ARGUMENTS.has(command)) return;
  const option = rest.find((r) => r in COMMAND_OPTIONS || r in FLAG_TO_ENV);
  throw new UsageError(
    `${command} takes no argument, but got ${rest.map((r) => JSON.stringify(r)).join(" ")} (${
      option ? `did you mean --${option}? ` : ""
    }options start with --; run with --help for usage)`,
  );
}

/** The configuration flags given, by flag name. */
export function flagsFrom(parsed: Parsed): ConfigFlags {
  const flags: ConfigFlags = {};
  for (const flag of Object.keys(FLAG_TO_ENV) as (keyof typeof FLAG_TO_ENV)[]) {
    const value = (parsed.values as Record<string, unknown>)[flag];
    if (typeof value === "string") flags[flag] = value;
  }
  return flags;
}

export type EnvLookup = (name: string) => string | undefined;

/** The Config from the environment overridden by the flags (files such as a sync file read here). */
export function configFrom(parsed: Parsed, env: EnvLookup): Config {
  return loadConfig(env, flagsFrom(parsed), (path) => Deno.readTextFileSync(path));
}

/** Whether the fatal line is JSON: LOG_FORMAT=json or --log-format json, even if the rest is invalid. */
export function wantsJsonLog(args: readonly string[], env: EnvLookup): boolean {
  return env("LOG_FORMAT") === "json" ||
    args.some((a, i) =>
      a === "--log-format=json" || (a === "--log-format" && args[i + 1] === "json")
    );
}
