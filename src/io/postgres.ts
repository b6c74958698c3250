// Owns every conversation with PostgreSQL: connecting (errors turned into
// SyncErrors that name the fix), introspecting the table, computing the safe
// horizon, finding batch boundaries and streaming a batch range out with COPY CSV
// straight to a file. Rows are never parsed in JavaScript.

import type { Horizon } from "../core/scan_state.ts";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { Config } from "../core/config.ts";
import { configError, SyncError } from "../core/errors.ts";
import { classifyError } from "../core/classify_error.ts";
import { FileWriteError } from "../core/local_io.ts";
import { CsvLastRow, parseCsvRow } from "../core/csv_tail.ts";
import { qualified, quoteIdent, quoteLiteral, sourceFrom } from "../core/sql.ts";
import { mapColumn } from "../core/type_map.ts";
import type { ColumnMapping, SourceColumn, TypeMapOptions } from "../core/type_map.ts";
import type { Relation, TableShape } from "../core/table_plan.ts";
import {
  afterPredicate,
  type KeysetColumns,
  orderBy,
  type Position,
  positionFromRow,
  positionSelect,
  rangePredicate,
} from "../core/keyset.ts";

export interface TableInfo {
  readonly schema: string;
  readonly table: string;
  /** "schema.table" for display. */
  readonly source: string;
  readonly columns: readonly SourceColumn[];
  readonly mappings: readonly ColumnMapping[];
  readonly keyset: KeysetColumns;
  /** True when the cursor is a timestamp type, so a time horizon applies. */
  readonly cursorIsTime: boolean;
  /** True for a `timestamp without time zone` cursor (compared in the database's zone). */
  readonly cursorWithoutZone: boolean;
  /**
   * Fractional digits a timestamp cursor keeps (6 unless declared, e.g.
   * `timestamptz(0)`): now() is rounded to it, so a writer's cursor can be up to
   * half a unit earlier than its transaction's start.
   */
  readonly cursorPrecision?: number;
  readonly estimatedRows: number | null;
  /** pg_class.relkind (r table, p partitioned, v view...). */
  readonly kind?: string;
  /** True when other tables inherit from it. */
  readonly hasChildren?: boolean;
  /** The table access method ("heap" for ordinary tables). */
  readonly accessMethod?: string;
  /** Leaf partitions of a partitioned table ("schema.table"), else undefined. */
  readonly partitions?: readonly PartitionName[];
}

/** A leaf partition of a partitioned table. */
export interface PartitionName {
  readonly schema: string;
  readonly table: string;
}

const SESSION_SETUP = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  "SET extra_float_digits = 3",
  "SET standard_conforming_strings = on",
  // A role subject to a row-level security policy would read a silent subset
  // of the table; with row_security off Postgres refuses instead (42501), as
  // pg_dump does, and the refusal is reported with its fix.
  "SET row_security = off",
].join("; ");

/**
 * Turns a pg / network error into a SyncError that names the fix (the Postgres
 * rules of the error table; see classifyError).
 */
export function classifyPgError(
  error: unknown,
  config: Config,
  secrets: readonly string[],
  /** The table being synced (a TablePlan's source), for the GRANT to suggest. */
  source?: string,
): SyncError {
  return classifyError(error, { settings: config, secrets, source, from: "postgres" });
}

export async function connectPg(config: Config, secrets: string[]): Promise<pg.Client> {
  const options: pg.ClientConfig = config.pg.connectionString
    ? { connectionString: config.pg.connectionString }
    : {
      host: config.pg.host,
      port: config.pg.port,
      user: config.pg.user,
      password: config.pg.password,
      database: config.pg.database,
    };
  const client = new pg.Client({
    ...options,
    application_name: "postgres-duckdb-sync",
    connectionTimeoutMillis: 10_000,
  });
  // An idle client whose server goes away emits 'error'; without a listener that
  // would crash the process. The next query on it fails and is classified then.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(SESSION_SETUP);
  } catch (error) {
    await client.end().catch(() => {});
    throw classifyPgError(error, config, secrets);
  }
  return client;
}

const COLUMNS_SQL = `
SELECT a.attrelid::int8::text AS rel,
       a.attname AS name,
       format_type(a.atttypid, a.atttypmod) AS pg_type,
       bt.typname AS base_name,
       format_type(bt.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS base_type,
       bt.typcategory AS category,
       bt.typtype AS base_typtype,
       a.attnotnull AS not_null,
       a.attnum AS attnum,
       et.typname AS element_base_name,
       format_type(et.oid, CASE WHEN e.typtype = 'd' THEN e.typtypmod WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS element_base_type,
       et.typtype AS element_base_typtype
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON e.oid = bt.typelem AND bt.typcategory = 'A' AND bt.typlen = -1
LEFT JOIN pg_type et ON et.oid = CASE WHEN e.typtype = 'd' THEN e.typbasetype ELSE e.oid END
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

const PRIMARY_KEY_SQL = `
SELECT i.indrelid::int8::text AS rel, a.attname AS name
FROM pg_index i
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = ANY($1::oid[]) AND i.indisprimary
ORDER BY i.indrelid, k.ord`;

/** Tables, views and foreign tables of the given schemas, for matching selectors. */
export async function listRelations(
  client: pg.Client,
  schemas: readonly string[],
): Promise<Relation[]> {
  const r = await client.query(
    `SELECT n.nspname AS schema, c.relname AS table, c.relkind::text AS kind,
            c.relispartition AS is_partition
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     ORDER BY n.nspname, c.relname`,
    [schemas],
  );
  return r.rows.map((row: Record<string, unknown>) => ({
    schema: String(row.schema),
    table: String(row.table),
    kind: String(row.kind),
    isPartition: Boolean(row.is_partition),
  }));
}

/** A source table as the catalog describes it, before deciding how it syncs. */
export interface TableDescription {
  readonly schema: string;
  readonly table: string;
  readonly source: string;
  readonly columns: readonly SourceColumn[];
  /** Primary key columns in key order; empty when there is none. */
  readonly primaryKey: readonly string[];
  /** pg_class.relkind: r table, p partitioned, v view, m matview, f foreign table. */
  readonly kind: string;
  /** True when other tables inherit from it (relhassubclass). */
  readonly hasChildren?: boolean;
  /** The table access method ("heap" for ordinary tables). */
  readonly accessMethod?: string;
  /** Leaf partitions of a partitioned table, else undefined. */
  readonly partitions?: readonly PartitionName[];
  readonly estimatedRows: number | null;
}

export async function describeTable(
  client: pg.Client,
  plan: { readonly schema: string; readonly table: string; readonly source: string },
  database: string,
): Promise<TableDescription> {
  const description = (await describeTables(client, [plan])).get(plan.source);
  if (!description) {
    throw configError(
      "TABLE_MISSING",
      `Cannot find table ${plan.source} in database ${database} (check POSTGRES_SCHEMA and POSTGRES_TABLE or POSTGRES_TABLES, and that the user can see it)`,
    );
  }
  return description;
}

/**
 * Many tables described at once, in three catalog queries (and one per
 * partitioned table), by source name; a table that is not found is left out.
 */
export async function describeTables(
  client: pg.Client,
  plans: readonly { readonly schema: string; readonly table: string; readonly source: string }[],
): Promise<Map<string, TableDescription>> {
  const descriptions = new Map<string, TableDescription>();
  if (plans.length === 0) return descriptions;
  const rel = await client.query(
    `SELECT n.nspname AS schema, c.relname AS table,
            c.oid::int8::text AS oid, c.relkind::text AS kind,
            c.relhassubclass AS has_children,
            coalesce((SELECT a.amname::text FROM pg_am a WHERE a.oid = c.relam), '') AS access_method,
            greatest(c.reltuples, 0)::int8 + coalesce((
              SELECT sum(greatest(p.reltuples, 0))::int8 FROM pg_inherits i
              JOIN pg_class p ON p.oid = i.inhrelid
              WHERE i.inhparent = c.oid AND c.relkind = 'p'), 0) AS estimate
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [plans.map((p) => p.schema), plans.map((p) => p.table)],
  );
  const oids = rel.rows.map((r: Record<string, unknown>) => String(r.oid));
  const columnsOf = new Map<string, SourceColumn[]>();
  for (const r of (await client.query(COLUMNS_SQL, [oids])).rows as Record<string, unknown>[]) {
    const list = columnsOf.get(String(r.rel)) ?? [];
    columnsOf.set(String(r.rel), list);
    list.push({
      name: String(r.name),
      pgType: String(r.pg_type),
      baseTypeName: r.base_typtype === "e" ? "enum" : String(r.base_name),
      baseType: String(r.base_type),
      category: String(r.category),
      notNull: Boolean(r.not_null),
      attnum: Number(r.attnum),
      ...(r.element_base_name == null ? {} : {
        elementBaseTypeName: r.element_base_typtype === "e" ? "enum" : String(r.element_base_name),
        elementBaseType: String(r.element_base_type),
      }),
    });
  }
  const keyOf = new Map<string, string[]>();
  for (const r of (await client.query(PRIMARY_KEY_SQL, [oids])).rows as Record<string, unknown>[]) {
    const list = keyOf.get(String(r.rel)) ?? [];
    keyOf.set(String(r.rel), list);
    list.push(String(r.name));
  }
  const bySource = new Map(plans.map((p) => [`${p.schema}\u0000${p.table}`, p]));
  for (const relRow of rel.rows as Record<string, unknown>[]) {
    const plan = bySource.get(`${relRow.schema}\u0000${relRow.table}`);
    if (!plan) continue;
    const oid = String(relRow.oid);
    const estimate = Number(relRow.estimate);
    const kind = String(relRow.kind);
    const partitions = kind === "p"
      ? (await client.query(
        `SELECT n.nspname AS schema, c.relname AS table FROM pg_partition_tree($1::oid::regclass) t
         JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE t.isleaf ORDER BY 1, 2`,
        [oid],
      )).rows.map((r: Record<string, unknown>) => ({
        schema: String(r.schema),
        table: String(r.table),
      }))
      : undefined;
    descriptions.set(plan.source, {
      schema: plan.schema,
      table: plan.table,
      source: plan.source,
      columns: columnsOf.get(oid) ?? [],
      primaryKey: keyOf.get(oid) ?? [],
      kind,
      hasChildren: Boolean(relRow.has_children),
      accessMethod: String(relRow.access_method),
      ...(partitions ? { partitions } : {}),
      estimatedRows: Number.isFinite(estimate) && estimate > 0 ? estimate : null,
    });
  }
  return descriptions;
}

/** The shape decideSync needs. */
export function shapeOf(description: TableDescription): TableShape {
  return {
    columns: description.columns.map((c) => c.name),
    notNull: new Set(description.columns.filter((c) => c.notNull).map((c) => c.name)),
    primaryKey: description.primaryKey,
    isTable: description.kind === "r" || description.kind === "p",
  };
}

/** The incremental view of a described table (the cursor column must exist). */
export function tableInfoOf(
  description: TableDescription,
  cursorColumn: string,
  key: readonly string[],
  typeOptions: TypeMapOptions = {},
): TableInfo {
  const byName = new Map(description.columns.map((c) => [c.name, c]));
  const cursor = byName.get(cursorColumn)!;
  return {
    schema: description.schema,
    table: description.table,
    source: description.source,
    columns: description.columns,
    mappings: description.columns.map((c) => mapColumn(c, typeOptions)),
    keyset: {
      cursor: { name: cursor.name, pgType: cursor.pgType },
      key: key.map((k) => ({ name: k, pgType: byName.get(k)!.pgType })),
    },
    cursorIsTime: cursor.baseTypeName === "timestamptz" || cursor.baseTypeName === "timestamp",
    cursorWithoutZone: cursor.baseTypeName === "timestamp",
    cursorPrecision: Number(/^timestamp\((\d)\)/.exec(cursor.baseType)?.[1] ?? 6),
    estimatedRows: description.estimatedRows,
    kind: description.kind,
    hasChildren: description.hasChildren ?? false,
    accessMethod: description.accessMethod ?? "",
    ...(description.partitions ? { partitions: description.partitions } : {}),
  };
}

/** Streams the result of any SELECT as CSV into `path`. */
export async function copyQueryToCsv(
  client: pg.Client,
  select: string,
  path: string,
): Promise<CopyResult> {
  return await streamCopy(client, `COPY (${select}) TO STDOUT WITH (FORMAT csv)`, path);
}

/** Streams the whole table (a full refresh) as CSV into `path`, in one snapshot. */
export async function copyTableToCsv(
  client: pg.Client,
  relation: { readonly schema: string; readonly table: string; readonly kind?: string },
  mappings: readonly ColumnMapping[],
  path: string,
): Promise<CopyResult> {
  const select = mappings.map((m) => m.pgSelect).join(", ");
  return await streamCopy(
    client,
    `COPY (SELECT ${select} FROM ${sourceFrom(relation)}) TO STDOUT WITH (FORMAT csv)`,
    path,
  );
}

export type { Horizon } from "../core/scan_state.ts";

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

export interface CopyResult {
  readonly rows: number;
  readonly bytes: number;
}

/** Streams the rows in (after, upTo] as CSV into `path`; memory stays at one chunk. */
export async function copyRangeToCsv(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  upTo: Position,
  path: string,
  columns: readonly ColumnMapping[] = info.mappings,
  wholeTable = false,
): Promise<CopyResult> {
  const select = columns.map((m) => m.pgSelect).join(", ");
  const where = wholeTable ? "true" : rangePredicate(info.keyset, after, upTo);
  const sql = `COPY (SELECT ${select} FROM ${
    sourceFrom(info)
  } WHERE ${where}) TO STDOUT WITH (FORMAT csv)`;
  return await streamCopy(client, sql, path);
}

/** Runs a COPY ... TO STDOUT and streams it into `path`; memory stays at one chunk. */
async function streamCopy(
  client: pg.Client,
  sql: string,
  path: string,
  onChunk?: (chunk: Uint8Array) => void,
): Promise<CopyResult> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true }).catch(
    (error) => {
      throw new FileWriteError(path, error);
    },
  );
  let bytes = 0;
  try {
    const stream = client.query(copyTo(sql));
    // Under Deno a COPY that follows other traffic on the same client stalls
    // unless the socket is set flowing once the COPY is submitted (DESIGN.md).
    (client as unknown as { connection: { stream: { resume(): void } } }).connection.stream
      .resume();
    for await (const chunk of stream) {
      const data = chunk as Uint8Array;
      bytes += data.byteLength;
      try {
        onChunk?.(data);
        let written = 0;
        try {
          while (written < data.byteLength) written += await file.write(data.subarray(written));
        } catch (error) {
          throw new FileWriteError(path, error);
        }
      } catch (error) {
        stream.on("error", () => {}); // the closed socket fails the COPY: already reported
        abandonConnection(client);
        file.close();
        // A partial file would keep a full disk full.
        await Deno.remove(path).catch(() => {});
        throw error;
      }
    }
    return { rows: Number(stream.rowCount ?? 0), bytes };
  } finally {
    try {
      file.close();
    } catch { /* closed above */ }
  }
}

/**
 * Closes the socket of a client whose COPY was left unread (a full disk, an
 * error in a chunk): the client would wait forever for the COPY to end, and
 * the server would keep its transaction open, blocked writing to us. Closed,
 * the server aborts the transaction and queued queries fail at once.
 */
function abandonConnection(client: pg.Client): void {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream
    .destroy();
}

/** True once the client's socket is closed (it must not be reused). */
export function isClosed(client: pg.Client): boolean {
  return (client as unknown as { connection: { stream: { destroyed?: boolean } } }).connection
    .stream.destroyed === true;
}

/**
 * Where the cursor and key columns sit in the COPY output, when their CSV text
 * is exactly Postgres' text form (so a position can be read back from a row);
 * null otherwise (e.g. a bytea key travels as hex).
 */
export function positionFieldIndexes(info: TableInfo): number[] | null {
  const indexes: number[] = [];
  for (const column of [info.keyset.cursor, ...info.keyset.key]) {
    const i = info.mappings.findIndex((m) => m.name === column.name);
    const m = info.mappings[i];
    const ident = quoteIdent(column.name);
    if (!m || (m.pgSelect !== ident && m.pgSelect !== `${ident}::text`)) return null;
    indexes.push(i);
  }
  return indexes;
}

/**
 * Streams the next batch (up to `limit` rows after `after`, in keyset order)
 * into `path` with one COPY ... ORDER BY ... LIMIT, and reads the batch's end
 * position from its last row: no separate query to find where it ends.
 */
export async function copyNextBatchToCsv(
  client: pg.Client,
  info: TableInfo,
  after: Position | null,
  limit: number,
  path: string,
  fields: readonly number[],
  upTo?: Position,
): Promise<CopyResult & { end: Position | null }> {
  const select = info.mappings.map((m) => m.pgSelect).join(", ");
  const sql = `COPY (SELECT ${select} FROM ${sourceFrom(info)} WHERE ${
    rangePredicate(info.keyset, after, upTo)
  } ORDER BY ${orderBy(info.keyset)} LIMIT ${limit}) TO STDOUT WITH (FORMAT csv)`;
  const tracker = new CsvLastRow();
  const copied = await streamCopy(client, sql, path, (chunk) => tracker.push(chunk));
  const last = tracker.lastRow();
  if (copied.rows === 0 || last === null) return { ...copied, end: null };
  const values = parseCsvRow(new TextDecoder().decode(last));
  const texts = fields.map((i) => values[i]);
  if (texts.some((t) => t === null || t === undefined)) {
    throw new SyncError("INTERNAL", `Cannot read the batch end position of ${info.source}`);
  }
  const [cursor, ...key] = texts as string[];
  return { ...copied, end: { cursor: cursor!, key } };
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

/** Copies key columns plus the given columns of every row (for backfilling added columns). */
export async function copyColumnsToCsv(
  client: pg.Client,
  info: TableInfo,
  columns: readonly ColumnMapping[],
  path: string,
): Promise<CopyResult> {
  return await copyRangeToCsv(
    client,
    info,
    null,
    { cursor: "", key: [] },
    path,
    columns,
    true,
  );
}
