// Owns one sync cycle for the configured table, in the order that keeps DuckDB
// exact: introspect, read the safe horizon, apply schema drift, then page through
// (cursor, key) batches: COPY -> CSV -> Parquet -> upsert into DuckDB -> commit ->
// checkpoint. Never reads the environment or prints: progress leaves as events.

import { join } from "node:path";
import type pg from "pg";
import type { Config } from "./config.ts";
import { configError, errorMessage, SyncError } from "./errors.ts";
import { CheckpointStore, type SourceSchemaSnapshot } from "./checkpoint.ts";
import { diffSchema, rebuildForKeyRetype } from "./drift.ts";
import type { DriftRecord, EventSink, SyncMode } from "./protocol.ts";
import {
  classifyPgError,
  connectPg,
  copyColumnsToCsv,
  copyNextBatchToCsv,
  copyRangeToCsv,
  countNullCursor,
  hasRowsAfter,
  introspect,
  isSettled,
  lastSettledPosition,
  nextBatchEnd,
  positionFieldIndexes,
  readHorizon,
  type TableInfo,
} from "./pg_source.ts";
import { BatchConverter } from "./parquet_batch.ts";
import { isLockError, type Warehouse, WarehouseFile } from "./duckdb_target.ts";
import type { Position } from "./keyset.ts";
import {
  batchFileName,
  fileSafe,
  maxBatchSeq,
  partialPath,
  pruneBatchFiles,
  removePartials,
} from "./batch_files.ts";

export interface EngineOptions {
  readonly config: Config;
  readonly emit: EventSink;
  readonly secrets: readonly string[];
  readonly now?: () => Date;
}

export interface CycleSummary {
  readonly rows: number;
  readonly batches: number;
  readonly idle: boolean;
  readonly mode: SyncMode;
}

export class SyncEngine {
  readonly #config: Config;
  readonly #emit: EventSink;
  readonly #secrets: string[];
  readonly #now: () => Date;
  #store: CheckpointStore;
  #client: pg.Client | null = null;
  #converter: BatchConverter | null = null;
  readonly warehouseFile: WarehouseFile;
  #toldLookback = false;
  #toldNullCursor = false;

  private constructor(options: EngineOptions, store: CheckpointStore) {
    this.#config = options.config;
    this.#emit = options.emit;
    this.#secrets = [...options.secrets];
    this.#now = options.now ?? (() => new Date());
    this.#store = store;
    this.warehouseFile = new WarehouseFile(options.config.duckdbPath);
  }

  /** Opens the checkpoint store (fails fast on an unwritable or corrupt state). */
  static async create(options: EngineOptions): Promise<SyncEngine> {
    const store = CheckpointStore.open(options.config.stateDir);
    await Deno.mkdir(options.config.parquetDir, { recursive: true });
    await removePartials(options.config.parquetDir);
    return new SyncEngine(options, store);
  }

  get store(): CheckpointStore {
    return this.#store;
  }

  /** The open Postgres connection, reconnecting when the last one failed. */
  async postgres(): Promise<pg.Client> {
    if (!this.#client) this.#client = await connectPg(this.#config, this.#secrets);
    return this.#client;
  }

  async close(): Promise<void> {
    await this.#dropClient();
    this.#converter?.close();
    this.#converter = null;
    this.#store.close();
  }

  async #dropClient(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client) await client.end().catch(() => {});
  }

  /** Runs one cycle. Between batches, `signal` stops it cleanly. */
  async runCycle(signal?: AbortSignal): Promise<CycleSummary> {
    try {
      return await this.#cycle(signal);
    } catch (error) {
      const classified = this.#classify(error);
      if (classified.transient || classified.code === "PG_ERROR") await this.#dropClient();
      throw classified;
    }
  }

  #classify(error: unknown): SyncError {
    if (error instanceof SyncError) return error;
    if (isLockError(error)) {
      return new SyncError("DUCKDB_LOCKED", `DuckDB file is locked: ${errorMessage(error)}`, {
        transient: true,
        cause: error,
      });
    }
    const code = (error as { code?: unknown })?.code;
    if (typeof code === "string" || /connection|terminated/i.test(errorMessage(error))) {
      const pgError = classifyPgError(error, this.#config, this.#secrets);
      if (
        pgError.code === "PG_ERROR" && typeof code === "string" &&
        /^(08|53|57|40)/.test(code)
      ) {
        return new SyncError(pgError.code, pgError.message, { transient: true, cause: error });
      }
      return pgError;
    }
    return new SyncError("DUCKDB_ERROR", `DuckDB error: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  async #cycle(signal?: AbortSignal): Promise<CycleSummary> {
    const config = this.#config;
    const started = performance.now();
    const client = await this.postgres();
    const info = await introspect(client, config);
    const table = config.duckdbTable;
    const checkpoint = this.#store.get(table);
    if (checkpoint?.origin && checkpoint.origin !== config.pgOrigin) {
      throw configError(
        "SOURCE_CHANGED",
        `The checkpoint for ${table} in ${config.stateDir} was made from ${checkpoint.origin}, not ${config.pgOrigin}: syncing on would mix two databases in ${config.duckdbPath} (use another STATE_DIR and DUCKDB_PATH for this source, or run \`reset --yes\` to start over from it)`,
      );
    }
    const mode: SyncMode = checkpoint?.mode ?? "bootstrap";
    const horizon = info.cursorIsTime ? await readHorizon(client, config.lookbackSeconds) : null;
    if (horizon?.usedLookback && !this.#toldLookback) {
      this.#toldLookback = true;
      this.#emit({
        type: "notice",
        message:
          `Cannot see other roles' open transactions (grant pg_read_all_stats to ${config.pg.user} to fix); the checkpoint stays SYNC_LOOKBACK_SECONDS=${config.lookbackSeconds}s behind and that window is re-read each cycle`,
      });
    }
    this.#emit({
      type: "cycle_started",
      table,
      mode,
      at: this.#now().toISOString(),
      estimatedRows: info.estimatedRows,
    });
    if (mode === "bootstrap" && !this.#toldNullCursor) {
      this.#toldNullCursor = true;
      const nulls = await countNullCursor(client, info);
      if (nulls > 0) {
        this.#emit({
          type: "notice",
          message:
            `${nulls} row(s) of ${info.source} have a NULL ${info.keyset.cursor.name} and are not synced (give them a value, e.g. UPDATE ... SET ${info.keyset.cursor.name} = now() WHERE ${info.keyset.cursor.name} IS NULL)`,
        });
      }
    }

    const position: Position | null = checkpoint?.cursor != null && checkpoint.key
      ? { cursor: checkpoint.cursor, key: checkpoint.key }
      : null;
    const snapshot = this.#store.schema(table);
    const schemaChanged = !snapshot || info.mappings.length !==
        Object.keys(snapshot.pgTypes).length ||
      info.mappings.some((m) =>
        snapshot.pgTypes[m.name] !== m.pgType ||
        (snapshot.attnums !== undefined && snapshot.attnums[m.name] !== m.attnum)
      );
    const batchSize = mode === "bootstrap" ? config.bootstrapBatchSize : config.batchSize;
    let pending = await hasRowsAfter(client, info, position);
    if (!pending && !schemaChanged && mode === "incremental") {
      const durationMs = performance.now() - started;
      this.#emit({
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
    const warehouse = await this.warehouseFile.acquire({
      lockWaitSeconds: config.lockWaitSeconds,
      signal,
      onWait: (message) => this.#emit({ type: "notice", message }),
    });
    let rows = 0;
    let batches = 0;
    let currentMode = mode;
    try {
      await this.#applySchema(warehouse, client, info, checkpoint?.rowsCopied ?? 0, snapshot);
      const converter = this.#converter ??= await BatchConverter.create();
      let durable = position;
      let pastHorizon = false;
      // Never reuse a number still on disk: pruning keeps the highest ones.
      let seq = Math.max(
        this.#store.lastBatchSeq(table),
        await maxBatchSeq(config.parquetDir, table),
      );

      /**
       * Postgres side of one batch: COPY the next rows in keyset order
       * to a CSV file, and work out how far the checkpoint may move. Runs for
       * batch N+1 while DuckDB loads batch N (the two overlap on two cores).
       */
      const fields = positionFieldIndexes(info);
      const fetchBatch = async (from: Position | null): Promise<FetchedBatch | null> => {
        const started = performance.now();
        const csv = partialPath(config.parquetDir, `${fileSafe(table)}__next-${seq + 1}.csv`);
        let to: Position | null;
        let rows: number;
        if (fields) {
          // One COPY ... ORDER BY ... LIMIT; the end is read from its last row.
          const copied = await copyNextBatchToCsv(client, info, from, batchSize, csv, fields);
          to = copied.end;
          rows = copied.rows;
        } else {
          to = await nextBatchEnd(client, info, from, batchSize);
          rows = to ? (await copyRangeToCsv(client, info, from, to, csv)).rows : 0;
        }
        if (!to) {
          await Deno.remove(csv).catch(() => {});
          return null;
        }
        seq += 1;
        this.#emit({ type: "batch_started", table, seq, cursorFrom: from?.cursor ?? null });
        const name = batchFileName(table, seq, from?.cursor ?? null, to.cursor);
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
        return { seq, name, csv, from, to, rows, durable, started };
      };

      let next: Promise<FetchedBatch | null> = fetchBatch(position);
      let batch: FetchedBatch | null;
      try {
        while ((batch = await next)) {
          const { seq: batchSeq, name, csv, from, to } = batch;
          // Prefetch the next batch while DuckDB works on this one.
          next = signal?.aborted ? Promise.resolve(null) : fetchBatch(to);
          next.catch(() => {}); // surfaced when awaited
          const parquetTmp = partialPath(config.parquetDir, name);
          const parquet = join(config.parquetDir, name);
          let bytes = 0;
          if (batch.rows > 0) {
            bytes = await converter.csvToParquet(csv, parquetTmp, info.mappings);
            await Deno.rename(parquetTmp, parquet);
            await warehouse.upsertParquet(table, parquet, info.mappings.map((m) => m.name));
          }
          await Deno.remove(csv).catch(() => {});
          // DuckDB has committed (autocommit); only now may the checkpoint move.
          const durationMs = performance.now() - batch.started;
          const finishedAt = this.#now().toISOString();
          const saved = this.#store.advance({
            table,
            source: info.source,
            origin: config.pgOrigin,
            mode: currentMode,
            cursor: batch.durable?.cursor ?? null,
            key: batch.durable?.key ?? null,
            batch: {
              table,
              seq: batchSeq,
              finishedAt,
              rows: batch.rows,
              bytes,
              durationMs,
              cursorFrom: from?.cursor ?? null,
              cursorTo: to.cursor,
              file: batch.rows > 0 ? name : "",
            },
          });
          rows += batch.rows;
          batches += 1;
          this.#emit({
            type: "batch_finished",
            table,
            seq: batchSeq,
            mode: currentMode,
            rows: batch.rows,
            bytes,
            durationMs,
            cursorFrom: from?.cursor ?? null,
            cursorTo: to.cursor,
            file: name,
          });
          this.#emit({
            type: "checkpoint_advanced",
            table,
            mode: currentMode,
            cursor: saved.cursor,
            key: saved.key,
            rowsCopied: saved.rowsCopied,
          });
          await pruneBatchFiles(config.parquetDir, table, config.parquetKeepBatches);
          if (signal?.aborted) break;
        }
      } finally {
        // A prefetched batch that will not be loaded (stop or failure) is dropped;
        // the checkpoint never covered it, so the next cycle reads it again.
        const pending = await next.catch(() => null);
        if (pending) await Deno.remove(pending.csv).catch(() => {});
      }
      pending = batch !== null; // stopped early: the table is not caught up
      if (!pending && currentMode === "bootstrap") {
        // Caught up with the table: every later cycle is incremental.
        if (!this.#store.get(table)) {
          this.#store.advance({
            table,
            source: info.source,
            origin: config.pgOrigin,
            mode: "incremental",
            cursor: null,
            key: null,
            batch: null,
          });
        }
        this.#store.setMode(table, "incremental");
        currentMode = "incremental";
        this.#emit({
          type: "notice",
          message: `Bootstrap of ${info.source} complete: ${
            this.#store.get(table)?.rowsCopied ?? rows
          } rows copied; incremental from now on`,
        });
      }
    } finally {
      warehouse.close();
    }
    const durationMs = performance.now() - started;
    this.#emit({
      type: "cycle_finished",
      table,
      mode: currentMode,
      rows,
      batches,
      durationMs,
      idle: false,
    });
    return { rows, batches, idle: false, mode: currentMode };
  }

  /** Creates the target table, or diffs it against the source and applies drift. */
  async #applySchema(
    warehouse: Warehouse,
    client: pg.Client,
    info: TableInfo,
    rowsCopied: number,
    snapshot: SourceSchemaSnapshot | null,
  ): Promise<void> {
    const config = this.#config;
    const table = config.duckdbTable;
    const target = await warehouse.columns(table);
    const pgTypes = Object.fromEntries(info.mappings.map((m) => [m.name, m.pgType]));
    const attnums = Object.fromEntries(info.mappings.map((m) => [m.name, m.attnum ?? 0]));
    if (!target) {
      if (rowsCopied > 0) throw targetMissing(config, table);
      await warehouse.createTable(table, info.mappings, info.keyset.key.map((k) => k.name));
      this.#store.saveSchema(
        table,
        { pgTypes, attnums, dropped: [] },
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
      this.#store.saveSchema(table, { pgTypes, attnums, dropped: [...dropped] }, info.source);
      return;
    }
    const backfill = changes.filter((c) => c.backfill).map((c) => c.column);
    await warehouse.run("BEGIN TRANSACTION");
    try {
      for (const change of changes) if (change.ddl) await warehouse.run(change.ddl);
      if (backfill.length > 0 && rowsCopied > 0) {
        await this.#backfill(warehouse, client, info, backfill);
      }
      await warehouse.run("COMMIT");
    } catch (error) {
      await warehouse.run("ROLLBACK").catch(() => {});
      throw error;
    }
    const at = this.#now().toISOString();
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
    this.#store.recordDrift(records, { pgTypes, attnums, dropped: [...dropped] }, table);
    for (const drift of records) this.#emit({ type: "drift_applied", drift });
  }

  /** Copies the values of added or retyped columns for every existing row. */
  async #backfill(
    warehouse: Warehouse,
    client: pg.Client,
    info: TableInfo,
    added: readonly string[],
  ): Promise<void> {
    const keyNames = info.keyset.key.map((k) => k.name);
    const columns = info.mappings.filter((m) =>
      keyNames.includes(m.name) || added.includes(m.name)
    );
    const name = `${fileSafe(this.#config.duckdbTable)}__backfill.parquet`;
    const csv = partialPath(this.#config.parquetDir, `${name}.csv`);
    const parquet = partialPath(this.#config.parquetDir, name);
    try {
      await copyColumnsToCsv(client, info, columns, csv);
      const converter = this.#converter ??= await BatchConverter.create();
      await converter.csvToParquet(csv, parquet, columns);
      await warehouse.updateColumnsFromParquet(this.#config.duckdbTable, parquet, keyNames, added);
    } finally {
      await Deno.remove(csv).catch(() => {});
      await Deno.remove(parquet).catch(() => {});
    }
  }
}

interface FetchedBatch {
  readonly seq: number;
  readonly name: string;
  readonly csv: string;
  readonly from: Position | null;
  readonly to: Position;
  readonly rows: number;
  /** Where the checkpoint may move once this batch is in DuckDB. */
  readonly durable: Position | null;
  readonly started: number;
}

function targetMissing(config: Config, table: string): SyncError {
  return new SyncError(
    "TARGET_MISSING",
    `DuckDB table ${table} in ${config.duckdbPath} is missing but the checkpoint says rows were copied (restore the file, or run \`reset --yes\` to bootstrap again)`,
  );
}
