// Owns the one way a batch of rows reaches DuckDB. Every change source (keyset
// batches, a first copy by block ranges, a full refresh, partitions attached
// later) hands the sink the same thing: rows Postgres wrote to a CSV file, and
// the lifecycle event the checkpoint records once they are loaded. The sink
// numbers and names the batch, turns the CSV into a Parquet batch file, loads
// it into the DuckDB table in one transaction, then (DuckDB having committed)
// moves the checkpoint, announces the batch, and prunes old batch files, in
// that order. Reading rows is the sources' business; a new source (the WAL)
// plugs in by producing SourceBatches. Also runs a source one batch ahead of
// DuckDB (pipelined).

import { join } from "node:path";
import type { ColumnMapping } from "../core/type_map.ts";
import type { ChangeCounts, SyncMode } from "../core/events.ts";
import type { LifecycleEvent } from "../core/table_lifecycle.ts";
import type { TargetColumn } from "../core/drift.ts";
import type { TableCheckpoint } from "../io/state/checkpoint.ts";
import type { Warehouse } from "../io/duckdb/warehouse.ts";
import type { BatchConverter } from "../io/duckdb/parquet_batch.ts";
import type { SourceTable } from "../io/duckdb/unsupported_value.ts";
import { batchFileName, fileSafe, partialPath, pruneBatchFiles } from "../io/state/batch_files.ts";
import type { TableSyncContext } from "./context.ts";
import { fenceReplay } from "./ops/replay.ts";
import { applyChanges, type ChangeLoad } from "../io/duckdb/warehouse_changes.ts";
import { fileSha256 } from "../io/state/file_checksum.ts";

/** How the rows of a batch go into the DuckDB table. */
export type BatchLoad =
  /** Insert or replace by primary key (the keyed table of every later batch). */
  | { readonly kind: "upsert" }
  /**
   * A first copy's table before its primary key: the rows sharing a key with
   * the batch's rows (or with those matching `where`) are deleted, then the
   * batch is inserted, in one transaction.
   */
  | {
    readonly kind: "replace_keys";
    readonly key: readonly string[];
    readonly where: string | null;
  }
  /**
   * The whole table replaced by the batch (a full refresh), atomically;
   * `replaced` is told the columns the table had before (null: it was new).
   */
  | {
    readonly kind: "replace_table";
    readonly key: readonly string[];
    readonly replaced?: (before: readonly TargetColumn[] | null) => void;
  }
  /** Net changes from the write-ahead log (io/duckdb/warehouse_changes.ts). */
  | { readonly kind: "changes"; readonly changes: ChangeLoad };

/** What a change source hands the sink. */
export interface SourceBatch {
  /** Rows as Postgres' COPY ... (FORMAT csv) wrote them, in the sink's columns. */
  readonly csv: string;
  readonly rows: number;
  /** performance.now() when the source began reading the batch. */
  readonly started: number;
  /** Where the batch starts and ends, for its file name and the log. */
  readonly cursorFrom: string | null;
  readonly cursorTo: string;
  /** What the checkpoint records once the batch is in DuckDB. */
  readonly covers: LifecycleEvent;
  /** Sets the rows copied to this total (a whole copy) instead of adding the batch's. */
  readonly rowsCopied?: number;
  /** SYNC_METHOD=cdc: the stream position the table includes once the batch is in. */
  readonly lsn?: string;
  /** SYNC_METHOD=cdc: the changes the batch holds, by kind. */
  readonly changes?: ChangeCounts;
  /** SYNC_METHOD=cdc: when the batch's oldest transaction committed in Postgres. */
  readonly committedSince?: Date;
}

/** A batch the sink has numbered (its file name), still to be loaded. */
export type NumberedBatch<B extends SourceBatch = SourceBatch> = B & {
  readonly seq: number;
  readonly name: string;
};

export interface SinkOptions {
  /** The DuckDB table. */
  readonly target: string;
  /** The source table (messages name it by `source`). */
  readonly from: SourceTable & { readonly source: string };
  /** The columns of every batch, in CSV order. */
  readonly columns: readonly ColumnMapping[];
  /** The highest batch number used so far (recorded, or still on disk). */
  readonly lastSeq: number;
  /** Batch files kept after this batch (full refreshes keep one). */
  readonly keepFiles?: number;
}

/**
 * Rows a first copy loads between two DuckDB checkpoints. Without them DuckDB
 * keeps the copy's row groups to itself until the file closes: the process
 * grows with the table and the closing checkpoint takes seconds at 10M rows
 * (docs/performance.md).
 */
const ROWS_PER_CHECKPOINT = 2_000_000;

export class BatchSink {
  /** Rows and batches loaded by this sink. */
  rows = 0;
  batches = 0;
  readonly target: string;
  readonly #ctx: TableSyncContext;
  readonly #warehouse: Warehouse;
  readonly #options: SinkOptions;
  #seq: number;
  #rowsSinceCheckpoint = 0;

  constructor(ctx: TableSyncContext, warehouse: Warehouse, options: SinkOptions) {
    this.#ctx = ctx;
    this.#warehouse = warehouse;
    this.#options = options;
    this.target = options.target;
    this.#seq = options.lastSeq;
  }

  /** The table's mode now, as the checkpoint has it. */
  get mode(): SyncMode {
    return this.#ctx.store.get(this.target)?.mode ?? "bootstrap";
  }

  /** Where a source writes its next batch's CSV while it reads it. */
  nextCsv(): string {
    return partialPath(
      this.#ctx.config.parquetDir,
      `${fileSafe(this.target)}__next-${this.#seq + 1}.csv`,
    );
  }

  /** Numbers a batch just read, names its Parquet file, and announces it. */
  number<B extends SourceBatch>(batch: B): NumberedBatch<B> {
    this.#seq += 1;
    const seq = this.#seq;
    this.#ctx.emit({
      type: "batch_started",
      table: this.target,
      seq,
      cursorFrom: batch.cursorFrom,
    });
    return {
      ...batch,
      seq,
      name: batchFileName(this.target, seq, batch.cursorFrom, batch.cursorTo),
    };
  }

  /**
   * Loads one batch: Parquet file, DuckDB (one transaction, under the writer
   * lock), then the checkpoint, the events and pruning. Returns the checkpoint.
   */
  /**
   * Writes the batch (its Parquet file and the DuckDB table, in one
   * transaction), then records it: the checkpoint moves only once DuckDB has
   * committed, the events go out, old batch files are pruned.
   */
  async apply(batch: NumberedBatch, load: BatchLoad): Promise<TableCheckpoint> {
    const bytes = await this.#write(batch, load);
    if (load.kind === "replace_keys") {
      this.#rowsSinceCheckpoint += batch.rows;
      if (this.#rowsSinceCheckpoint >= ROWS_PER_CHECKPOINT) {
        this.#rowsSinceCheckpoint = 0;
        await this.#ctx.writer.run(() => this.#warehouse.checkpoint());
      }
    }
    return await this.#record(batch, bytes);
  }

  /** The batch's Parquet file and its load into DuckDB; the file's size (0: none written). */
  async #write(batch: NumberedBatch, load: BatchLoad): Promise<number> {
    const { config } = this.#ctx;
    const parquetTmp = partialPath(config.parquetDir, batch.name);
    const parquet = join(config.parquetDir, batch.name);
    let bytes = 0;
    let loaded = false;
    try {
      if (batch.rows > 0 && load.kind === "replace_keys") {
        // A first copy's batch: DuckDB parses the CSV once, into a temporary
        // table that both the Parquet file (unless BOOTSTRAP_PARQUET=off) and
        // the table are written from. Any failure (a value DuckDB cannot read,
        // a full disk) goes the two-step way below, which names its cause.
        const withFile = config.bootstrapParquet
          ? {
            path: parquetTmp,
            written: async () => {
              await Deno.rename(parquetTmp, parquet);
              return (await Deno.stat(parquet)).size;
            },
          }
          : undefined;
        loaded = await this.#ctx.writer.run(() =>
          this.#warehouse.appendCsv(
            this.target,
            batch.csv,
            this.#options.columns,
            load.key,
            load.where,
            withFile,
          ).then((size) => {
            bytes = size ?? 0;
            return size !== null;
          }, async () => {
            await Deno.remove(parquet).catch(() => {});
            return false;
          })
        );
      }
      if (
        !loaded && (batch.rows > 0 || load.kind === "replace_table" ||
          (load.kind === "changes" && load.changes.truncate))
      ) {
        bytes = await this.#ctx.writer.run(async () => {
          const size = await toParquet(await this.#ctx.converter(), {
            csv: batch.csv,
            parquet: parquetTmp,
            columns: this.#options.columns,
            from: this.#options.from,
          });
          await Deno.rename(parquetTmp, parquet);
          await this.#load(parquet, load);
          return size;
        });
      }
    } finally {
      // A failed batch leaves nothing behind to fill the disk; its rows are read again.
      await Deno.remove(batch.csv).catch(() => {});
      await Deno.remove(parquetTmp).catch(() => {});
    }
    return bytes;
  }

  /** DuckDB has committed the batch: the checkpoint, the events, the pruning. */
  async #record(batch: NumberedBatch, bytes: number): Promise<TableCheckpoint> {
    const { config, store } = this.#ctx;
    const parquet = join(config.parquetDir, batch.name);
    // What replay checks the file against (the file is final: renamed into place).
    const sha256 = bytes > 0 ? await fileSha256(parquet) : null;
    // DuckDB has committed; only now may the checkpoint move.
    const durationMs = performance.now() - batch.started;
    const finishedAt = this.#ctx.now().toISOString();
    const saved = store.commit({
      table: this.target,
      source: this.#options.from.source,
      origin: config.pgOrigin,
      event: batch.covers,
      ...(batch.rowsCopied === undefined ? {} : { rowsCopied: batch.rowsCopied }),
      ...(batch.lsn === undefined ? {} : { lsn: batch.lsn }),
      batch: {
        table: this.target,
        seq: batch.seq,
        finishedAt,
        rows: batch.rows,
        bytes,
        durationMs,
        cursorFrom: batch.cursorFrom,
        cursorTo: batch.cursorTo,
        file: bytes > 0 ? batch.name : "",
        sha256,
      },
    });
    this.rows += batch.rows;
    this.batches += 1;
    this.#ctx.emit({
      type: "batch_finished",
      table: this.target,
      seq: batch.seq,
      mode: saved.mode,
      rows: batch.rows,
      bytes,
      durationMs,
      cursorFrom: batch.cursorFrom,
      cursorTo: batch.cursorTo,
      file: batch.name,
      ...(batch.changes ? { changes: batch.changes } : {}),
      ...(batch.committedSince
        ? { commitLagMs: Math.max(0, Date.parse(finishedAt) - batch.committedSince.getTime()) }
        : {}),
    });
    announceCheckpoint(this.#ctx, this.target, saved, batch.lsn);
    await pruneBatchFiles(
      config.parquetDir,
      this.target,
      Math.min(config.parquetKeepBatches, this.#options.keepFiles ?? Infinity),
    );
    return saved;
  }

  async #load(parquet: string, load: BatchLoad): Promise<void> {
    const names = this.#options.columns.map((m) => m.name);
    switch (load.kind) {
      case "upsert":
        await this.#warehouse.upsertParquet(this.target, parquet, names);
        return;
      case "replace_keys":
        await this.#warehouse.appendParquet(this.target, parquet, names, load.key, load.where);
        return;
      case "changes":
        await applyChanges(this.#warehouse, this.target, parquet, load.changes);
        return;
      case "replace_table": {
        const before = await this.#warehouse.columns(this.target);
        // Every row may change without a newer cursor: older files must not be replayed.
        await fenceReplay(this.#ctx.store, this.#ctx.config.parquetDir, this.target);
        await this.#warehouse.replaceFromParquet(
          this.target,
          parquet,
          this.#options.columns,
          load.key,
        );
        load.replaced?.(before);
        return;
      }
    }
  }
}

/**
 * The sink's first step on its own, for writes that move no checkpoint (a
 * schema change's column backfill, a repair): a CSV of rows to a Parquet file
 * the caller then loads. Returns the file's size.
 */
export async function toParquet(
  converter: BatchConverter,
  files: {
    readonly csv: string;
    readonly parquet: string;
    readonly columns: readonly ColumnMapping[];
    readonly from: SourceTable;
  },
): Promise<number> {
  return await converter.csvToParquet(files.csv, files.parquet, files.columns, files.from);
}

/** Tells the UI and the log where a table's checkpoint now stands. */
export function announceCheckpoint(
  ctx: TableSyncContext,
  table: string,
  saved: TableCheckpoint,
  lsn?: string,
): void {
  ctx.emit({
    type: "checkpoint_advanced",
    table,
    mode: saved.mode,
    cursor: saved.cursor,
    key: saved.key,
    rowsCopied: saved.rowsCopied,
    ...(lsn === undefined ? {} : { lsn }),
  });
}

/**
 * Runs a source with Postgres one batch ahead: while `apply` loads batch N,
 * batch N+1 is already being read. Returns true when the source ran out of
 * batches, false when `signal` stopped it first. A batch read ahead that will
 * not be loaded is dropped (the checkpoint never covered it).
 */
export async function pipelined<B extends SourceBatch>(
  first: Promise<B | null>,
  next: (batch: B) => Promise<B | null>,
  apply: (batch: B) => Promise<void>,
  signal?: AbortSignal,
): Promise<boolean> {
  let ahead = first;
  let batch: B | null = null;
  try {
    while ((batch = await ahead)) {
      ahead = signal?.aborted ? Promise.resolve(null) : next(batch);
      ahead.catch(() => {}); // surfaced when awaited
      await apply(batch);
      if (signal?.aborted) return false;
    }
    return true;
  } finally {
    const dropped = await ahead.catch(() => null);
    if (dropped && dropped !== batch) await Deno.remove(dropped.csv).catch(() => {});
  }
}
