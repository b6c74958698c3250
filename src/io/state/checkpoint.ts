// Owns the checkpoint store: per table, its lifecycle state (the position or
// the block scan it holds: core/table_lifecycle.ts), the rows copied, the
// batch history, the drift history and the last seen source schema, in the
// SQLite file io/checkpoint_file.ts opens. Written only after DuckDB has
// committed what it records.

import type { DatabaseSync } from "node:sqlite";
import type { DriftRecord, SyncMode } from "../../core/events.ts";
import type { ScanState } from "../../core/scan_state.ts";
import {
  type LifecycleEvent,
  modeOf,
  positionOf,
  type StateKind,
  type TableState,
  transition,
} from "../../core/table_lifecycle.ts";
import { openCheckpointFile, rollback } from "./checkpoint_file.ts";

export { CHECKPOINT_FILE } from "./checkpoint_file.ts";

export interface TableCheckpoint {
  readonly table: string;
  readonly source: string;
  /** The server and database the rows came from (e.g. "db:5432/app"). */
  readonly origin: string | null;
  /** Where the table is in its lifecycle. */
  readonly state: TableState;
  /** The coarse mode shown to users (from the state). */
  readonly mode: SyncMode;
  /** Exact cursor text as Postgres printed it (UTC), or null before the first position. */
  readonly cursor: string | null;
  /** Key column values (text) of the last row at the cursor, or null. */
  readonly key: readonly string[] | null;
  readonly rowsCopied: number;
  readonly batches: number;
  readonly lastBatchAt: string | null;
  readonly updatedAt: string | null;
}

export interface BatchRecord {
  readonly table: string;
  readonly seq: number;
  readonly finishedAt: string;
  readonly rows: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly cursorFrom: string | null;
  readonly cursorTo: string;
  readonly file: string;
  /** SHA-256 (hex) of the Parquet file as written; null without a file. */
  readonly sha256?: string | null;
}

/** A lifecycle event to record, with the batch that brought it about. */
export interface CheckpointCommit {
  readonly table: string;
  /** The source table and server; absent: kept as the checkpoint has them. */
  readonly source?: string;
  readonly origin?: string;
  readonly event: LifecycleEvent;
  readonly batch?: BatchRecord;
  /** Sets rows copied to this total instead of adding the batch's rows (a whole copy). */
  readonly rowsCopied?: number;
  /** SYNC_METHOD=cdc: the stream position (a commit's end) the table's rows now include. */
  readonly lsn?: string;
}

export interface SourceSchemaSnapshot {
  /** SYNC_METHOD=cdc: the relation's OID the copy was made from (a table created again differs). */
  readonly relid?: string;
  /** SYNC_METHOD=cdc: its storage then (relfilenodes): a rewrite or a TRUNCATE changes it. */
  readonly storage?: string;
  /** column name -> Postgres type text. */
  readonly pgTypes: Record<string, string>;
  /** column name -> pg_attribute.attnum (absent in snapshots from before it was kept). */
  readonly attnums?: Record<string, number>;
  readonly dropped: readonly string[];
  /** The cursor and key columns the checkpoint's position is made of. */
  readonly keyset?: { readonly cursor: string; readonly key: readonly string[] };
  /** Leaf partitions ("schema.table") whose rows are known to be copied. */
  readonly partitions?: readonly string[];
}

interface Row {
  [key: string]: unknown;
}

export class CheckpointStore {
  readonly path: string;
  #db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /**
   * Opens (creating when absent) the store in stateDir. `readOnly` (status)
   * writes nothing, so it also reads a checkpoint on a full disk.
   */
  static open(stateDir: string, options: { readOnly?: boolean } = {}): CheckpointStore {
    const { path, db } = openCheckpointFile(stateDir, options);
    return new CheckpointStore(path, db);
  }

  /** Opens the store only if its file exists; null otherwise. */
  static openExisting(
    stateDir: string,
    options: { readOnly?: boolean } = {},
  ): CheckpointStore | null {
    try {
      Deno.statSync(`${stateDir}/checkpoint.sqlite`);
    } catch {
      return null;
    }
    return CheckpointStore.open(stateDir, options);
  }

  close(): void {
    this.#db.close();
  }

  get(table: string): TableCheckpoint | null {
    const row = this.#db.prepare("SELECT * FROM tables WHERE table_name = ?").get(table) as
      | Row
      | undefined;
    return row ? toCheckpoint(row) : null;
  }

  list(): TableCheckpoint[] {
    const rows = this.#db.prepare("SELECT * FROM tables ORDER BY table_name").all() as Row[];
    return rows.map(toCheckpoint);
  }

  /** The table's lifecycle state (not_synced when it has no checkpoint). */
  state(table: string): TableState {
    return this.get(table)?.state ?? { kind: "not_synced" };
  }

  /**
   * Moves the table's lifecycle by `event` (a LifecycleError when the event
   * cannot happen in its state) and records the batch, atomically.
   */
  commit(commit: CheckpointCommit): TableCheckpoint {
    const now = new Date().toISOString();
    this.#transaction(() => {
      const next = transition(this.state(commit.table), commit.event);
      const position = positionOf(next);
      this.#db.prepare(
        `INSERT INTO tables (table_name, source, origin, state, cursor, key_json, scan_json, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (table_name) DO UPDATE SET
           source = CASE WHEN excluded.source = '' THEN tables.source ELSE excluded.source END,
           origin = coalesce(excluded.origin, tables.origin), state = excluded.state, cursor = excluded.cursor, key_json = excluded.key_json,
           scan_json = excluded.scan_json, updated_at = excluded.updated_at`,
      ).run(
        commit.table,
        commit.source ?? "",
        commit.origin ?? null,
        next.kind,
        position?.cursor ?? null,
        position ? JSON.stringify(position.key) : null,
        next.kind === "first_copy_scan" ? JSON.stringify(next.scan) : null,
        now,
      );
      if (commit.event.type === "restarted") {
        // A new first copy: nothing copied, the schema seen again (history kept).
        this.#db.prepare(
          "UPDATE tables SET rows_copied = 0, schema_json = NULL WHERE table_name = ?",
        ).run(commit.table);
      }
      if (commit.rowsCopied !== undefined) {
        this.#db.prepare("UPDATE tables SET rows_copied = ? WHERE table_name = ?").run(
          commit.rowsCopied,
          commit.table,
        );
      }
      if (commit.lsn !== undefined) this.#setLsn(commit.table, commit.lsn);
      const batch = commit.batch;
      if (batch) {
        this.#db.prepare(
          `UPDATE tables SET rows_copied = rows_copied + ?, batches = batches + 1,
             last_batch_at = ? WHERE table_name = ?`,
        ).run(commit.rowsCopied === undefined ? batch.rows : 0, batch.finishedAt, commit.table);
        this.#db.prepare(
          `INSERT INTO batches (table_name, seq, finished_at, rows, bytes, duration_ms, cursor_from, cursor_to, file, sha256)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          batch.table,
          batch.seq,
          batch.finishedAt,
          batch.rows,
          batch.bytes,
          batch.durationMs,
          batch.cursorFrom,
          batch.cursorTo,
          batch.file,
          batch.sha256 ?? null,
        );
      }
    });
    return this.get(commit.table)!;
  }

  /** How often a table's block scan had to start over (the table was rewritten). */
  scanRestarts(table: string): number {
    const row = this.#db.prepare("SELECT scan_restarts FROM tables WHERE table_name = ?").get(
      table,
    ) as Row | undefined;
    return Number(row?.scan_restarts ?? 0);
  }

  noteScanRestart(table: string): void {
    this.#db.prepare("UPDATE tables SET scan_restarts = scan_restarts + 1 WHERE table_name = ?")
      .run(table);
  }

  /** The block scan of a first copy under way, or null. */
  scan(table: string): ScanState | null {
    const state = this.state(table);
    return state.kind === "first_copy_scan" ? state.scan : null;
  }

  /**
   * Cycles completed, kept across runs so that "every N cycles" settings also
   * work for `sync --once` from cron.
   */
  cycleCount(): number {
    const row = this.#db.prepare("SELECT value FROM store_info WHERE key = 'cycles'").get() as
      | Row
      | undefined;
    return row ? Number(row.value) : 0;
  }

  /**
   * This STATE_DIR's identity, made on first use: the DuckDB file records
   * which STATE_DIR owns each table (Warehouse.owner), so two of them never
   * write into one table.
   */
  stateId(): string {
    const row = this.#db.prepare("SELECT value FROM store_info WHERE key = 'state_id'").get() as
      | Row
      | undefined;
    if (row) return String(row.value);
    const id = crypto.randomUUID();
    this.#db.prepare(
      "INSERT INTO store_info (key, value) VALUES ('state_id', ?) ON CONFLICT (key) DO NOTHING",
    ).run(id);
    return this.stateId();
  }

  setCycleCount(count: number): void {
    this.#db.prepare(
      `INSERT INTO store_info (key, value) VALUES ('cycles', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(String(count));
  }

  /**
   * The SHA-256 recorded for a table's batch file (by its name) when it was
   * written: null when the file is not in the history or predates the checksums.
   */
  batchChecksum(table: string, file: string): string | null {
    const row = this.#db.prepare(
      "SELECT sha256 FROM batches WHERE table_name = ? AND file = ? ORDER BY id DESC LIMIT 1",
    ).get(table, file) as { sha256: string | null } | undefined;
    return row?.sha256 ?? null;
  }

  /** Highest batch sequence number used for a table (0 when none). */
  lastBatchSeq(table: string): number {
    const row = this.#db.prepare(
      `SELECT max(coalesce((SELECT max(seq) FROM batches WHERE table_name = ?), 0),
                  coalesce((SELECT last_seq FROM retired_tables WHERE table_name = ?), 0)) AS seq`,
    ).get(table, table) as Row;
    return Number(row.seq);
  }

  /**
   * The lowest batch sequence number `replay` may apply to `table` (0: any):
   * older files predate a change made without a newer cursor.
   */
  replayFloor(table: string): number {
    // Files numbered up to a reset belong to the copy it dropped.
    const row = this.#db.prepare(
      `SELECT max(coalesce((SELECT replay_floor FROM tables WHERE table_name = ?), 0),
                  coalesce((SELECT last_seq + 1 FROM retired_tables WHERE table_name = ?), 0))
         AS floor`,
    ).get(table, table) as Row;
    return Number(row.floor);
  }

  /** Raises the replay floor of `table` to `seq` (it never moves down). */
  raiseReplayFloor(table: string, seq: number): void {
    this.#db.prepare(
      "UPDATE tables SET replay_floor = max(replay_floor, ?) WHERE table_name = ?",
    ).run(seq, table);
  }

  recordDrift(
    records: readonly DriftRecord[],
    snapshot: SourceSchemaSnapshot,
    table: string,
  ): void {
    this.#transaction(() => {
      for (const r of records) {
        this.#db.prepare(
          "INSERT INTO drift_events (table_name, at, kind, column_name, detail, ddl) VALUES (?, ?, ?, ?, ?, ?)",
        ).run(r.table, r.at, r.kind, r.column, r.detail, r.ddl);
      }
      this.saveSchema(table, snapshot);
    });
  }

  /** The latest `limit` drift events of every table, oldest first. */
  recentDrift(limit: number): DriftRecord[] {
    const rows = this.#db.prepare(
      `SELECT * FROM (SELECT * FROM drift_events ORDER BY id DESC LIMIT ?) ORDER BY id`,
    ).all(limit) as Row[];
    return rows.map((r) => ({
      at: String(r.at),
      table: String(r.table_name),
      kind: String(r.kind) as DriftRecord["kind"],
      column: String(r.column_name),
      detail: String(r.detail),
      ddl: r.ddl === null ? null : String(r.ddl),
    }));
  }

  schema(table: string): SourceSchemaSnapshot | null {
    const row = this.#db.prepare("SELECT schema_json FROM tables WHERE table_name = ?").get(
      table,
    ) as Row | undefined;
    if (!row || row.schema_json === null) return null;
    return JSON.parse(String(row.schema_json)) as SourceSchemaSnapshot;
  }

  /** Stores the source schema seen; creates the table's row (not synced) if new. */
  saveSchema(
    table: string,
    snapshot: SourceSchemaSnapshot,
    source = "",
    origin: string | null = null,
  ): void {
    this.#db.prepare(
      `INSERT INTO tables (table_name, source, origin, state, schema_json) VALUES (?, ?, ?, 'not_synced', ?)
       ON CONFLICT (table_name) DO UPDATE SET schema_json = excluded.schema_json,
         origin = coalesce(tables.origin, excluded.origin)`,
    ).run(table, source, origin, JSON.stringify(snapshot));
  }

  /**
   * A full refresh that started and did not finish is due again next cycle,
   * also in the next process (cron): the mark is kept until it succeeds.
   */
  setRefreshPending(table: string, source: string, pending: boolean): void {
    this.#db.prepare(
      `INSERT INTO tables (table_name, source, state, refresh_pending) VALUES (?, ?, 'not_synced', ?)
       ON CONFLICT (table_name) DO UPDATE SET refresh_pending = excluded.refresh_pending`,
    ).run(table, source, pending ? 1 : 0);
  }

  refreshPending(table: string): boolean {
    const row = this.#db.prepare("SELECT refresh_pending FROM tables WHERE table_name = ?").get(
      table,
    ) as Row | undefined;
    return Number(row?.refresh_pending ?? 0) === 1;
  }

  /** Forgets one table: its checkpoint, batch history and drift history. */
  removeTable(table: string): void {
    this.#transaction(() => {
      this.#db.prepare(
        `INSERT INTO retired_tables (table_name, last_seq) VALUES (?, ?)
         ON CONFLICT (table_name) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
      ).run(table, this.lastBatchSeq(table));
      for (const t of ["tables", "batches", "drift_events", "cdc_positions"]) {
        this.#db.prepare(`DELETE FROM ${t} WHERE table_name = ?`).run(table);
      }
      this.#db.prepare("DELETE FROM store_info WHERE key = ?").run(`cdc_recopy:${table}`);
    });
  }

  /** SYNC_METHOD=cdc: the stream position the table's rows include, or null. */
  lsn(table: string): string | null {
    const row = this.#db.prepare("SELECT lsn FROM cdc_positions WHERE table_name = ?").get(
      table,
    ) as Row | undefined;
    return row ? String(row.lsn) : null;
  }

  #setLsn(table: string, lsn: string): void {
    this.#db.prepare(
      `INSERT INTO cdc_positions (table_name, lsn) VALUES (?, ?)
       ON CONFLICT (table_name) DO UPDATE SET lsn = excluded.lsn`,
    ).run(table, lsn);
  }

  /** A value kept for this STATE_DIR (the CDC slot and publication it created). */
  info(key: string): string | null {
    const row = this.#db.prepare("SELECT value FROM store_info WHERE key = ?").get(key) as
      | Row
      | undefined;
    return row ? String(row.value) : null;
  }

  setInfo(key: string, value: string | null): void {
    if (value === null) {
      this.#db.prepare("DELETE FROM store_info WHERE key = ?").run(key);
      return;
    }
    this.#db.prepare(
      `INSERT INTO store_info (key, value) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(key, value);
  }

  #transaction(fn: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      fn();
      this.#db.exec("COMMIT");
    } catch (error) {
      rollback(this.#db);
      throw error;
    }
  }
}

function toCheckpoint(row: Row): TableCheckpoint {
  const state = stateOf(row);
  const position = positionOf(state);
  return {
    table: String(row.table_name),
    source: String(row.source),
    origin: row.origin === null || row.origin === undefined ? null : String(row.origin),
    state,
    mode: modeOf(state),
    cursor: position?.cursor ?? null,
    key: position?.key ?? null,
    rowsCopied: Number(row.rows_copied),
    batches: Number(row.batches),
    lastBatchAt: row.last_batch_at === null ? null : String(row.last_batch_at),
    updatedAt: row.updated_at === null ? null : String(row.updated_at),
  };
}

/** The lifecycle state a row stores in its state, cursor, key_json and scan_json columns. */
function stateOf(row: Row): TableState {
  const kind = String(row.state) as StateKind;
  const position = row.cursor === null || row.cursor === undefined
    ? null
    : { cursor: String(row.cursor), key: JSON.parse(String(row.key_json)) as string[] };
  switch (kind) {
    case "first_copy_scan":
      return { kind, scan: JSON.parse(String(row.scan_json)) as ScanState };
    case "first_copy_keyset":
    case "catch_up":
    case "incremental":
      return { kind, position };
    case "not_synced":
    case "full_refresh":
      return { kind };
  }
}
