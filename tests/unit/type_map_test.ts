import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  isWidening,
  mapColumn,
  MAX_DECIMAL_PRECISION,
  numericTypmod,
  type SourceColumn,
} from "../../src/core/type_map.ts";

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
      pgCanonical: '"n"::text',
      duckCanonical: '"n"::VARCHAR',
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
    pgCanonical: '"big"::text',
    duckCanonical: '"big"',
  });
  assertEquals(mapColumn(col("big", "numeric"), { wideNumeric: "varchar" }).duckType, "VARCHAR");
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
    pgCanonical: `encode("payload", 'hex')`,
    duckCanonical: `lower(hex("payload"))`,
  });
});

Deno.test("mapColumn() maps enums and other types to VARCHAR in Postgres' text form", () => {
  const cases: SourceColumn[] = [
    col("status", "enum", "mood", { category: "E" }),
    col("addr", "inet", "inet", { category: "I" }),
    col("net", "cidr", "cidr", { category: "I" }),
    col("mac", "macaddr", "macaddr"),
    col("words", "tsvector", "tsvector"),
    col("span", "int4range", "int4range", { category: "R" }),
    col("cash", "money", "money", { category: "N" }),
    col("p", "point", "point", { category: "G" }),
    col("flags", "bit", "bit(4)", { category: "V" }),
    // int2vector is category "A" but not a "_" array type: its text, as is.
    col("v", "int2vector", "int2vector", { category: "A" }),
  ];
  for (const c of cases) {
    const m = mapColumn(c);
    assertEquals(m.duckType, "VARCHAR", c.baseTypeName);
    assertEquals(m.csvType, "VARCHAR", c.baseTypeName);
    assertEquals(m.pgSelect, `"${c.name}"::text`, c.baseTypeName);
    assertEquals(m.fromCsv, null, c.baseTypeName);
    assertEquals(m.pgCanonical, `"${c.name}"::text`, c.baseTypeName);
    assertEquals(m.duckCanonical, `"${c.name}"`, c.baseTypeName);
  }
});

Deno.test("mapColumn() reads xml by its output (what the stream carries) and marks inet for the stream's mask", () => {
  const doc = mapColumn(col("doc", "xml", "xml"));
  assertEquals([doc.duckType, doc.pgSelect, doc.pgCanonical], [
    "VARCHAR",
    `xml_out("doc")::text`,
    `xml_out("doc")::text`,
  ]);
  const docs = mapColumn(col("docs", "_xml", "xml[]", { category: "A" }));
  assertEquals(docs.pgSelect, `to_json("docs")::text`);
  assertMatch(docs.pgCanonical, /xml_out\(__e\)::text/);
  assertEquals(mapColumn(col("addr", "inet", "inet", { category: "I" })).streamForm, "inet");
  const addrs = mapColumn(col("addrs", "_inet", "inet[]", { category: "A" }));
  assertEquals([addrs.duckType, addrs.pgSelect, addrs.streamForm], [
    "VARCHAR[]",
    `to_json("addrs"::text[])::text`,
    "inet",
  ]);
  assertEquals(mapColumn(col("net", "cidr", "cidr", { category: "I" })).streamForm, undefined);
});

Deno.test("mapColumn() never trips over a type named like an Object property", () => {
  assertEquals(mapColumn(col("c", "constructor")).duckType, "VARCHAR");
  assertEquals(
    mapColumn(col("c", "_constructor", "constructor[]", { category: "A" })).duckType,
    "VARCHAR[]",
  );
});

Deno.test("mapColumn() maps wide numeric to DOUBLE only when asked, converted by Postgres", () => {
  for (const pgType of ["numeric", "numeric(50,2)", "numeric(5,-2)"]) {
    const m = mapColumn(col("x", "numeric", pgType), { wideNumeric: "double" });
    assertEquals(m.duckType, "DOUBLE", pgType);
    assertEquals(m.csvType, "DOUBLE", pgType);
    assertEquals(m.pgSelect, '("x")::float8', pgType);
    assertEquals(m.fromCsv, null, pgType);
    assertMatch(m.pgCanonical, /float8send\(\("x"\)::float8\)/);
    assertEquals(m.duckCanonical, mapColumn(col("x", "float8")).duckCanonical);
  }
  // numeric(p,s) DuckDB can hold stays exact either way.
  assertEquals(
    mapColumn(col("x", "numeric", "numeric(12,2)"), { wideNumeric: "double" }).duckType,
    "DECIMAL(12,2)",
  );
});

Deno.test("mapColumn() maps interval to INTERVAL via months, days and microseconds", () => {
  const m = mapColumn(col("span", "interval", "interval", { category: "T" }));
  assertEquals(m.duckType, "INTERVAL");
  assertEquals(m.csvType, "VARCHAR");
  // The text stays VARCHAR through Parquet (no sign, only ms there); the
  // warehouse INSERT casts it. An infinite interval (PostgreSQL 17) fails.
  assertEquals(
    m.fromCsv,
    `CASE WHEN "span" IN ('infinity', '-infinity') THEN error('Cannot load column "span": ` +
      `DuckDB has no infinite interval') ELSE "span" END`,
  );
  assertEquals(
    m.pgSelect,
    `CASE WHEN isfinite("span") THEN (extract(year FROM "span") * 12 + extract(month FROM ` +
      `"span"))::int8 || ' months ' || extract(day FROM "span")::int8 || ' days ' || ` +
      `(extract(hour FROM "span") * 3600000000 + extract(minute FROM "span") * 60000000 + ` +
      `extract(microseconds FROM "span"))::int8 || ' microseconds' ELSE "span"::text END`,
  );
  assertEquals(m.pgCanonical, m.pgSelect);
  assertMatch(m.duckCanonical, /datepart\('microseconds', "span"\)/);
  assertEquals(mapColumn(col("span", "interval", "interval(3)")).duckType, "INTERVAL");
});

Deno.test("mapColumn() reads time and timetz directly (the CSV reader rejects what it cannot hold)", () => {
  const t = mapColumn(col("t", "time", "time without time zone"));
  assertEquals([t.duckType, t.csvType, t.fromCsv], ["TIME", "TIME", null]);
  assertEquals(t.pgCanonical, `(extract(epoch FROM "t") * 1000000)::int8::text`);
  assertEquals(t.duckCanonical, `epoch_us("t")::VARCHAR`);
  const tz = mapColumn(col("t", "timetz", "time with time zone"));
  assertEquals([tz.duckType, tz.csvType, tz.fromCsv], [
    "TIME WITH TIME ZONE",
    "TIME WITH TIME ZONE",
    null,
  ]);
  assertMatch(tz.pgCanonical, /% 86400000000/);
  assertMatch(tz.duckCanonical, /datepart\('timezone', "t"\)/);
});

function arrayCol(name: string, element: string, formatted: string, extra = {}): SourceColumn {
  return col(name, `_${element}`, `${formatted}[]`, { category: "A", ...extra });
}

const MULTI = (name: string, type: string) =>
  `CASE WHEN starts_with("${name}", '[[') THEN error('Cannot load column "${name}": it holds a ` +
  `multi-dimensional array, and it is declared with one dimension (declare its dimensions to ` +
  `copy it as text: ALTER TABLE ... ALTER COLUMN "${name}" TYPE ${type}[]; or make its values ` +
  `one-dimensional)') ELSE `;

Deno.test("mapColumn() maps arrays of plain types to LISTs of the element type", () => {
  const cases: [string, string, string][] = [
    ["int2", "smallint", "SMALLINT[]"],
    ["int4", "integer", "INTEGER[]"],
    ["int8", "bigint", "BIGINT[]"],
    ["float4", "real", "FLOAT[]"],
    ["float8", "double precision", "DOUBLE[]"],
    ["bool", "boolean", "BOOLEAN[]"],
    ["uuid", "uuid", "UUID[]"],
    ["numeric", "numeric(10,2)", "DECIMAL(10,2)[]"],
    ["numeric", "numeric(38,0)", "DECIMAL(38,0)[]"],
  ];
  for (const [element, formatted, duck] of cases) {
    const m = mapColumn(arrayCol("a", element, formatted));
    assertEquals(m.duckType, duck, formatted);
    assertEquals(m.csvType, "VARCHAR", formatted);
    assertEquals(m.pgSelect, `to_json("a"::text[])::text`, formatted);
    assertEquals(
      m.fromCsv,
      `${MULTI("a", `${formatted}[]`)}CAST(CAST(CAST("a" AS JSON) AS VARCHAR[]) AS ${duck}) END`,
      formatted,
    );
  }
});

Deno.test("mapColumn() maps text arrays to VARCHAR[], char(n) keeping its padding", () => {
  for (const [element, formatted] of [["text", "text"], ["varchar", "character varying(20)"]]) {
    const m = mapColumn(arrayCol("tags", element!, formatted!));
    assertEquals(m.duckType, "VARCHAR[]");
    assertEquals(m.pgSelect, `to_json("tags"::text[])::text`);
    assertEquals(
      m.fromCsv,
      `${MULTI("tags", `${formatted}[]`)}CAST(CAST("tags" AS JSON) AS VARCHAR[]) END`,
    );
  }
  const c = mapColumn(arrayCol("codes", "bpchar", "character(2)"));
  assertEquals(c.duckType, "VARCHAR[]");
  assertEquals(c.pgSelect, `to_json("codes"::bpchar[])::text`);
  assertMatch(c.pgCanonical, /bpcharout\(__e\)::text/);
});

Deno.test("mapColumn() casts date array elements strictly, BC included", () => {
  const m = mapColumn(arrayCol("days", "date", "date"));
  assertEquals(m.duckType, "DATE[]");
  assertEquals(
    m.fromCsv,
    `${
      MULTI("days", "date[]")
    }list_transform(CAST(CAST("days" AS JSON) AS VARCHAR[]), lambda __e: ` +
      `CAST(CASE WHEN ends_with(__e, ' BC') THEN regexp_replace(__e, '^(\\d+-\\d\\d-\\d\\d)(.*) BC$', ` +
      `'\\1 (BC)\\2') ELSE __e END AS DATE)) END`,
  );
});

Deno.test("mapColumn() maps every other element type to VARCHAR[] of Postgres' text", () => {
  const cases: SourceColumn[] = [
    arrayCol("a", "mood", "mood"), // enum
    arrayCol("a", "positive_int", "positive_int"), // array of a domain
    arrayCol("a", "timestamptz", "timestamp with time zone"),
    arrayCol("a", "interval", "interval"),
    arrayCol("a", "jsonb", "jsonb"),
    arrayCol("a", "bytea", "bytea"),
    arrayCol("a", "numeric", "numeric"), // unconstrained, exact text
    arrayCol("a", "numeric", "numeric(50,2)"),
    arrayCol("a", "int4", "myschema.int4"), // a user type named like a built-in
  ];
  for (const c of cases) {
    const m = mapColumn(c);
    assertEquals(m.duckType, "VARCHAR[]", c.baseType);
    assertEquals(m.pgSelect, `to_json("a"::text[])::text`, c.baseType);
    assertEquals(
      m.fromCsv,
      `${MULTI("a", c.baseType)}CAST(CAST("a" AS JSON) AS VARCHAR[]) END`,
      c.baseType,
    );
  }
});

Deno.test("mapColumn() maps a domain over an array like the array", () => {
  const m = mapColumn({
    name: "ids",
    pgType: "id_list",
    baseTypeName: "_int4",
    baseType: "integer[]",
    category: "A",
    notNull: false,
  });
  assertEquals(m.duckType, "INTEGER[]");
  assertEquals(m.pgType, "id_list");
});

Deno.test("mapColumn() types an array of a domain when the element's base type is known", () => {
  const cases: [string, string, string, string][] = [
    ["positive_int", "int4", "integer", "INTEGER[]"],
    ["price", "numeric", "numeric(8,2)", "DECIMAL(8,2)[]"],
    ["code", "bpchar", "character(2)", "VARCHAR[]"],
    ["mood", "enum", "mood", "VARCHAR[]"],
  ];
  for (const [domain, element, formatted, duck] of cases) {
    const m = mapColumn(
      arrayCol("a", domain, domain, { elementBaseTypeName: element, elementBaseType: formatted }),
    );
    assertEquals(m.duckType, duck, domain);
  }
  assertEquals(
    mapColumn(arrayCol("a", "code", "code", {
      elementBaseTypeName: "bpchar",
      elementBaseType: "character(2)",
    })).pgSelect,
    `to_json("a"::bpchar[])::text`,
  );
});

Deno.test("mapColumn() maps unconstrained numeric arrays to DOUBLE[] only when asked", () => {
  const m = mapColumn(arrayCol("a", "numeric", "numeric"), { wideNumeric: "double" });
  assertEquals(m.duckType, "DOUBLE[]");
  assertEquals(m.pgSelect, `to_json("a"::float8[]::text[])::text`);
});

Deno.test("mapColumn() canonical text of arrays: length-prefixed elements, NULL as N", () => {
  const m = mapColumn(arrayCol("a", "int4", "integer"));
  assertEquals(
    m.pgCanonical,
    `CASE WHEN "a" IS NULL THEN NULL ELSE coalesce((SELECT string_agg(coalesce(length(__t) || ':' ` +
      `|| __t, 'N'), ',' ORDER BY __i) FROM (SELECT __e::text AS __t, __i FROM unnest("a") WITH ` +
      `ORDINALITY AS __u(__e, __i)) AS __v), '') END`,
  );
  assertEquals(
    m.duckCanonical,
    `CASE WHEN "a" IS NULL THEN NULL ELSE array_to_string(list_transform(list_transform("a", ` +
      `lambda __e: __e::VARCHAR), lambda __t: coalesce(length(__t)::VARCHAR || ':' || __t, 'N')), ` +
      `',') END`,
  );
  // -0 inside a LIST does not survive DuckDB's upsert: elements compare 0 and -0 alike.
  const f = mapColumn(arrayCol("f", "float8", "double precision"));
  assertMatch(f.pgCanonical, /CASE WHEN __e = 'NaN' THEN 'NaN' WHEN __e = 0 THEN '0' ELSE/);
  assertMatch(f.duckCanonical, /CASE WHEN isnan\(__e\) THEN 'NaN' WHEN __e = 0 THEN '0' ELSE/);
});

Deno.test("mapColumn() canonical text: floats by their bits, NaN as one, ±0 as one", () => {
  const d = mapColumn(col("d", "float8", "double precision"));
  assertEquals(
    d.pgCanonical,
    `CASE WHEN "d" = 'NaN' THEN 'NaN' WHEN "d" = 0 THEN '0' ELSE (('x' || encode(float8send("d"), 'hex'))::bit(64)::int8)::text END`,
  );
  assertEquals(
    d.duckCanonical,
    `CASE WHEN isnan("d") THEN 'NaN' WHEN "d" = 0 THEN '0' ELSE CAST(CAST("d" AS BIT) AS BIGINT)::VARCHAR END`,
  );
  const r = mapColumn(col("r", "float4", "real"));
  assertMatch(r.pgCanonical, /float4send\("r"\), 'hex'\)\)::bit\(32\)::int4/);
  assertMatch(r.duckCanonical, /AS INTEGER\)::VARCHAR/);
});

Deno.test("mapColumn() canonical text: dates as days, timestamps as epoch microseconds", () => {
  const day = mapColumn(col("d", "date"));
  assertEquals(
    day.pgCanonical,
    `CASE WHEN isfinite("d") THEN ("d" - DATE '1970-01-01')::text ELSE "d"::text END`,
  );
  assertEquals(
    day.duckCanonical,
    `CASE WHEN isfinite("d") THEN ("d" - DATE '1970-01-01')::VARCHAR ELSE "d"::VARCHAR END`,
  );
  for (const base of ["timestamp", "timestamptz"]) {
    const ts = mapColumn(col("t", base));
    assertEquals(
      ts.pgCanonical,
      `CASE WHEN isfinite("t") THEN (extract(epoch FROM "t") * 1000000)::int8::text ELSE "t"::text END`,
    );
    assertEquals(
      ts.duckCanonical,
      `CASE WHEN isfinite("t") THEN epoch_us("t")::VARCHAR ELSE "t"::VARCHAR END`,
    );
  }
});

Deno.test("mapColumn() canonical text: decimals, char(n), text, json and uuid", () => {
  const n = mapColumn(col("n", "numeric", "numeric(12,2)"));
  assertEquals([n.pgCanonical, n.duckCanonical], ['"n"::text', '"n"::VARCHAR']);
  // DuckDB writes DECIMAL(3,3) as ".500".
  const frac = mapColumn(col("n", "numeric", "numeric(3,3)"));
  assertEquals(frac.duckCanonical, `regexp_replace("n"::VARCHAR, '^(-?)\\.', '\\10.')`);
  const c = mapColumn(col("c", "bpchar", "character(3)"));
  assertEquals([c.pgCanonical, c.duckCanonical], ['bpcharout("c")::text', '"c"']);
  const t = mapColumn(col("t", "text"));
  assertEquals([t.pgCanonical, t.duckCanonical], ['"t"::text', '"t"']);
  const j = mapColumn(col("j", "jsonb"));
  assertEquals([j.pgCanonical, j.duckCanonical], ['"j"::text', '"j"::VARCHAR']);
  const u = mapColumn(col("u", "uuid"));
  assertEquals([u.pgCanonical, u.duckCanonical], ['"u"::text', '"u"::VARCHAR']);
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

Deno.test("isWidening() widens lists element by element", () => {
  assert(isWidening("INTEGER[]", "BIGINT[]"));
  assert(isWidening("DECIMAL(10,2)[]", "DECIMAL(12,2)[]"));
  assert(isWidening("INTEGER[]", "VARCHAR[]"));
  assert(isWidening("INTEGER[]", "VARCHAR"));
  assert(!isWidening("BIGINT[]", "INTEGER[]"));
  assert(!isWidening("VARCHAR[]", "INTEGER[]"));
  assert(!isWidening("INTEGER", "INTEGER[]"));
  assert(!isWidening("VARCHAR", "INTEGER[]"));
  assert(!isWidening("VARCHAR", "INTERVAL"));
});

Deno.test("isWidening() rejects VARCHAR to a typed column and unrelated changes", () => {
  assert(!isWidening("VARCHAR", "INTEGER"));
  assert(!isWidening("VARCHAR", "JSON"));
  assert(!isWidening("BOOLEAN", "INTEGER"));
  assert(!isWidening("DATE", "TIMESTAMP"));
  assert(!isWidening("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"));
});

Deno.test("mapColumn() maps an array declared multi-dimensional to Postgres' text form", () => {
  const m = mapColumn(
    arrayCol("grid", "int4", "integer", { dimensions: 2, pgType: "integer[][]" }),
  );
  assertEquals(m.duckType, "VARCHAR");
  assertEquals(m.pgSelect, `"grid"::text`);
  assertEquals(m.fromCsv, null);
  assertEquals(m.pgType, "integer[][]");
});
