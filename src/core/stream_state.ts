// Owns the position bookkeeping of one replication stream, purely: how far
// the stream has been applied (everything before `applied` is in DuckDB and
// the checkpoint, so the slot may let it go), how far the server said it has
// sent (`seen`), the transaction being read, and the batch being built (its
// last whole commit, its oldest commit time, its rows and bytes). The session
// feeds it the stream's messages and asks when a batch is due.

import { type Lsn, maxLsn } from "./lsn.ts";

export interface BatchLimits {
  readonly rows: number;
  readonly bytes: number;
}

/** The last whole transaction of a batch. */
export interface BatchEnd {
  readonly commitLsn: Lsn;
  readonly endLsn: Lsn;
  readonly time: Date;
}

export class StreamState {
  /** Everything before it is in DuckDB and the checkpoint. */
  applied: Lsn = 0n;
  /** The furthest position the server said it has sent. */
  seen: Lsn = 0n;
  #openTx: { finalLsn: Lsn } | null = null;
  #batchEnd: BatchEnd | null = null;
  #batchSince: Date | null = null;
  #batchRows = 0;
  #batchBytes = 0;
  #txRows = 0;
  #txBytes = 0;

  /** A stream (re)started from `from`: nothing of it has been read yet. */
  restart(from: Lsn): void {
    this.applied = maxLsn(this.applied, from);
    this.seen = this.applied;
    this.#openTx = null;
  }

  /** Moves the applied position on (a new slot's consistent point, or a batch applied). */
  advance(lsn: Lsn): void {
    this.applied = maxLsn(this.applied, lsn);
  }

  get inTransaction(): boolean {
    return this.#openTx !== null;
  }

  begin(finalLsn: Lsn): void {
    this.#openTx = { finalLsn };
    this.#txRows = 0;
    this.#txBytes = 0;
  }

  /**
   * A row change of the open transaction, of `bytes` bytes; true when that
   * transaction alone outgrew a batch and what it holds so far must be applied.
   */
  change(bytes: number, limits: BatchLimits): boolean {
    this.#batchRows += 1;
    this.#batchBytes += bytes;
    this.#txRows += 1;
    this.#txBytes += bytes;
    if (this.#txRows < limits.rows && this.#txBytes < limits.bytes) return false;
    this.#txRows = 0;
    this.#txBytes = 0;
    return true;
  }

  /**
   * A commit; `pending`: the batch holds changes of ours. True when the batch
   * is full and due. Without pending changes the slot may move past it.
   */
  commit(end: BatchEnd, pending: boolean, limits: BatchLimits): boolean {
    this.#openTx = null;
    if (pending) this.#batchSince ??= end.time;
    this.#batchEnd = end;
    this.seen = maxLsn(this.seen, end.endLsn);
    if (!pending) this.applied = maxLsn(this.applied, end.endLsn);
    return this.#batchRows >= limits.rows || this.#batchBytes >= limits.bytes;
  }

  /** A keepalive read in its turn: every transaction that committed before walEnd was sent. */
  keepalive(walEnd: Lsn, pending: boolean): void {
    if (this.#openTx !== null) return;
    this.seen = maxLsn(this.seen, walEnd);
    // With nothing of ours pending, the slot may move on (an idle or filtered
    // database must not hold WAL back).
    if (!pending) this.applied = maxLsn(this.applied, walEnd);
  }

  /** A keepalive with nothing received and unapplied before it: all before walEnd is ours. */
  idleKeepalive(walEnd: Lsn): void {
    this.applied = maxLsn(this.applied, walEnd);
    this.seen = maxLsn(this.seen, walEnd);
  }

  /** A change of a transaction a table at `tableLsn` already holds. */
  holds(tableLsn: Lsn | null): boolean {
    return tableLsn !== null && this.#openTx !== null && this.#openTx.finalLsn <= tableLsn;
  }

  /** The stream has been read up to `target` (no transaction left open). */
  reached(target: Lsn): boolean {
    return this.#openTx === null && this.seen >= target;
  }

  /** The batch being built: its last whole commit and its oldest commit time. */
  get batch(): { readonly end: BatchEnd | null; readonly since: Date | null } {
    return { end: this.#batchEnd, since: this.#batchSince };
  }

  /** The batch was applied: the next one starts, and the slot may move to its end. */
  batchApplied(): BatchEnd | null {
    const end = this.#batchEnd;
    if (end) this.applied = maxLsn(this.applied, end.endLsn);
    this.#batchEnd = null;
    this.#batchSince = null;
    this.#batchRows = 0;
    this.#batchBytes = 0;
    return end;
  }
}
