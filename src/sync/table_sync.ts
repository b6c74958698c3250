// Owns one incremental cycle of one table, in the order that keeps DuckDB exact:
// the guards (origin, keyset, key uniqueness), schema drift, a bootstrap's first
// copy by block ranges when it can (scan_phase.ts), then (cursor, key) batches
// up to the table's last row: COPY -> CSV -> Parquet -> DuckDB -> commit ->
// checkpoint (batch_runner.ts). Postgres reads for batch N+1 overlap DuckDB's
// load of batch N; every DuckDB write holds the engine's one writer lock. Never
// reads the environment or prints: progress leaves as events.

import type pg from "pg";
import type { Config } from "../core/config.ts";
import { configError, SyncError } from "../core/errors.ts";
import type { CheckpointStore, SourceSchemaSnapshot } from "../io/checkpoint.ts";
import { diffSchema, rebuildForKeyRetype } from "../core/drift.ts";
import type { DriftRecord, EventSink, SyncMode } from "../core/events.ts";
import {
  copyColumnsToCsv,
  copyNextBatchToCsv,
  copyRangeToCsv,
  copyTableToCsv,
  countNullCursor,
  findDuplicateKey,
  hasRowsAfter,
  type Horizon,
  isSettled,
  lastPosition,
  lastSettledPosition,
  nextBatchEnd,
  positionFieldIndexes,
  type TableInfo,
} from "../io/postgres.ts";
import type { BatchConverter } from "../io/parquet_batch.ts";
import type { Warehouse, WarehouseFile } from "../io/warehouse.ts";
import { keysetOf, type Position, sameKeyset } from "../core/keyset.ts";
import { maxBatchSeq, withScratchFiles } from "../io/batch_files.ts";
import type { Mutex } from "../core/mutex.ts";
import { announceCheckpoint, BatchRunner, type FetchedBatch, pipelined } from "./batch_runner.ts";
import { prepareScan, runScan } from "./scan_phase.ts";
import type { TablePlan } from "../core/table_plan.ts";
import { quoteIdent } from "../core/sql.ts";
import { formatSelector, selectOnly, sourceName } from "../core/selector.ts";
import { count } from "../core/counts.ts";
import { sameOrigin } from "../core/origin.ts";
import { fenceReplay } from "./replay.ts";

/** What every table's sync shares with the engine. */
export interface TableSyncContext {
  readonly config: Config;
  readonly emit: EventSink;
  readonly now: () => Date;
  readonly store: CheckpointStore;
  readonly warehouseFile: WarehouseFile;
  /** Tables whose DuckDB table this process has seen exist (checked once, even by idle cycles). */
  readonly targetsSeen: Set<string>;
  /**
   * The tables of the DuckDB file's main schema, listed once per cycle (one
   * open of the file for every table that asks), or null when another program
   * holds the file.
   */
  readonly targetTables: () => Promise<ReadonlySet<string> | null>;
  /** The shared CSV -> Parquet converter (use it only while holding `writer`). */
  readonly converter: () => Promise<BatchConverter>;
  /** The one DuckDB writer: held for every write to the warehouse. */
  readonly writer: Mutex;
  readonly signal?: AbortSignal;
}

export interface TableCycleResult {
  readonly rows: number;
  readonly batches: number;
  readonly idle: boolean;
  readonly mode: SyncMode;
}

/** Refuses a checkpoint made from another server before anything is written. */
export function checkOrigin(ctx: TableSyncContext, target: string): void {
  const config = ctx.config;
  refuseOtherSource(
    config,
    target,
    ctx.store.get(target)?.origin,
    `syncing on would mix two databases in ${config.duckdbPath} (use another STATE_DIR and DUCKDB_PATH for this source, or run \`reset --yes\` to start over from it)`,
  );
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
 * An idle cycle does not open DuckDB; the first one of a process checks once
 * that the table the checkpoint copied into is still there. When it is not,
 * the cycle runs in full, which reports it (TARGET_MISSING) rather than
 * calling the table up to date.
 */
async function targetExists(ctx: TableSyncContext, table: string): Promise<boolean> {
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
    `DuckDB table ${table} in ${config.duckdbPath} is missing but the checkpoint says rows were copied (restore the file, or run \`reset --yes\` to bootstrap again)`,
  );
}

/**
 * One incremental (or bootstrap) cycle of one table. `horizon` was read before
 * any data query of this cycle; `firstCycle` asks for one-time notices.
 */
export async function syncIncremental(
  ctx: TableSyncContext,
  client: pg.Client,
  plan: TablePlan,
  info: TableInfo,
  cycleHorizon: Horizon | null,
  firstCycle: boolean,
): Promise<TableCycleResult> {
  const config = ctx.config;
  const started = performance.now();
  const table = plan.target;
  checkOrigin(ctx, table);
  if (ctx.store.get(table)?.mode === "full_refresh") {
    // Copied whole until now (no cursor, or no key): start over with a fresh
    // bootstrap, so that rows deleted since the last refresh do not linger and
    // the table gets its primary key.
    await ctx.writer.run(async () => {
      await fenceReplay(ctx.store, config.parquetDir, table);
      const warehouse = await ctx.warehouseFile.acquire({
        lockWaitSeconds: config.lockWaitSeconds,
        signal: ctx.signal,
      });
      try {
        await warehouse.run(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
      } finally {
        warehouse.close();
      }
      ctx.store.restartBootstrap(table);
    });
    ctx.emit({
      type: "notice",
      message:
        `${table} now syncs incrementally (it has a cursor column and a key): copying it again from the start`,
    });
  }
  const checkpoint = ctx.store.get(table);
  const horizon = info.cursorIsTime ? cycleHorizon : null;
  const mode: SyncMode = checkpoint?.mode ?? "bootstrap";
  ctx.emit({
    type: "cycle_started",
    table,
    mode,
    at: ctx.now().toISOString(),
    estimatedRows: info.estimatedRows,
  });
  if (mode === "bootstrap" && firstCycle) {
    const nulls = await countNullCursor(client, info);
    if (nulls > 0) {
      ctx.emit({
        type: "notice",
        message: `${count(nulls, "row")} of ${info.source} ${
          nulls === 1 ? "has" : "have"
        } a NULL ${info.keyset.cursor.name} and are not synced (give them a value, e.g. UPDATE ... SET ${info.keyset.cursor.name} = now() WHERE ${info.keyset.cursor.name} IS NULL)`,
      });
    }
  }

  const position: Position | null = checkpoint?.cursor != null && checkpoint.key
    ? { cursor: checkpoint.cursor, key: checkpoint.key }
    : null;
  const snapshot = ctx.store.schema(table);
  const keyset = keysetOf(info);
  if (position && snapshot?.keyset && !sameKeyset(snapshot.keyset, keyset)) {
    throw configError(
      "KEYSET_CHANGED",
      `The checkpoint of ${table} is a position in (${
        [snapshot.keyset.cursor, ...snapshot.keyset.key].join(", ")
      }) but the cursor and key are now (${
        [keyset.cursor, ...keyset.key].join(", ")
      }): it cannot be resumed (restore the old cursor/key setting, or reset this table with \`${
        selectOnly(plan)
      } reset --yes\` to copy it again)`,
    );
  }
  const partitions = info.partitions?.map((p) => `${p.schema}.${p.table}`);
  const partitionsChanged = partitions !== undefined &&
    (snapshot?.partitions === undefined ||
      partitions.join("\n") !== snapshot.partitions.join("\n"));
  const schemaChanged = !snapshot || !snapshot.keyset || partitionsChanged ||
    info.mappings.length !==
      Object.keys(snapshot.pgTypes).length ||
    info.mappings.some((m) =>
      snapshot.pgTypes[m.name] !== m.pgType ||
      (snapshot.attnums !== undefined && snapshot.attnums[m.name] !== m.attnum)
    );
  const batchSize = mode === "bootstrap" ? config.bootstrapBatchSize : config.batchSize;
  let pending = await hasRowsAfter(client, info, position);
  if (!pending && !schemaChanged && mode === "incremental" && await targetExists(ctx, table)) {
    const durationMs = performance.now() - started;
    ctx.emit({
      type: "cycle_finished",
      table,
      mode,
      rows: 0,
      batches: 0,
      durationMs,
      idle: true,
    });
    return { rows: 0, batches: 0, idle: true, mode };
  }

  if (checkpoint && checkpoint.rowsCopied > 0) {
    try {
      await Deno.stat(config.duckdbPath);
    } catch {
      throw targetMissing(config, table);
    }
  }
  const warehouse = await ctx.warehouseFile.acquire({
    lockWaitSeconds: config.lockWaitSeconds,
    signal: ctx.signal,
    onWait: (message) => ctx.emit({ type: "notice", message }),
  });
  // What the cycle did, once its batches are through (set at the end of the try).
  let done = { rows: 0, batches: 0, mode };
  try {
    await claimTarget(ctx, warehouse, table);
    // A first copy reads the heap in block order when it can (scan_phase.ts)
    // into a table without its primary key, which is added at the end.
    const scanStart = await prepareScan(ctx, plan, warehouse, client, info, horizon, batchSize);
    // After prepareScan: a scan that started over (a changed key) has copied nothing.
    await checkConfiguredKey(client, plan, info, ctx.store.get(table));
    await ctx.writer.run(() =>
      applySchema(
        ctx,
        plan,
        warehouse,
        client,
        info,
        ctx.store.get(table)?.rowsCopied ?? 0,
        ctx.store.schema(table),
        scanStart === null,
      )
    );
    ctx.targetsSeen.add(table);
    if (partitions && partitionsChanged) {
      await copyAttachedPartitions(ctx, plan, warehouse, client, info, position, snapshot);
    }
    const runner = new BatchRunner(ctx, table, info, warehouse, {
      mode,
      keyed: (await warehouse.primaryKey(table)).length > 0,
      // Never reuse a number still on disk: pruning keeps the highest ones.
      lastSeq: Math.max(ctx.store.lastBatchSeq(table), await maxBatchSeq(config.parquetDir, table)),
    });

    let start = position;
    let caughtUp = true;
    if (scanStart) {
      // Then the keyset catch-up below copies what changed while it ran.
      const scanned = await runScan(ctx, runner, client, info, scanStart, batchSize);
      caughtUp = scanned.caughtUp;
      start = scanned.start;
    }

    // This cycle copies up to the last row as of now: later changes are the
    // next cycle's (otherwise a cycle could chase a busy table forever).
    const upper = caughtUp ? await lastPosition(client, info) : null;
    let durable = start;
    let pastHorizon = false;
    /**
     * Postgres side of one batch: COPY the next rows in keyset order
     * to a CSV file, and work out how far the checkpoint may move. Runs for
     * batch N+1 while DuckDB loads batch N (the two overlap on two cores).
     */
    const fields = positionFieldIndexes(info);
    const fetchBatch = async (from: Position | null): Promise<FetchedBatch | null> => {
      const started = performance.now();
      const csv = runner.nextCsv();
      let to: Position | null;
      let rows: number;
      if (fields) {
        // One COPY ... ORDER BY ... LIMIT; the end is read from its last row.
        const copied = await copyNextBatchToCsv(
          client,
          info,
          from,
          batchSize,
          csv,
          fields,
          upper!,
        );
        to = copied.end;
        rows = copied.rows;
      } else {
        to = await nextBatchEnd(client, info, from, batchSize, upper!);
        rows = to ? (await copyRangeToCsv(client, info, from, to, csv)).rows : 0;
      }
      if (!to) {
        await Deno.remove(csv).catch(() => {});
        return null;
      }
      if (!horizon) {
        durable = to;
      } else if (!pastHorizon) {
        if (await isSettled(client, info, to, horizon)) {
          durable = to;
        } else {
          pastHorizon = true;
          durable = await lastSettledPosition(client, info, durable, to, horizon) ?? durable;
        }
      }
      const cursorFrom = from?.cursor ?? null;
      return {
        ...runner.number(cursorFrom, to.cursor),
        csv,
        rows,
        started,
        cursorFrom,
        cursorTo: to.cursor,
        to,
        durable,
      };
    };

    if (upper) {
      caughtUp = await pipelined(
        fetchBatch(start),
        (batch) => fetchBatch(batch.to!),
        (batch) => runner.apply(batch),
        ctx.signal,
      );
    }
    pending = !caughtUp; // stopped early: the table is not caught up
    if (!pending && runner.mode === "bootstrap") {
      // Caught up with the table: every later cycle is incremental, keyed.
      await runner.ensureKey();
      if (!ctx.store.get(table)) {
        ctx.store.advance({
          table,
          source: info.source,
          origin: config.pgOrigin,
          mode: "incremental",
          cursor: null,
          key: null,
          batch: null,
        });
      }
      const rowsInCopy = await warehouse.countRows(table);
      ctx.store.completeBootstrap(table, rowsInCopy);
      runner.mode = "incremental";
      announceCheckpoint(ctx, table, runner.mode, ctx.store.get(table)!);
      ctx.emit({
        type: "notice",
        message: `Bootstrap of ${info.source} complete: ${
          count(rowsInCopy, "row")
        } copied; incremental from now on`,
      });
    }
    done = { rows: runner.rows, batches: runner.batches, mode: runner.mode };
  } finally {
    warehouse.close();
  }
  const durationMs = performance.now() - started;
  const { rows, batches, mode: finalMode } = done;
  ctx.emit({
    type: "cycle_finished",
    table,
    mode: finalMode,
    rows,
    batches,
    durationMs,
    idle: false,
  });
  return { rows, batches, idle: false, mode: finalMode };
}

/**
 * A configured key is checked before the bootstrap copies a row (every cycle
 * until it does, so a refused key is refused again in a loop).
 */
async function checkConfiguredKey(
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

/** Creates the target table, or diffs it against the source and applies drift. */
async function applySchema(
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
    info.keyset.key.map((k) => k.name),
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
      const converter = await ctx.converter();
      await converter.csvToParquet(csv, parquet, columns, plan);
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
async function copyAttachedPartitions(
  ctx: TableSyncContext,
  plan: TablePlan,
  warehouse: Warehouse,
  client: pg.Client,
  info: TableInfo,
  position: Position | null,
  snapshot: SourceSchemaSnapshot | null,
): Promise<void> {
  const current = info.partitions ?? [];
  const known = new Set(snapshot?.partitions ?? []);
  const currentNames = current.map((p) => `${p.schema}.${p.table}`);
  if (snapshot?.partitions !== undefined && position !== null) {
    for (const partition of current) {
      const name = `${partition.schema}.${partition.table}`;
      if (known.has(name)) continue;
      const copied = await withScratchFiles(
        ctx.config.parquetDir,
        `${plan.target}__attached`,
        async (csv, parquet) => {
          const copied = await copyTableToCsv(
            client,
            partition,
            info.mappings,
            csv,
          );
          await ctx.writer.run(async () => {
            const converter = await ctx.converter();
            await converter.csvToParquet(csv, parquet, info.mappings, plan);
            await warehouse.upsertParquet(plan.target, parquet, info.mappings.map((m) => m.name));
          });
          return copied;
        },
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
