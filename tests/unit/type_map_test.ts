import { assert, assertEquals } from "../support/assert.ts";
import {
  isWidening,
  mapColumn,
  MAX_DECIMAL_PRECISION,
  numericTypmod,
  type SourceColumn,
} from "../../src/type_map.ts";

/** A catalog column whose base type is formatted like its declared type. */
function col(
  name: string,
  baseTypeName: string,
  pgType: string = baseTypeName,
  extra: Partial<SourceColumn> = {},
): SourceColumn {
  return {
    name,
    pgType,
    baseTypeName,
    baseType: pgType,
    category: "U",
    notNull: false,
    ...extra,
  };
}

Deno.test("mapColumn() maps integers to SMALLINT, INTEGER and BIGINT", () => {
  for (
    const [pg, duck] of [
      ["int2", "SMALLINT"],
      ["int4", "INTEGER"],
      ["int8", "BIGINT"],
    ] as const
  ) {
    assertEquals(mapColumn(col("n", pg)), {
      name: "n",
      pgType: pg,
      duckType: duck,
      pgSelect: '"n"',
      csvType: duck,
      fromCsv: null,
    });
  }
});

Deno.test("mapColumn() maps numeric(p,s) with p <= 38 to DECIMAL(p,s)", () => {
  const m = mapColumn(col("amount", "numeric", "numeric(12,2)"));
  assertEquals(m.duckType, "DECIMAL(12,2)");
  assertEquals(m.csvType, "DECIMAL(12,2)");
  assertEquals(m.pgSelect, '"amount"');
  assertEquals(m.fromCsv, null);
  assertEquals(m.pgType, "numeric(12,2)");
  assertEquals(mapColumn(col("x", "numeric", "numeric(38,10)")).duckType, "DECIMAL(38,10)");
  assertEquals(mapColumn(col("x", "numeric", "numeric(5)")).duckType, "DECIMAL(5,0)");
  assertEquals(mapColumn(col("x", "numeric", "numeric(3,3)")).duckType, "DECIMAL(3,3)");
});

Deno.test("mapColumn() keeps unconstrained numeric as exact text", () => {
  assertEquals(mapColumn(col("big", "numeric", "numeric")), {
    name: "big",
    pgType: "numeric",
    duckType: "VARCHAR",
    pgSelect: '"big"::text',
    csvType: "VARCHAR",
    fromCsv: null,
  });
});

Deno.test("mapColumn() keeps numeric wider than DECIMAL(38) as exact text", () => {
  const m = mapColumn(col("wide", "numeric", "numeric(50,2)"));
  assertEquals(m.duckType, "VARCHAR");
  assertEquals(m.csvType, "VARCHAR");
  assertEquals(m.pgSelect, '"wide"::text');
  assertEquals(mapColumn(col("w", "numeric", "numeric(39,0)")).duckType, "VARCHAR");
});

Deno.test("mapColumn() keeps numeric with negative scale or scale > precision as text", () => {
  assertEquals(mapColumn(col("n", "numeric", "numeric(5,-2)")).duckType, "VARCHAR");
  assertEquals(mapColumn(col("n", "numeric", "numeric(2,5)")).duckType, "VARCHAR");
});

Deno.test("mapColumn() uses the base type of a numeric domain", () => {
  const m = mapColumn({
    name: "price",
    pgType: "money_amount",
    baseTypeName: "numeric",
    baseType: "numeric(10,4)",
    category: "N",
    notNull: true,
  });
  assertEquals(m.duckType, "DECIMAL(10,4)");
  assertEquals(m.pgType, "money_amount");
});

Deno.test("mapColumn() maps floats to FLOAT and DOUBLE (never DECIMAL)", () => {
  assertEquals(mapColumn(col("f", "float4", "real")).duckType, "FLOAT");
  assertEquals(mapColumn(col("d", "float8", "double precision")).duckType, "DOUBLE");
});

Deno.test("mapColumn() maps bool, text types, dates and times", () => {
  const cases: [string, string, string][] = [
    ["bool", "boolean", "BOOLEAN"],
    ["text", "text", "VARCHAR"],
    ["varchar", "character varying(20)", "VARCHAR"],
    ["bpchar", "character(3)", "VARCHAR"],
    ["time", "time without time zone", "TIME"],
    ["uuid", "uuid", "UUID"],
    ["json", "json", "JSON"],
    ["jsonb", "jsonb", "JSON"],
  ];
  for (const [base, pgType, duck] of cases) {
    const m = mapColumn(col("c", base, pgType));
    assertEquals(m.duckType, duck, base);
    assertEquals(m.csvType, duck, base);
    assertEquals(m.pgSelect, '"c"', base);
    assertEquals(m.fromCsv, null, base);
  }
});

Deno.test("mapColumn() reads dates and timestamps as text and casts them strictly, BC included", () => {
  for (
    const [base, duck] of [
      ["date", "DATE"],
      ["timestamp", "TIMESTAMP"],
      ["timestamptz", "TIMESTAMP WITH TIME ZONE"],
    ] as const
  ) {
    const m = mapColumn(col("c", base));
    assertEquals(m.duckType, duck);
    assertEquals(m.csvType, "VARCHAR");
    assertEquals(
      m.fromCsv,
      `CAST(CASE WHEN ends_with("c", ' BC') THEN regexp_replace("c", '^(\\d+-\\d\\d-\\d\\d)(.*) BC$', '\\1 (BC)\\2') ELSE "c" END AS ${duck})`,
    );
  }
});

Deno.test("mapColumn() carries bytea as hex text into a BLOB", () => {
  assertEquals(mapColumn(col("payload", "bytea")), {
    name: "payload",
    pgType: "bytea",
    duckType: "BLOB",
    pgSelect: `encode("payload", 'hex')`,
    csvType: "VARCHAR",
    fromCsv: `unhex("payload")`,
  });
});

Deno.test("mapColumn() maps enums, arrays, intervals and unknown types to VARCHAR ::text", () => {
  const cases: SourceColumn[] = [
    col("status", "mood", "mood", { category: "E" }),
    col("tags", "_text", "text[]", { category: "A" }),
    col("ids", "_int4", "integer[]", { category: "A" }),
    col("span", "interval", "interval", { category: "T" }),
    col("addr", "inet", "inet", { category: "I" }),
    col("doc", "xml", "xml"),
  ];
  for (const c of cases) {
    const m = mapColumn(c);
    assertEquals(m.duckType, "VARCHAR", c.baseTypeName);
    assertEquals(m.csvType, "VARCHAR", c.baseTypeName);
    assertEquals(m.pgSelect, `"${c.name}"::text`, c.baseTypeName);
    assertEquals(m.fromCsv, null, c.baseTypeName);
  }
});

Deno.test("mapColumn() quotes column names in select expressions", () => {
  assertEquals(mapColumn(col('we"ird', "int4")).pgSelect, '"we""ird"');
  assertEquals(mapColumn(col("Select", "numeric")).pgSelect, '"Select"::text');
  assertEquals(mapColumn(col('b"lob', "bytea")).fromCsv, 'unhex("b""lob")');
});

Deno.test("numericTypmod() parses precision and scale", () => {
  assertEquals(numericTypmod("numeric(12,2)"), { precision: 12, scale: 2 });
  assertEquals(numericTypmod("numeric(12, 2)"), { precision: 12, scale: 2 });
  assertEquals(numericTypmod(" numeric(7) "), { precision: 7, scale: 0 });
  assertEquals(numericTypmod("numeric(5,-2)"), { precision: 5, scale: -2 });
});

Deno.test("numericTypmod() returns null when unconstrained or not numeric", () => {
  assertEquals(numericTypmod("numeric"), null);
  assertEquals(numericTypmod("integer"), null);
  assertEquals(numericTypmod("numeric(a,b)"), null);
  assertEquals(numericTypmod("numeric(12,2)[]"), null);
});

Deno.test("MAX_DECIMAL_PRECISION is DuckDB's 38", () => {
  assertEquals(MAX_DECIMAL_PRECISION, 38);
});

Deno.test("isWidening() accepts identical types", () => {
  assert(isWidening("INTEGER", "INTEGER"));
  assert(isWidening("DECIMAL(12,2)", "DECIMAL(12,2)"));
  assert(isWidening("DATE", "DATE"));
});

Deno.test("isWidening() accepts wider integers and rejects narrower ones", () => {
  assert(isWidening("SMALLINT", "INTEGER"));
  assert(isWidening("SMALLINT", "BIGINT"));
  assert(isWidening("INTEGER", "BIGINT"));
  assert(!isWidening("BIGINT", "INTEGER"));
  assert(!isWidening("INTEGER", "SMALLINT"));
  assert(!isWidening("BIGINT", "SMALLINT"));
});

Deno.test("isWidening() compares whole digits and scale of decimals", () => {
  assert(isWidening("DECIMAL(10,2)", "DECIMAL(12,2)"));
  assert(isWidening("DECIMAL(10,2)", "DECIMAL(12,4)"));
  assert(isWidening("DECIMAL(10,2)", "DECIMAL(11,3)"));
  assert(!isWidening("DECIMAL(12,2)", "DECIMAL(10,2)"));
  // Same precision, more scale: fewer whole digits.
  assert(!isWidening("DECIMAL(10,2)", "DECIMAL(10,4)"));
  // More whole digits but less scale.
  assert(!isWidening("DECIMAL(10,4)", "DECIMAL(12,2)"));
});

Deno.test("isWidening() accepts an integer into a decimal with enough whole digits", () => {
  assert(isWidening("SMALLINT", "DECIMAL(5,0)"));
  assert(!isWidening("SMALLINT", "DECIMAL(6,2)"));
  assert(isWidening("INTEGER", "DECIMAL(10,0)"));
  assert(isWidening("INTEGER", "DECIMAL(12,2)"));
  assert(!isWidening("INTEGER", "DECIMAL(11,2)"));
  assert(isWidening("BIGINT", "DECIMAL(19,0)"));
  assert(isWidening("BIGINT", "DECIMAL(38,10)"));
  assert(!isWidening("BIGINT", "DECIMAL(20,2)"));
});

Deno.test("isWidening() rejects a decimal into an integer", () => {
  assert(!isWidening("DECIMAL(5,0)", "BIGINT"));
  assert(!isWidening("DECIMAL(12,2)", "INTEGER"));
});

Deno.test("isWidening() accepts FLOAT to DOUBLE only", () => {
  assert(isWidening("FLOAT", "DOUBLE"));
  assert(!isWidening("DOUBLE", "FLOAT"));
  assert(!isWidening("DOUBLE", "DECIMAL(38,10)"));
  assert(!isWidening("BIGINT", "DOUBLE"));
});

Deno.test("isWidening() treats anything to VARCHAR as widening", () => {
  for (
    const from of [
      "INTEGER",
      "BIGINT",
      "DECIMAL(12,2)",
      "DOUBLE",
      "BOOLEAN",
      "DATE",
      "JSON",
      "UUID",
    ]
  ) {
    assert(isWidening(from, "VARCHAR"), from);
  }
});

Deno.test("isWidening() rejects VARCHAR to a typed column and unrelated changes", () => {
  assert(!isWidening("VARCHAR", "INTEGER"));
  assert(!isWidening("VARCHAR", "JSON"));
  assert(!isWidening("BOOLEAN", "INTEGER"));
  assert(!isWidening("DATE", "TIMESTAMP"));
  assert(!isWidening("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"));
});
