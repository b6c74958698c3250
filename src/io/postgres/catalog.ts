// Owns reading a table's shape from the PostgreSQL catalog: its columns and
// their types (domains resolved), primary key, kind, inheritance children,
// partitions and planner estimate; and the incremental view of it (TableInfo).

import pg from "pg";
import { configError } from "../../core/errors.ts";
import { mapColumn } from "../../core/type_map.ts";
import type { ColumnMapping, SourceColumn, TypeMapOptions } from "../../core/type_map.ts";
import type { Relation, TableShape } from "../../core/table_plan.ts";
import { type KeysetColumns } from "../../core/keyset.ts";

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
       a.atttypid::int8 AS type_oid,
       a.atttypmod AS typmod,
       a.attgenerated::text AS generated,
       a.attndims AS dims,
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
  /** pg_class.oid: a table dropped and created again under the same name gets a new one. */
  readonly oid?: string;
  /**
   * Its storage: the relfilenode (a partitioned table: each leaf's OID and
   * relfilenode). A rewrite (ALTER … TYPE … USING, VACUUM FULL, CLUSTER), a
   * TRUNCATE, or a partition attached or detached changes it.
   */
  readonly storage?: string;
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
            CASE WHEN c.relkind = 'p' THEN coalesce((
              SELECT string_agg(l.oid::int8 || ':' || l.relfilenode, ',' ORDER BY l.oid)
              FROM pg_partition_tree(c.oid::regclass) t JOIN pg_class l ON l.oid = t.relid
              WHERE t.isleaf), '') ELSE c.relfilenode::text END AS storage,
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
    const dims = Number(r.dims);
    list.push({
      name: String(r.name),
      // format_type() writes integer[] for integer[][]: the dimensions are part
      // of the recorded type, so declaring them is a type change (core/drift.ts).
      pgType: dims > 1 && String(r.pg_type).endsWith("[]")
        ? String(r.pg_type) + "[]".repeat(dims - 1)
        : String(r.pg_type),
      ...(dims > 1 ? { dimensions: dims } : {}),
      baseTypeName: r.base_typtype === "e" ? "enum" : String(r.base_name),
      baseType: String(r.base_type),
      category: String(r.category),
      notNull: Boolean(r.not_null),
      attnum: Number(r.attnum),
      typeOid: Number(r.type_oid),
      typmod: Number(r.typmod),
      ...(r.generated === "" || r.generated == null ? {} : { generated: true }),
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
      oid,
      storage: String(relRow.storage ?? ""),
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
    baseTypes: new Map(description.columns.map((c) => [c.name, c.baseTypeName])),
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
