// Owns telling local file failures apart from Postgres and DuckDB ones: a full
// disk (ENOSPC, SQLite's SQLITE_FULL, DuckDB's "No space left on device")
// becomes DISK_FULL naming the setting whose directory is full (PARQUET_DIR,
// STATE_DIR or DUCKDB_PATH) and the fix; any other failure to write a local
// file becomes LOCAL_IO_ERROR. Pure: no Deno.*, so it is unit-tested directly.

import { dirname } from "node:path";
import { errorMessage, SyncError } from "./errors.ts";

/** The three settings that name local places this program writes to. */
export type LocalSetting = "PARQUET_DIR" | "STATE_DIR" | "DUCKDB_PATH";

export interface LocalPlaces {
  readonly parquetDir: string;
  readonly stateDir: string;
  readonly duckdbPath: string;
}

/** A failure to write a local file (e.g. a batch CSV while COPY streams into it). */
export class FileWriteError extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(`Cannot write ${path}: ${errorMessage(cause)}`, { cause });
    this.name = "FileWriteError";
    this.path = path;
  }
}

/** SQLite result codes (node:sqlite's `errcode`): SQLITE_FULL, and the shared-memory file not growing. */
const SQLITE_FULL = 13;
const SQLITE_IOERR_SHMSIZE = 4874;

const FULL_MESSAGE =
  /No space left on device|database or disk is full|os error 28\b|disk quota exceeded/i;

/** True when `error` (or an error it wraps) says the disk is full. */
export function isDiskFull(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const fields = e as { code?: unknown; errcode?: unknown; cause?: unknown };
    if (fields.code === "ENOSPC" || fields.code === "EDQUOT") return true;
    if (fields.errcode === SQLITE_FULL) return true;
    if (FULL_MESSAGE.test(errorMessage(e))) return true;
    e = fields.cause;
  }
  return false;
}

/**
 * True for SQLite failures that a full disk can cause without saying so
 * (creating the `-shm` file of a WAL database reports a "disk I/O error").
 */
export function mayBeDiskFull(error: unknown): boolean {
  return isDiskFull(error) || (error as { errcode?: unknown })?.errcode === SQLITE_IOERR_SHMSIZE;
}

/** True for an error raised by node:sqlite (the checkpoint store). */
export function isSqliteError(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "ERR_SQLITE_ERROR";
}

/**
 * Which setting's place a failure concerns, from a path it carries or names:
 * the longest configured path that appears in it wins (PARQUET_DIR may sit
 * inside DUCKDB_PATH's directory). SQLite errors are the checkpoint's.
 */
export function placeOf(error: unknown, places: LocalPlaces): LocalSetting | null {
  const texts: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const path = (e as { path?: unknown }).path;
    if (typeof path === "string") texts.push(path);
    texts.push(errorMessage(e));
    e = (e as { cause?: unknown }).cause;
  }
  const text = texts.join("\n");
  const candidates: [LocalSetting, string][] = [
    ["PARQUET_DIR", withSlash(places.parquetDir)],
    ["STATE_DIR", withSlash(places.stateDir)],
    // The file itself, its .wal and its .tmp spill directory.
    ["DUCKDB_PATH", places.duckdbPath],
    ["DUCKDB_PATH", withSlash(dirname(places.duckdbPath))],
  ];
  const found = candidates
    .filter(([, path]) => path.length > 1 && text.includes(path))
    .sort((a, b) => b[1].length - a[1].length)[0];
  if (found) return found[0];
  return isSqliteError(error) ? "STATE_DIR" : null;
}

function withSlash(dir: string): string {
  return dir.endsWith("/") ? dir : `${dir}/`;
}

/** The first line of the underlying message, without the path noise repeated. */
function reason(error: unknown): string {
  return (errorMessage(error).split("\n")[0] ?? "").trim();
}

/**
 * DISK_FULL for the place `setting` names (`path`: its value): names it and a
 * fix that works. A loop retries it (transient): once space is freed the next
 * cycle resumes from the checkpoint, which never moved past what DuckDB committed.
 */
export function diskFullError(setting: LocalSetting, path: string, cause: unknown): SyncError {
  const detail = reason(cause);
  const resume = "nothing is lost: the next run resumes from the last checkpoint";
  const message = setting === "PARQUET_DIR"
    ? `No space left in PARQUET_DIR ${path} (${detail}): free space there, or set PARQUET_DIR to a directory on a disk with room; ${resume}`
    : setting === "STATE_DIR"
    ? `No space left in STATE_DIR ${path} (${detail}): free space there, or move its files to a disk with room and set STATE_DIR to that directory; the checkpoint is intact and ${resume}`
    : `No space left for DUCKDB_PATH ${path} in ${
      dirname(path)
    } (${detail}): free space there, or move the DuckDB file to a disk with room and set DUCKDB_PATH to it; ${resume}`;
  return new SyncError("DISK_FULL", message, { transient: true, cause });
}

/** DISK_FULL when the failure does not say which place is full. */
function diskFullSomewhere(places: LocalPlaces, cause: unknown): SyncError {
  return new SyncError(
    "DISK_FULL",
    `No space left on device (${
      reason(cause)
    }) in PARQUET_DIR ${places.parquetDir}, STATE_DIR ${places.stateDir} or DUCKDB_PATH ${places.duckdbPath}: free space on the full one, or point its setting at a disk with room; nothing is lost: the next run resumes from the last checkpoint`,
    { transient: true, cause },
  );
}

function pathOf(setting: LocalSetting, places: LocalPlaces): string {
  return setting === "PARQUET_DIR"
    ? places.parquetDir
    : setting === "STATE_DIR"
    ? places.stateDir
    : places.duckdbPath;
}

/**
 * DISK_FULL or LOCAL_IO_ERROR for a failure of a local file, or null when
 * `error` is not one (a Postgres or DuckDB error, classified elsewhere).
 */
export function classifyLocalError(error: unknown, places: LocalPlaces): SyncError | null {
  if (error instanceof SyncError) return null;
  if (isDiskFull(error)) {
    const setting = placeOf(error, places);
    return setting
      ? diskFullError(setting, pathOf(setting, places), error)
      : diskFullSomewhere(places, error);
  }
  if (error instanceof FileWriteError) {
    const setting = placeOf(error, places) ?? "PARQUET_DIR";
    return new SyncError(
      "LOCAL_IO_ERROR",
      `${reason(error)} (in ${setting} ${
        pathOf(setting, places)
      }: check the disk and the directory's permissions, or set ${setting} to another directory)`,
      { cause: error },
    );
  }
  if (isSqliteError(error)) {
    return new SyncError(
      "LOCAL_IO_ERROR",
      `Cannot update the checkpoint in STATE_DIR ${places.stateDir}: ${
        reason(error)
      } (check the disk and the directory's permissions)`,
      { cause: error },
    );
  }
  return null;
}
