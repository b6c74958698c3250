// Owns the error vocabulary: every failure a user can act on is a SyncError with a
// stable string code (listed in the README), an exit code (2 = configuration,
// 1 = runtime) and whether a loop should retry it.

export const ERROR_CODES = [
  "CONFIG_INVALID",
  "PG_AUTH_FAILED",
  "PG_UNREACHABLE",
  "PG_CONNECTION_LOST",
  "PG_DATABASE_MISSING",
  "PG_SSL_FAILED",
  "PG_ERROR",
  "TABLE_MISSING",
  "CURSOR_COLUMN_MISSING",
  "PRIMARY_KEY_MISSING",
  "STATE_DIR_UNWRITABLE",
  "CHECKPOINT_CORRUPT",
  "DISK_FULL",
  "LOCAL_IO_ERROR",
  "TARGET_MISSING",
  "TARGET_NOT_OWNED",
  "DUCKDB_LOCKED",
  "DUCKDB_ERROR",
  "SEED_UNSUPPORTED",
  "DEMO_FAILED",
  "SOURCE_CHANGED",
  "PG_PERMISSION_DENIED",
  "PG_ROW_SECURITY",
  "REPLAY_UNSAFE",
  "SYNC_NEEDED",
  "KEYSET_CHANGED",
  "KEY_NOT_UNIQUE",
  "TABLES_FAILED",
  "VERIFY_DIFFERS",
  "SOURCE_REWRITTEN",
  "VALUE_UNSUPPORTED",
  "CDC_NOT_READY",
  "CDC_PUBLICATION_MISMATCH",
  "CDC_SLOT_IN_USE",
  "CDC_SLOT_LOST",
  "REPLICA_IDENTITY_MISSING",
  "CDC_TABLE_UNSUPPORTED",
  "INTERNAL",
  "METRICS_UNAVAILABLE",
] as const;

export type ErrorCode = typeof ERROR_CODES[number];

export interface SyncErrorOptions {
  exitCode?: 1 | 2;
  transient?: boolean;
  cause?: unknown;
}

export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "SyncError";
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.transient = options.transient ?? false;
  }
}

/** A configuration error: the user must change a setting. Exit code 2. */
export function configError(
  code: ErrorCode,
  message: string,
  cause?: unknown,
): SyncError {
  return new SyncError(code, message, { exitCode: 2, cause });
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
