// Owns what change data capture asks of the Postgres catalog: whether the
// server can stream logical changes to this role (wal_level, REPLICATION, a
// primary, a free slot), the replication slot's state (position, retained WAL,
// invalidation, who streams from it), and the publication (created or kept in
// step with the selected tables, or checked when a DBA made it), and dropping
// what the tool created. Every refusal names its fix.

import type pg from "pg";
import { configError, SyncError } from "../../core/errors.ts";
import { type Lsn, parseLsn } from "../../core/lsn.ts";
import { qualified, quoteIdent } from "../../core/sql.ts";

export interface SlotState {
  readonly plugin: string;
  readonly database: string | null;
  readonly active: boolean;
  readonly confirmedFlush: Lsn | null;
  /** Bytes of WAL the slot keeps from being recycled. */
  readonly retainedBytes: number;
  /** 'lost' once Postgres invalidated it (max_slot_wal_keep_size). */
  readonly walStatus: string | null;
}

/** Refuses a server or role that cannot stream logical changes, with the fix. */
export async function checkCdcReady(client: pg.Client, user: string): Promise<void> {
  const facts = (await client.query(
    `SELECT current_setting('wal_level') AS wal_level, pg_is_in_recovery() AS standby,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS may,
            current_setting('max_replication_slots')::int AS max_slots,
            (SELECT count(*)::int FROM pg_replication_slots) AS slots`,
  )).rows[0] as Record<string, unknown>;
  if (facts.standby === true) {
    throw configError(
      "CDC_NOT_READY",
      "SYNC_METHOD=cdc needs the primary server: this one is a standby in recovery (point POSTGRES_HOST at the primary, or use SYNC_METHOD=cursor)",
    );
  }
  if (facts.wal_level !== "logical") {
    throw configError(
      "CDC_NOT_READY",
      `SYNC_METHOD=cdc needs wal_level = logical, and the server has ${facts.wal_level} (run ALTER SYSTEM SET wal_level = logical as a superuser and restart PostgreSQL, or use SYNC_METHOD=cursor)`,
    );
  }
  if (facts.may !== true) {
    throw configError(
      "CDC_NOT_READY",
      `SYNC_METHOD=cdc needs a role with REPLICATION, and ${user} has not (run ALTER ROLE ${
        quoteIdent(user)
      } REPLICATION as a superuser, or use SYNC_METHOD=cursor)`,
    );
  }
}

/** Refuses when no replication slot is free (only asked before creating one). */
export async function checkFreeSlot(client: pg.Client): Promise<void> {
  const row = (await client.query(
    `SELECT current_setting('max_replication_slots')::int AS max_slots,
            (SELECT count(*)::int FROM pg_replication_slots) AS slots`,
  )).rows[0] as { max_slots: number; slots: number };
  if (row.slots >= row.max_slots) {
    throw configError(
      "CDC_NOT_READY",
      `No free replication slot: all ${row.max_slots} are in use (drop an unused one with SELECT pg_drop_replication_slot('name'), or raise max_replication_slots and restart PostgreSQL)`,
    );
  }
}

export async function slotState(client: pg.Client, slot: string): Promise<SlotState | null> {
  const result = await client.query(
    `SELECT plugin, database, active, confirmed_flush_lsn::text AS confirmed, wal_status,
            coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::float8 AS retained
     FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = result.rows[0] as Record<string, unknown> | undefined;
  if (!row) return null;
  return {
    plugin: String(row.plugin),
    database: row.database === null ? null : String(row.database),
    active: row.active === true,
    confirmedFlush: row.confirmed ? parseLsn(String(row.confirmed)) : null,
    retainedBytes: Number(row.retained),
    walStatus: row.wal_status === null ? null : String(row.wal_status),
  };
}

/** Refuses a slot that cannot serve this sync: another plugin or database, lost, or in use. */
export function checkSlot(state: SlotState, slot: string, database: string): void {
  if (state.plugin !== "pgoutput" || (state.database !== null && state.database !== database)) {
    throw configError(
      "CDC_NOT_READY",
      `Replication slot ${slot} is not a pgoutput slot of database ${database} (set CDC_SLOT to another name, and the tool creates its own)`,
    );
  }
  if (state.walStatus === "lost") {
    throw new SyncError(
      "CDC_SLOT_LOST",
      `Replication slot ${slot} was invalidated by PostgreSQL (it held more WAL than max_slot_wal_keep_size): changes since its last position are gone, so the copy cannot be kept exact (run \`reset --yes\` to copy the tables again; a larger max_slot_wal_keep_size avoids this)`,
    );
  }
  if (state.active) {
    throw new SyncError(
      "CDC_SLOT_IN_USE",
      `Replication slot ${slot} is in use by another process (stop the other sync using this STATE_DIR or slot, or set CDC_SLOT to another name)`,
      { transient: true },
    );
  }
}

export interface PublicationState {
  readonly allTables: boolean;
  /** publish_via_partition_root: a partitioned table's changes come under its own name. */
  readonly viaRoot: boolean;
  /** What it publishes, "schema.table" as Postgres lists them (leaf partitions without viaRoot). */
  readonly tables: Set<string>;
  /** Tables named in it ("schema.table"), partitioned ones included, or their schema named. */
  readonly members: Set<string>;
  readonly schemas: Set<string>;
}

/** The publication's state, or null when it does not exist. */
export async function publicationState(
  client: pg.Client,
  publication: string,
): Promise<PublicationState | null> {
  const pub = (await client.query(
    `SELECT oid, puballtables, pubviaroot FROM pg_publication WHERE pubname = $1`,
    [publication],
  )).rows[0] as Record<string, unknown> | undefined;
  if (!pub) return null;
  const rows = (await client.query(
    `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`,
    [publication],
  )).rows as { schemaname: string; tablename: string }[];
  const members = (await client.query(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_publication_rel r
     JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE r.prpubid = $1`,
    [pub.oid],
  )).rows as { schema: string; table: string }[];
  const schemas = (await client.query(
    `SELECT n.nspname AS schema FROM pg_publication_namespace p
     JOIN pg_namespace n ON n.oid = p.pnnspid WHERE p.pnpubid = $1`,
    [pub.oid],
  ).catch(() => ({ rows: [] }))).rows as { schema: string }[];
  return {
    allTables: pub.puballtables === true,
    viaRoot: pub.pubviaroot === true,
    tables: new Set(rows.map((r) => `${r.schemaname}.${r.tablename}`)),
    members: new Set(members.map((r) => `${r.schema}.${r.table}`)),
    schemas: new Set(schemas.map((r) => r.schema)),
  };
}

/** The tables among `tables` the current role does not own (it cannot publish them). */
export async function tablesNotOwned(
  client: pg.Client,
  tables: readonly SourceRef[],
): Promise<Set<string>> {
  if (tables.length === 0) return new Set();
  const rows = (await client.query(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       AND NOT pg_has_role(current_user, c.relowner, 'USAGE')`,
    [tables.map((t) => t.schema), tables.map((t) => t.table)],
  )).rows as { schema: string; table: string }[];
  return new Set(rows.map((r) => `${r.schema}.${r.table}`));
}

/** Sets publish_via_partition_root on the publication the tool created. */
export async function publishViaRoot(client: pg.Client, publication: string): Promise<void> {
  await client.query(
    `ALTER PUBLICATION ${quoteIdent(publication)} SET (publish_via_partition_root = true)`,
  );
}

export interface SourceRef {
  readonly schema: string;
  readonly table: string;
}

export async function createPublication(
  client: pg.Client,
  publication: string,
  tables: readonly SourceRef[],
): Promise<void> {
  const list = tables.map((t) => qualified(t.schema, t.table)).join(", ");
  // Through the root: a partitioned table's changes arrive under its own name
  // and OID, whichever partition holds the row (and as it moves between them).
  await client.query(
    `CREATE PUBLICATION ${
      quoteIdent(publication)
    } FOR TABLE ${list} WITH (publish_via_partition_root = true)`,
  );
}

/** Makes the publication the tool created hold exactly `tables`. */
export async function setPublicationTables(
  client: pg.Client,
  publication: string,
  tables: readonly SourceRef[],
): Promise<void> {
  const list = tables.map((t) => qualified(t.schema, t.table)).join(", ");
  await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET TABLE ${list}`);
}

export async function dropPublication(client: pg.Client, publication: string): Promise<void> {
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
}

export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  const result = await client.query(
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return (result.rowCount ?? 0) > 0;
}

/**
 * The server's WAL position now: every transaction that committed before ends
 * at or below it. Its insert position, not its write or flush position: a
 * transaction committed with synchronous_commit off may not be written yet,
 * and the stream brings it as soon as it is. When nothing is inserted on the
 * current page yet, that position lies past the page's header, where no
 * record can end: the page's start is returned instead, so that a stream that
 * has sent everything reaches it.
 */
export async function currentWalLsn(client: pg.Client): Promise<Lsn> {
  const row = (await client.query(
    `SELECT pg_current_wal_insert_lsn()::text AS lsn,
            current_setting('wal_block_size')::int AS page,
            current_setting('wal_segment_size')::text AS segment`,
  )).rows[0] as { lsn: string; page: number; segment: string };
  return recordEndBefore(parseLsn(row.lsn), row.page, parseSize(row.segment));
}

/** `insert` moved back over a page header it points just past (no record ends inside one). */
export function recordEndBefore(insert: Lsn, page: number, segment: number): Lsn {
  const offset = Number(insert % BigInt(page));
  const atSegmentStart = insert % BigInt(segment) === BigInt(offset);
  const header = atSegmentStart ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER;
  return offset === header ? insert - BigInt(header) : insert;
}

/** XLogPageHeaderData and XLogLongPageHeaderData, MAXALIGNed, on 64-bit builds. */
const SHORT_PAGE_HEADER = 24;
const LONG_PAGE_HEADER = 40;

/** wal_segment_size as shown ("16MB"), in bytes. */
function parseSize(text: string): number {
  const m = /^(\d+)\s*(kB|MB|GB)?$/.exec(text.trim());
  if (!m) return 16 * 1024 * 1024;
  const unit = { kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[m[2] ?? ""] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * A table's replica identity: 'd' default (primary key), 'n' nothing, 'f'
 * full, 'i' index; and whether its primary key is DEFERRABLE (Postgres cannot
 * name rows by such a key: an UPDATE fails once the table is published).
 */
export async function replicaIdentity(
  client: pg.Client,
  ref: SourceRef,
): Promise<{ identity: string; deferrableKey: boolean }> {
  const row = (await client.query(
    `SELECT c.relreplident AS r,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary
                    AND NOT i.indimmediate) AS deferrable
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2`,
    [ref.schema, ref.table],
  )).rows[0] as { r: string; deferrable: boolean } | undefined;
  return { identity: row?.r ?? "d", deferrableKey: row?.deferrable === true };
}
