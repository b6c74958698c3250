// Owns the fuzz harness's column types and value generators: each type's
// PostgreSQL declaration and a generator of SQL literals that favours awkward
// values (line breaks, quotes, U+FEFF, BC dates, infinities, NaN, extremes, big and
// empty values), each tagged with the classes it belongs to so classes can be
// switched off.

import type { FuzzClass } from "./classes.ts";
import type { Prng } from "./prng.ts";

export interface Literal {
  readonly sql: string;
  readonly classes: readonly FuzzClass[];
}

export interface TypeDef {
  /** The PostgreSQL type as declared (domains and enums are created by SETUP_SQL). */
  readonly decl: string;
  readonly gen: (r: Prng) => Literal;
  /** Types it can be altered to by ALTER COLUMN ... TYPE (widening or unrelated). */
  readonly alterTo?: readonly string[];
  /** Usable as a key column. */
  readonly key?: boolean;
}

/** Types, enums and domains every case creates first. */
export const SETUP_SQL = `
CREATE TYPE fz_mood AS ENUM ('sad', 'ok', 'happy', 'with space', 'q"uote', 'comma,here');
CREATE DOMAIN fz_pos_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN fz_price AS numeric(8,2);
CREATE DOMAIN fz_label AS text;
CREATE DOMAIN fz_int_list AS integer[];
CREATE OR REPLACE FUNCTION fz_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END; $$;
`;

const lit = (sql: string, ...classes: FuzzClass[]): Literal => ({ sql, classes });

/** A PostgreSQL string literal (standard_conforming_strings on: only quotes double). */
export function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

const TEXT_PIECES: readonly (readonly [string, FuzzClass[]])[] = [
  ["\r\n", ["cr", "lf"]],
  ["\r", ["cr"]],
  ["\n", ["lf"]],
  ["\t", []],
  ['"', []],
  ["'", []],
  ["\\", []],
  ["\\N", []],
  [",", []],
  [";", []],
  ["|", []],
  ["{", []],
  ["}", []],
  [" ", []],
  ["\u2028", []],
  ["e\u0301", []],
  ["😀", []],
  ["👩‍👩‍👧", []],
  ["NULL", []],
  ["null", []],
  ["ä", []],
  ["\u0001", []],
  ["x", []],
  ["abc", []],
  ["0", []],
];

function textValue(r: Prng, maxPieces = 6): { s: string; classes: FuzzClass[] } {
  const shape = r.int(0, 9);
  if (shape === 0) return { s: "", classes: [] };
  if (shape === 1) return { s: r.pick(["a", " ", "\t", "\\", '"', "'", ","]), classes: [] };
  const classes: FuzzClass[] = [];
  let s = "";
  const n = r.int(1, maxPieces);
  for (let i = 0; i < n; i++) {
    const [piece, cls] = r.pick(TEXT_PIECES);
    s += piece;
    classes.push(...cls);
  }
  if (r.chance(0.15)) s = "  " + s + "  ";
  if (r.chance(0.08)) {
    s = "\uFEFF" + s;
    classes.push("feff");
  }
  return { s, classes };
}

function textLiteral(r: Prng): Literal {
  if (r.chance(0.01)) return lit("repeat('ab\"\\,', 2621440)", "big_value");
  const { s, classes } = textValue(r);
  return lit(quoteLiteral(s), ...classes);
}

function intIn(r: Prng, lo: bigint, hi: bigint): string {
  const edges = [lo, hi, 0n, 1n, -1n];
  if (r.chance(0.3)) return String(r.pick(edges));
  const span = hi - lo;
  const x = BigInt(r.u32()) * 4294967296n + BigInt(r.u32());
  return String(lo + (x % (span + 1n)));
}

function numericLiteral(r: Prng, p: number, s: number): Literal {
  if (r.chance(0.04)) return lit("'NaN'", "numeric_nan");
  const intDigits = p - s;
  const digits = (n: number) => Array.from({ length: n }, () => String(r.int(0, 9))).join("");
  const shape = r.int(0, 5);
  let v: string;
  if (shape === 0) {
    v = (intDigits > 0 ? "9".repeat(intDigits) : "0") + (s > 0 ? "." + "9".repeat(s) : "");
  } else if (shape === 1) v = "0" + (s > 0 ? "." + "0".repeat(s) : "");
  else if (shape === 2) v = s > 0 ? "0." + "0".repeat(s - 1) + "1" : "1";
  else {v = (intDigits > 0 ? digits(r.int(1, intDigits)) : "0") +
      (s > 0 ? "." + digits(r.int(0, s)) : "");}
  if (v.endsWith(".")) v = v.slice(0, -1);
  return lit(`${r.chance(0.4) ? "-" : ""}${v}`);
}

function freeNumericLiteral(r: Prng): Literal {
  return lit(r.pick([
    "'NaN'",
    "'Infinity'",
    "'-Infinity'",
    "1e-400",
    "-0.000",
    "3.14159265358979323846264338327950288419716939937510",
    "123456789012345678901234567890123456789012345678901234567890",
    "1.000",
    "0",
    `${r.int(-99999, 99999)}.${r.int(0, 9999)}`,
  ]));
}

function floatLiteral(r: Prng, single: boolean): Literal {
  const specials = single
    ? ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", "1e-45", "3.4028235e38", "1.1", "0.1", "1e20"]
    : [
      "'NaN'",
      "'Infinity'",
      "'-Infinity'",
      "'-0'",
      "5e-324",
      "1.7976931348623157e308",
      "0.1",
      "0.30000000000000004",
      "1e20",
    ];
  if (r.chance(0.5)) return lit(r.pick(specials));
  return lit(String((r.next() - 0.5) * 10 ** r.int(-10, 30)));
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

function dateParts(r: Prng): { text: string; classes: FuzzClass[] } {
  const bc = r.chance(0.15);
  const year = bc ? r.int(1, 4713) : r.pick([1, 1969, 1970, 2000, 2024, 9999, r.int(1, 9999)]);
  const month = r.int(1, 12);
  const day = r.int(1, 28);
  const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  return { text, classes: bc ? ["bc"] : [] };
}

function timeText(r: Prng): string {
  if (r.chance(0.1)) return "24:00:00";
  const frac = r.chance(0.5) ? "." + pad(r.int(0, 999999), 6) : "";
  return `${pad(r.int(0, 23), 2)}:${pad(r.int(0, 59), 2)}:${pad(r.int(0, 59), 2)}${frac}`;
}

function dateLiteral(r: Prng): Literal {
  if (r.chance(0.1)) return lit(r.pick(["'infinity'", "'-infinity'"]), "infinity");
  const { text, classes } = dateParts(r);
  const bc = classes.includes("bc");
  return lit(`'${text}${bc ? " BC" : ""}'`, ...classes);
}

function timestampLiteral(r: Prng, tz: boolean): Literal {
  if (r.chance(0.1)) return lit(r.pick(["'infinity'", "'-infinity'"]), "infinity");
  const { text, classes } = dateParts(r);
  const bc = classes.includes("bc");
  let t = timeText(r);
  if (t === "24:00:00") t = "23:59:59.999999";
  const zone = tz ? r.pick(["+00", "+05:30", "-08", "+14"]) : "";
  return lit(`'${text} ${t}${zone}${bc ? " BC" : ""}'`, ...classes);
}

function intervalLiteral(r: Prng): Literal {
  return lit(r.pick([
    "'1 year 2 mons 3 days 04:05:06.789'",
    "'-1 day +02:00'",
    "'1 mon -3 days'",
    "'-00:00:00.000001'",
    "'100:00:00'",
    "'0'",
    "'-178000000 years'",
    "'2147483647 days'",
    `'${r.int(-1000, 1000)} mons ${r.int(-1000, 1000)} days ${r.int(-1000, 1000)}:${
      pad(r.int(0, 59), 2)
    }:${pad(r.int(0, 59), 2)}.${pad(r.int(0, 999999), 6)}'`,
  ]));
}

function uuidLiteral(r: Prng): Literal {
  if (r.chance(0.1)) return lit("'00000000-0000-0000-0000-000000000000'");
  const hex = Array.from({ length: 32 }, () => r.int(0, 15).toString(16)).join("");
  const u = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
  return lit(`'${r.chance(0.2) ? u.toUpperCase() : u}'`);
}

function jsonLiteral(r: Prng): Literal {
  if (r.chance(0.5)) {
    const v = r.pick([
      '{"a": [1, 2]}',
      '  {"b":1,"b":2}  ',
      '"\\u00e9 é"',
      "[]",
      "null",
      "1e400",
      '{\n  "x": "tab\\t"\n}',
      '{"k": "line\\r\\nbreak", "e": "😀"}',
      '"\\u2028\\ufeff"',
    ]);
    return lit(quoteLiteral(v), ...(v === "null" ? ["json_null" as const] : []));
  }
  const { s, classes } = textValue(r);
  return lit(quoteLiteral(JSON.stringify({ v: s, n: r.int(-5, 5) })), ...classes);
}

function byteaLiteral(r: Prng): Literal {
  if (r.chance(0.1)) return lit("'\\x'");
  if (r.chance(0.01)) return lit("decode(repeat('00ff5c0d0a', 2097152), 'hex')", "big_value");
  const n = r.int(1, 12);
  const hex = Array.from({ length: n }, () => r.int(0, 255).toString(16).padStart(2, "0")).join("");
  return lit(`'\\x${hex}'`);
}

/** A PostgreSQL array literal of element literals (ARRAY[...] with a cast). */
function arrayOf(r: Prng, elem: (r: Prng) => Literal, cast: string): Literal {
  const n = r.pick([0, 0, 1, 2, 3, 5]);
  if (n === 0) return lit(`'{}'::${cast}`);
  const items: Literal[] = [];
  for (let i = 0; i < n; i++) items.push(r.chance(0.2) ? lit("NULL") : elem(r));
  return lit(
    `ARRAY[${items.map((i) => i.sql).join(", ")}]::${cast}`,
    ...items.flatMap((i) => i.classes),
  );
}

const charLiteral = (r: Prng, n: number): Literal => {
  const { s, classes } = textValue(r, 2);
  return lit(quoteLiteral([...s].slice(0, n).join("")), ...classes);
};

export const TYPES: Record<string, TypeDef> = {
  int2: {
    decl: "smallint",
    gen: (r) => lit(intIn(r, -32768n, 32767n)),
    alterTo: ["int4", "int8", "text"],
    key: true,
  },
  int4: {
    decl: "integer",
    gen: (r) => lit(intIn(r, -2147483648n, 2147483647n)),
    alterTo: ["int8", "numeric", "text"],
    key: true,
  },
  int8: {
    decl: "bigint",
    gen: (r) => lit(intIn(r, -9223372036854775808n, 9223372036854775807n)),
    alterTo: ["numeric", "text"],
    key: true,
  },
  num: {
    decl: "numeric(12,2)",
    gen: (r) => numericLiteral(r, 12, 2),
    alterTo: ["num_wider", "numeric", "text"],
  },
  num_wider: { decl: "numeric(16,2)", gen: (r) => numericLiteral(r, 16, 2) },
  num38: { decl: "numeric(38,10)", gen: (r) => numericLiteral(r, 38, 10) },
  num_frac: { decl: "numeric(3,3)", gen: (r) => numericLiteral(r, 3, 3) },
  numeric: { decl: "numeric", gen: freeNumericLiteral, alterTo: ["text"] },
  num_wide: { decl: "numeric(50,2)", gen: (r) => numericLiteral(r, 50, 2) },
  float4: { decl: "real", gen: (r) => floatLiteral(r, true), alterTo: ["float8"] },
  float8: { decl: "double precision", gen: (r) => floatLiteral(r, false), alterTo: ["text"] },
  bool: { decl: "boolean", gen: (r) => lit(r.pick(["true", "false"])), alterTo: ["text"] },
  text: { decl: "text", gen: textLiteral, key: true },
  varchar: { decl: "varchar(40)", gen: textLiteral_40, alterTo: ["text"] },
  char: { decl: "char(3)", gen: (r) => charLiteral(r, 3), alterTo: ["text"] },
  date: { decl: "date", gen: dateLiteral, alterTo: ["timestamp", "text"] },
  time: { decl: "time", gen: (r) => lit(`'${timeText(r)}'`) },
  timetz: {
    decl: "timetz",
    gen: (r) => lit(`'${timeText(r)}${r.pick(["+00", "+02", "-15:59", "+15:59:59", "-03:30"])}'`),
  },
  timestamp: {
    decl: "timestamp",
    gen: (r) => timestampLiteral(r, false),
    alterTo: ["timestamptz"],
  },
  timestamptz: { decl: "timestamptz", gen: (r) => timestampLiteral(r, true), alterTo: ["text"] },
  interval: { decl: "interval", gen: intervalLiteral },
  uuid: { decl: "uuid", gen: uuidLiteral, alterTo: ["text"], key: true },
  json: { decl: "json", gen: jsonLiteral, alterTo: ["jsonb"] },
  jsonb: { decl: "jsonb", gen: jsonLiteral },
  bytea: { decl: "bytea", gen: byteaLiteral },
  inet: {
    decl: "inet",
    gen: (r) => lit(r.pick(["'192.168.0.1/24'", "'::1'", "'10.0.0.1'", "'2001:db8::/32'"])),
  },
  mood: {
    decl: "fz_mood",
    gen: (r) =>
      lit(quoteLiteral(r.pick(["sad", "ok", "happy", "with space", 'q"uote', "comma,here"]))),
    alterTo: ["text"],
  },
  pos_int: { decl: "fz_pos_int", gen: (r) => lit(String(r.int(1, 2147483647))) },
  price: { decl: "fz_price", gen: (r) => numericLiteral(r, 8, 2) },
  label: { decl: "fz_label", gen: textLiteral },
  int_arr: {
    decl: "integer[]",
    gen: (r) => arrayOf(r, (q) => lit(intIn(q, -2147483648n, 2147483647n)), "integer[]"),
  },
  int_list: {
    decl: "fz_int_list",
    gen: (r) => arrayOf(r, (q) => lit(String(q.int(-9, 9))), "integer[]"),
  },
  text_arr: { decl: "text[]", gen: (r) => arrayOf(r, textLiteral_small, "text[]") },
  num_arr: {
    decl: "numeric(10,2)[]",
    gen: (r) => arrayOf(r, (q) => numericLiteral(q, 10, 2), "numeric(10,2)[]"),
  },
  date_arr: { decl: "date[]", gen: (r) => arrayOf(r, dateLiteral, "date[]") },
  float8_arr: {
    decl: "double precision[]",
    gen: (r) => arrayOf(r, (q) => floatLiteral(q, false), "double precision[]"),
  },
  bool_arr: {
    decl: "boolean[]",
    gen: (r) => arrayOf(r, (q) => lit(q.pick(["true", "false"])), "boolean[]"),
  },
  mood_arr: { decl: "fz_mood[]", gen: (r) => arrayOf(r, (q) => TYPES.mood!.gen(q), "fz_mood[]") },
  char_arr: { decl: "char(2)[]", gen: (r) => arrayOf(r, (q) => charLiteral(q, 2), "char(2)[]") },
  tstz_arr: {
    decl: "timestamptz[]",
    gen: (r) => arrayOf(r, (q) => timestampLiteral(q, true), "timestamptz[]"),
  },
};

function textLiteral_40(r: Prng): Literal {
  const { s, classes } = textValue(r);
  return lit(quoteLiteral([...s].slice(0, 40).join("")), ...classes);
}

function textLiteral_small(r: Prng): Literal {
  const { s, classes } = textValue(r, 3);
  return lit(quoteLiteral(s), ...classes);
}

/** A value of `type` none of whose classes is excluded (NULL when none is found). */
export function genValue(r: Prng, type: string, exclude: ReadonlySet<FuzzClass>): string {
  const def = TYPES[type];
  if (!def) throw new RangeError(`Cannot generate a value: no type "${type}"`);
  for (let i = 0; i < 20; i++) {
    const v = def.gen(r);
    if (!v.classes.some((c) => exclude.has(c))) return v.sql;
  }
  return "NULL";
}
