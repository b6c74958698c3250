// Owns `reset`'s work: which DuckDB tables it concerns, whether this STATE_DIR
// may drop them, and the removal itself (their checkpoints, their DuckDB
// tables, their Parquet batch files) so that the next sync bootstraps.

import { openWarehouse } from "../../io/duckdb/warehouse_file.ts";
import { join } from "node:path";
import type { Config } from "../../core/config.ts";
import { count } from "../../core/counts.ts";
import { SyncError } from "../../core/errors.ts";
import { formatSelector } from "../../core/selector.ts";
import { quoteIdent } from "../../core/sql.ts";
import { listBatchFiles } from "../../io/state/batch_files.ts";
import { CHECKPOINT_FILE, CheckpointStore } from "../../io/state/checkpoint.ts";

/** What `reset` would do: remove these tables' state, or nothing (and why). */
export type ResetPlan =
  | { readonly kind: "reset"; readonly targets: readonly string[] }
  | { readonly kind: "nothing"; readonly message: string }
  | { readonly kind: "refused"; readonly message: string };

/**
 * The tables to reset: the one table, or every checkpointed one. Without this
 * STATE_DIR's checkpoint, a DuckDB table of the one table's name (and its
 * Parquet files) may be another STATE_DIR's copy: refused unless `force`.
 */
export async function planReset(
  config: Config,
  force: boolean,
  /** One DuckDB table named by `--target`, whatever is selected. */
  named: string | null = null,
): Promise<ResetPlan> {
  const target = named ?? singleTarget(config);
  if ((named !== null || !config.multiTable) && !hasCheckpoint(config, target) && !force) {
    if (await warehouseHas(config, target)) {
      return {
        kind: "refused",
        message:
          `Nothing reset: ${config.stateDir} holds no checkpoint for ${target}, so its DuckDB table in ${config.duckdbPath} may be another STATE_DIR's copy (check STATE_DIR; \`reset --yes --force\` drops it anyway)`,
      };
    }
    return {
      kind: "nothing",
      message: `reset: nothing to reset, ${config.stateDir} holds no checkpoint for ${target}`,
    };
  }
  return { kind: "reset", targets: named !== null ? [named] : resetTargets(config) };
}

/**
 * Removes the targets' checkpoints (other tables in STATE_DIR keep theirs; a
 * corrupt checkpoint file cannot be edited, so it goes whole), drops their
 * DuckDB tables and removes their Parquet batch files. Returns the line to report.
 */
export async function resetTables(config: Config, targets: readonly string[]): Promise<string> {
  let checkpointNote = `checkpoint of ${
    targets.length === 1 ? "this table" : "these tables"
  } removed`;
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    for (const table of targets) store?.removeTable(table);
    store?.close();
  } catch (error) {
    if (!(error instanceof SyncError) || error.code !== "CHECKPOINT_CORRUPT") throw error;
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(join(config.stateDir, CHECKPOINT_FILE + suffix)).catch(() => {});
    }
    checkpointNote = "corrupt checkpoint file removed (it held every table's state)";
  }
  const dropped = await dropTables(config, targets);
  let files = 0;
  for (const table of targets) {
    const names = await listBatchFiles(config.parquetDir, table);
    for (const f of names) await Deno.remove(join(config.parquetDir, f)).catch(() => {});
    files += names.length;
  }
  return `reset: ${checkpointNote}${
    dropped.length > 0
      ? `, DuckDB table${dropped.length === 1 ? "" : "s"} ${dropped.join(", ")} dropped`
      : ""
  }, ${count(files, "Parquet batch file")} removed; the next sync bootstraps`;
}

/** Drops those of `targets` the DuckDB file has (none without a file); returns them. */
async function dropTables(config: Config, targets: readonly string[]): Promise<string[]> {
  const dropped: string[] = [];
  try {
    await Deno.stat(config.duckdbPath);
    const warehouse = await openWarehouse(config.duckdbPath, {
      lockWaitSeconds: config.lockWaitSeconds,
      memoryLimit: config.duckdbMemoryLimit,
    });
    try {
      for (const table of targets) {
        if (await warehouse.columns(table)) {
          await warehouse.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
          await warehouse.disown(table);
          dropped.push(table);
        }
      }
    } finally {
      warehouse.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return dropped;
}

/** The one selected table's DuckDB name (a sync file's target, or DUCKDB_TABLE). */
function singleTarget(config: Config): string {
  return config.overrides[formatSelector(config.schema, config.table)]?.target ??
    config.duckdbTable;
}

/** The DuckDB tables `reset` removes: the one table, or every checkpointed one. */
function resetTargets(config: Config): string[] {
  if (!config.multiTable) return [singleTarget(config)];
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    const tables = store?.list().map((t) => t.table) ?? [];
    store?.close();
    return tables;
  } catch {
    return [];
  }
}

/**
 * Whether STATE_DIR holds a checkpoint for `table` (a corrupt checkpoint file
 * counts: it may hold it, and reset removes it whole).
 */
function hasCheckpoint(config: Config, table: string): boolean {
  try {
    const store = CheckpointStore.openExisting(config.stateDir);
    const found = store?.get(table) != null;
    store?.close();
    return found;
  } catch {
    return true;
  }
}

/** Whether the DuckDB file exists and has `table`. */
async function warehouseHas(config: Config, table: string): Promise<boolean> {
  try {
    await Deno.stat(config.duckdbPath);
  } catch {
    return false;
  }
  const warehouse = await openWarehouse(config.duckdbPath, {
    lockWaitSeconds: config.lockWaitSeconds,
    memoryLimit: config.duckdbMemoryLimit,
  });
  try {
    return (await warehouse.columns(table)) !== null;
  } finally {
    warehouse.close();
  }
}
