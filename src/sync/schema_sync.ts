// Owns keeping the DuckDB table's shape in step with the source: creating it,
// applying schema drift (added, widened, retyped, dropped, renamed columns) in
// one DuckDB transaction with the affected columns re-copied from Postgres,
// and copying partitions attached since the last cycle whole.

import type pg from "pg";
import { diffSchema, rebuildForKeyRetype } from "../core/drift.ts";
import type { DriftRecord } from "../core/events.ts";
import { keysetOf, type Position } from "../core/keyset.ts";
import { formatSelector, sourceName } from "../core/selector.ts";
import { count } from "../core/counts.ts";
import type { TablePlan } from "../core/table_plan.ts";
import type { SourceSchemaSnapshot } from "../io/state/checkpoint.ts";
import { copyColumnsToCsv, copyTableToCsv, type TableInfo } from "../io/postgres/mod.ts";
import type { Warehouse } from "../io/duckdb/warehouse.ts";
import { withScratchFiles } from "../io/state/batch_files.ts";
import { type BatchSink, toParquet } from "./batch_sink.ts";
import type { TableSyncContext } from "./context.ts";
import { targetMissing } from "./table_guards.ts";
import { fenceReplay } from "./ops/replay.ts";

/** Creates the target table, or diffs it against the source and applies drift. */
export async function applySchema(
  ctx: TableSyncContext,
  plan: TablePlan,
  warehouse: Warehouse,
  client: pg.Client,
  info: TableInfo,
  rowsCopied: number,
  snapshot: SourceSchemaSnapshot | null,
  withKey = true,
): Promise<void> {
  const config = ctx.config;
  const table = plan.target;
  const target = await warehouse.columns(table);
  const pgTypes = Object.fromEntries(info.mappings.map((m) => [m.name, m.pgType]));
  const attnums = Object.fromEntries(info.mappings.map((m) => [m.name, m.attnum ?? 0]));
  if (!target) {
    if (rowsCopied > 0) throw targetMissing(config, table);
    await warehouse.createTable(
      table,
      info.mappings,
      withKey ? info.keyset.key.map((k) => k.name) : [],
    );
    ctx.store.saveSchema(
      table,
      { pgTypes, attnums, dropped: [], keyset: keysetOf(info), ...knownPartitions(info, snapshot) },
      info.source,
      config.pgOrigin,
    );
    return;
  }
  const dropped = new Set(snapshot?.dropped ?? []);
  const previous = new Map(Object.entries(snapshot?.pgTypes ?? {}));
  const previousAttnums = new Map(Object.entries(snapshot?.attnums ?? {}));
  const changes = rebuildForKeyRetype(
    table,
    diffSchema(table, info.mappings, target, dropped, previous, previousAttnums),
    target,
    // Only a PRIMARY KEY column (a table made by an earlier version) cannot be retyped in place.
    (await warehouse.hasKeyConstraint(table)) ? info.keyset.key.map((k) => k.name) : [],
  );
  if (changes.length === 0) {
    ctx.store.saveSchema(
      table,
      {
        pgTypes,
        attnums,
        dropped: [...dropped],
        keyset: keysetOf(info),
        ...knownPartitions(info, snapshot),
      },
      info.source,
    );
    return;
  }
  const backfill = changes.filter((c) => c.backfill).map((c) => c.column);
  // Columns changed in place: older batch files no longer match the rows.
  await fenceReplay(ctx.store, config.parquetDir, table);
  await warehouse.transaction(async () => {
    for (const change of changes) if (change.ddl) await warehouse.run(change.ddl);
    if (backfill.length > 0 && rowsCopied > 0) {
      await backfillColumns(ctx, plan, warehouse, client, info, backfill);
    }
  });
  const at = ctx.now().toISOString();
  const records: DriftRecord[] = changes.map((c) => ({
    at,
    table,
    kind: c.kind,
    column: c.column,
    detail: c.detail,
    ddl: c.ddl,
  }));
  for (const c of changes) if (c.kind === "column_dropped") dropped.add(c.column);
  for (const c of changes) {
    if (c.kind === "column_added" || c.kind === "column_replaced") dropped.delete(c.column);
  }
  ctx.store.recordDrift(
    records,
    {
      pgTypes,
      attnums,
      dropped: [...dropped],
      keyset: keysetOf(info),
      ...knownPartitions(info, snapshot),
    },
    table,
  );
  for (const drift of records) ctx.emit({ type: "drift_applied", drift });
}

/** Copies the values of added or retyped columns for every existing row. */
async function backfillColumns(
  ctx: TableSyncContext,
  plan: TablePlan,
  warehouse: Warehouse,
  client: pg.Client,
  info: TableInfo,
  added: readonly string[],
): Promise<void> {
  const keyNames = info.keyset.key.map((k) => k.name);
  const columns = info.mappings.filter((m) => keyNames.includes(m.name) || added.includes(m.name));
  await withScratchFiles(
    ctx.config.parquetDir,
    `${plan.target}__backfill`,
    async (csv, parquet) => {
      await copyColumnsToCsv(client, info, columns, csv);
      await toParquet(await ctx.converter(), { csv, parquet, columns, from: info });
      await warehouse.updateColumnsFromParquet(plan.target, parquet, keyNames, added);
    },
  );
}

/**
 * The partitions a schema snapshot records: the ones already known (attached
 * ones are added only once their rows are copied), or all of them the first
 * time they are seen.
 */
function knownPartitions(
  info: TableInfo,
  snapshot: SourceSchemaSnapshot | null,
): { partitions?: readonly string[] } {
  if (!info.partitions) return {};
  if (snapshot?.partitions) return { partitions: snapshot.partitions };
  return { partitions: info.partitions.map((p) => `${p.schema}.${p.table}`) };
}

/**
 * A partition attached after the checkpoint may hold rows whose cursors are
 * older than it: they would never be paged. Each one is copied whole (an
 * upsert, so already-known rows are only rewritten); a detached partition's
 * rows stay in DuckDB (reconciliation or verify --repair removes them).
 */
export async function copyAttachedPartitions(
  ctx: TableSyncContext,
  sink: BatchSink,
  client: pg.Client,
  info: TableInfo,
  position: Position | null,
  snapshot: SourceSchemaSnapshot | null,
): Promise<void> {
  const plan = { target: sink.target };
  const current = info.partitions ?? [];
  const known = new Set(snapshot?.partitions ?? []);
  const currentNames = current.map((p) => `${p.schema}.${p.table}`);
  if (snapshot?.partitions !== undefined && position !== null) {
    for (const partition of current) {
      const name = `${partition.schema}.${partition.table}`;
      if (known.has(name)) continue;
      // Its rows may carry cursors older than the checkpoint: copied whole, as
      // one batch that leaves the position where it is.
      const started = performance.now();
      const csv = sink.nextCsv();
      const copied = await copyTableToCsv(client, partition, info.mappings, csv);
      await sink.apply(
        sink.number({
          csv,
          rows: copied.rows,
          started,
          cursorFrom: null,
          cursorTo: `partition ${name}`,
          covers: { type: "batch_committed", position },
        }),
        { kind: "upsert" },
      );
      ctx.emit({
        type: "notice",
        message: `${plan.target}: partition ${
          formatSelector(partition.schema, partition.table)
        } was attached to ${info.source}: copied its ${count(copied.rows, "row")}`,
      });
    }
    const detached = [...known].filter((n) => !currentNames.includes(n));
    if (detached.length > 0) {
      ctx.emit({
        type: "notice",
        message: `${plan.target}: partition(s) ${
          detached.map((n) => sourceName(n)).join(", ")
        } detached from ${info.source}: their rows stay in DuckDB (RECONCILE_DELETES_EVERY or verify --repair removes them)`,
      });
    }
  }
  const latest = ctx.store.schema(plan.target);
  if (latest) ctx.store.saveSchema(plan.target, { ...latest, partitions: currentNames });
}
