// Owns what every command gets: the parsed arguments, the environment, where
// its output goes, and the terminal UI's entry (ui/ is above src/, so the
// program's entry passes it in).

import type { Config } from "../core/config.ts";
import type { EnvLookup, Parsed } from "./args.ts";

/** What the terminal UI needs to start the engine's worker. */
export interface TuiOptions {
  readonly config: Config;
  readonly secrets: readonly string[];
  readonly demo: boolean;
}

/** Runs the terminal UI until it quits; resolves to the exit code. */
export type StartTui = (options: TuiOptions) => Promise<number>;

export interface CliContext {
  readonly parsed: Parsed;
  readonly env: EnvLookup;
  /** A line of the command's result (stdout). */
  readonly out: (line: string) => void;
  /** A log or progress line (stderr). */
  readonly err: (line: string) => void;
  readonly startTui?: StartTui;
}
