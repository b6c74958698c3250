// Owns the checkpoint's SQLite file (node:sqlite) under STATE_DIR: opening it
// (a writable STATE_DIR, an intact file, WAL mode), its schema as numbered
// migrations recorded in PRAGMA user_version, a read-only open that also works
// on a full disk, and telling a full disk from a corrupt file.

import { DatabaseSync } from "node:sqlite";
import { configError, errorMessage, SyncError } from "../../core/errors.ts";
import { isDiskFull, mayBeDiskFull } from "../../core/local_io.ts";
import { diskFullError } from "../../core/classify_error.ts";

export const CHECKPOINT_FILE = "checkpoint.sqlite";

/**
 * The schema, one migration per version: MIGRATIONS[i] takes a file from
 * version i to i + 1. Never edit a migration that has shipped; add one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE tables (
     table_name TEXT PRIMARY KEY,
     source TEXT NOT NULL,
     origin TEXT,
     state TEXT NOT NULL CHECK (state IN ('not_synced', 'first_copy_scan', 'first_copy_keyset',
       'catch_up', 'incremental', 'full_refresh')),
     cursor TEXT,
     key_json TEXT,
     scan_json TEXT,
     scan_restarts INTEGER NOT NULL DEFAULT 0,
     refresh_pending INTEGER NOT NULL DEFAULT 0,
     replay_floor INTEGER NOT NULL DEFAULT 0,
     rows_copied INTEGER NOT NULL DEFAULT 0,
     batches INTEGER NOT NULL DEFAULT 0,
     last_batch_at TEXT,
     updated_at TEXT,
     schema_json TEXT
   );
   CREATE TABLE batches (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     table_name TEXT NOT NULL,
     seq INTEGER NOT NULL,
     finished_at TEXT NOT NULL,
     rows INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     duration_ms REAL NOT NULL,
     cursor_from TEXT,
     cursor_to TEXT NOT NULL,
     file TEXT NOT NULL
   );
   CREATE TABLE drift_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     table_name TEXT NOT NULL,
     at TEXT NOT NULL,
     kind TEXT NOT NULL,
     column_name TEXT NOT NULL,
     detail TEXT NOT NULL,
     ddl TEXT
   );`,
  // A table forgotten by `reset` keeps its highest batch number: numbers go on
  // from there, so a batch file kept from before the reset is never taken for
  // one of the new copy's (replay refuses it).
  `CREATE TABLE retired_tables (table_name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);`,
  // SYNC_METHOD=cdc: per table, the end of the last transaction whose changes
  // are in DuckDB (a commit's LSN, as Postgres prints it).
  `CREATE TABLE cdc_positions (table_name TEXT PRIMARY KEY, lsn TEXT NOT NULL);`,
  // The SHA-256 (hex) of a batch's Parquet file as written, which replay checks;
  // NULL for batches written before it was recorded.
  `ALTER TABLE batches ADD COLUMN sha256 TEXT;`,
];

/** The schema version this program writes. */
const SCHEMA_VERSION = MIGRATIONS.length;

interface Row {
  [key: string]: unknown;
}

/**
 * Opens (creating when absent) the checkpoint file in stateDir, migrated to
 * SCHEMA_VERSION. `readOnly` (status) writes nothing, so it also reads a
 * checkpoint on a full disk, and never migrates.
 */
export function openCheckpointFile(
  stateDir: string,
  options: { readOnly?: boolean } = {},
): { path: string; db: DatabaseSync } {
  const path = `${stateDir}/${CHECKPOINT_FILE}`;
  if (options.readOnly) return { path, db: openReadOnly(stateDir, path) };
  try {
    Deno.mkdirSync(stateDir, { recursive: true });
    // A few bytes, not an empty file: a full disk still creates empty files.
    const probe = `${stateDir}/.write-test-${Deno.pid}`;
    try {
      Deno.writeTextFileSync(probe, "probe");
    } finally {
      try {
        Deno.removeSync(probe);
      } catch { /* never created */ }
    }
  } catch (error) {
    if (isDiskFull(error)) throw diskFullError("STATE_DIR", stateDir, error);
    throw configError(
      "STATE_DIR_UNWRITABLE",
      `Cannot write STATE_DIR ${stateDir}: ${
        errorMessage(error)
      } (set STATE_DIR to a writable directory)`,
      error,
    );
  }
  let db: DatabaseSync | null = null;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 5000");
    const check = db.prepare("PRAGMA quick_check").get() as Row | undefined;
    if (check && Object.values(check)[0] !== "ok") {
      throw new Error(String(Object.values(check)[0]));
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    migrate(db, path);
  } catch (error) {
    try {
      db?.close();
    } catch { /* already broken */ }
    if (error instanceof SyncError) throw error;
    // A full disk is not a corrupt file: the advice to reset would throw a good copy away.
    if (mayBeDiskFull(error) && (isDiskFull(error) || !hasRoom(stateDir))) {
      throw diskFullError("STATE_DIR", stateDir, error);
    }
    throw corrupt(path, errorMessage(error), error);
  }
  return { path, db };
}

/** Brings the file to SCHEMA_VERSION, one migration per transaction. */
function migrate(db: DatabaseSync, path: string): void {
  const version = Number((db.prepare("PRAGMA user_version").get() as Row).user_version);
  if (version === 0 && db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'meta'").get()) {
    throw corrupt(path, "it was written by a pre-release version of this program");
  }
  if (version > SCHEMA_VERSION) {
    throw corrupt(
      path,
      `it has schema version ${version}, newer than this program's ${SCHEMA_VERSION} (run the newer version)`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      rollback(db);
      throw error;
    }
  }
}

function corrupt(path: string, why: string, cause?: unknown): SyncError {
  return new SyncError(
    "CHECKPOINT_CORRUPT",
    `Cannot read checkpoint ${path}: ${why} (move the file aside to keep it, then run \`reset --yes\` to bootstrap again)`,
    { cause },
  );
}

/**
 * Reading a WAL database still creates its `-shm` file, which fails on a full
 * disk; then, when no `-wal` file holds changes (a cleanly closed store), the
 * file alone is the whole checkpoint and is read as immutable.
 */
function openReadOnly(stateDir: string, path: string): DatabaseSync {
  const read = (uri: string) => {
    const db = new DatabaseSync(uri, { readOnly: true });
    try {
      const version = Number((db.prepare("PRAGMA user_version").get() as Row).user_version);
      if (version !== SCHEMA_VERSION) {
        throw corrupt(
          path,
          version === 0
            ? "it was written by a pre-release version of this program"
            : `it has schema version ${version}, not this program's ${SCHEMA_VERSION}`,
        );
      }
      db.prepare("SELECT count(*) FROM tables").get();
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  };
  try {
    return read(path);
  } catch (error) {
    if (error instanceof SyncError) throw error;
    if (mayBeDiskFull(error) && walSize(path) === 0) {
      try {
        return read(`file:${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}?immutable=1`);
      } catch { /* reported below */ }
    }
    if (mayBeDiskFull(error) && (isDiskFull(error) || !hasRoom(stateDir))) {
      throw diskFullError("STATE_DIR", stateDir, error);
    }
    throw corrupt(path, errorMessage(error), error);
  }
}

/**
 * Rolls back what is left of a failed transaction. SQLite may have rolled it
 * back itself (SQLITE_FULL does): the ROLLBACK then fails, and must not hide
 * the error that explains what happened.
 */
export function rollback(db: DatabaseSync): void {
  try {
    db.exec("ROLLBACK");
  } catch { /* already rolled back */ }
}

/** The size of the store's write-ahead log (0 when there is none). */
function walSize(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** False when 64 KiB cannot be written in `dir` for want of space. */
function hasRoom(dir: string): boolean {
  const probe = `${dir}/.space-test-${Deno.pid}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(64 * 1024));
    return true;
  } catch (error) {
    return !isDiskFull(error);
  } finally {
    try {
      Deno.removeSync(probe);
    } catch { /* never created */ }
  }
}
