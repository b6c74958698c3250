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
  /** For added columns: existing rows need their values copied from Postgres. */
  readonly backfill: boolean;
}

export function diffSchema(
  duckTable: string,
  source: readonly ColumnMapping[],
  target: readonly TargetColumn[],
  knownDropped: ReadonlySet<string>,
  previousPgTypes: ReadonlyMap<string, string> = new Map(),
): DriftChange[] {
  const table = quoteIdent(duckTable);
  const targetByName = new Map(target.map((c) => [c.name, c]));
  const sourceNames = new Set(source.map((c) => c.name));
  const changes: DriftChange[] = [];
  for (const column of source) {
    const existing = targetByName.get(column.name);
    const ident = quoteIdent(column.name);
    if (!existing) {
      changes.push({
        kind: "column_added",
        column: column.name,
        detail: `added ${column.pgType} as ${column.duckType}`,
        ddl: `ALTER TABLE ${table} ADD COLUMN ${ident} ${column.duckType}`,
        backfill: true,
      });
      continue;
    }
    if (existing.duckType === column.duckType) {
      const before = previousPgTypes.get(column.name);
      if (before !== undefined && before !== column.pgType) {
        // e.g. varchar(20) -> text: both are VARCHAR in DuckDB, nothing to run.
        changes.push({
          kind: "type_widened",
          column: column.name,
          detail: `${before} -> ${column.pgType} (DuckDB type ${column.duckType} unchanged)`,
          ddl: null,
          backfill: false,
        });
      }
      continue;
    }
    const widening = isWidening(existing.duckType, column.duckType);
    // A narrowing or unrelated change cannot be applied without losing values
    // already copied: the column becomes VARCHAR, which holds every value.
    const newType = widening ? column.duckType : "VARCHAR";
    if (newType === existing.duckType) continue;
    changes.push({
      kind: widening ? "type_widened" : "type_changed",
      column: column.name,
      detail: `${existing.duckType} -> ${newType}` +
        (widening ? "" : ` (source is now ${column.pgType}; kept as text)`),
      ddl: `ALTER TABLE ${table} ALTER COLUMN ${ident} TYPE ${newType}`,
      backfill: false,
    });
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

/** The DuckDB column type a mapping is read as, when the target kept VARCHAR. */
export function effectiveTargetType(
  mapping: ColumnMapping,
  target: readonly TargetColumn[],
): string {
  return target.find((c) => c.name === mapping.name)?.duckType ??
    mapping.duckType;
}
