// Owns the small queries a cycle asks PostgreSQL about positions: the safe
// horizon (pg_stat_activity), where the next batch ends, the last settled
// position, whether rows lie after the checkpoint, NULL cursors and a
// configured key's uniqueness. Each is one index probe or one aggregate.

import type { Horizon } from "../../core/scan_state.ts";
import pg from "pg";
import { qualified, quoteIdent, quoteLiteral, sourceFrom } from "../../core/sql.ts";
import {
  afterPredicate,
  orderBy,
  type Position,
  positionFromRow,
  positionSelect,
  rangePredicate,
} from "../../core/keyset.ts";

import type { TableInfo } from "./catalog.ts";

export type { Horizon } from "../../core/scan_state.ts";

/**
 * The safe horizon: every row with a cursor before it is committed and visible.
 * Read before any data query so that a transaction open now is either seen here
 * or was committed before our data snapshot.
 */
export async function readHorizon(client: pg.Client, lookbackSeconds: number): Promise<Horizon> {
  const result = await client.query(
    `WITH others AS (
       SELECT xact_start, query FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND datname = current_database()
         AND backend_type IS DISTINCT FROM 'autovacuum worker'
     ), facts AS (
       SELECT clock_timestamp() AS now,
              (SELECT min(xact_start) FROM others) AS oldest,
              (SELECT count(*) FROM others WHERE query = '<insufficient privilege>')
                -- Prepared (two-phase) transactions and a standby's view of the
                -- primary's transactions are not in pg_stat_activity at all.
                + (SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database())
                + CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END AS invisible
     )
     -- A margin of 200 ms: a transaction's start time is taken a moment
     -- before it shows in pg_stat_activity.
     SELECT (least(now, oldest,
                   CASE WHEN invisible > 0 THEN now - make_interval(secs => $1) END)
             - interval '200 milliseconds')::text AS at,
            invisible > 0 AS used_lookback,
            (SELECT reset_val FROM pg_settings WHERE name = 'TimeZone') AS zone
     FROM facts`,
    [lookbackSeconds],
  );
  const row = result.rows[0]!;
  return {
    at: String(row.at),
    usedLookback: Boolean(row.used_lookback),
    zone: String(row.zone ?? "UTC"),
  };
}

/** The horizon as a value comparable with the cursor column. */
export function horizonValue(info: TableInfo, horizon: Horizon): string {
  // A cursor rounded to fewer digits (timestamptz(0)) can fall up to half a
  // unit before its writer's start: the horizon moves back one whole unit.
  const precision = info.cursorPrecision ?? 6;
  const rounding = precision < 6 ? ` - make_interval(secs => ${10 ** -precision})` : "";
  const at = `(${quoteLiteral(horizon.at)}::timestamptz${rounding})`;
  return info.cursorWithoutZone ? `(${at} AT TIME ZONE ${quoteLiteral(horizon.zone)})` : at;
}

export function whereHorizon(info: TableInfo, horizon: Horizon): string {
  const column = quoteIdent(info.keyset.cursor.name);
  return `${column} < ${horizonValue(info, horizon)}`;
}

/**
 * A configured key must be unique, or rows sharing it would overwrite each
 * other in DuckDB. Returns an example duplicate ("id=5 appears 3 times"), or
 * null. A unique index on exactly these columns answers without a scan.
 */
export async function findDuplicateKey(
  client: pg.Client,
  info: TableInfo,
): Promise<string | null> {
  const names = info.keyset.key.map((k) => k.name);
  const indexed = await client.query(
    `SELECT 1 FROM pg_index i
     WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
       AND i.indexprs IS NULL AND i.indnkeyatts = $2
       AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
            WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey[0:i.indnkeyatts - 1]))
           = (SELECT array_agg(x ORDER BY x) FROM unnest($3::text[]) x)
     LIMIT 1`,
    [qualified(info.schema, info.table), names.length, names],
  );
  if (indexed.rows.length > 0) return null;
  const columns = names.map(quoteIdent).join(", ");
  const r = await client.query(
    `SELECT ${
      names.map((n, i) => `${quoteIdent(n)}::text AS k${i}`).join(", ")
    }, count(*)::int8::text AS n
     FROM ${sourceFrom(info)} GROUP BY ${columns} HAVING count(*) > 1 LIMIT 1`,
  );
  const row = r.rows[0];
  if (!row) return null;
  return `${names.map((n, i) => `${n}=${row[`k${i}`]}`).join(", ")} appears ${row.n} times`;
}

/** Rows with a NULL cursor are invisible to keyset paging; count them for a notice. */
export async function countNullCursor(client: pg.Client, info: TableInfo): Promise<number> {
  const r = await client.query(
    `SELECT count(*)::int8::text AS n FROM ${sourceFrom(info)} WHERE ${
      quoteIdent(info.keyset.cursor.name)
    } IS NULL`,
  );
  return Number(r.rows[0]!.n);
}

/** The position of the last row of the next batch of up to `size` rows after `after`. */
export async function nextBatchEnd(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  size: number,
  upTo?: Position,
): Promise<Position | null> {
  const from = sourceFrom(info);
  const where = rangePredicate(info.keyset, after, upTo);
  const nth = await client.query(
    `SELECT ${positionSelect(info.keyset)} FROM ${from} WHERE ${where} ORDER BY ${
      orderBy(info.keyset)
    } OFFSET ${size - 1} LIMIT 1`,
  );
  if (nth.rows[0]) return positionFromRow(nth.rows[0], info.keyset.key.length);
  return await lastPositionWhere(client, info, where);
}

/** The last (cursor, key) position among the rows matching `where` (one index probe), or null. */
export async function lastPositionWhere(
  client: pg.Client,
  info: TableInfo,
  where: string,
): Promise<Position | null> {
  const r = await client.query(
    `SELECT ${positionSelect(info.keyset)} FROM ${sourceFrom(info)}
     WHERE ${where} ORDER BY ${orderBy(info.keyset, true)} LIMIT 1`,
  );
  return r.rows[0] ? positionFromRow(r.rows[0], info.keyset.key.length) : null;
}

/** The last position in (after, upTo] whose cursor is before the horizon. */
export async function lastSettledPosition(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  upTo: Position,
  horizon: Horizon,
): Promise<Position | null> {
  return await lastPositionWhere(
    client,
    info,
    `${rangePredicate(info.keyset, after, upTo)} AND ${whereHorizon(info, horizon)}`,
  );
}

/** True when the cursor of `position` is before the horizon. */
export async function isSettled(
  client: pg.Client,
  info: TableInfo,
  position: Position,
  horizon: Horizon,
): Promise<boolean> {
  const r = await client.query(
    `SELECT ${quoteLiteral(position.cursor)}::${info.keyset.cursor.pgType} < ${
      horizonValue(info, horizon)
    } AS settled`,
  );
  return Boolean(r.rows[0]!.settled);
}

/**
 * The last (cursor, key) position in the table (one index probe), or null when
 * no row has a cursor. A cycle copies up to here: rows changed while it runs
 * are the next cycle's, so a cycle ends even under a steady stream of writes.
 */
export async function lastPosition(client: pg.Client, info: TableInfo): Promise<Position | null> {
  return await lastPositionWhere(client, info, afterPredicate(info.keyset, null));
}

/** True when any row lies after `after` (one index probe). */
export async function hasRowsAfter(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM ${sourceFrom(info)} WHERE ${afterPredicate(info.keyset, after)} LIMIT 1`,
  );
  return r.rows.length > 0;
}
