// Owns the checkpoint store: one SQLite file (node:sqlite) under STATE_DIR with,
// per table, the exact cursor text, the last key, the mode and cumulative row
// count; the batch history; the drift history; the last seen source schema.
// Written only after DuckDB has committed the batch it describes.

import { DatabaseSync } from "node:sqlite";
import { configError, errorMessage, SyncError } from "../core/errors.ts";
import type { DriftRecord, SyncMode } from "../core/events.ts";
import type { ScanState } from "./block_scan.ts";
import { isDiskFull, mayBeDiskFull } from "../core/local_io.ts";
import { diskFullError } from "../core/classify_error.ts";

export const CHECKPOINT_FILE = "checkpoint.sqlite";
const SCHEMA_VERSION = "1";

export interface TableCheckpoint {
  readonly table: string;
  readonly source: string;
  /** The server and database the rows came from (e.g. "db:5432/app"). */
  readonly origin: string | null;
  readonly mode: SyncMode;
  /** Exact cursor text as Postgres printed it (UTC), or null before the first batch. */
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
}

export interface CheckpointAdvance {
  readonly table: string;
  readonly source: string;
  readonly origin: string;
  readonly mode: SyncMode;
  readonly cursor: string | null;
  readonly key: readonly string[] | null;
  readonly batch: BatchRecord | null;
  /** Sets rows copied to this total instead of adding the batch's rows (full refresh). */
  readonly rowsCopied?: number;
  /** The bootstrap's block scan after this batch (null: the scan is over; absent: unchanged). */
  readonly scan?: ScanState | null;
}

export interface SourceSchemaSnapshot {
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

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (
  table_name TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  origin TEXT,
  mode TEXT NOT NULL CHECK (mode IN ('bootstrap', 'incremental', 'full_refresh')),
  cursor TEXT,
  key_json TEXT,
  rows_copied INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0,
  last_batch_at TEXT,
  updated_at TEXT,
  schema_json TEXT,
  replay_floor INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  seq INTEGER NOT NULL,
  finished_at TEXT NOT NULL,
  rows INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  cursor_from TEXT,
  cursor_to TEXT NOT NULL,
  file TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drift_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  column_name TEXT NOT NULL,
  detail TEXT NOT NULL,
  ddl TEXT
);
`;

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
    const path = `${stateDir}/${CHECKPOINT_FILE}`;
    if (options.readOnly) return CheckpointStore.#openReadOnly(stateDir, path);
    try {
      Deno.mkdirSync(stateDir, { recursive: true });
      // A few bytes, not an empty file: a full disk still creates empty files.
      const probe = `${stateDir}/.write-test-${Deno.pid}`;
      try {
        Deno.writeTextFileSync(probe, "probe");
      } finally {
        try {
          Deno.removeSync(probe);
        } catch { /* never created */ }
      }
    } catch (error) {
      if (isDiskFull(error)) throw diskFullError("STATE_DIR", stateDir, error);
      throw configError(
        "STATE_DIR_UNWRITABLE",
        `Cannot write STATE_DIR ${stateDir}: ${
          errorMessage(error)
        } (set STATE_DIR to a writable directory)`,
        error,
      );
    }
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA busy_timeout = 5000");
      const check = db.prepare("PRAGMA quick_check").get() as Row | undefined;
      if (check && Object.values(check)[0] !== "ok") {
        throw new Error(String(Object.values(check)[0]));
      }
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec(DDL);
      // Files written before the source server was recorded get the column;
      // their first advance records it.
      const columns = db.prepare("PRAGMA table_info(tables)").all() as Row[];
      if (!columns.some((c) => c.name === "origin")) {
        db.exec("ALTER TABLE tables ADD COLUMN origin TEXT");
      }
      if (!columns.some((c) => c.name === "replay_floor")) {
        db.exec("ALTER TABLE tables ADD COLUMN replay_floor INTEGER NOT NULL DEFAULT 0");
      }
      allowFullRefreshMode(db);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'")
        .get() as Row | undefined;
      if (!version) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(
          SCHEMA_VERSION,
        );
      } else if (version.value !== SCHEMA_VERSION) {
        throw new Error(`unknown schema version ${String(version.value)}`);
      }
    } catch (error) {
      try {
        db?.close();
      } catch { /* already broken */ }
      // A full disk is not a corrupt file: the advice to reset would throw a good copy away.
      if (mayBeDiskFull(error) && (isDiskFull(error) || !hasRoom(stateDir))) {
        throw diskFullError("STATE_DIR", stateDir, error);
      }
      throw new SyncError(
        "CHECKPOINT_CORRUPT",
        `Cannot read checkpoint ${path}: ${
          errorMessage(error)
        } (move the file aside to keep it, then run \`reset --yes\` to bootstrap again)`,
        { cause: error },
      );
    }
    return new CheckpointStore(path, db);
  }

  /** Opens the store only if its file exists; null otherwise. */
  static openExisting(
    stateDir: string,
    options: { readOnly?: boolean } = {},
  ): CheckpointStore | null {
    try {
      Deno.statSync(`${stateDir}/${CHECKPOINT_FILE}`);
    } catch {
      return null;
    }
    return CheckpointStore.open(stateDir, options);
  }

  /**
   * Reading a WAL database still creates its `-shm` file, which fails on a
   * full disk; then, when no `-wal` file holds changes (a cleanly closed
   * store), the file alone is the whole checkpoint and is read as immutable.
   */
  static #openReadOnly(stateDir: string, path: string): CheckpointStore {
    const read = (uri: string) => {
      const db = new DatabaseSync(uri, { readOnly: true });
      try {
        db.prepare("SELECT count(*) FROM tables").get();
        return db;
      } catch (error) {
        db.close();
        throw error;
      }
    };
    try {
      return new CheckpointStore(path, read(path));
    } catch (error) {
      if (mayBeDiskFull(error) && walSize(path) === 0) {
        try {
          const uri = `file:${encodeURI(path).replace(/[?#]/g, encodeURIComponent)}?immutable=1`;
          return new CheckpointStore(path, read(uri));
        } catch { /* reported below */ }
      }
      if (mayBeDiskFull(error) && (isDiskFull(error) || !hasRoom(stateDir))) {
        throw diskFullError("STATE_DIR", stateDir, error);
      }
      throw new SyncError(
        "CHECKPOINT_CORRUPT",
        `Cannot read checkpoint ${path}: ${
          errorMessage(error)
        } (move the file aside to keep it, then run \`reset --yes\` to bootstrap again)`,
        { cause: error },
      );
    }
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

  /** Records a committed batch and moves the cursor, atomically. */
  advance(advance: CheckpointAdvance): TableCheckpoint {
    const now = new Date().toISOString();
    this.#transaction(() => {
      this.#db.prepare(
        `INSERT INTO tables (table_name, source, origin, mode, cursor, key_json, rows_copied, batches, last_batch_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, 0, NULL, ?)
         ON CONFLICT (table_name) DO UPDATE SET source = excluded.source, origin = excluded.origin, mode = excluded.mode,
           cursor = excluded.cursor, key_json = excluded.key_json, updated_at = excluded.updated_at`,
      ).run(
        advance.table,
        advance.source,
        advance.origin,
        advance.mode,
        advance.cursor,
        advance.key ? JSON.stringify(advance.key) : null,
        now,
      );
      const batch = advance.batch;
      if (batch) {
        this.#db.prepare(
          `UPDATE tables SET rows_copied = coalesce(?, rows_copied + ?), batches = batches + 1,
             last_batch_at = ? WHERE table_name = ?`,
        ).run(advance.rowsCopied ?? null, batch.rows, batch.finishedAt, advance.table);
        this.#db.prepare(
          `INSERT INTO batches (table_name, seq, finished_at, rows, bytes, duration_ms, cursor_from, cursor_to, file)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        );
      }
      if (advance.scan !== undefined) this.#setScan(advance.table, advance.scan);
    });
    return this.get(advance.table)!;
  }

  /** How often a table's block scan had to start over (the table was rewritten). */
  scanRestarts(table: string): number {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(
      `scan_restarts:${table}`,
    ) as Row | undefined;
    return row ? Number(row.value) : 0;
  }

  noteScanRestart(table: string): void {
    this.#db.prepare(
      `INSERT INTO meta (key, value) VALUES (?, '1')
       ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1`,
    ).run(`scan_restarts:${table}`);
  }

  /** The block scan of a bootstrap under way (block_scan.ts), or null. */
  scan(table: string): ScanState | null {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(
      `bootstrap_scan:${table}`,
    ) as Row | undefined;
    return row ? JSON.parse(String(row.value)) as ScanState : null;
  }

  #setScan(table: string, scan: ScanState | null): void {
    const key = `bootstrap_scan:${table}`;
    if (scan) {
      this.#db.prepare(
        `INSERT INTO meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(key, JSON.stringify(scan));
    } else {
      this.#db.prepare("DELETE FROM meta WHERE key = ?").run(key);
    }
  }

  /**
   * Cycles completed, kept across runs so that "every N cycles" settings also
   * work for `sync --once` from cron.
   */
  cycleCount(): number {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'cycles'").get() as
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
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = 'state_id'").get() as
      | Row
      | undefined;
    if (row) return String(row.value);
    const id = crypto.randomUUID();
    this.#db.prepare(
      "INSERT INTO meta (key, value) VALUES ('state_id', ?) ON CONFLICT (key) DO NOTHING",
    ).run(id);
    return this.stateId();
  }

  setCycleCount(count: number): void {
    this.#db.prepare(
      `INSERT INTO meta (key, value) VALUES ('cycles', ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    ).run(String(count));
  }

  /** Highest batch sequence number used for a table (0 when none). */
  lastBatchSeq(table: string): number {
    const row = this.#db.prepare(
      "SELECT coalesce(max(seq), 0) AS seq FROM batches WHERE table_name = ?",
    ).get(table) as Row;
    return Number(row.seq);
  }

  /**
   * The lowest batch sequence number `replay` may apply to `table` (0: any):
   * older files predate a change made without a newer cursor.
   */
  replayFloor(table: string): number {
    const row = this.#db.prepare("SELECT replay_floor FROM tables WHERE table_name = ?").get(
      table,
    ) as Row | undefined;
    return Number(row?.replay_floor ?? 0);
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

  /** Stores the source schema seen; creates the table row in bootstrap mode if new. */
  saveSchema(
    table: string,
    snapshot: SourceSchemaSnapshot,
    source = "",
    origin: string | null = null,
  ): void {
    this.#db.prepare(
      `INSERT INTO tables (table_name, source, origin, mode, schema_json) VALUES (?, ?, ?, 'bootstrap', ?)
       ON CONFLICT (table_name) DO UPDATE SET schema_json = excluded.schema_json,
         origin = coalesce(tables.origin, excluded.origin)`,
    ).run(table, source, origin, JSON.stringify(snapshot));
  }

  /**
   * A full refresh that started and did not finish is due again next cycle,
   * also in the next process (cron): the mark is kept until it succeeds.
   */
  setRefreshPending(table: string, pending: boolean): void {
    const key = `refresh_pending:${table}`;
    if (pending) {
      this.#db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING",
      ).run(key);
    } else {
      this.#db.prepare("DELETE FROM meta WHERE key = ?").run(key);
    }
  }

  refreshPending(table: string): boolean {
    return this.#db.prepare("SELECT 1 FROM meta WHERE key = ?").get(`refresh_pending:${table}`) !==
      undefined;
  }

  /** Back to the start of a bootstrap: no position, no rows copied (history kept). */
  restartBootstrap(table: string): void {
    this.#transaction(() => {
      this.#db.prepare(
        `UPDATE tables SET mode = 'bootstrap', cursor = NULL, key_json = NULL, rows_copied = 0,
           schema_json = NULL, updated_at = ? WHERE table_name = ?`,
      ).run(new Date().toISOString(), table);
      this.#setScan(table, null);
    });
  }

  /**
   * Ends a table's bootstrap: incremental from now on, its rows copied set to
   * the rows its first copy holds (the scan's re-read of rows written while it
   * ran, and the catch-up's overlap, would count some rows twice).
   */
  completeBootstrap(table: string, rowsInCopy: number): void {
    this.#db.prepare(
      "UPDATE tables SET mode = 'incremental', rows_copied = ?, updated_at = ? WHERE table_name = ?",
    ).run(rowsInCopy, new Date().toISOString(), table);
  }

  /** Forgets one table: its checkpoint, batch history and drift history. */
  removeTable(table: string): void {
    this.#transaction(() => {
      for (const t of ["tables", "batches", "drift_events"]) {
        this.#db.prepare(`DELETE FROM ${t} WHERE table_name = ?`).run(table);
      }
      this.setRefreshPending(table, false);
      this.#setScan(table, null);
      this.#db.prepare("DELETE FROM meta WHERE key = ?").run(`scan_restarts:${table}`);
    });
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
  return {
    table: String(row.table_name),
    source: String(row.source),
    origin: row.origin === null || row.origin === undefined ? null : String(row.origin),
    mode: row.mode === "incremental" || row.mode === "full_refresh" ? row.mode : "bootstrap",
    cursor: row.cursor === null ? null : String(row.cursor),
    key: row.key_json === null ? null : JSON.parse(String(row.key_json)) as string[],
    rowsCopied: Number(row.rows_copied),
    batches: Number(row.batches),
    lastBatchAt: row.last_batch_at === null ? null : String(row.last_batch_at),
    updatedAt: row.updated_at === null ? null : String(row.updated_at),
  };
}

/**
 * Files written before full refresh existed have a CHECK that refuses the mode;
 * SQLite cannot alter a CHECK, so the table is rebuilt with its rows, once.
 */
function allowFullRefreshMode(db: DatabaseSync): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tables'")
    .get() as Row | undefined;
  if (!row || String(row.sql).includes("full_refresh")) return;
  const columns = (db.prepare("PRAGMA table_info(tables)").all() as Row[]).map((c) =>
    String(c.name)
  );
  const list = columns.join(", ");
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec("ALTER TABLE tables RENAME TO tables_before_full_refresh");
    db.exec(DDL);
    db.exec(`INSERT INTO tables (${list}) SELECT ${list} FROM tables_before_full_refresh`);
    db.exec("DROP TABLE tables_before_full_refresh");
    db.exec("COMMIT");
  } catch (error) {
    rollback(db);
    throw error;
  }
}

/**
 * Rolls back what is left of a failed transaction. SQLite may have rolled it
 * back itself (SQLITE_FULL does): the ROLLBACK then fails, and must not hide
 * the error that explains what happened.
 */
function rollback(db: DatabaseSync): void {
  try {
    db.exec("ROLLBACK");
  } catch { /* already rolled back */ }
}

/** The size of the store's write-ahead log (0 when there is none). */
function walSize(path: string): number {
  try {
    return Deno.statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** False when 64 KiB cannot be written in `dir` for want of space. */
function hasRoom(dir: string): boolean {
  const probe = `${dir}/.space-test-${Deno.pid}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(64 * 1024));
    return true;
  } catch (error) {
    return !isDiskFull(error);
  } finally {
    try {
      Deno.removeSync(probe);
    } catch { /* never created */ }
  }
}
