// Owns the facts of a local file failure: whether the disk is full (ENOSPC,
// SQLite's SQLITE_FULL, DuckDB's "No space left on device"), whether it is the
// checkpoint's SQLite, and which setting's place (PARQUET_DIR, STATE_DIR or
// DUCKDB_PATH) it concerns. The rules of error_rules.ts turn them into DISK_FULL or
// LOCAL_IO_ERROR. Pure: no Deno.*, so it is unit-tested directly.

import { dirname } from "node:path";
import { errorMessage } from "./errors.ts";

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
  // A directory itself (Deno quotes the path it failed on: mkdir '/data/lake').
  const names = (path: string) =>
    path.endsWith("/") ? [path, `'${path.slice(0, -1)}'`, `"${path.slice(0, -1)}"`] : [path];
  const found = candidates
    .filter(([, path]) => path.length > 1 && names(path).some((name) => text.includes(name)))
    .sort((a, b) => b[1].length - a[1].length)[0];
  if (found) return found[0];
  return isSqliteError(error) ? "STATE_DIR" : null;
}

function withSlash(dir: string): string {
  return dir.endsWith("/") ? dir : `${dir}/`;
}
