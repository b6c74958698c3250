// Owns re-applying kept batch files to a DuckDB table (`replay`) and the fence
// that keeps it exact. A batch file holds rows as of its batch; replaying it
// replaces a row only when the file's cursor is at least as new, which is right
// for rows that changed through later batches but not for rows changed without
// a newer cursor: columns re-copied by a schema change, rows deleted or marked
// by reconciliation, rows re-copied by a repair, a table copied whole again.
// Each of those raises the table's replay floor (before it changes anything:
// a floor set too high only refuses more), and replay refuses every file below
// it, so an old file never rolls a row back or brings a deleted row back.

import { openWarehouse } from "../../io/duckdb/warehouse_file.ts";
import { basename } from "node:path";
import { CheckpointStore } from "../../io/state/checkpoint.ts";
import { batchSeq, maxBatchSeq } from "../../io/state/batch_files.ts";
import type { Config } from "../../core/config.ts";
import { configError, SyncError } from "../../core/errors.ts";
import { count } from "../../core/counts.ts";
import { fileSha256 } from "../../io/state/file_checksum.ts";

/**
 * Marks every batch file of `table` written so far (recorded, or still on
 * disk) as older than a change about to be made without a newer cursor.
 */
export async function fenceReplay(
  store: CheckpointStore,
  parquetDir: string,
  table: string,
): Promise<void> {
  const highest = Math.max(store.lastBatchSeq(table), await maxBatchSeq(parquetDir, table));
  store.raiseReplayFloor(table, highest + 1);
}

/** A batch file checked for replay: its sequence number in the table's history. */
export interface ReplayFile {
  readonly path: string;
  readonly seq: number;
}

/**
 * The files in the order they were written, or a one-line error (exit 2,
 * nothing replayed) when any is not a batch file of `table` or predates the
 * table's replay floor.
 */
export function checkReplayFiles(
  paths: readonly string[],
  table: string,
  floor: number,
): ReplayFile[] {
  const files = paths.map((path) => ({ path, seq: batchSeq(basename(path), table) }));
  const foreign = files.find((f) => f.seq === null);
  if (foreign) {
    throw configError(
      "CONFIG_INVALID",
      `replay: ${foreign.path} is not a batch file of DuckDB table ${table} (its batch files are named ${table}__<sequence>__...parquet; select the table the file belongs to)`,
    );
  }
  const checked = files as ReplayFile[];
  const stale = checked.filter((f) => f.seq < floor);
  if (stale.length > 0) {
    throw configError(
      "REPLAY_UNSAFE",
      `replay: ${stale.length === 1 ? "batch" : `${stale.length} batches, the first`} ${
        stale[0]!.path
      } (#${stale[0]!.seq}), ${
        stale.length === 1 ? "was" : "were"
      } written before rows of ${table} changed without a newer cursor (a schema change, a full refresh, deleted rows or a repair): replaying ${
        stale.length === 1 ? "it" : "them"
      } could roll rows back or bring deleted rows back, so nothing was replayed (replay only batches from #${floor} on)`,
    );
  }
  return checked.sort((a, b) => a.seq - b.seq);
}

/**
 * Checks each file against the SHA-256 the checkpoint recorded when it was
 * written: a file that differs (a flipped bit, a file changed or swapped) is a
 * one-line error naming it, before anything is replayed. Returns the paths of
 * the files without a recorded checksum (written by an earlier version).
 */
async function checkChecksums(
  store: CheckpointStore,
  table: string,
  files: readonly ReplayFile[],
): Promise<Set<string>> {
  const unchecked = new Set<string>();
  for (const file of files) {
    const recorded = store.batchChecksum(table, basename(file.path));
    if (recorded === null) {
      unchecked.add(file.path);
      continue;
    }
    const actual = await fileSha256(file.path);
    if (actual !== recorded) {
      throw configError(
        "REPLAY_UNSAFE",
        `replay: ${file.path} is not the file batch #${file.seq} wrote: its SHA-256 is ${actual}, the checkpoint recorded ${recorded} (the file is damaged or was changed since), so nothing was replayed (restore the file from a backup, or replay without it)`,
      );
    }
  }
  return unchecked;
}

/**
 * `replay FILE...`: checks every file against the table's checkpoint, then
 * re-applies them oldest first; `log` gets one line per file.
 */
export async function replayBatchFiles(
  config: Config,
  paths: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  const table = config.duckdbTable;
  const store = CheckpointStore.openExisting(config.stateDir);
  let files: ReplayFile[];
  let unchecked: Set<string>;
  let cursorColumn: string;
  try {
    const checkpoint = store?.get(table) ?? null;
    if (!store || !checkpoint) {
      throw configError(
        "CONFIG_INVALID",
        `replay: ${config.stateDir} holds no checkpoint for ${table}, so it cannot tell which batch files are safe to replay (point STATE_DIR at the checkpoint that wrote them)`,
      );
    }
    if (checkpoint.mode === "full_refresh") {
      throw configError(
        "CONFIG_INVALID",
        `replay: ${table} is copied whole (full refresh) and has no cursor to order rows by (run sync --once to copy it again)`,
      );
    }
    if (store.lsn(table) !== null) {
      throw configError(
        "CONFIG_INVALID",
        `replay: ${table} is streamed from the write-ahead log (SYNC_METHOD=cdc), whose batch files hold changes, not row versions replay could order (each row's change kind is in its _pds_op column, for reading); to rebuild the table run \`reset --yes\` and sync again`,
      );
    }
    files = checkReplayFiles(paths, table, store.replayFloor(table));
    unchecked = await checkChecksums(store, table, files);
    // The cursor the batches were cut by, as the checkpoint recorded it (a
    // sync file may name another one than CURSOR_COLUMN).
    cursorColumn = store.schema(table)?.keyset?.cursor ?? config.cursorColumn;
  } finally {
    store?.close();
  }
  const warehouse = await openWarehouse(config.duckdbPath, {
    lockWaitSeconds: config.lockWaitSeconds,
    memoryLimit: config.duckdbMemoryLimit,
  });
  try {
    if (!(await warehouse.columns(table))) {
      throw new SyncError(
        "TARGET_MISSING",
        `DuckDB table ${table} does not exist in ${config.duckdbPath} (run sync --once first)`,
      );
    }
    for (const file of files) {
      const written = await warehouse.replayParquet(table, file.path, cursorColumn);
      log(
        `replayed ${file.path}: ${
          count(written, "row")
        } written (rows already newer in DuckDB kept${
          unchecked.has(file.path)
            ? "; no checksum recorded for it (written by an earlier version): not checked"
            : ""
        })`,
      );
    }
  } finally {
    warehouse.close();
  }
}
