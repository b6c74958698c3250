import { assertEquals } from "../support/assert.ts";
import { diffSchema, effectiveTargetType, type TargetColumn } from "../../src/core/drift.ts";
import { type ColumnMapping, mapColumn } from "../../src/core/type_map.ts";

function source(name: string, baseTypeName: string, pgType = baseTypeName): ColumnMapping {
  return mapColumn({
    name,
    pgType,
    baseTypeName,
    baseType: pgType,
    category: "U",
    notNull: false,
  });
}

const none: ReadonlySet<string> = new Set();

Deno.test("diffSchema() returns [] when source and target agree", () => {
  const src = [source("id", "int8"), source("amount", "numeric", "numeric(12,2)")];
  const tgt: TargetColumn[] = [
    { name: "id", duckType: "BIGINT" },
    { name: "amount", duckType: "DECIMAL(12,2)" },
  ];
  assertEquals(diffSchema("t", src, tgt, none), []);
});

Deno.test("diffSchema() adds a new column with ADD COLUMN and asks for a backfill", () => {
  const src = [source("id", "int8"), source("note", "text")];
  const tgt: TargetColumn[] = [{ name: "id", duckType: "BIGINT" }];
  assertEquals(diffSchema("analytics_subs", src, tgt, none), [{
    kind: "column_added",
    column: "note",
    detail: "added text as VARCHAR",
    ddl: `ALTER TABLE "analytics_subs" ADD COLUMN "note" VARCHAR`,
    backfill: true,
    newType: "VARCHAR",
  }]);
});

Deno.test("diffSchema() quotes table and column names in DDL", () => {
  const src = [source('we"ird', "timestamptz", "timestamp with time zone")];
  const changes = diffSchema('my"table', src, [], none);
  assertEquals(
    changes[0]?.ddl,
    `ALTER TABLE "my""table" ADD COLUMN "we""ird" TIMESTAMP WITH TIME ZONE`,
  );
});

Deno.test("diffSchema() reports a dropped column without DDL", () => {
  const src = [source("id", "int8")];
  const tgt: TargetColumn[] = [
    { name: "id", duckType: "BIGINT" },
    { name: "legacy", duckType: "VARCHAR" },
  ];
  assertEquals(diffSchema("t", src, tgt, none), [{
    kind: "column_dropped",
    column: "legacy",
    detail: "dropped in Postgres; kept in DuckDB (new rows get NULL)",
    ddl: null,
    backfill: false,
  }]);
});

Deno.test("diffSchema() does not repeat a drop already in knownDropped", () => {
  const src = [source("id", "int8")];
  const tgt: TargetColumn[] = [
    { name: "id", duckType: "BIGINT" },
    { name: "legacy", duckType: "VARCHAR" },
    { name: "older", duckType: "INTEGER" },
  ];
  const changes = diffSchema("t", src, tgt, new Set(["legacy"]));
  assertEquals(changes.map((c) => [c.kind, c.column]), [["column_dropped", "older"]]);
  assertEquals(diffSchema("t", src, tgt, new Set(["legacy", "older"])), []);
});

Deno.test("diffSchema() widens an integer column with ALTER COLUMN ... TYPE", () => {
  const src = [source("qty", "int8")];
  const tgt: TargetColumn[] = [{ name: "qty", duckType: "INTEGER" }];
  assertEquals(diffSchema("t", src, tgt, none), [{
    kind: "type_widened",
    column: "qty",
    detail: "INTEGER -> BIGINT",
    ddl: `ALTER TABLE "t" ALTER COLUMN "qty" TYPE BIGINT`,
    backfill: true,
    newType: "BIGINT",
  }]);
});

Deno.test("diffSchema() widens a decimal column", () => {
  const src = [source("amount", "numeric", "numeric(14,4)")];
  const tgt: TargetColumn[] = [{ name: "amount", duckType: "DECIMAL(12,2)" }];
  const changes = diffSchema("t", src, tgt, none);
  assertEquals(changes.length, 1);
  assertEquals(changes[0]?.kind, "type_widened");
  assertEquals(changes[0]?.ddl, `ALTER TABLE "t" ALTER COLUMN "amount" TYPE DECIMAL(14,4)`);
});

Deno.test("diffSchema() turns an unrelated type change into VARCHAR (type_changed)", () => {
  const src = [source("flag", "int4", "integer")];
  const tgt: TargetColumn[] = [{ name: "flag", duckType: "BOOLEAN" }];
  assertEquals(diffSchema("t", src, tgt, none), [{
    kind: "type_changed",
    column: "flag",
    detail: "BOOLEAN -> VARCHAR (source is now integer; kept as text so no value is lost)",
    ddl: `ALTER TABLE "t" ALTER COLUMN "flag" TYPE VARCHAR`,
    backfill: true,
    newType: "VARCHAR",
  }]);
});

Deno.test("diffSchema() turns a decimal that neither holds the other into VARCHAR", () => {
  // DECIMAL(10,4) -> DECIMAL(12,2): more whole digits but less scale.
  const src = [source("amount", "numeric", "numeric(12,2)")];
  const tgt: TargetColumn[] = [{ name: "amount", duckType: "DECIMAL(10,4)" }];
  const changes = diffSchema("t", src, tgt, none);
  assertEquals(changes.map((c) => [c.kind, c.ddl]), [[
    "type_changed",
    `ALTER TABLE "t" ALTER COLUMN "amount" TYPE VARCHAR`,
  ]]);
});

Deno.test("diffSchema() keeps a wider DuckDB column when the source narrows (no DDL)", () => {
  const src = [source("qty", "int4", "integer")];
  const tgt: TargetColumn[] = [{ name: "qty", duckType: "BIGINT" }];
  // Without a known previous source type there is nothing to report.
  assertEquals(diffSchema("t", src, tgt, none), []);
  // With one, the change is recorded (and re-copied) but no DDL runs.
  assertEquals(diffSchema("t", src, tgt, none, new Map([["qty", "bigint"]])), [{
    kind: "type_changed",
    column: "qty",
    detail: "bigint -> integer; DuckDB keeps BIGINT, which holds every value",
    ddl: null,
    backfill: true,
  }]);
});

Deno.test("diffSchema() changes nothing once a column was already kept as VARCHAR", () => {
  const src = [source("qty", "int4", "integer")];
  const tgt: TargetColumn[] = [{ name: "qty", duckType: "VARCHAR" }];
  assertEquals(diffSchema("t", src, tgt, none), []);
  assertEquals(diffSchema("t", src, tgt, none, new Map([["qty", "integer"]])), []);
  const changed = diffSchema("t", src, tgt, none, new Map([["qty", "boolean"]]));
  assertEquals(changed.map((c) => [c.kind, c.ddl]), [["type_changed", null]]);
});

Deno.test("diffSchema() records varchar(20) -> text via previousPgTypes with no DDL", () => {
  const src = [source("name", "text", "text")];
  const tgt: TargetColumn[] = [{ name: "name", duckType: "VARCHAR" }];
  const previous = new Map([["name", "character varying(20)"]]);
  const changes = diffSchema("t", src, tgt, none, previous);
  assertEquals(changes.length, 1);
  assertEquals(changes[0]?.kind, "type_widened");
  assertEquals(changes[0]?.column, "name");
  assertEquals(
    changes[0]?.detail,
    "character varying(20) -> text (DuckDB type VARCHAR unchanged)",
  );
  assertEquals(changes[0]?.ddl, null);
});

Deno.test("diffSchema() reports nothing when the previous pg type is unchanged or unknown", () => {
  const src = [source("name", "text", "text")];
  const tgt: TargetColumn[] = [{ name: "name", duckType: "VARCHAR" }];
  assertEquals(diffSchema("t", src, tgt, none, new Map([["name", "text"]])), []);
  assertEquals(diffSchema("t", src, tgt, none, new Map([["other", "integer"]])), []);
  assertEquals(diffSchema("t", src, tgt, none), []);
});

Deno.test("diffSchema() reports several changes in source order, then drops", () => {
  const src = [source("id", "int8"), source("qty", "int8"), source("extra", "bool", "boolean")];
  const tgt: TargetColumn[] = [
    { name: "gone", duckType: "DATE" },
    { name: "id", duckType: "BIGINT" },
    { name: "qty", duckType: "SMALLINT" },
  ];
  assertEquals(
    diffSchema("t", src, tgt, none).map((c) => `${c.kind}:${c.column}`),
    ["type_widened:qty", "column_added:extra", "column_dropped:gone"],
  );
});

Deno.test("effectiveTargetType() prefers the target column's type", () => {
  const mapping = source("qty", "int4");
  assertEquals(effectiveTargetType(mapping, [{ name: "qty", duckType: "VARCHAR" }]), "VARCHAR");
  assertEquals(effectiveTargetType(mapping, [{ name: "other", duckType: "DATE" }]), "INTEGER");
  assertEquals(effectiveTargetType(mapping, []), "INTEGER");
});

Deno.test("rebuildForKeyRetype() turns a key column's type change into one table rebuild", async () => {
  const { rebuildForKeyRetype } = await import("../../src/core/drift.ts");
  const src = [source("id", "int8"), source("note", "text")];
  const tgt: TargetColumn[] = [{ name: "id", duckType: "INTEGER" }];
  const out = rebuildForKeyRetype("t", diffSchema("t", src, tgt, none), tgt, ["id"]);
  const byColumn = Object.fromEntries(out.map((c) => [c.column, c.ddl]));
  assertEquals(byColumn.note, `ALTER TABLE "t" ADD COLUMN "note" VARCHAR`);
  assertEquals(
    byColumn.id,
    `CREATE TABLE "t__rebuild" ("id" BIGINT, "note" VARCHAR, PRIMARY KEY ("id")); ` +
      `INSERT INTO "t__rebuild" ("id", "note") SELECT CAST("id" AS BIGINT), CAST("note" AS VARCHAR) FROM "t"; ` +
      `DROP TABLE "t"; ALTER TABLE "t__rebuild" RENAME TO "t"`,
  );
  // The rebuild runs after the added column's DDL (it selects the new column).
  assertEquals(out.map((c) => c.column), ["note", "id"]);
  // Without a key column among the changes, nothing is rewritten.
  const plain = diffSchema("t", src, tgt, none);
  assertEquals(rebuildForKeyRetype("t", plain, tgt, ["other"]), plain);
});

Deno.test("diffSchema() rebuilds a VARCHAR column whose unchanged Postgres type now maps better (interval, arrays)", () => {
  const src = [source("id", "int8"), source("took", "interval")];
  const tgt: TargetColumn[] = [
    { name: "id", duckType: "BIGINT" },
    { name: "took", duckType: "VARCHAR" },
  ];
  const changes = diffSchema("t", src, tgt, none, new Map([["id", "int8"], ["took", "interval"]]));
  assertEquals(changes.map((c) => [c.kind, c.column, c.backfill, c.newType]), [
    ["type_changed", "took", true, "INTERVAL"],
  ]);
  assertEquals(
    changes[0]!.ddl,
    'ALTER TABLE "t" DROP COLUMN "took"; ALTER TABLE "t" ADD COLUMN "took" INTERVAL',
  );
  // Without a remembered Postgres type (or when it changed) the usual rules apply.
  assertEquals(diffSchema("t", src, tgt, none), []);
});
