import { assertEquals, assertMatch } from "../support/assert.ts";
import { mapColumn, type SourceColumn } from "../../src/core/type_map.ts";
import { unconvertibleSql } from "../../src/io/duckdb/unsupported_value.ts";
import { unsupportedValueError } from "../../src/core/classify_error.ts";

function col(name: string, baseTypeName: string, pgType: string, category = "N"): SourceColumn {
  return { name, pgType, baseTypeName, baseType: pgType, category, notNull: false };
}

const table = { schema: "public", table: "prices" };

Deno.test("unconvertibleSql() checks only the columns a conversion can fail for", () => {
  const columns = [
    mapColumn(col("id", "int4", "integer")),
    mapColumn(col("note", "text", "text", "S")),
    mapColumn(col("amount", "numeric", "numeric(10,2)")),
  ];
  assertEquals(
    unconvertibleSql("read_csv('b.csv')", columns),
    `SELECT min("id") FILTER (WHERE "id" IS NOT NULL AND TRY_CAST("id" AS INTEGER) IS NULL) AS c0, ` +
      `min("amount") FILTER (WHERE "amount" IS NOT NULL AND ` +
      `TRY_CAST("amount" AS DECIMAL(10,2)) IS NULL) AS c2 FROM read_csv('b.csv')`,
  );
  assertEquals(unconvertibleSql("x", [columns[1]!]), null);
});

Deno.test("unconvertibleSql() runs a refusing conversion with NULL in place of error()", () => {
  const iv = mapColumn(col("it's", "interval", "interval", "T"));
  const sql = unconvertibleSql("x", [iv])!;
  assertEquals(sql.includes("error("), false, sql);
  assertMatch(
    sql,
    /TRY\(CASE WHEN "it's" IN \('infinity', '-infinity'\) THEN NULL ELSE "it's" END\)/,
  );
});

Deno.test("unsupportedValueError() names table, column, value and the numeric fix", () => {
  const amount = mapColumn(col("amount", "numeric", "numeric(10,2)"));
  const e = unsupportedValueError(table, { column: amount, value: "NaN" });
  assertEquals(e.code, "VALUE_UNSUPPORTED");
  assertEquals(e.exitCode, 2);
  assertEquals(e.transient, false);
  assertEquals(
    e.message,
    `Cannot load public.prices: column "amount" (numeric(10,2), DECIMAL(10,2) in DuckDB) holds ` +
      `'NaN': DuckDB's DECIMAL has no NaN; nothing of the batch was applied (make the column an ` +
      `unconstrained numeric in PostgreSQL (ALTER TABLE "public"."prices" ALTER COLUMN "amount" ` +
      `TYPE numeric): it then arrives as VARCHAR with PostgreSQL's exact text, or as DOUBLE with ` +
      `NUMERIC_WIDE=double in a table copied anew (reset); or replace the NaN values (UPDATE ` +
      `"public"."prices" SET "amount" = NULL WHERE "amount" = 'NaN'))`,
  );
});

Deno.test("unsupportedValueError() keeps the message one line and short for long values", () => {
  const note = mapColumn(col("u", "uuid", "uuid", "U"));
  const e = unsupportedValueError(table, { column: note, value: `a'b\n${"x".repeat(200)}` });
  assertEquals(e.message.includes("\n"), false);
  assertMatch(
    e.message,
    /holds 'a''b x{75}…': DuckDB cannot convert it to UUID; .*\(replace the value in PostgreSQL\)$/,
  );
});
