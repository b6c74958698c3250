// Owns the fuzz harness's oracle: reads a table from PostgreSQL in its own text
// form and the same table from the DuckDB file (exact accessors, values cast to
// text), brings both to one canonical text per type, and lists every row missing,
// extra or different, with the column and both values. Independent of the
// program's verify: it shares no code with src/.

import pg from "pg";
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteIdent } from "./generate.ts";

/** How a column's values are compared, from its PostgreSQL type (domains resolved). */
export type Kind =
  | "exact"
  | "numeric"
  | "inet"
  | "bool"
  | "float4"
  | "float8"
  | "datetime"
  | "timetz"
  | "interval"
  | "bytea"
  | { readonly array: Kind };

export function kindOf(formatType: string): Kind {
  if (formatType.endsWith("[]")) return { array: kindOf(formatType.slice(0, -2)) };
  if (formatType === "boolean") return "bool";
  if (formatType.startsWith("numeric")) return "numeric";
  if (formatType === "inet") return "inet";
  if (formatType === "real") return "float4";
  if (formatType === "double precision") return "float8";
  if (formatType === "date" || formatType.startsWith("timestamp")) return "datetime";
  if (formatType.startsWith("time") && formatType.endsWith("with time zone")) return "timetz";
  if (formatType.startsWith("interval")) return "interval";
  if (formatType === "bytea") return "bytea";
  return "exact";
}

export interface Difference {
  readonly table: string;
  readonly what: "missing" | "extra" | "differs" | "column_missing" | "table_missing";
  readonly key?: string;
  readonly column?: string;
  /** The column's PostgreSQL type (format_type, domains resolved). */
  readonly type?: string;
  readonly pg?: string | null;
  readonly duck?: string | null;
}

export interface SourceColumn {
  readonly name: string;
  readonly formatType: string;
  readonly kind: Kind;
}

/** A pg client that returns every value as PostgreSQL's own text output. */
export async function textClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    types: { getTypeParser: () => (value: string) => value },
  });
  await client.connect();
  await client.query(
    // Pinned whatever the role's own settings are (role_settings varies them).
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'; SET statement_timeout = 0",
  );
  return client;
}

export async function sourceColumns(
  client: pg.Client,
  table: string,
  /** The table's qualified name when it is not public.<table> (renamed for a while). */
  qualified = `public.${quoteIdent(table)}`,
): Promise<SourceColumn[]> {
  const r = await client.query(
    `SELECT a.attname AS name,
            format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
                        CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS ftype
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [qualified],
  );
  return r.rows.map((x: Record<string, string>) => ({
    name: x.name!,
    formatType: x.ftype!,
    kind: kindOf(x.ftype!),
  }));
}

export interface CompareOptions {
  /** Canonical keys that may still be in DuckDB though gone from Postgres. */
  readonly goneKeys?: ReadonlySet<string>;
}

export interface TableRef {
  readonly name: string;
  readonly keys: readonly string[];
}

/** Compares one table: Postgres (via `pgUrl`) against `duckPath`'s `public_<name>`. */
export async function compareTable(
  pgUrl: string,
  duckPath: string,
  table: TableRef,
  options: CompareOptions = {},
): Promise<Difference[]> {
  const client = await textClient(pgUrl);
  let columns: SourceColumn[];
  let pgRows: Record<string, string | null>[];
  try {
    columns = await sourceColumns(client, table.name);
    pgRows = (await client.query(
      `SELECT ${columns.map((c) => quoteIdent(c.name)).join(", ")} FROM public.${
        quoteIdent(table.name)
      }`,
    )).rows;
  } finally {
    await client.end();
  }
  const target = `public_${table.name}`;
  const instance = await DuckDBInstance.create(duckPath, { access_mode: "READ_ONLY" });
  const diffs: Difference[] = [];
  let duckRows: Record<string, unknown>[] = [];
  const duckCols = new Map<string, string>();
  try {
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    const info = (await conn.runAndReadAll(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'main' AND table_name = ${sqlString(target)}`,
    )).getRowObjectsJson() as Record<string, string>[];
    for (const c of info) duckCols.set(c.column_name!, c.data_type!);
    if (duckCols.size === 0) {
      conn.closeSync();
      return [{ table: table.name, what: "table_missing" }];
    }
    const selected = columns.filter((c) => duckCols.has(c.name));
    for (const c of columns) {
      if (!duckCols.has(c.name)) {
        diffs.push({ table: table.name, what: "column_missing", column: c.name });
      }
    }
    const exprs = selected.map((c, i) => {
      const t = duckCols.get(c.name)!;
      const col = duckIdent(c.name);
      // Every text goes out with a "!" in front: the client's UTF-8 decoding drops a
      // leading U+FEFF, which would hide (or fake) a difference.
      const cast = t.endsWith("[]")
        ? `list_transform(CAST(${col} AS VARCHAR[]), x -> '!' || x)`
        : t === "INTERVAL"
        ? col
        : `'!' || CAST(${col} AS VARCHAR)`;
      return `${cast} AS c${i}`;
    });
    duckRows = (await conn.runAndReadAll(
      `SELECT ${exprs.join(", ")} FROM ${duckIdent(target)}`,
    )).getRowObjectsJson() as Record<string, unknown>[];
    conn.closeSync();
    const duckByName = duckRows.map((row) =>
      Object.fromEntries(selected.map((c, i) => [c.name, unmark(row[`c${i}`])]))
    );
    const keyCols = table.keys.map((k) => columns.find((c) => c.name === k)!);
    const pgMap = new Map<string, Record<string, string | null>>();
    for (const row of pgRows) {
      pgMap.set(JSON.stringify(keyCols.map((k) => pgNorm(k.kind, row[k.name] ?? null))), row);
    }
    const duckMap = new Map<string, Record<string, unknown>>();
    for (const row of duckByName) {
      const key = JSON.stringify(keyCols.map((k) => duckNorm(k.kind, row[k.name] ?? null)));
      if (duckMap.has(key)) diffs.push({ table: table.name, what: "extra", key: `${key} (twice)` });
      duckMap.set(key, row);
    }
    for (const [key, row] of pgMap) {
      const d = duckMap.get(key);
      if (!d) {
        diffs.push({ table: table.name, what: "missing", key });
        continue;
      }
      for (const c of selected) {
        const a = pgNorm(c.kind, row[c.name] ?? null);
        const b = duckNorm(c.kind, d[c.name] ?? null);
        if (a !== b) {
          diffs.push({
            table: table.name,
            what: "differs",
            key,
            column: c.name,
            type: c.formatType,
            pg: clip(row[c.name] ?? null),
            duck: clip(
              d[c.name] === null || d[c.name] === undefined ? null : JSON.stringify(d[c.name]),
            ),
          });
        }
      }
    }
    for (const key of duckMap.keys()) {
      if (!pgMap.has(key) && !options.goneKeys?.has(key)) {
        diffs.push({ table: table.name, what: "extra", key });
      }
    }
  } finally {
    instance.closeSync();
  }
  return diffs;
}

/**
 * The README maps inet through `::text`, which always writes the mask
 * ("10.0.0.1/32"), while the output form leaves a host's mask out.
 */
function inetWithMask(s: string): string {
  return s.includes("/") ? s : `${s}/${s.includes(":") ? 128 : 32}`;
}

function unmark(v: unknown): unknown {
  if (typeof v === "string") return v.startsWith("!") ? v.slice(1) : `?unmarked ${v}`;
  if (Array.isArray(v)) return v.map(unmark);
  return v;
}

function clip(s: string | null): string | null {
  if (s === null) return null;
  return s.length > 200 ? `${s.slice(0, 200)}… (${s.length} chars)` : s;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function duckIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** The canonical key of a row given as Postgres text values (for gone-key tracking). */
export function pgKey(kinds: readonly Kind[], values: readonly (string | null)[]): string {
  return JSON.stringify(kinds.map((k, i) => pgNorm(k, values[i] ?? null)));
}

// ---- canonical forms ----

function canonFloat(n: number, single: boolean, zeroSign = true): string {
  const v = single ? Math.fround(n) : n;
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return zeroSign ? "-0" : "0";
  return String(v);
}

function parsePgFloat(s: string): number {
  if (s === "Infinity") return Infinity;
  if (s === "-Infinity") return -Infinity;
  if (s === "NaN") return NaN;
  return Number(s);
}

function parseDuckFloat(s: string): number {
  const l = s.toLowerCase();
  if (l === "inf" || l === "infinity") return Infinity;
  if (l === "-inf" || l === "-infinity") return -Infinity;
  if (l === "nan" || l === "-nan") return NaN;
  return Number(s);
}

function timetzMicros(s: string): string {
  const m = /^(\d+):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/.exec(s);
  if (!m) return `?${s}`;
  const frac = Number((m[4] ?? "").padEnd(6, "0").slice(0, 6));
  const t = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1e6 + frac;
  const off = ((Number(m[6]) * 60 + Number(m[7] ?? 0)) * 60 + Number(m[8] ?? 0)) * 1e6 *
    (m[5] === "-" ? -1 : 1);
  const day = 86400e6;
  return String((((t - off) % day) + day) % day);
}

function parseInterval(s: string): string {
  let months = 0n, days = 0n, micros = 0n;
  const unit = /([+-]?\d+) (years?|mons?|months?|days?)/g;
  for (const m of s.matchAll(unit)) {
    const n = BigInt(m[1]!);
    if (m[2]!.startsWith("year")) months += n * 12n;
    else if (m[2]!.startsWith("mon")) months += n;
    else days += n;
  }
  const time = /([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d+))?/.exec(s);
  if (time) {
    const frac = BigInt((time[5] ?? "").padEnd(6, "0").slice(0, 6) || "0");
    const us = ((BigInt(time[2]!) * 60n + BigInt(time[3]!)) * 60n + BigInt(time[4]!)) * 1000000n +
      frac;
    micros = time[1] === "-" ? -us : us;
  }
  return `${months}|${days}|${micros}`;
}

function duckDateTime(s: string): string {
  // DuckDB writes "0044-03-15 (BC) 12:00:00+00"; Postgres "0044-03-15 12:00:00+00 BC".
  const m = /^(.*?) \(BC\)(.*)$/.exec(s);
  return m ? `${m[1]}${m[2]} BC` : s;
}

function duckBlobHex(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && s[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += s.slice(i + 2, i + 4).toLowerCase();
      i += 3;
    } else {
      for (const b of new TextEncoder().encode(s[i]!)) out += b.toString(16).padStart(2, "0");
    }
  }
  return out;
}

/** Splits a one-dimensional PostgreSQL array literal into its element texts. */
export function parsePgArray(s: string): (string | null)[] {
  const body = s.replace(/^\[[^\]]*\]=/, "");
  if (!body.startsWith("{") || !body.endsWith("}")) throw new Error(`not an array: ${s}`);
  const inner = body.slice(1, -1);
  const out: (string | null)[] = [];
  if (inner === "") return out;
  let i = 0;
  while (i <= inner.length) {
    if (inner[i] === '"') {
      let v = "";
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === "\\") i++;
        v += inner[i];
        i++;
      }
      i++; // closing quote
      out.push(v);
    } else {
      let j = i;
      while (j < inner.length && inner[j] !== ",") j++;
      // Postgres trims only its own whitespace around unquoted elements (not U+2028).
      const raw = inner.slice(i, j).replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "");
      out.push(raw === "NULL" ? null : raw);
      i = j;
    }
    if (inner[i] === ",") i++;
    else break;
  }
  return out;
}

export function pgNorm(kind: Kind, v: string | null): string | null {
  if (v === null) return null;
  if (typeof kind === "object") {
    return JSON.stringify(parsePgArray(v).map((e) => pgElem(kind.array, e)));
  }
  switch (kind) {
    case "bool":
      return v === "t" ? "true" : v === "f" ? "false" : `?${v}`;
    case "float4":
      return canonFloat(parsePgFloat(v), true);
    case "float8":
      return canonFloat(parsePgFloat(v), false);
    case "timetz":
      return timetzMicros(v);
    case "interval":
      return parseInterval(v);
    case "bytea":
      return v.startsWith("\\x") ? v.slice(2).toLowerCase() : `?${v}`;
    case "inet":
      return inetWithMask(v);
    default:
      return v;
  }
}

function pgElem(kind: Kind, e: string | null): string | null {
  if (e === null) return null;
  // A -0 element of a float list arrives as 0 (README: DuckDB's upsert drops it).
  if (kind === "float4") return canonFloat(parsePgFloat(e), true, false);
  if (kind === "float8") return canonFloat(parsePgFloat(e), false, false);
  return pgNorm(kind, e);
}

export function duckNorm(kind: Kind, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof kind === "object") {
    if (!Array.isArray(v)) return `?${JSON.stringify(v)}`;
    return JSON.stringify(v.map((e) => duckElem(kind.array, e)));
  }
  if (kind === "interval") {
    if (typeof v === "object") {
      const o = v as { months: number; days: number; micros: string | number };
      return `${o.months}|${o.days}|${o.micros}`;
    }
    return parseInterval(String(v));
  }
  const s = String(v);
  switch (kind) {
    case "bool":
      return s === "true" || s === "t" ? "true" : s === "false" || s === "f" ? "false" : `?${s}`;
    case "float4":
      return canonFloat(parseDuckFloat(s), true);
    case "float8":
      return canonFloat(parseDuckFloat(s), false);
    case "datetime":
      return duckDateTime(s);
    case "timetz":
      return timetzMicros(s);
    case "bytea":
      return duckBlobHex(s);
    case "inet":
      return inetWithMask(s);
    case "numeric": {
      // DuckDB writes DECIMAL(3,3) zero as ".000"; Postgres as "0.000".
      const m = /^(-?)\.(\d+)$/.exec(s);
      if (!m) return s;
      return `${/^0+$/.test(m[2]!) ? "" : m[1]}0.${m[2]}`;
    }
    default:
      return s;
  }
}

function duckElem(kind: Kind, e: unknown): string | null {
  if (e === null || e === undefined) return null;
  if (kind === "float4") return canonFloat(parseDuckFloat(String(e)), true, false);
  if (kind === "float8") return canonFloat(parseDuckFloat(String(e)), false, false);
  return duckNorm(kind, e);
}
