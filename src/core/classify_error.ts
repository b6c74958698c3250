// Owns classifyError, the one way any failure becomes the SyncError a user sees:
// it picks which rules of ERROR_RULES apply (local files always; then Postgres
// or DuckDB by what the caller knows and what the error carries) and builds the
// first rule that matches. Every caller uses it or one of its narrower forms.

import { errorMessage, SyncError } from "./errors.ts";
import { scrub } from "./secrets.ts";
import type { LocalPlaces, LocalSetting } from "./local_io.ts";
import { type SourceTable, type Unconvertible, UnconvertibleValue } from "./unconvertible.ts";
import {
  diskFullMessage,
  ERROR_RULES,
  type ErrorFacts,
  type ErrorRule,
  type ErrorSettings,
  isLockError,
  type RuleScope,
} from "./error_rules.ts";

export interface ErrorContext {
  readonly settings: ErrorSettings;
  /** Texts to scrub out of every message (passwords). */
  readonly secrets?: readonly string[];
  /** The table being synced ("schema.table"), for the GRANT a message suggests. */
  readonly source?: string;
  /**
   * "postgres" when the caller knows the failure came from Postgres; otherwise
   * a failure with a string code, or one that speaks of its connection, is
   * taken for a Postgres one and any other for DuckDB's. "duckdb_open": the
   * failure to open the DuckDB file at settings.duckdbPath.
   */
  readonly from?: "postgres" | "duckdb_open";
}

function factsOf(error: unknown, context: ErrorContext): ErrorFacts {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return {
    error,
    code: typeof code === "string" ? code : undefined,
    text: scrub(errorMessage(error), context.secrets ?? []),
    settings: context.settings,
    source: context.source,
  };
}

/** The scopes whose rules apply to a failure, in the order they are tried. */
function scopesOf(facts: ErrorFacts, context: ErrorContext): RuleScope[] {
  if (context.from === "postgres") return ["local", "postgres"];
  if (context.from === "duckdb_open") return ["duckdb_open"];
  // A lock error or a value DuckDB cannot hold is DuckDB's whatever else it says.
  if (isLockError(facts.error) || facts.error instanceof UnconvertibleValue) {
    return ["local", "duckdb"];
  }
  const postgres = facts.code !== undefined || /\bconnection\b|\bterminated\b/i.test(facts.text);
  return postgres ? ["local", "postgres"] : ["local", "duckdb"];
}

/** The rule that decides `error`: the first of `scopes` (by default, those its origin picks) that matches. */
export function ruleFor(
  error: unknown,
  context: ErrorContext,
  scopes?: readonly RuleScope[],
): ErrorRule | null {
  const facts = factsOf(error, context);
  const tried = scopes ?? scopesOf(facts, context);
  return ERROR_RULES.find((r) => tried.includes(r.scope) && r.matches(facts)) ?? null;
}

/** The first rule of `scopes` that matches, as a SyncError; null when none does. */
function firstMatch(
  error: unknown,
  context: ErrorContext,
  scopes?: readonly RuleScope[],
): SyncError | null {
  const rule = ruleFor(error, context, scopes);
  if (!rule) return null;
  return new SyncError(rule.code, rule.message(factsOf(error, context)), {
    exitCode: rule.exitCode,
    transient: rule.transient,
    cause: error,
  });
}

/** The SyncError a user sees for `error` (a SyncError already is one and passes through). */
export function classifyError(error: unknown, context: ErrorContext): SyncError {
  if (error instanceof SyncError) return error;
  // The postgres, duckdb and duckdb_open scopes each end with a rule that matches anything.
  return firstMatch(error, context)!;
}

/**
 * VALUE_UNSUPPORTED for a batch that failed to convert because of `found`
 * (only the DuckDB rules: the value's text must not be taken for anything else).
 */
export function unsupportedValueError(
  table: SourceTable,
  found: Unconvertible,
  cause?: unknown,
): SyncError {
  const fact = new UnconvertibleValue(table, found, cause);
  const error = firstMatch(fact, { settings: NO_SETTINGS }, ["duckdb"])!;
  // The conversion's own failure stays the cause, as before.
  return new SyncError(error.code, error.message, {
    exitCode: error.exitCode,
    transient: error.transient,
    cause,
  });
}

/** Local and DuckDB-opening rules name only the places. */
const NO_SETTINGS: ErrorSettings = {
  pg: { connectionString: null, user: "" },
  pgDisplay: "",
  multiTable: false,
  schema: "",
  table: "",
  duckdbMemoryLimit: "",
  parquetDir: "",
  stateDir: "",
  duckdbPath: "",
};

/**
 * DISK_FULL or LOCAL_IO_ERROR for a failure of a local file, or null when
 * `error` is not one (for IO that may also fail otherwise, e.g. a directory
 * that cannot be created).
 */
export function classifyLocalError(error: unknown, places: LocalPlaces): SyncError | null {
  if (error instanceof SyncError) return null;
  return firstMatch(error, { settings: { ...NO_SETTINGS, ...places } }, ["local"]);
}

/** The failure to open the DuckDB file at `path`: DUCKDB_LOCKED or DUCKDB_ERROR. */
export function classifyOpenError(error: unknown, path: string): SyncError {
  return classifyError(error, {
    settings: { ...NO_SETTINGS, duckdbPath: path },
    from: "duckdb_open",
  });
}

/** True when a loop should try again after `error` (a SyncError that can pass on its own). */
export function isRetryable(error: unknown): error is SyncError {
  return error instanceof SyncError && error.transient;
}

/**
 * DISK_FULL for the place `setting` names (`path`: its value), for IO that
 * knows where it writes. A loop retries it: once space is freed the next cycle
 * resumes from the checkpoint, which never moved past what DuckDB committed.
 */
export function diskFullError(setting: LocalSetting, path: string, cause: unknown): SyncError {
  const detail = (errorMessage(cause).split("\n")[0] ?? "").trim();
  return new SyncError("DISK_FULL", diskFullMessage(setting, path, detail), {
    transient: true,
    cause,
  });
}
