// Owns the optional sync file (--config sync.json / SYNC_CONFIG): which tables to
// sync and per-table overrides (cursor column, key, DuckDB target name, mode).
// Pure: takes the file's text, returns validated values or one clear problem.

import { formatSelector, readSelector, suggestSelector } from "./selector.ts";

/** How a table is kept in sync. */
export type TableMode = "incremental" | "full_refresh" | "skip";

const TABLE_MODES: readonly TableMode[] = ["incremental", "full_refresh", "skip"];

export interface TableOverride {
  readonly cursorColumn?: string;
  readonly softDeleteColumn?: string;
  readonly primaryKey?: readonly string[];
  readonly target?: string;
  readonly mode?: TableMode;
  /** Full refresh every N cycles (1 = every cycle). */
  readonly refreshEvery?: number;
}

export interface SyncFile {
  /** Table selectors ("schema.table" or "schema.*"), or null when the file names none. */
  readonly include: readonly string[] | null;
  /** The table as formatSelector names it ("public.orders", `SalesEU."order items"`) -> overrides. */
  readonly tables: Readonly<Record<string, TableOverride>>;
}

const OVERRIDE_KEYS = new Set([
  "cursor",
  "soft_delete",
  "key",
  "target",
  "mode",
  "refresh_every",
]);

/** Parses the sync file; every problem is returned in `problems` (one line each). */
export function parseSyncFile(
  text: string,
  path: string,
  problems: string[],
): SyncFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    problems.push(
      `${path} is not valid JSON (${
        error instanceof Error ? error.message : String(error)
      }); see the README's "Sync file" section`,
    );
    return { include: null, tables: {} };
  }
  if (!isObject(raw)) {
    problems.push(`${path} must hold a JSON object like {"tables": {"public.orders": {}}}`);
    return { include: null, tables: {} };
  }
  for (const key of Object.keys(raw)) {
    if (key !== "include" && key !== "tables") {
      problems.push(`${path}: unknown key "${key}" (expected "include" and "tables")`);
    }
  }
  let include: string[] | null = null;
  if (raw.include !== undefined) {
    if (
      !Array.isArray(raw.include) || raw.include.some((s) => typeof s !== "string" || !s.trim())
    ) {
      problems.push(`${path}: "include" must be a list of "schema.table" or "schema.*" strings`);
    } else {
      include = raw.include.map((s: string) => s.trim());
    }
  }
  const tables: Record<string, TableOverride> = {};
  if (raw.tables !== undefined) {
    if (!isObject(raw.tables)) {
      problems.push(`${path}: "tables" must be an object keyed by "schema.table"`);
    } else {
      for (const [name, value] of Object.entries(raw.tables)) {
        const override = parseOverride(`${path}: tables[${JSON.stringify(name)}]`, value, problems);
        // Keyed the way plans name their source, so a quoted key finds its table.
        const read = readSelector(name, "");
        if (!read.ok || read.selector.schema === "" || read.selector.table === "*") {
          const meant = suggestSelector(name);
          problems.push(
            `${path}: tables key ${JSON.stringify(name)} must be "schema.table"${
              read.ok
                ? ""
                : ` (${read.problem}${meant ? `; write it as ${JSON.stringify(meant)}` : ""})`
            }`,
          );
          continue;
        }
        const key = formatSelector(read.selector.schema, read.selector.table);
        if (tables[key]) {
          problems.push(`${path}: tables keys name ${key} twice`);
        }
        tables[key] = override;
      }
    }
  }
  return { include, tables };
}

function parseOverride(where: string, value: unknown, problems: string[]): TableOverride {
  if (!isObject(value)) {
    problems.push(`${where} must be an object like {"cursor": "modified_at"}`);
    return {};
  }
  for (const key of Object.keys(value)) {
    if (!OVERRIDE_KEYS.has(key)) {
      problems.push(
        `${where}: unknown setting "${key}" (expected one of ${[...OVERRIDE_KEYS].join(", ")})`,
      );
    }
  }
  const text = (key: string): string | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v.trim() === "" || v.includes("\0")) {
      problems.push(`${where}.${key} must be a non-empty name`);
      return undefined;
    }
    return v.trim();
  };
  const override: {
    -readonly [K in keyof TableOverride]: TableOverride[K];
  } = {};
  const cursor = text("cursor");
  if (cursor) override.cursorColumn = cursor;
  if (value.soft_delete !== undefined) {
    if (typeof value.soft_delete !== "string") {
      problems.push(`${where}.soft_delete must be a column name, or "" for none`);
    } else override.softDeleteColumn = value.soft_delete.trim();
  }
  const target = text("target");
  if (target) override.target = target;
  if (value.key !== undefined) {
    const key = typeof value.key === "string" ? [value.key] : value.key;
    if (
      !Array.isArray(key) || key.length === 0 ||
      key.some((k) => typeof k !== "string" || k.trim() === "")
    ) {
      problems.push(
        `${where}.key must be a column name or a list of them, e.g. ["tenant_id","id"]`,
      );
    } else override.primaryKey = key.map((k: string) => k.trim());
  }
  if (value.mode !== undefined) {
    if (!TABLE_MODES.includes(value.mode as TableMode)) {
      problems.push(`${where}.mode must be one of ${TABLE_MODES.join(", ")}`);
    } else override.mode = value.mode as TableMode;
  }
  if (value.refresh_every !== undefined) {
    const n = value.refresh_every;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1_000_000) {
      problems.push(`${where}.refresh_every must be a whole number of cycles from 1`);
    } else override.refreshEvery = n;
  }
  return override;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
