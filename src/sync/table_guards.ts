// Owns the checks a table's cycle makes before it writes anything: the
// checkpoint comes from the configured server, the DuckDB table is this
// STATE_DIR's to write and still exists behind its checkpoint, the cursor and
// key are the ones the checkpoint's position is made of, and a configured key
// is unique. Each refusal is one line naming the fix.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import { configError, SyncError } from "../core/errors.ts";
import type { SyncMode } from "../core/events.ts";
import { keysetOf, type Position, sameKeyset } from "../core/keyset.ts";
import { sameOrigin } from "../core/origin.ts";
import { selectOnly, shellWord, sourceName } from "../core/selector.ts";
import type { TablePlan } from "../core/table_plan.ts";
import type { SourceSchemaSnapshot } from "../io/state/checkpoint.ts";
import { findDuplicateKey, type TableInfo } from "../io/postgres/mod.ts";
import type { Warehouse } from "../io/duckdb/warehouse.ts";
import type { WarehouseFile } from "../io/duckdb/warehouse_file.ts";
import type { TableSyncContext } from "./context.ts";

/** Refuses a checkpoint made from another server before anything is written. */
export function checkOrigin(ctx: TableSyncContext, target: string, source: string): void {
  const config = ctx.config;
  const checkpoint = ctx.store.get(target);
  refuseOtherSource(
    config,
    target,
    checkpoint?.origin,
    `syncing on would mix two databases in ${config.duckdbPath} (use another STATE_DIR and DUCKDB_PATH for this source, or run \`reset --yes\` to start over from it)`,
  );
  // The same server, another table into the same DuckDB table (a changed
  // POSTGRES_SCHEMA, or two names that map to one <schema>_<table>).
  const saved = checkpoint?.source ? sourceName(checkpoint.source) : "";
  if (saved !== "" && saved !== sourceName(source)) {
    throw configError(
      "SOURCE_CHANGED",
      `The checkpoint of DuckDB table ${target} in ${config.stateDir} was made from ${saved}, not ${
        sourceName(source)
      }: syncing on would mix two tables in it (give this table another DuckDB table with DUCKDB_TABLE or a sync file's "target", or run \`reset --yes\` with these settings to drop ${target} and copy ${
        sourceName(source)
      } into it instead)`,
    );
  }
}

/**
 * SOURCE_CHANGED when the checkpoint of `target` was made from another server
 * or database than the configured one; `consequence` says what going on would do.
 */
export function refuseOtherSource(
  config: Config,
  target: string,
  origin: string | null | undefined,
  consequence: string,
): void {
  if (origin && !sameOrigin(origin, config.pgOrigin)) {
    throw configError(
      "SOURCE_CHANGED",
      `The checkpoint for ${target} in ${config.stateDir} was made from ${origin}, not ${config.pgOrigin}: ${consequence}`,
    );
  }
}

/**
 * An idle cycle does not open DuckDB; the first one of a process (and the first
 * after the file changed behind it) checks that the table the checkpoint copied
 * into is still there. When it is not,
 * the cycle runs in full, which reports it (TARGET_MISSING) rather than
 * calling the table up to date.
 */
export async function targetExists(ctx: TableSyncContext, table: string): Promise<boolean> {
  if (ctx.targetsSeen.has(table)) return true;
  const tables = await ctx.targetTables();
  // Another program holds the file: the check is left to a later cycle.
  if (tables === null) return true;
  if (!tables.has(table)) return false;
  ctx.targetsSeen.add(table);
  return true;
}

/**
 * The tables of the main schema of the DuckDB file ({} when there is no file
 * yet), or null when another program holds its lock. No waiting: an idle
 * cycle must not wait for (or fail on) another program reading the file.
 */
export async function listTargetTables(
  warehouseFile: WarehouseFile,
  signal?: AbortSignal,
): Promise<ReadonlySet<string> | null> {
  try {
    await Deno.stat(warehouseFile.path);
  } catch {
    return new Set();
  }
  let warehouse: Warehouse;
  try {
    warehouse = await warehouseFile.acquire({ lockWaitSeconds: 0, signal });
  } catch (error) {
    if (error instanceof SyncError && error.code === "DUCKDB_LOCKED") return null;
    throw error;
  }
  try {
    return new Set(await warehouse.tables());
  } finally {
    warehouse.close();
  }
}

/**
 * Makes sure the DuckDB table is this STATE_DIR's to write, and records it so.
 * The file records each table's owner (Warehouse.owner): a table another
 * STATE_DIR owns is refused while it exists. A table with no recorded owner
 * (made before owners were recorded, or by hand) is taken over unless this
 * STATE_DIR has no checkpoint for it and it already holds rows: it may be
 * another STATE_DIR's copy, or one whose checkpoint was lost.
 */
export async function claimTarget(
  ctx: TableSyncContext,
  warehouse: Warehouse,
  table: string,
): Promise<void> {
  const { config } = ctx;
  const me = ctx.store.stateId();
  const owner = await warehouse.owner(table);
  if (owner?.stateId === me) return;
  const fix =
    `point STATE_DIR at its checkpoint, choose another DUCKDB_TABLE or DUCKDB_PATH, or drop it with \`reset --yes --force\` to copy it again`;
  if (owner && (await warehouse.columns(table))) {
    throw configError(
      "TARGET_NOT_OWNED",
      `DuckDB table ${table} in ${config.duckdbPath} belongs to another STATE_DIR (its copy of ${owner.origin}), not ${config.stateDir}: copying into it would mix two sources (${fix})`,
    );
  }
  if (!owner && !ctx.store.get(table) && (await warehouse.hasRows(table))) {
    throw configError(
      "TARGET_NOT_OWNED",
      `DuckDB table ${table} in ${config.duckdbPath} already holds rows, but ${config.stateDir} has no checkpoint for it (another STATE_DIR's copy, or a lost checkpoint): copying into it could mix two sources (${fix})`,
    );
  }
  await ctx.writer.run(() => warehouse.claim(table, me, config.pgOrigin));
}

export function targetMissing(config: Config, table: string): SyncError {
  return new SyncError(
    "TARGET_MISSING",
    `DuckDB table ${table} in ${config.duckdbPath} is missing but the checkpoint says rows were copied (restore the file, or run \`reset --yes --target ${
      shellWord(table)
    }\` to copy it again)`,
  );
}

/**
 * A configured key is checked before the bootstrap copies a row (every cycle
 * until it does, so a refused key is refused again in a loop).
 */
export async function checkConfiguredKey(
  client: pg.Client,
  plan: TablePlan,
  info: TableInfo,
  checkpoint: { readonly mode: SyncMode; readonly rowsCopied: number } | null,
): Promise<void> {
  if ((checkpoint?.mode ?? "bootstrap") !== "bootstrap" || !plan.primaryKey) return;
  if ((checkpoint?.rowsCopied ?? 0) > 0) return;
  const duplicate = await findDuplicateKey(client, info);
  if (duplicate) {
    throw configError(
      "KEY_NOT_UNIQUE",
      `Cannot sync ${info.source}: the configured key (${
        keysetOf(info).key.join(", ")
      }) is not unique (${duplicate}); rows sharing a key would overwrite each other in DuckDB (configure unique columns as the key)`,
    );
  }
}

/**
 * A checkpoint's position is a place in (cursor, key): with other columns it
 * cannot be resumed (KEYSET_CHANGED).
 */
export function checkKeyset(
  plan: TablePlan,
  info: TableInfo,
  position: Position | null,
  snapshot: SourceSchemaSnapshot | null,
): void {
  const keyset = keysetOf(info);
  if (position && snapshot?.keyset && !sameKeyset(snapshot.keyset, keyset)) {
    throw configError(
      "KEYSET_CHANGED",
      `The checkpoint of ${plan.target} is a position in (${
        [snapshot.keyset.cursor, ...snapshot.keyset.key].join(", ")
      }) but the cursor and key are now (${
        [keyset.cursor, ...keyset.key].join(", ")
      }): it cannot be resumed (restore the old cursor/key setting, or reset this table with \`${
        selectOnly(plan)
      } reset --yes\` to copy it again)`,
    );
  }
}
