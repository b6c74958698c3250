// Owns the fuzz harness's case generator: from a seed and a sync method, a random
// schema (one or two tables with random column types, simple or composite keys,
// names that need quoting, maybe partitioned, keyless, with a generated column or
// a key stored out of line), settings (the role's session settings among them),
// and a list of operations (writes, schema changes, renames and back, syncs and
// faults) as plain data. Pure: the same seed and exclusions give the same case, and
// the shrinker edits these lists directly.

import type { FuzzClass, Method } from "./classes.ts";
import { Prng } from "./prng.ts";
import { genValue, quoteLiteral, TYPES } from "./values.ts";

export interface ColumnSpec {
  readonly name: string;
  /** A key of TYPES. */
  readonly type: string;
}

export interface TableSpec {
  readonly name: string;
  readonly keys: readonly ColumnSpec[];
  readonly columns: readonly ColumnSpec[];
  /** "full_refresh" tables have no cursor column and are copied whole each cycle. */
  readonly mode: "incremental" | "full_refresh";
  readonly softDelete: boolean;
  /** A `"gen md5"` column GENERATED ALWAYS AS (md5(first key)) STORED. */
  readonly generated?: boolean;
  /** PARTITION BY HASH (first key) into this many partitions. */
  readonly partitions?: number;
  /** The first key is text stored out of line (STORAGE EXTERNAL, values of 3 kB). */
  readonly toastKey?: boolean;
  /**
   * No primary key nor unique index: REPLICA IDENTITY FULL and the key given in
   * the sync file, so a transaction may hold a key twice for a while.
   */
  readonly keyless?: boolean;
}

/** The column a generated table computes. */
export const GENERATED_COLUMN = "gen md5";
/** Where rename_schema moves the public schema for a while. */
export const MOVED_SCHEMA = "fz_moved";

/** A row or key as SQL literals by column name. */
export type Values = Readonly<Record<string, string>>;

export type Op =
  | { readonly kind: "insert"; readonly table: string; readonly rows: readonly Values[] }
  | { readonly kind: "update"; readonly table: string; readonly key: Values; readonly set: Values }
  | { readonly kind: "update_all"; readonly table: string; readonly set: Values }
  | {
    readonly kind: "key_change";
    readonly table: string;
    readonly key: Values;
    readonly newKey: Values;
  }
  | { readonly kind: "soft_delete"; readonly table: string; readonly key: Values }
  | { readonly kind: "delete"; readonly table: string; readonly key: Values }
  | { readonly kind: "truncate"; readonly table: string }
  | {
    readonly kind: "add_column";
    readonly table: string;
    readonly column: ColumnSpec;
    readonly default: string | null;
  }
  | { readonly kind: "drop_column"; readonly table: string; readonly column: string }
  | {
    readonly kind: "alter_type";
    readonly table: string;
    readonly column: string;
    readonly to: string;
    /** The USING expression, `$c` standing for the column (default: a plain cast). */
    readonly using?: string;
  }
  | {
    readonly kind: "rename_column";
    readonly table: string;
    readonly column: string;
    readonly to: string;
  }
  /** RENAME the table, its schema or a column; `inner` writes meanwhile; RENAME back. */
  | {
    readonly kind: "rename_away";
    readonly what: "table" | "schema" | "column";
    readonly table: string;
    /** The column renamed (what = column). */
    readonly column?: string;
    /** The temporary name (of the table or the column). */
    readonly to: string;
    readonly inner: readonly Op[];
    /** A sync --once while the name is away (any exit is accepted, a hang is not). */
    readonly syncBetween: boolean;
  }
  /** DROP TABLE and CREATE it again with these columns, then `inner` (an insert). */
  | {
    readonly kind: "recreate_table";
    readonly table: string;
    readonly columns: readonly ColumnSpec[];
    readonly inner: readonly Op[];
  }
  | {
    readonly kind: "swap_columns";
    readonly table: string;
    readonly a: string;
    readonly b: string;
  }
  /**
   * One transaction on a keyless table: `row` inserted with `key` (then twice) and
   * the old row deleted; or, with `swapWith`, key -> swapWith (twice) and the old
   * swapWith row -> key.
   */
  | {
    readonly kind: "dup_key";
    readonly table: string;
    readonly key: Values;
    readonly row?: Values;
    readonly swapWith?: Values;
  }
  /** A DBA drops the replication slot; `inner` writes; then a sync. */
  | { readonly kind: "drop_slot"; readonly inner: readonly Op[] }
  /** Syncs without the table, `inner` writes to it, syncs without it, then with it again. */
  | { readonly kind: "deselect"; readonly table: string; readonly inner: readonly Op[] }
  | { readonly kind: "sync" }
  | { readonly kind: "repair" }
  | { readonly kind: "reset" }
  | { readonly kind: "replay" }
  | { readonly kind: "kill"; readonly afterMs: number }
  | { readonly kind: "pg_restart" }
  /** A write whose transaction is open while a sync runs and commits `afterMs` into it. */
  | { readonly kind: "late_commit"; readonly inner: Op; readonly afterMs: number }
  /** PARQUET_DIR, or the DuckDB file's directory, on a tiny tmpfs for one sync. */
  | { readonly kind: "disk_full"; readonly where?: "parquet" | "duckdb" };

export interface FuzzCase {
  readonly seed: number;
  /** The sync method the case runs under (SYNC_METHOD in env). */
  readonly method: Method;
  readonly tables: readonly TableSpec[];
  /** Settings for main.ts (on top of the connection and paths). */
  readonly env: Readonly<Record<string, string>>;
  /** Session settings of the sync role (ALTER ROLE ... SET), if any. */
  readonly roleSettings?: Readonly<Record<string, string>>;
  readonly ops: readonly Op[];
}

export interface GenerateOptions {
  readonly exclude: ReadonlySet<FuzzClass>;
  /** The sync method (default cursor); the exclusions are the method's. */
  readonly method?: Method;
  /** Roughly how many operations (default 24). */
  readonly size?: number;
  /** Whether the runner can mount a tmpfs (root). */
  readonly canMount?: boolean;
}

const COLUMN_NAMES = [
  "Mixed Case",
  "select",
  "has space",
  'quote"d',
  "dash-name",
  "ünïcode",
  "col,comma",
  "a.b",
  "order",
  "v1",
  "v2",
  "v3",
  "v4",
  "v5",
  "v6",
  "Value",
  "tab\there",
  "emoji😀",
];

const KEY_TYPES = ["int8", "int4", "text", "uuid", "int2"];

export function generateCase(seed: number, options: GenerateOptions): FuzzCase {
  const r = new Prng(seed);
  const ex = options.exclude;
  const size = options.size ?? 24;
  const names = new Set<string>();
  const freshName = (pool: readonly string[]): string => {
    for (let i = 0; i < 50; i++) {
      const n = r.pick(pool);
      if (!names.has(n.toLowerCase())) {
        names.add(n.toLowerCase());
        return n;
      }
    }
    const n = `c${names.size}`;
    names.add(n);
    return n;
  };
  const typeNames = Object.keys(TYPES);
  const tableNames = ex.has("table_space")
    ? ["fz_items", "Fz-Orders", "ÜberTable"]
    : ["fz_items", "Fz-Orders", "ÜberTable", "fz items"];

  const tables: TableSpec[] = [];
  {
    names.clear();
    names.add("updated_at");
    names.add("deleted_at");
    const keyCount = r.chance(0.3) ? 2 : 1;
    const keys: ColumnSpec[] = [];
    for (let i = 0; i < keyCount; i++) {
      keys.push({
        name: i === 0 && r.chance(0.5) ? "id" : freshName(COLUMN_NAMES),
        type: r.pick(KEY_TYPES),
      });
      names.add(keys[i]!.name.toLowerCase());
    }
    const columns: ColumnSpec[] = [];
    for (let i = r.int(1, 7); i > 0; i--) {
      columns.push({ name: freshName(COLUMN_NAMES), type: r.pick(typeNames) });
    }
    const softDelete = r.chance(0.7);
    const toastKey = !ex.has("toast_key") && r.chance(0.2);
    if (toastKey) keys[0] = { name: keys[0]!.name, type: "text" };
    tables.push({
      name: r.pick(tableNames),
      keys,
      columns,
      mode: "incremental",
      softDelete,
      ...(!ex.has("generated_column") && r.chance(0.25) ? { generated: true } : {}),
      ...(!ex.has("partitioned") && r.chance(0.25) ? { partitions: r.int(2, 4) } : {}),
      ...(toastKey ? { toastKey } : {}),
      ...(!ex.has("dup_key") && r.chance(0.25) ? { keyless: true } : {}),
    });
  }
  if (r.chance(0.35)) {
    names.clear();
    const columns: ColumnSpec[] = [];
    for (let i = r.int(1, 3); i > 0; i--) {
      columns.push({ name: freshName(COLUMN_NAMES), type: r.pick(typeNames) });
    }
    tables.push({
      name: "fz_ref",
      keys: [{ name: "code", type: "text" }],
      columns,
      mode: "full_refresh",
      softDelete: false,
    });
  }

  const env: Record<string, string> = {
    BATCH_SIZE: String(r.pick([1, 2, 3, 7, 50, 10000])),
    BOOTSTRAP_BATCH_SIZE: String(r.pick([1, 2, 5, 100, 250000])),
    RECONCILE_DELETES_EVERY: String(r.pick([0, 1, 1, 2])),
    SYNC_CONCURRENCY: String(r.pick([1, 2])),
    PARQUET_KEEP_BATCHES: String(r.pick([0, 3, 100])),
    SYNC_LOOKBACK_SECONDS: String(r.pick([0, 300])),
  };
  const method = options.method ?? "cursor";
  if (method === "cdc") env.SYNC_METHOD = "cdc";
  let roleSettings: Record<string, string> | undefined;
  if (!ex.has("role_settings") && r.chance(0.4)) {
    roleSettings = {
      bytea_output: r.pick(["hex", "escape"]),
      DateStyle: r.pick(["ISO, YMD", "SQL, DMY", "German", "Postgres, MDY"]),
      IntervalStyle: r.pick(["postgres", "sql_standard", "iso_8601", "postgres_verbose"]),
      TimeZone: r.pick(["UTC", "Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham"]),
      extra_float_digits: String(r.pick([-15, 0, 1, 3])),
      statement_timeout: r.pick(["0", "1min", "20s"]),
    };
  }

  // Simulated state, so that updates and deletes name keys that (usually) exist.
  const live = new Map<string, Values[]>(tables.map((t) => [t.name, []]));
  const cols = new Map<string, ColumnSpec[]>(tables.map((t) => [t.name, [...t.columns]]));
  let keyCounter = 0;
  const newKey = (t: TableSpec): Values => {
    keyCounter += 1;
    const out: Record<string, string> = {};
    for (const k of t.keys) {
      out[k.name] = t.toastKey && k === t.keys[0]
        ? `(repeat(${keyLiteral(r, "text", keyCounter, ex)}, 2) || repeat('k''\\', 1500))`
        : keyLiteral(r, k.type, keyCounter, ex);
    }
    return out;
  };
  const rowFor = (t: TableSpec, key: Values): Values => {
    const row: Record<string, string> = { ...key };
    for (const c of cols.get(t.name)!) {
      if (r.chance(0.15)) row[c.name] = "NULL";
      else if (r.chance(0.9)) row[c.name] = genValue(r, c.type, ex);
    }
    return row;
  };
  const insertOp = (t: TableSpec, n: number): Op => {
    const rows: Values[] = [];
    for (let i = 0; i < n; i++) {
      const key = newKey(t);
      live.get(t.name)!.push(key);
      rows.push(rowFor(t, key));
    }
    return { kind: "insert", table: t.name, rows };
  };
  const pickLive = (t: TableSpec): Values | null => {
    const l = live.get(t.name)!;
    return l.length === 0 ? null : r.pick(l);
  };
  const dropLive = (t: TableSpec, key: Values) => {
    const l = live.get(t.name)!;
    const i = l.indexOf(key);
    if (i >= 0) l.splice(i, 1);
  };

  /** A random write (insert, update, key change, delete) or null. */
  const writeOp = (t: TableSpec, columns: readonly ColumnSpec[]): Op | null => {
    const what = r.pick(["insert", "insert", "update", "update", "key_change", "delete"]);
    const key = pickLive(t);
    if (what === "insert" || !key) return insertOp(t, r.int(1, 4));
    if (what === "update") {
      if (columns.length === 0) return null;
      const c = r.pick(columns);
      return { kind: "update", table: t.name, key, set: { [c.name]: genValue(r, c.type, ex) } };
    }
    dropLive(t, key);
    if (what === "delete") return { kind: "delete", table: t.name, key };
    const nk = newKey(t);
    live.get(t.name)!.push(nk);
    return { kind: "key_change", table: t.name, key, newKey: nk };
  };
  const writes = (t: TableSpec, n: number): Op[] => {
    const out: Op[] = [];
    for (let i = 0; i < n; i++) {
      const op = writeOp(t, cols.get(t.name)!);
      if (op) out.push(op);
    }
    return out;
  };
  const episodes: string[] = [];
  for (
    const c of [
      "rename_table",
      "rename_schema",
      "rename_column_back",
      "recreate_table",
      "swap_columns",
      "alter_using",
      "drop_slot",
      "deselect",
      "many_big",
      "dup_key",
    ] as const
  ) if (!ex.has(c)) episodes.push(c);

  const ops: Op[] = [];
  for (const t of tables) ops.push(insertOp(t, r.int(0, 12)));
  ops.push({ kind: "sync" });
  const faults: [number, Op["kind"]][] = [];
  if (!ex.has("kill")) faults.push([3, "kill"]);
  if (!ex.has("pg_restart")) faults.push([2, "pg_restart"]);
  if (!ex.has("repair")) faults.push([3, "repair"]);
  if (!ex.has("reset")) faults.push([2, "reset"]);
  if (!ex.has("replay")) faults.push([3, "replay"]);
  if (!ex.has("disk_full") && options.canMount) faults.push([1, "disk_full"]);
  const schemaChanges = !ex.has("schema_change");
  while (ops.length < size) {
    const t = r.pick(tables);
    const kind = r.weighted<string>([
      [6, "insert"],
      [6, "update"],
      [1, "update_all"],
      [2, "key_change"],
      [t.softDelete ? 2 : 0, "soft_delete"],
      [3, "delete"],
      [0.5, "truncate"],
      [schemaChanges ? 3 : 0, "schema"],
      [5, "sync"],
      [t.mode === "incremental" && !ex.has("late_commit") ? 2 : 0, "late"],
      [faults.length > 0 ? 3 : 0, "fault"],
      [episodes.length > 0 ? 3 : 0, "episode"],
    ]);
    const current = cols.get(t.name)!;
    if (kind === "insert") ops.push(insertOp(t, r.pick([1, 1, 2, 3, 8, 40])));
    else if (kind === "truncate") {
      live.set(t.name, []);
      ops.push({ kind: "truncate", table: t.name });
    } else if (kind === "update" || kind === "update_all") {
      const key = pickLive(t);
      if (current.length === 0) continue;
      const set: Record<string, string> = {};
      for (let i = r.int(1, 2); i > 0; i--) {
        const c = r.pick(current);
        set[c.name] = r.chance(0.1) ? "NULL" : genValue(r, c.type, ex);
      }
      if (kind === "update_all") ops.push({ kind: "update_all", table: t.name, set });
      else if (key) ops.push({ kind: "update", table: t.name, key, set });
    } else if (kind === "key_change") {
      const key = pickLive(t);
      if (!key) continue;
      const nk = newKey(t);
      dropLive(t, key);
      live.get(t.name)!.push(nk);
      ops.push({ kind: "key_change", table: t.name, key, newKey: nk });
    } else if (kind === "soft_delete") {
      const key = pickLive(t);
      if (key) ops.push({ kind: "soft_delete", table: t.name, key });
    } else if (kind === "delete") {
      const key = pickLive(t);
      if (!key) continue;
      dropLive(t, key);
      ops.push({ kind: "delete", table: t.name, key });
    } else if (kind === "schema") {
      const what = r.pick(["add", "add", "drop", "alter", "rename", "readd", "key"]);
      if (what === "key") {
        if (ex.has("key_retype")) continue;
        // Widening a key column: DuckDB rebuilds the table.
        const k = t.keys.find((x) => x.type === "int2" || x.type === "int4");
        if (k) ops.push({ kind: "alter_type", table: t.name, column: k.name, to: "int8" });
        continue;
      }
      if (what === "readd" && ex.has("readd_column")) continue;
      if (what === "rename" && ex.has("rename_column")) continue;
      if (what === "readd" && current.length > 0) {
        const c = r.pick(current);
        const type = r.pick(typeNames);
        current.splice(current.indexOf(c), 1, { name: c.name, type });
        ops.push({ kind: "drop_column", table: t.name, column: c.name });
        ops.push({
          kind: "add_column",
          table: t.name,
          column: { name: c.name, type },
          default: r.chance(0.5) ? genValue(r, type, ex) : null,
        });
        continue;
      }
      if (what === "add" || current.length === 0) {
        const column = { name: freshColumn(r, tables, cols), type: r.pick(typeNames) };
        const drawn = r.chance(0.4) ? genValue(r, column.type, ex) : null;
        const def = ex.has("add_default") ? null : drawn;
        current.push(column);
        ops.push({
          kind: "add_column",
          table: t.name,
          column,
          default: def === "NULL" ? null : def,
        });
      } else if (what === "drop") {
        const c = r.pick(current);
        current.splice(current.indexOf(c), 1);
        ops.push({ kind: "drop_column", table: t.name, column: c.name });
      } else if (what === "alter") {
        const c = r.pick(current);
        const to = TYPES[c.type]!.alterTo;
        if (!to) continue;
        const type = r.pick(to);
        current.splice(current.indexOf(c), 1, { name: c.name, type });
        ops.push({ kind: "alter_type", table: t.name, column: c.name, to: type });
      } else {
        const c = r.pick(current);
        const to = freshColumn(r, tables, cols);
        current.splice(current.indexOf(c), 1, { name: to, type: c.type });
        ops.push({ kind: "rename_column", table: t.name, column: c.name, to });
      }
    } else if (kind === "late") {
      const key = pickLive(t);
      const inner: Op = key && current.length > 0 && r.chance(0.5)
        ? {
          kind: "update",
          table: t.name,
          key,
          set: { [r.pick(current).name]: "NULL" },
        }
        : insertOp(t, r.int(1, 4));
      ops.push({ kind: "late_commit", inner, afterMs: r.int(0, 2000) });
    } else if (kind === "episode") {
      const e = r.pick(episodes);
      const syncBetween = r.chance(0.5);
      if (e === "rename_table") {
        ops.push({
          kind: "rename_away",
          what: "table",
          table: t.name,
          to: `${t.name} renamed`,
          inner: writes(t, r.int(1, 4)),
          syncBetween,
        });
      } else if (e === "rename_schema") {
        ops.push({
          kind: "rename_away",
          what: "schema",
          table: t.name,
          to: MOVED_SCHEMA,
          inner: writes(t, r.int(1, 4)),
          syncBetween,
        });
      } else if (e === "rename_column_back") {
        if (current.length === 0) continue;
        const c = r.pick(current);
        ops.push({
          kind: "rename_away",
          what: "column",
          table: t.name,
          column: c.name,
          to: `${c.name} away`,
          inner: writes(t, r.int(1, 4)),
          syncBetween,
        });
      } else if (e === "recreate_table") {
        live.set(t.name, []);
        ops.push({
          kind: "recreate_table",
          table: t.name,
          columns: [...current],
          inner: [insertOp(t, r.int(0, 10))],
        });
      } else if (e === "swap_columns") {
        if (current.length < 2) continue;
        const a = r.pick(current);
        const b = r.pick(current.filter((x) => x !== a));
        const ia = current.indexOf(a), ib = current.indexOf(b);
        current[ia] = { name: a.name, type: b.type };
        current[ib] = { name: b.name, type: a.type };
        ops.push({ kind: "swap_columns", table: t.name, a: a.name, b: b.name });
      } else if (e === "alter_using") {
        const c = current.find((x) => USING[x.type]);
        if (!c) continue;
        const [to, using] = USING[c.type]!;
        current.splice(current.indexOf(c), 1, { name: c.name, type: to });
        ops.push({ kind: "alter_type", table: t.name, column: c.name, to, using });
      } else if (e === "drop_slot") {
        ops.push({ kind: "drop_slot", inner: writes(t, r.int(1, 4)) });
      } else if (e === "dup_key") {
        if (!t.keyless) continue;
        const key = pickLive(t);
        if (!key) continue;
        const other = pickLive(t);
        if (other && other !== key && r.chance(0.5)) {
          ops.push({ kind: "dup_key", table: t.name, key, swapWith: other });
        } else ops.push({ kind: "dup_key", table: t.name, key, row: rowFor(t, key) });
      } else if (e === "deselect") {
        if (tables.length < 2) continue;
        ops.push({ kind: "deselect", table: t.name, inner: writes(t, r.int(1, 4)) });
      } else {
        // Many rows with a large value each, then an update that leaves them alone.
        const big = current.find((x) => BIG[x.type]);
        if (!big) continue;
        const rows: Values[] = [];
        for (let i = r.int(10, 30); i > 0; i--) {
          const key = newKey(t);
          live.get(t.name)!.push(key);
          rows.push({ ...rowFor(t, key), [big.name]: BIG[big.type]!(r.u32()) });
        }
        ops.push({ kind: "insert", table: t.name, rows });
        const other = current.find((x) => x !== big);
        if (other) {
          ops.push({
            kind: "update_all",
            table: t.name,
            set: { [other.name]: genValue(r, other.type, ex) },
          });
        }
      }
    } else if (kind === "sync") {
      ops.push({ kind: "sync" });
    } else {
      const f = r.weighted(faults.map(([w, k]) => [w, k] as const));
      if (f === "kill") ops.push({ kind: "kill", afterMs: r.int(200, 2500) });
      else if (f === "disk_full") {
        ops.push({ kind: "disk_full", where: r.pick(["parquet", "duckdb"] as const) });
      } else ops.push({ kind: f } as Op);
    }
  }
  ops.push({ kind: "sync" });
  return { seed, method, tables, env, ...(roleSettings ? { roleSettings } : {}), ops };
}

/** ALTER TYPE ... USING expressions that change the values: from type -> [to, USING]. */
const USING: Readonly<Record<string, readonly [string, string]>> = {
  int2: ["int4", "$c::integer * 2"],
  int4: ["int8", "$c::bigint * 3"],
  int8: ["numeric", "$c::numeric * 2"],
  num: ["numeric", "$c * 2"],
  varchar: ["text", "$c::text || '~'"],
  char: ["text", "'<' || $c::text || '>'"],
  date: ["timestamp", "$c + interval '1 hour'"],
  bool: ["text", "CASE WHEN $c THEN 'yes' ELSE 'no' END"],
  float4: ["float8", "$c::double precision * 2"],
};

/** A large value (about 256 kB, hardly compressible) for a column type, from a salt. */
const BIG: Readonly<Record<string, (salt: number) => string>> = {
  text: (salt) =>
    `(SELECT string_agg(md5(g::text || '${salt}'), '') FROM generate_series(1, 8000) g)`,
  label: (salt) =>
    `(SELECT string_agg(md5(g::text || '${salt}'), '') FROM generate_series(1, 8000) g)`,
  bytea: (salt) =>
    `(SELECT decode(string_agg(md5(g::text || '${salt}'), ''), 'hex') FROM generate_series(1, 16000) g)`,
  jsonb: (salt) =>
    `(SELECT to_jsonb(string_agg(md5(g::text || '${salt}'), '')) FROM generate_series(1, 8000) g)`,
};

function freshColumn(
  r: Prng,
  tables: readonly TableSpec[],
  cols: Map<string, ColumnSpec[]>,
): string {
  const used = new Set<string>(["updated_at", "deleted_at"]);
  for (const t of tables) {
    for (const k of t.keys) used.add(k.name.toLowerCase());
    for (const c of cols.get(t.name)!) used.add(c.name.toLowerCase());
    for (const c of t.columns) used.add(c.name.toLowerCase());
  }
  for (let i = 0; i < 40; i++) {
    const n = r.pick(COLUMN_NAMES) + (r.chance(0.5) ? "" : `_${r.int(1, 99)}`);
    if (!used.has(n.toLowerCase())) return n;
  }
  return `c_${r.u32()}`;
}

/** A key value, unique by `n`, in the awkward style of its type. */
function keyLiteral(r: Prng, type: string, n: number, ex: ReadonlySet<FuzzClass>): string {
  switch (type) {
    case "int2":
      return String(r.chance(0.1) ? -32768 + n : n);
    case "int4":
      return String(r.chance(0.1) ? -2147483648 + n : n * 7);
    case "int8":
      return r.chance(0.2) ? String(9223372036854775807n - BigInt(n)) : String(n * 1000003);
    case "uuid": {
      const hex =
        (n.toString(16) + Array.from({ length: 32 }, () => r.int(0, 15).toString(16)).join(""))
          .slice(0, 32);
      return `'${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
        hex.slice(20)
      }'`;
    }
    default: {
      // Text keys: an awkward prefix made unique by the counter.
      const prefix = genValue(r, "varchar", ex);
      const body = prefix === "NULL" ? "" : prefix.slice(1, -1).replaceAll("''", "'");
      return quoteLiteral(r.chance(0.5) ? `${body}${n}` : `${n}${body}`);
    }
  }
}

/** The CREATE TABLE statements of a case. */
export function tableSql(t: TableSpec, columns: readonly ColumnSpec[] = t.columns): string {
  const q = quoteIdent;
  const defs = [
    ...t.keys.map((k) => `${q(k.name)} ${TYPES[k.type]!.decl} NOT NULL`),
    ...columns.map((c) => `${q(c.name)} ${TYPES[c.type]!.decl}`),
  ];
  if (t.generated) {
    defs.push(
      `${q(GENERATED_COLUMN)} text GENERATED ALWAYS AS (md5(${q(t.keys[0]!.name)}::text)) STORED`,
    );
  }
  if (t.mode === "incremental") {
    defs.push("updated_at timestamptz NOT NULL DEFAULT now()");
  }
  if (t.softDelete) defs.push("deleted_at timestamptz");
  if (!t.keyless) defs.push(`PRIMARY KEY (${t.keys.map((k) => q(k.name)).join(", ")})`);
  let sql = `CREATE TABLE public.${q(t.name)} (\n  ${defs.join(",\n  ")}\n)${
    t.partitions ? ` PARTITION BY HASH (${q(t.keys[0]!.name)})` : ""
  };\n`;
  for (let i = 0; i < (t.partitions ?? 0); i++) {
    sql += `CREATE TABLE public.${q(`${t.name} p${i}`)} PARTITION OF public.${
      q(t.name)
    } FOR VALUES WITH (MODULUS ${t.partitions}, REMAINDER ${i});\n`;
  }
  if (t.keyless) {
    sql += `ALTER TABLE public.${q(t.name)} REPLICA IDENTITY FULL;\n`;
    for (let i = 0; i < (t.partitions ?? 0); i++) {
      sql += `ALTER TABLE public.${q(`${t.name} p${i}`)} REPLICA IDENTITY FULL;\n`;
    }
  }
  if (t.toastKey) {
    sql += `ALTER TABLE public.${q(t.name)} ALTER COLUMN ${
      q(t.keys[0]!.name)
    } SET STORAGE EXTERNAL;\n`;
  }
  if (t.mode === "incremental") {
    sql += `CREATE INDEX ON public.${q(t.name)} (updated_at, ${
      t.keys.map((k) => q(k.name)).join(", ")
    });\n`;
    sql += `CREATE TRIGGER fz_touch BEFORE UPDATE ON public.${
      q(t.name)
    } FOR EACH ROW EXECUTE FUNCTION fz_touch();\n`;
  }
  return sql;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
