// Owns the Parquet directory layout: batch file names (table, sequence, cursor
// range), temporary ".partial" files, and pruning old batch files so the
// directory never grows without bound.

import { join } from "node:path";
import { cursorFileToken } from "../../core/keyset.ts";

export function batchFileName(
  table: string,
  seq: number,
  cursorFrom: string | null,
  cursorTo: string,
): string {
  const s = String(seq).padStart(8, "0");
  return `${fileSafe(table)}__${s}__${cursorFileToken(cursorFrom)}__${
    cursorFileToken(cursorTo)
  }.parquet`;
}

/**
 * A table name as a file-name part: "/", "\\" and NUL are percent-encoded (and
 * "%" itself), so two table names never share files ("a/b" is "a%2Fb", not "a_b");
 * so are DuckDB's glob characters, since read_parquet('a*b__…') would also read
 * the files of table "aXb".
 */
export function fileSafe(table: string): string {
  return table.replace(
    /[%/\\\0*?[\]{}]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

export function partialPath(dir: string, name: string): string {
  return join(dir, `${name}.partial`);
}

/** The batch sequence number of a file of `table`, or null when it is not one. */
export function batchSeq(name: string, table: string): number | null {
  table = fileSafe(table);
  if (!name.startsWith(`${table}__`) || !name.endsWith(".parquet")) return null;
  const m = /^(\d{8,})__[^_]/.exec(name.slice(table.length + 2));
  return m ? Number(m[1]) : null;
}

/** Batch files of a table, oldest first (by sequence number). */
export async function listBatchFiles(dir: string, table: string): Promise<string[]> {
  const files: { name: string; seq: number }[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const seq = entry.isFile ? batchSeq(entry.name, table) : null;
      if (seq !== null) files.push({ name: entry.name, seq });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return files.sort((a, b) => a.seq - b.seq).map((f) => f.name);
}

/** The highest batch sequence number among a table's files (0 when none). */
export async function maxBatchSeq(dir: string, table: string): Promise<number> {
  const names = await listBatchFiles(dir, table);
  const last = names[names.length - 1];
  return last ? batchSeq(last, table) ?? 0 : 0;
}

/** Deletes the oldest batch files beyond `keep`. Returns how many were removed. */
export async function pruneBatchFiles(dir: string, table: string, keep: number): Promise<number> {
  const names = await listBatchFiles(dir, table);
  const excess = names.slice(0, Math.max(0, names.length - keep));
  for (const name of excess) await Deno.remove(join(dir, name)).catch(() => {});
  return excess.length;
}

/**
 * Runs `use` with a scratch CSV path and Parquet path in `dir` (".partial"
 * files, so an interrupted run's leftovers are removed on the next start), and
 * removes both afterwards, whether `use` succeeds or fails.
 */
export async function withScratchFiles<T>(
  dir: string,
  base: string,
  use: (csv: string, parquet: string) => Promise<T>,
): Promise<T> {
  const csv = partialPath(dir, `${fileSafe(base)}.csv`);
  const parquet = partialPath(dir, `${fileSafe(base)}.parquet`);
  try {
    return await use(csv, parquet);
  } finally {
    await Deno.remove(csv).catch(() => {});
    await Deno.remove(parquet).catch(() => {});
  }
}

/** Removes temporary files left by an interrupted run. */
export async function removePartials(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.endsWith(".partial")) {
        await Deno.remove(join(dir, entry.name)).catch(() => {});
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
