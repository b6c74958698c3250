// Owns reading a block scan's ranges (scan_phase.ts decides what a scan is) on
// one or several Postgres connections while the one DuckDB writer loads them:
// ranges are handed out in block order, read at once on up to
// BOOTSTRAP_PARALLELISM connections, and numbered and loaded strictly in block
// order, so the checkpoint's "next block" only ever moves forward over ranges
// that are in DuckDB. Every range is read as of one snapshot when it can be:
// the caller's (the WAL's replication slot exported it) or one exported here
// on a connection of its own (which holds no lock on the table); then no row
// version can be read twice, in two ranges.

import type pg from "pg";
import { SyncError } from "../../core/errors.ts";
import type { TableInfo } from "../../io/postgres/mod.ts";
import {
  copyBlocksToCsv,
  densestAfter,
  exportSnapshot,
  nextBlocksPerBatch,
  nextRange,
  oneTransactionAtATime,
  type ScanState,
} from "../../io/postgres/block_scan.ts";
import type { BatchSink, NumberedBatch, SourceBatch } from "../batch_sink.ts";
import type { TableSyncContext } from "../context.ts";

/** How a scan reads its ranges. */
export interface ScanReaders {
  /** Connections reading ranges at once (BOOTSTRAP_PARALLELISM); 1 reads on `client` alone. */
  readonly parallelism: number;
  /** Opens another Postgres connection (needed when `parallelism` > 1). */
  readonly connect?: () => Promise<pg.Client>;
  /**
   * A snapshot exported by a transaction the caller keeps open (the WAL's
   * replication slot): every range is read as of it. Without one, a scan
   * that can open connections exports its own.
   */
  readonly snapshot?: string;
}

/** A batch of the scan: the scan's state once it is in DuckDB. */
export interface ScanBatch extends SourceBatch {
  readonly scan: ScanState;
}

interface RangeRead {
  readonly range: { from: number; to: number };
  readonly csv: string;
  readonly rows: number;
  readonly started: number;
}

/**
 * Reads the scan's remaining ranges from `state` and hands each, in block
 * order, to `apply`. Returns whether every range is loaded (false when
 * ctx.signal stopped it between batches) and whether all were read as of one
 * snapshot. Read-ahead batches that will not be loaded have their files
 * removed; extra connections are closed.
 */
export async function readRanges(
  ctx: TableSyncContext,
  sink: BatchSink,
  client: pg.Client,
  info: TableInfo,
  state: ScanState,
  batchSize: number,
  readers: ScanReaders,
  handlers: {
    /** `oneSnapshot`: every range of this run is read as of one snapshot. */
    apply: (batch: NumberedBatch<ScanBatch>, oneSnapshot: boolean) => Promise<void>;
  },
): Promise<{ done: boolean; oneSnapshot: boolean }> {
  const extra: pg.Client[] = [];
  let exported: { snapshot: string; release: () => Promise<void> } | null = null;
  const inFlight: Promise<RangeRead>[] = [];
  try {
    // A server running one transaction at a time can share no snapshot.
    const connect = readers.connect && !(await oneTransactionAtATime(client))
      ? readers.connect
      : undefined;
    const parallelism = connect ? Math.max(1, readers.parallelism) : 1;
    let snapshot = readers.snapshot;
    for (let i = 1; i < parallelism; i++) extra.push(await connect!());
    if (!snapshot && connect) {
      const exporter = await connect();
      extra.push(exporter);
      exported = await exportSnapshot(exporter);
      snapshot = exported.snapshot;
    }
    const oneSnapshot = snapshot !== undefined;
    const free = [client, ...extra.slice(0, parallelism - 1)];
    // The state ranges are planned from (the next block to hand out), and the
    // one the checkpoint records (the next block not yet in DuckDB).
    let planned = state;
    let loaded = state;
    let csvSeq = 0;
    const startRead = (): boolean => {
      const range = nextRange(planned);
      if (!range || free.length === 0) return false;
      planned = { ...planned, nextBlock: range.to };
      const reader = free.shift()!;
      csvSeq += 1;
      // Several reads at once: each its own file (still a .partial one).
      const csv = sink.nextCsv().replace(/\.partial$/, `-${csvSeq}.partial`);
      const started = performance.now();
      const read = copyBlocksToCsv(reader, info, range, csv, snapshot).then(
        async (copied) => {
          if (copied.filenode !== state.filenode) {
            await Deno.remove(csv).catch(() => {});
            throw rewritten(info);
          }
          return { range, csv, rows: copied.rows, started };
        },
        async (error) => {
          await Deno.remove(csv).catch(() => {});
          throw error;
        },
      ).finally(() => free.push(reader));
      read.catch(() => {}); // surfaced when awaited
      inFlight.push(read);
      return true;
    };
    while (startRead());
    while (inFlight.length > 0) {
      const read = await inFlight.shift()!;
      const blocks = read.range.to - read.range.from;
      loaded = {
        ...loaded,
        nextBlock: read.range.to,
        blocksPerBatch: nextBlocksPerBatch(batchSize, blocks, read.rows, loaded.densest),
        densest: densestAfter(loaded.densest, blocks, read.rows),
      };
      // Ranges not yet handed out follow what was learnt about rows per block.
      planned = { ...planned, blocksPerBatch: loaded.blocksPerBatch, densest: loaded.densest };
      if (!ctx.signal?.aborted) { while (startRead()); }
      const next = loaded;
      await handlers.apply(
        sink.number({
          csv: read.csv,
          rows: read.rows,
          started: read.started,
          cursorFrom: read.range.from === 0 ? null : `block ${read.range.from}`,
          cursorTo: `block ${read.range.to} of ${state.blocks}`,
          scan: next,
          // The checkpoint keeps no cursor until the scan ends, only the scan's progress.
          covers: { type: "batch_committed", position: null, scan: next },
        }),
        oneSnapshot,
      );
      if (ctx.signal?.aborted) return { done: false, oneSnapshot };
    }
    return { done: true, oneSnapshot };
  } finally {
    for (const read of inFlight) {
      const dropped = await read.catch(() => null);
      if (dropped) await Deno.remove(dropped.csv).catch(() => {});
    }
    await exported?.release().catch(() => {});
    await Promise.all(extra.map((c) => c.end().catch(() => {})));
  }
}

/** Rewritten (VACUUM FULL, CLUSTER, TRUNCATE...): block numbers moved. */
function rewritten(info: TableInfo): SyncError {
  // The next cycle sees it too and starts the copy over (prepareScan).
  return new SyncError(
    "SOURCE_REWRITTEN",
    `${info.source} was rewritten (VACUUM FULL, CLUSTER or TRUNCATE) during its first copy; the next cycle copies it again from the start`,
    { transient: true },
  );
}
