// Owns the keyset change source: batches of rows after a (cursor, key)
// position, in keyset order, up to the table's last row as of the start of the
// cycle, each handed to the batch sink with the position the checkpoint may
// move to (never past the safe horizon: a late commit can still land behind
// it). Postgres reads batch N+1 while DuckDB loads batch N.

import type pg from "pg";
import type { Position } from "../../core/keyset.ts";
import {
  copyNextBatchToCsv,
  copyRangeToCsv,
  type Horizon,
  isSettled,
  lastPosition,
  lastSettledPosition,
  nextBatchEnd,
  positionFieldIndexes,
  type TableInfo,
} from "../../io/postgres/mod.ts";
import {
  type BatchLoad,
  type BatchSink,
  type NumberedBatch,
  pipelined,
  type SourceBatch,
} from "../batch_sink.ts";

export interface KeysetCopy {
  readonly client: pg.Client;
  readonly info: TableInfo;
  /** The checkpoint's position: batches start after it. */
  readonly after: Position | null;
  /** Rows with a cursor before it are settled; null for a cursor that is not a time. */
  readonly horizon: Horizon | null;
  readonly batchSize: number;
  readonly load: BatchLoad;
  readonly signal?: AbortSignal;
}

/** A keyset batch: where it ends, for the next one to start after. */
interface KeysetBatch extends SourceBatch {
  readonly to: Position;
}

/**
 * Copies every batch after `after`, up to the last row as of now (later
 * changes are the next cycle's: otherwise a cycle could chase a busy table
 * forever). Returns false when stopped by the signal before the end.
 */
export async function copyKeysetBatches(sink: BatchSink, copy: KeysetCopy): Promise<boolean> {
  const { client, info, horizon, batchSize } = copy;
  const upper = await lastPosition(client, info);
  if (!upper) return true;
  let durable = copy.after;
  let pastHorizon = false;
  const fields = positionFieldIndexes(info);
  const fetchBatch = async (
    from: Position | null,
  ): Promise<NumberedBatch<KeysetBatch> | null> => {
    const started = performance.now();
    const csv = sink.nextCsv();
    let to: Position | null;
    let rows: number;
    if (fields) {
      // One COPY ... ORDER BY ... LIMIT; the end is read from its last row.
      const copied = await copyNextBatchToCsv(client, info, from, batchSize, csv, fields, upper);
      to = copied.end;
      rows = copied.rows;
    } else {
      to = await nextBatchEnd(client, info, from, batchSize, upper);
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
    // Numbered as it is read: the next batch's CSV is then named apart from this one's.
    return sink.number({
      csv,
      rows,
      started,
      cursorFrom: from?.cursor ?? null,
      cursorTo: to.cursor,
      to,
      covers: { type: "batch_committed", position: durable },
    });
  };
  return await pipelined(
    fetchBatch(copy.after),
    (batch) => fetchBatch(batch.to),
    async (batch) => {
      await sink.apply(batch, copy.load);
    },
    copy.signal,
  );
}
