// Owns verify's second look under SYNC_METHOD=cdc, so that changes the stream
// has not applied yet are not reported as lost. verify compares Postgres in a
// snapshot taken after DuckDB was frozen at the applied position: the rows it
// lists may be changes committed since. Each listed key's row version (xmin)
// is noted with the WAL position the snapshot had reached; verify lets go of
// DuckDB until the slot confirms that position (the sync acknowledges only
// what DuckDB has committed), takes DuckDB again and compares those keys once
// more. A key still differing whose row is the version noted, or that was
// already gone from Postgres then, is a real difference; one changed or
// deleted since is "changed since the last sync", and --repair leaves it to
// the stream. With no stream running, nothing would move: the slot's changes
// after its confirmed position (peeked, not consumed) name the keys changed
// since instead.

import type pg from "pg";
import { type ComparePlan, compareTable, type ComparisonResult } from "./compare_tables.ts";
import { keyHashIn, rowText } from "../../core/table_compare.ts";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import { parseLogical, type TupleValue, UNCHANGED } from "../../core/pgoutput.ts";
import type { Warehouse } from "../../io/duckdb/warehouse.ts";

export interface SettleOptions {
  readonly client: pg.Client;
  readonly compare: ComparePlan;
  /** The replication slot whose confirmed position says what DuckDB holds. */
  readonly slot: string;
  /** Its publication, and the table compared, for reading the slot's changes. */
  readonly publication: string;
  readonly table: { readonly schema: string; readonly table: string };
  /** Lets go of DuckDB (so the stream can apply), and takes it again. */
  readonly release: () => void;
  readonly reacquire: () => Promise<Warehouse>;
  readonly timeoutMs: number;
  /** Polling interval while waiting for the slot (tests shorten nothing else). */
  readonly pollMs?: number;
}

export interface Settled {
  readonly result: ComparisonResult;
  /**
   * "settled": looked at again; otherwise `result` is the first look: no
   * stream runs ("inactive"), or it did not confirm the position in time.
   */
  readonly settled: "settled" | "inactive" | "timeout";
}

/** The first comparison's listed keys, looked at again once the stream caught up. */
export async function settleDifferences(
  first: ComparisonResult,
  options: SettleOptions,
): Promise<Settled> {
  const listed = [...first.missing, ...first.changed, ...first.extra];
  if (listed.length === 0) return { result: first, settled: "settled" };
  const { client, compare } = options;
  const key = compare.shape.key;
  const keyHash = `md5(${rowText("pg", key)})`;
  // The versions of the listed rows, and the WAL position their snapshot had
  // reached (read after the snapshot was taken: every commit it sees is before).
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  let noted: { kh: string; x: string }[];
  let position: string;
  try {
    noted = (await client.query(
      `SELECT ${keyHash} AS kh, xmin::text AS x FROM ${compare.pgFrom}
       WHERE ${keyHashIn("pg", key, listed)}`,
    )).rows as { kh: string; x: string }[];
    position = String(
      (await client.query("SELECT pg_current_wal_insert_lsn()::text AS w")).rows[0].w,
    );
  } finally {
    await client.query("COMMIT").catch(() => {});
  }
  options.release();
  const caught = await waitForSlot(client, options.slot, position, options);
  const warehouse = await options.reacquire();
  if (caught === "inactive") {
    // Nothing streams, so nothing moves: the slot itself says which keys
    // changed after the position DuckDB holds (read without consuming it).
    const changed = await keysChangedInSlot(client, compare, options, position).catch(() => null);
    if (changed === null) return { result: first, settled: caught };
    const settledRows = (rows: typeof listed) =>
      rows.filter((r) => changed !== "all" && !changed.has(r.kh));
    const result = {
      ...first,
      missing: settledRows(first.missing),
      changed: settledRows(first.changed),
      extra: settledRows(first.extra),
    };
    const left = result.missing.length + result.changed.length + result.extra.length;
    return {
      result: { ...result, pending: first.pending + listed.length - left },
      settled: "settled",
    };
  }
  if (caught !== "settled") return { result: first, settled: caught };
  const versions = noted.map((n) => quoteLiteral(`${n.kh}:${n.x}`));
  const second = await compareTable(client, warehouse, {
    ...compare,
    pgWhere: `(${compare.pgWhere}) AND ${keyHashIn("pg", key, listed)}`,
    pgBucketWhere: "true",
    duckWhere: `(${compare.duckWhere}) AND ${keyHashIn("duck", key, listed)}`,
    // A row other than the version noted was changed since: not a difference yet.
    pendingExpr: versions.length === 0
      ? "true"
      : `((${keyHash} || ':' || xmin::text) NOT IN (${versions.join(", ")}))`,
    copy: undefined,
  });
  // Only in DuckDB: a real difference when Postgres had no such row already
  // when the versions were noted; deleted since, it is the stream's to apply.
  const existed = new Set(noted.map((n) => n.kh));
  const extra = second.extra.filter((r) => !existed.has(r.kh));
  return {
    result: {
      ...first,
      missing: second.missing,
      changed: second.changed,
      extra,
      pending: first.pending + second.pending + second.extra.length - extra.length,
    },
    settled: "settled",
  };
}

/** Waits until the slot confirms `position`. */
async function waitForSlot(
  client: pg.Client,
  slot: string,
  position: string,
  options: { readonly timeoutMs: number; readonly pollMs?: number },
): Promise<Settled["settled"]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const row = (await client.query(
      `SELECT confirmed_flush_lsn >= $2::pg_lsn AS caught, active
       FROM pg_replication_slots WHERE slot_name = $1`,
      [slot, position],
    )).rows[0] as { caught: boolean | null; active: boolean } | undefined;
    if (row?.caught === true) return "settled";
    // No stream runs and no sync is connected (a loop between retries keeps
    // its other connections): nothing will move the slot.
    if (!row || (!row.active && !(await otherSyncConnected(client)))) return "inactive";
    if (Date.now() >= deadline) return "timeout";
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
  }
}

/** True when another session of this program is connected to the database. */
async function otherSyncConnected(client: pg.Client): Promise<boolean> {
  const row = (await client.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = 'postgres-duckdb-sync' AND datname = current_database()
       AND pid <> pg_backend_pid()`,
  )).rows[0] as { n: number };
  return row.n > 0;
}

/**
 * The key hashes of the table's rows changed in the slot's changes after its
 * confirmed position, up to `position` ("all" after a TRUNCATE), read with
 * pg_logical_slot_peek_binary_changes, which consumes nothing.
 */
async function keysChangedInSlot(
  client: pg.Client,
  compare: ComparePlan,
  options: SettleOptions,
  position: string,
): Promise<Set<string> | "all" | null> {
  const rows = (await client.query(
    `SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, NULL,
       'proto_version', '1', 'publication_names', $3)`,
    [options.slot, position, options.publication],
  )).rows as { data: Uint8Array }[];
  const key = compare.shape.key;
  let relation: { id: number; at: number[] } | null = null;
  const tuples: (string | null)[][] = [];
  for (const { data } of rows) {
    const message = parseLogical(new Uint8Array(data));
    if (message.type === "relation") {
      if (message.schema !== options.table.schema || message.table !== options.table.table) {
        continue;
      }
      const at = key.map((k) => message.columns.findIndex((c) => c.name === k.name));
      if (at.some((i) => i < 0)) return "all";
      relation = { id: message.relationId, at };
      continue;
    }
    if (relation === null) continue;
    const take = (tuple: readonly TupleValue[] | null) => {
      if (!tuple) return true;
      const values = relation!.at.map((i) => tuple[i]);
      if (values.some((v) => v === UNCHANGED || v === undefined)) return false;
      tuples.push(values as (string | null)[]);
      return true;
    };
    if (message.type === "truncate" && message.relationIds.includes(relation.id)) return "all";
    if (message.type === "insert" && message.relationId === relation.id && !take(message.row)) {
      return "all";
    }
    if (
      message.type === "update" && message.relationId === relation.id &&
      !(take(message.row) && take(message.old))
    ) return "all";
    if (message.type === "delete" && message.relationId === relation.id && !take(message.old)) {
      return "all";
    }
  }
  const changed = new Set<string>();
  const names = key.map((k) => quoteIdent(k.name)).join(", ");
  for (let i = 0; i < tuples.length; i += 1000) {
    const values = tuples.slice(i, i + 1000).map((t) =>
      `(${
        t.map((v, j) => (v === null ? "NULL" : quoteLiteral(v)) + `::${key[j]!.pgType}`).join(", ")
      })`
    );
    const hashed = (await client.query(
      `SELECT md5(${rowText("pg", key)}) AS kh FROM (VALUES ${values.join(", ")}) AS v(${names})`,
    )).rows as { kh: string }[];
    for (const { kh } of hashed) changed.add(kh);
  }
  return changed;
}
