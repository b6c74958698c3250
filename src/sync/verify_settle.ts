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
// the stream.

import type pg from "pg";
import { type ComparePlan, compareTable, type ComparisonResult } from "./compare_tables.ts";
import { keyHashIn, rowText } from "../core/table_compare.ts";
import { quoteLiteral } from "../core/sql.ts";
import type { Warehouse } from "../io/warehouse.ts";

export interface SettleOptions {
  readonly client: pg.Client;
  readonly compare: ComparePlan;
  /** The replication slot whose confirmed position says what DuckDB holds. */
  readonly slot: string;
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
