// Owns the pure decision of what to sync: selectors (POSTGRES_TABLES, the sync
// file) matched against the relations Postgres lists become one TablePlan per
// source table, with its overrides applied and its DuckDB target named; and, once
// a table is described, whether it syncs incrementally, by full refresh, or not.

import type { Config } from "./config.ts";
import { configError, SyncError } from "./errors.ts";
import { formatSelector } from "./selector.ts";
import { quoteIdent } from "./sql.ts";
import type { TableMode } from "./sync_file.ts";

/** A relation as listed from pg_class. */
export interface Relation {
  readonly schema: string;
  readonly table: string;
  /** pg_class.relkind: r table, p partitioned, v view, m matview, f foreign. */
  readonly kind: string;
  /** True for a partition of a partitioned table (synced through its parent). */
  readonly isPartition: boolean;
}

export interface TablePlan {
  readonly schema: string;
  readonly table: string;
  /** formatSelector's name ("public.orders", `SalesEU."order items"`): shown, and the override key. */
  readonly source: string;
  /** The DuckDB table name. */
  readonly target: string;
  readonly cursorColumn: string;
  /** True when the cursor column was configured (missing is then an error). */
  readonly cursorExplicit: boolean;
  readonly softDeleteColumn: string;
  /** Configured key columns, or null to use the primary key. */
  readonly primaryKey: readonly string[] | null;
  /** Where a key is configured for this table, as advice names it ("POSTGRES_PRIMARY_KEY"). */
  readonly keySetting: string;
  /** The configured mode, or null to decide from the table's shape. */
  readonly mode: TableMode | null;
  /** Full refresh every N cycles. */
  readonly refreshEvery: number;
  /** Named explicitly (not matched by a wildcard). */
  readonly explicit: boolean;
  /** Set when an explicitly named table does not exist (reported when synced). */
  readonly missing: boolean;
}

export interface PlanResult {
  readonly plans: readonly TablePlan[];
  /** One line per table left out, for a notice. */
  readonly skipped: readonly string[];
  /** Wildcards that matched no table ("sales.*"). */
  readonly unmatched: readonly string[];
}

const WILDCARD_KINDS = new Set(["r", "p"]);
const NAMED_KINDS = new Set(["r", "p", "v", "m", "f"]);

/** Matches the configured selectors against the listed relations. */
export function planTables(config: Config, relations: readonly Relation[]): PlanResult {
  const plans = new Map<string, TablePlan>();
  const skipped: string[] = [];
  const partitions: string[] = [];
  const unmatched: string[] = [];
  const add = (schema: string, table: string, explicit: boolean, missing: boolean) => {
    const source = formatSelector(schema, table);
    if (plans.has(source)) return;
    const o = config.overrides[source] ?? {};
    if (o.mode === "skip") {
      skipped.push(`${source} (mode skip in ${config.syncFile})`);
      return;
    }
    const target = o.target ??
      (config.multiTable ? `${schema}_${table}` : config.duckdbTable);
    plans.set(source, {
      schema,
      table,
      source,
      target,
      cursorColumn: o.cursorColumn ?? config.cursorColumn,
      // With several tables, CURSOR_COLUMN is the usual column, not a demand on
      // each: a table without it is refreshed whole (a table's own "cursor" is).
      cursorExplicit: o.cursorColumn !== undefined ||
        (config.cursorColumnExplicit && !config.multiTable),
      softDeleteColumn: o.softDeleteColumn ?? config.softDeleteColumn,
      primaryKey: o.primaryKey ?? config.primaryKey,
      keySetting: config.multiTable || o.primaryKey
        ? `"key" for ${source} in ${
          config.syncFile ? config.syncFile : "a sync file (SYNC_CONFIG)"
        }`
        : "POSTGRES_PRIMARY_KEY",
      mode: o.mode ?? null,
      refreshEvery: o.refreshEvery ?? config.fullRefreshEvery,
      explicit,
      missing,
    });
  };
  for (const selector of config.tables) {
    if (selector.table === "*") {
      const inSchema = relations.filter((r) => r.schema === selector.schema);
      for (const r of inSchema) {
        if (r.isPartition) partitions.push(`${r.schema}.${r.table}`);
        else if (WILDCARD_KINDS.has(r.kind)) add(r.schema, r.table, false, false);
      }
      if (!inSchema.some((r) => !r.isPartition && WILDCARD_KINDS.has(r.kind))) {
        unmatched.push(formatSelector(selector.schema, "*"));
      }
      continue;
    }
    const found = relations.find((r) =>
      r.schema === selector.schema && r.table === selector.table && NAMED_KINDS.has(r.kind)
    );
    add(selector.schema, selector.table, true, !found);
  }
  if (partitions.length > 0) {
    skipped.push(
      `${partitions.length} partition(s) (synced through their partitioned parent table)`,
    );
  }
  for (const name of Object.keys(config.overrides)) {
    if (!plans.has(name) && config.overrides[name]?.mode !== "skip") {
      skipped.push(
        `the sync file's settings for ${name} (no such table is selected; check the name)`,
      );
    }
  }
  // DuckDB table names ignore case: "Orders" and "orders" are one table.
  const byTarget = new Map<string, string>();
  for (const plan of plans.values()) {
    const other = byTarget.get(plan.target.toLowerCase());
    if (other) {
      throw configError(
        "CONFIG_INVALID",
        `Tables ${other} and ${plan.source} would both land in DuckDB table ${plan.target} (give one a "target" in the sync file)`,
      );
    }
    byTarget.set(plan.target.toLowerCase(), plan.source);
  }
  return { plans: [...plans.values()], skipped, unmatched };
}

/** What a described table needs: its columns' names and key, as Postgres reports them. */
export interface TableShape {
  readonly columns: readonly string[];
  readonly notNull: ReadonlySet<string>;
  /** The primary key columns, empty when the table has none. */
  readonly primaryKey: readonly string[];
  /** False for a view, materialized view or foreign table (no NOT NULL, no primary key). */
  readonly isTable?: boolean;
  /** Each column's base type name (domains resolved: "timestamptz", "date", "int8"...). */
  readonly baseTypes?: ReadonlyMap<string, string>;
}

export type SyncDecision =
  | { readonly kind: "incremental"; readonly key: readonly string[] }
  | {
    readonly kind: "full_refresh";
    /** Empty when the table has no key (replaced whole, never upserted). */
    readonly key: readonly string[];
    /** Why, for a notice; null when configured. */
    readonly reason: string | null;
  }
  | { readonly kind: "skip"; readonly reason: string };

/** Decides how a table syncs, or throws the configuration error that names the fix. */
export function decideSync(plan: TablePlan, shape: TableShape): SyncDecision {
  const has = new Set(shape.columns);
  const source = plan.source;
  const key = plan.primaryKey ? [...plan.primaryKey] : [...shape.primaryKey];
  if (plan.primaryKey) {
    const missing = key.filter((k) => !has.has(k));
    if (missing.length > 0) {
      throw configError(
        "PRIMARY_KEY_MISSING",
        `Cannot sync ${source}: POSTGRES_PRIMARY_KEY (or the sync file's key) names column(s) ${
          missing.join(", ")
        } that the table does not have`,
      );
    }
  }
  const nullableKeys = key.filter((k) => !shape.notNull.has(k));
  if (shape.isTable === false && plan.mode !== "incremental") {
    // A view cannot declare a key or NOT NULL: copy it whole, its rows told apart by content.
    return {
      kind: "full_refresh",
      key: [],
      reason: plan.mode === "full_refresh"
        ? null
        : `${source} is a view (or materialized view, or foreign table): copied whole ${
          everyCycles(plan)
        } (full refresh)`,
    };
  }
  if (nullableKeys.length > 0 && shape.isTable === false) {
    throw configError(
      "PRIMARY_KEY_MISSING",
      `Cannot sync ${source} incrementally: it is a view (or foreign table), whose key column(s) ${
        nullableKeys.join(", ")
      } cannot be declared NOT NULL (set "mode": "full_refresh" for it in the sync file, or remove its "mode", to copy it whole each cycle)`,
    );
  }
  if (nullableKeys.length > 0) {
    const columns = nullableKeys.map((k) => quoteIdent(k));
    throw configError(
      "PRIMARY_KEY_MISSING",
      `Cannot sync ${source}: key column(s) ${nullableKeys.join(", ")} can be NULL (add NOT NULL: ${
        columns.map((c) => `ALTER TABLE ${source} ALTER COLUMN ${c} SET NOT NULL;`).join(" ")
      } or set ${plan.keySetting} to NOT NULL columns that are unique)`,
    );
  }
  if (plan.mode === "full_refresh") {
    return { kind: "full_refresh", key, reason: null };
  }
  if (key.length === 0) {
    const fix =
      `add a primary key, set "key" for it in the sync file to NOT NULL columns that are unique, or set "mode": "full_refresh" to copy it whole each cycle`;
    if (plan.explicit && !plan.mode) {
      throw configError(
        "PRIMARY_KEY_MISSING",
        plan.keySetting === "POSTGRES_PRIMARY_KEY"
          ? `Cannot sync ${source}: it has no primary key (add one, or set POSTGRES_PRIMARY_KEY to columns that are unique, e.g. POSTGRES_PRIMARY_KEY=id; with a sync file, "key" for this table, or "mode": "full_refresh" to copy it whole)`
          : `Cannot sync ${source}: it has no primary key (add one, set ${plan.keySetting} to NOT NULL columns that are unique, or "mode": "full_refresh" for it to copy it whole)`,
      );
    }
    return { kind: "skip", reason: `${source} has no primary key and is skipped (${fix})` };
  }
  if (!has.has(plan.cursorColumn)) {
    if (plan.cursorExplicit || plan.mode === "incremental") {
      throw configError(
        "CURSOR_COLUMN_MISSING",
        `Cannot sync ${source}: it has no cursor column "${plan.cursorColumn}" (set CURSOR_COLUMN, or "cursor" for this table in the sync file, to a column that every change updates, e.g. updated_at)`,
      );
    }
    return {
      kind: "full_refresh",
      key,
      reason: `${source} has no "${plan.cursorColumn}" column: copied whole ${
        everyCycles(plan)
      } (full refresh)`,
    };
  }
  if (key.includes(plan.cursorColumn)) {
    throw configError(
      "CONFIG_INVALID",
      `Cannot sync ${source}: the cursor column "${plan.cursorColumn}" is part of the key (set CURSOR_COLUMN to a last-modified column)`,
    );
  }
  if (shape.baseTypes?.get(plan.cursorColumn) === "date") {
    // A timestamp of any precision is safe (the horizon allows for its rounding)
    // and an integer counter is exact; a date tells two changes of one day
    // apart only by key, and a row changed again behind the position is lost.
    throw configError(
      "CONFIG_INVALID",
      `Cannot sync ${source} by its cursor column "${plan.cursorColumn}": it is a date, so a row changed again on the day it was copied keeps the same cursor and would never be copied again (use a timestamptz column that every change sets, e.g. ALTER TABLE ${
        quoteIdent(plan.schema)
      }.${
        quoteIdent(plan.table)
      } ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now() with a BEFORE UPDATE trigger setting it to now(), and point CURSOR_COLUMN (or "cursor" for this table in the sync file) at it; or set "mode": "full_refresh" for it in the sync file to copy it whole each cycle)`,
    );
  }
  return { kind: "incremental", key };
}

function everyCycles(plan: TablePlan): string {
  return plan.refreshEvery === 1 ? "every cycle" : `every ${plan.refreshEvery} cycles`;
}

/** True when the error belongs to one table (others go on); false for whole-run failures. */
export function isTableScoped(error: SyncError): boolean {
  return !["PG_UNREACHABLE", "PG_AUTH_FAILED", "PG_DATABASE_MISSING", "STATE_DIR_UNWRITABLE"]
    .includes(error.code);
}
