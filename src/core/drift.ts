// Owns the pure schema-drift diff: given the mapped source columns, the DuckDB
// target's columns and the columns already known to be dropped, decide what
// changed and which DDL brings the target in line. No IO here.

import type { ColumnMapping } from "./type_map.ts";
import { isWidening } from "./type_map.ts";
import { quoteIdent } from "./sql.ts";

export interface TargetColumn {
  readonly name: string;
  readonly duckType: string;
}

export type DriftKind =
  | "column_added"
  | "column_replaced"
  | "column_dropped"
  | "type_widened"
  | "type_changed";

export interface DriftChange {
  readonly kind: DriftKind;
  readonly column: string;
  /** Human description, e.g. "INTEGER -> BIGINT". */
  readonly detail: string;
  /** DDL to run on DuckDB, or null when nothing is applied (dropped columns). */
  readonly ddl: string | null;
  /**
   * Existing rows need this column's values copied again from Postgres: added
   * columns (a DEFAULT fills old rows without touching the cursor) and type
   * changes (ALTER ... USING may rewrite every value, also without the cursor).
   */
  readonly backfill: boolean;
  /** The DuckDB type the column has once the DDL ran (for added or retyped columns). */
  readonly newType?: string;
}

export function diffSchema(
  duckTable: string,
  source: readonly ColumnMapping[],
  target: readonly TargetColumn[],
  knownDropped: ReadonlySet<string>,
  previousPgTypes: ReadonlyMap<string, string> = new Map(),
  previousAttnums: ReadonlyMap<string, number> = new Map(),
): DriftChange[] {
  const table = quoteIdent(duckTable);
  const targetByName = new Map(target.map((c) => [c.name, c]));
  const sourceNames = new Set(source.map((c) => c.name));
  const changes: DriftChange[] = [];
  const previous = { knownDropped, pgTypes: previousPgTypes, attnums: previousAttnums };
  for (const column of source) {
    const change = columnChange(table, column, targetByName.get(column.name), previous);
    if (change) changes.push(change);
  }
  for (const column of target) {
    if (!sourceNames.has(column.name) && !knownDropped.has(column.name)) {
      changes.push({
        kind: "column_dropped",
        column: column.name,
        detail: "dropped in Postgres; kept in DuckDB (new rows get NULL)",
        ddl: null,
        backfill: false,
      });
    }
  }
  return changes;
}

/** What one source column's drift is against its DuckDB column (absent: added), or null. */
function columnChange(
  table: string,
  column: ColumnMapping,
  existing: TargetColumn | undefined,
  previous: {
    readonly knownDropped: ReadonlySet<string>;
    readonly pgTypes: ReadonlyMap<string, string>;
    readonly attnums: ReadonlyMap<string, number>;
  },
): DriftChange | null {
  const ident = quoteIdent(column.name);
  if (!existing) {
    return {
      kind: "column_added",
      column: column.name,
      detail: `added ${column.pgType} as ${column.duckType}`,
      ddl: `ALTER TABLE ${table} ADD COLUMN ${ident} ${column.duckType}`,
      backfill: true,
      newType: column.duckType,
    };
  }
  const seenAttnum = previous.attnums.get(column.name);
  const readded = previous.knownDropped.has(column.name);
  if (
    readded ||
    (seenAttnum !== undefined && column.attnum !== undefined && seenAttnum !== column.attnum)
  ) {
    // Same name, different column: dropped and re-added, or a rename. Its
    // values in DuckDB belong to another column: re-copy them all.
    const retype = existing.duckType !== column.duckType;
    // With a new type the old column goes and a fresh one comes: the old
    // values may not convert, and every value is re-copied anyway.
    return {
      kind: "column_replaced",
      column: column.name,
      detail:
        `dropped and re-added (or renamed) in Postgres as ${column.pgType}; every value re-copied`,
      ddl: retype
        ? `ALTER TABLE ${table} DROP COLUMN ${ident}; ALTER TABLE ${table} ADD COLUMN ${ident} ${column.duckType}`
        : null,
      backfill: true,
      ...(retype ? { newType: column.duckType } : {}),
    };
  }
  const before = previous.pgTypes.get(column.name);
  const sourceChanged = before !== undefined && before !== column.pgType;
  if (existing.duckType === column.duckType) {
    // e.g. varchar(20) -> text: both are VARCHAR in DuckDB, nothing to run.
    if (sourceChanged) {
      return {
        kind: "type_widened",
        column: column.name,
        detail: `${before} -> ${column.pgType} (DuckDB type ${column.duckType} unchanged)`,
        ddl: null,
        backfill: true,
      };
    }
    return null;
  }
  if (
    !sourceChanged && before !== undefined && existing.duckType === "VARCHAR" &&
    (column.duckType.endsWith("[]") || column.duckType === "INTERVAL")
  ) {
    // Same Postgres type, better mapping since an upgrade (arrays were text
    // and are now LISTs, intervals now INTERVAL): the old text would mix
    // with the new values, so the column is rebuilt and every value re-copied.
    return {
      kind: "type_changed",
      column: column.name,
      detail:
        `${column.pgType} now maps to ${column.duckType} (was VARCHAR); every value re-copied`,
      ddl:
        `ALTER TABLE ${table} DROP COLUMN ${ident}; ALTER TABLE ${table} ADD COLUMN ${ident} ${column.duckType}`,
      backfill: true,
      newType: column.duckType,
    };
  }
  if (isWidening(existing.duckType, column.duckType)) {
    return {
      kind: "type_widened",
      column: column.name,
      detail: `${existing.duckType} -> ${column.duckType}`,
      ddl: `ALTER TABLE ${table} ALTER COLUMN ${ident} TYPE ${column.duckType}`,
      backfill: true,
      newType: column.duckType,
    };
  }
  // Narrowing (the DuckDB column already holds every new value) or an
  // unrelated change (only text holds both old and new values): never lose
  // values already copied.
  const keep = isWidening(column.duckType, existing.duckType) ||
    existing.duckType === "VARCHAR";
  if (keep) {
    if (sourceChanged) {
      return {
        kind: "type_changed",
        column: column.name,
        detail:
          `${before} -> ${column.pgType}; DuckDB keeps ${existing.duckType}, which holds every value`,
        ddl: null,
        backfill: true,
      };
    }
    return null;
  }
  return {
    kind: "type_changed",
    column: column.name,
    detail:
      `${existing.duckType} -> VARCHAR (source is now ${column.pgType}; kept as text so no value is lost)`,
    ddl: `ALTER TABLE ${table} ALTER COLUMN ${ident} TYPE VARCHAR`,
    backfill: true,
    newType: "VARCHAR",
  };
}

/**
 * DuckDB cannot change the type of a primary-key column in place. When a key
 * column is retyped, the whole change set becomes: the other DDL, then one
 * rebuild of the table with the final column types (copy, drop, rename) in the
 * same transaction. Pure: returns the rewritten changes.
 */
export function rebuildForKeyRetype(
  duckTable: string,
  changes: readonly DriftChange[],
  target: readonly TargetColumn[],
  key: readonly string[],
): DriftChange[] {
  const keySet = new Set(key);
  const keyRetype = changes.find((c) => keySet.has(c.column) && c.newType !== undefined);
  if (!keyRetype) return [...changes];
  const finalTypes = new Map(target.map((c) => [c.name, c.duckType]));
  for (const c of changes) if (c.newType !== undefined) finalTypes.set(c.column, c.newType);
  const t = quoteIdent(duckTable);
  const tmp = quoteIdent(`${duckTable}__rebuild`);
  // Added columns were appended by their own DDL, which runs first.
  const columns = [
    ...target.map((c) => c.name),
    ...changes.filter((c) => c.kind === "column_added").map((c) => c.column),
  ];
  const list = columns.map(quoteIdent).join(", ");
  const rebuild = [
    `CREATE TABLE ${tmp} (${
      columns.map((c) => `${quoteIdent(c)} ${finalTypes.get(c)}`).join(", ")
    }, PRIMARY KEY (${key.map(quoteIdent).join(", ")}))`,
    `INSERT INTO ${tmp} (${list}) SELECT ${
      columns.map((c) => `CAST(${quoteIdent(c)} AS ${finalTypes.get(c)})`).join(", ")
    } FROM ${t}`,
    `DROP TABLE ${t}`,
    `ALTER TABLE ${tmp} RENAME TO ${quoteIdent(duckTable)}`,
  ].join("; ");
  const rewritten = changes.map((c) => {
    if (c.newType === undefined || !c.ddl?.includes("ALTER COLUMN")) return c;
    return { ...c, ddl: c === keyRetype ? rebuild : null };
  });
  // The rebuild runs last, after every other change's DDL (an added column
  // must exist before the rebuild selects it).
  const last = rewritten.filter((c) => c.ddl === rebuild);
  return [...rewritten.filter((c) => c.ddl !== rebuild), ...last];
}

/** The DuckDB column type a mapping is read as, when the target kept VARCHAR. */
export function effectiveTargetType(
  mapping: ColumnMapping,
  target: readonly TargetColumn[],
): string {
  return target.find((c) => c.name === mapping.name)?.duckType ??
    mapping.duckType;
}

/**
 * The changes a full refresh makes to a table it rebuilds from scratch: every
 * column takes the source's current type, so nothing is kept for old rows. The
 * records are for the drift log; no DDL is run for them.
 */
export function diffForRefresh(
  source: readonly ColumnMapping[],
  target: readonly TargetColumn[],
): DriftChange[] {
  const targetByName = new Map(target.map((c) => [c.name, c]));
  const sourceNames = new Set(source.map((c) => c.name));
  const changes: DriftChange[] = [];
  for (const column of source) {
    const existing = targetByName.get(column.name);
    if (!existing) {
      changes.push({
        kind: "column_added",
        column: column.name,
        detail: `added ${column.pgType} as ${column.duckType} (full refresh)`,
        ddl: null,
        backfill: false,
      });
    } else if (existing.duckType !== column.duckType) {
      changes.push({
        kind: isWidening(existing.duckType, column.duckType) ? "type_widened" : "type_changed",
        column: column.name,
        detail: `${existing.duckType} -> ${column.duckType} (full refresh)`,
        ddl: null,
        backfill: false,
      });
    }
  }
  for (const column of target) {
    if (!sourceNames.has(column.name)) {
      changes.push({
        kind: "column_dropped",
        column: column.name,
        detail: "dropped from the source; the full refresh removed it",
        ddl: null,
        backfill: false,
      });
    }
  }
  return changes;
}
