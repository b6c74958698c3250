// Owns the DuckDB side of a table's batches and their bookkeeping: numbering
// and naming each batch, CSV -> Parquet, loading it (an upsert into the keyed
// table, or a keyed replace-then-insert while a block scan's table has no key
// yet), then the checkpoint and the progress events, in that order. Also runs
// batches with Postgres one batch ahead of DuckDB. Fetching batches (keyset or
// block ranges) is the callers' business.

import { join } from "node:path";
import type { TableSyncContext } from "./table_sync.ts";
import type { TableInfo } from "../io/postgres.ts";
import type { Warehouse } from "../io/warehouse.ts";
import type { Position } from "../core/keyset.ts";
import type { ScanState } from "../io/block_scan.ts";
import type { TableCheckpoint } from "../io/checkpoint.ts";
import type { SyncMode } from "../core/events.ts";
import { batchFileName, fileSafe, partialPath, pruneBatchFiles } from "../io/batch_files.ts";
import { quoteIdent, quoteLiteral } from "../core/sql.ts";
import { count } from "../core/counts.ts";

/** Tells the UI and the log where a table's checkpoint now stands. */
export function announceCheckpoint(
  ctx: TableSyncContext,
  table: string,
  mode: SyncMode,
  saved: TableCheckpoint,
): void {
  ctx.emit({
    type: "checkpoint_advanced",
    table,
    mode,
    cursor: saved.cursor,
    key: saved.key,
    rowsCopied: saved.rowsCopied,
  });
}

/** One batch read from Postgres into a CSV file, not yet in DuckDB. */
export interface FetchedBatch {
  readonly seq: number;
  readonly name: string;
  readonly csv: string;
  readonly rows: number;
  readonly started: number;
  /** For the log and batch history: a cursor range, or a block range in a scan. */
  readonly cursorFrom: string | null;
  readonly cursorTo: string;
  /** The keyset position of the batch's last row (keyset batches only). */
  readonly to?: Position;
  /** Where the checkpoint may move once this batch is in DuckDB. */
  readonly durable: Position | null;
  /** The block scan's state once this batch is in DuckDB (scan batches only). */
  readonly scan?: ScanState;
}

export class BatchRunner {
  /** Rows and batches loaded by this runner. */
  rows = 0;
  batches = 0;
  mode: SyncMode;
  /** A resumed scan's first batch may already be in DuckDB: all its keys are replaced. */
  replaceAllKeys = false;
  readonly table: string;
  readonly #ctx: TableSyncContext;
  readonly #info: TableInfo;
  readonly #warehouse: Warehouse;
  #keyed: boolean;
  #seq: number;

  constructor(
    ctx: TableSyncContext,
    table: string,
    info: TableInfo,
    warehouse: Warehouse,
    options: { mode: SyncMode; keyed: boolean; lastSeq: number },
  ) {
    this.#ctx = ctx;
    this.table = table;
    this.#info = info;
    this.#warehouse = warehouse;
    this.mode = options.mode;
    this.#keyed = options.keyed;
    this.#seq = options.lastSeq;
  }

  /** Where the next batch's CSV is written while it is read. */
  nextCsv(): string {
    return partialPath(
      this.#ctx.config.parquetDir,
      `${fileSafe(this.table)}__next-${this.#seq + 1}.csv`,
    );
  }

  /** Numbers a batch just read, names its Parquet file, and announces it. */
  number(cursorFrom: string | null, cursorTo: string): { seq: number; name: string } {
    this.#seq += 1;
    const seq = this.#seq;
    this.#ctx.emit({ type: "batch_started", table: this.table, seq, cursorFrom });
    return { seq, name: batchFileName(this.table, seq, cursorFrom, cursorTo) };
  }

  /** DuckDB side of one batch (under the writer lock), then the checkpoint. */
  async apply(batch: FetchedBatch): Promise<void> {
    const { config, store } = this.#ctx;
    const table = this.table;
    const info = this.#info;
    const parquetTmp = partialPath(config.parquetDir, batch.name);
    const parquet = join(config.parquetDir, batch.name);
    let bytes = 0;
    if (batch.rows > 0) {
      bytes = await this.#ctx.writer.run(async () => {
        const converter = await this.#ctx.converter();
        const size = await converter.csvToParquet(batch.csv, parquetTmp, info.mappings, info);
        await Deno.rename(parquetTmp, parquet);
        await this.#load(batch, parquet);
        return size;
      }).catch(async (error) => {
        // Read again next cycle; left behind, they would keep a full disk full.
        await Deno.remove(batch.csv).catch(() => {});
        await Deno.remove(parquetTmp).catch(() => {});
        throw error;
      });
    }
    await Deno.remove(batch.csv).catch(() => {});
    // DuckDB has committed; only now may the checkpoint move.
    const durationMs = performance.now() - batch.started;
    const finishedAt = this.#ctx.now().toISOString();
    const saved = store.advance({
      table,
      source: info.source,
      origin: config.pgOrigin,
      mode: this.mode,
      cursor: batch.durable?.cursor ?? null,
      key: batch.durable?.key ?? null,
      ...(batch.scan === undefined ? {} : { scan: batch.scan }),
      batch: {
        table,
        seq: batch.seq,
        finishedAt,
        rows: batch.rows,
        bytes,
        durationMs,
        cursorFrom: batch.cursorFrom,
        cursorTo: batch.cursorTo,
        file: batch.rows > 0 ? batch.name : "",
      },
    });
    this.rows += batch.rows;
    this.batches += 1;
    this.#ctx.emit({
      type: "batch_finished",
      table,
      seq: batch.seq,
      mode: this.mode,
      rows: batch.rows,
      bytes,
      durationMs,
      cursorFrom: batch.cursorFrom,
      cursorTo: batch.cursorTo,
      file: batch.name,
    });
    announceCheckpoint(this.#ctx, table, this.mode, saved);
    await pruneBatchFiles(config.parquetDir, table, config.parquetKeepBatches);
  }

  /**
   * Loads a batch's Parquet file: an upsert into the keyed table; without the
   * key (a block scan's table), the rows it replaces are deleted first: those
   * sharing a key with its recently changed rows, or with all of its rows.
   */
  async #load(batch: FetchedBatch, parquet: string): Promise<void> {
    const names = this.#info.mappings.map((m) => m.name);
    if (this.#keyed) {
      await this.#warehouse.upsertParquet(this.table, parquet, names);
      return;
    }
    const cursor = this.#cursorMapping();
    const recent = batch.scan && !this.replaceAllKeys
      ? `${quoteIdent(cursor.name)} >= CAST(${
        quoteLiteral(batch.scan.recentFrom)
      } AS ${cursor.duckType})`
      : null;
    await this.#warehouse.appendParquet(this.table, parquet, names, this.#keyNames(), recent);
    this.replaceAllKeys = false;
  }

  /** Gives a table loaded without its primary key (a block scan) the key. */
  async ensureKey(): Promise<void> {
    if (this.#keyed) return;
    const removed = await this.#ctx.writer.run(() =>
      this.#warehouse.addPrimaryKey(this.table, this.#keyNames(), this.#cursorMapping().name)
    );
    this.#keyed = true;
    if (removed > 0) {
      this.#ctx.emit({
        type: "notice",
        message: `${this.table}: ${
          count(removed, "row")
        } met twice during the first copy (moved by updates while it ran) were merged before adding the primary key; the rows written during the copy are read again next`,
      });
    }
  }

  #keyNames(): string[] {
    return this.#info.keyset.key.map((k) => k.name);
  }

  #cursorMapping() {
    return this.#info.mappings.find((m) => m.name === this.#info.keyset.cursor.name)!;
  }
}

/**
 * Runs batches with Postgres one batch ahead: while `apply` loads batch N,
 * batch N+1 is already being read. Returns true when the source ran out of
 * batches, false when `signal` stopped it first. A batch read ahead that will
 * not be loaded is dropped (the checkpoint never covered it).
 */
export async function pipelined(
  first: Promise<FetchedBatch | null>,
  next: (batch: FetchedBatch) => Promise<FetchedBatch | null>,
  apply: (batch: FetchedBatch) => Promise<void>,
  signal?: AbortSignal,
): Promise<boolean> {
  let ahead = first;
  let batch: FetchedBatch | null = null;
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
