// Owns the command line's vocabulary: the usage text, the commands' own
// options, parsing (an unknown option gets a did-you-mean), and the Config
// built from the environment and the configuration flags.

import { parseArgs } from "node:util";
import { type Config, type ConfigFlags, FLAG_TO_ENV, loadConfig } from "../core/config.ts";
import { optionsUsage } from "../core/settings.ts";
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
  try {
    return parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: { ...configOptions, ...COMMAND_OPTIONS },
    });
  } catch (error) {
    const unknown = /Unknown option '([^']+)'/.exec(errorMessage(error))?.[1];
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

export type Parsed = ReturnType<typeof parseCommandLine>;

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
