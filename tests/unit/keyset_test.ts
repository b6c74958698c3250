import nodeAssert from "node:assert/strict";
import { assertEquals } from "../support/assert.ts";
import {
  afterPredicate,
  cursorFileToken,
  type KeysetColumns,
  orderBy,
  positionFromRow,
  positionSelect,
  rangePredicate,
  upToPredicate,
} from "../../src/core/keyset.ts";

const single: KeysetColumns = {
  cursor: { name: "updated_at", pgType: "timestamp with time zone" },
  key: [{ name: "id", pgType: "bigint" }],
};

const composite: KeysetColumns = {
  cursor: { name: "updated_at", pgType: "timestamp with time zone" },
  key: [
    { name: "tenant_id", pgType: "integer" },
    { name: "code", pgType: "text" },
  ],
};

Deno.test("afterPredicate() selects every non-null cursor when there is no position", () => {
  assertEquals(afterPredicate(single, null), `"updated_at" IS NOT NULL`);
  assertEquals(afterPredicate(composite, null), `"updated_at" IS NOT NULL`);
});

Deno.test("afterPredicate() compares (cursor, key) rows with typed literals", () => {
  assertEquals(
    afterPredicate(single, { cursor: "2024-01-02 03:04:05.123456+00", key: ["42"] }),
    `("updated_at", "id") > ('2024-01-02 03:04:05.123456+00'::timestamp with time zone, '42'::bigint)`,
  );
});

Deno.test("afterPredicate() builds a row comparison over a composite key", () => {
  assertEquals(
    afterPredicate(composite, { cursor: "2024-01-02 00:00:00+00", key: ["7", "o'brien"] }),
    `("updated_at", "tenant_id", "code") > ` +
      `('2024-01-02 00:00:00+00'::timestamp with time zone, '7'::integer, 'o''brien'::text)`,
  );
});

Deno.test("afterPredicate() quotes odd column names", () => {
  const columns: KeysetColumns = {
    cursor: { name: 'Up"dated', pgType: "bigint" },
    key: [{ name: "Key Col", pgType: "uuid" }],
  };
  assertEquals(
    afterPredicate(columns, { cursor: "5", key: ["0f0e0d0c-0000-4000-8000-000000000000"] }),
    `("Up""dated", "Key Col") > ('5'::bigint, '0f0e0d0c-0000-4000-8000-000000000000'::uuid)`,
  );
});

Deno.test("afterPredicate() throws RangeError when the key length does not match", () => {
  nodeAssert.throws(
    () => afterPredicate(composite, { cursor: "2024-01-02 00:00:00+00", key: ["7"] }),
    RangeError,
  );
  nodeAssert.throws(
    () => afterPredicate(single, { cursor: "2024-01-02 00:00:00+00", key: ["1", "2"] }),
    /position has 2 key values, table has 1 key columns/,
  );
});

Deno.test("afterPredicate() rejects a NUL in a position value", () => {
  nodeAssert.throws(() => afterPredicate(single, { cursor: "x\0", key: ["1"] }), RangeError);
});

Deno.test("upToPredicate() selects rows at or before the position", () => {
  assertEquals(
    upToPredicate(single, { cursor: "2024-05-06 07:08:09+00", key: ["100"] }),
    `("updated_at", "id") <= ('2024-05-06 07:08:09+00'::timestamp with time zone, '100'::bigint)`,
  );
  assertEquals(
    upToPredicate(composite, { cursor: "c", key: ["1", "a"] }),
    `("updated_at", "tenant_id", "code") <= ('c'::timestamp with time zone, '1'::integer, 'a'::text)`,
  );
});

Deno.test("rangePredicate() joins the lower and upper bounds, or is the lower bound alone", () => {
  const upTo = { cursor: "2024-05-06 07:08:09+00", key: ["100"] };
  assertEquals(
    rangePredicate(single, null, upTo),
    `${afterPredicate(single, null)} AND ${upToPredicate(single, upTo)}`,
  );
  assertEquals(rangePredicate(single, upTo), afterPredicate(single, upTo));
});

Deno.test("upToPredicate() throws RangeError when the key length does not match", () => {
  nodeAssert.throws(() => upToPredicate(composite, { cursor: "c", key: [] }), RangeError);
});

Deno.test("orderBy() orders by cursor then key, ascending by default", () => {
  assertEquals(orderBy(single), `"updated_at", "id"`);
  assertEquals(orderBy(composite), `"updated_at", "tenant_id", "code"`);
});

Deno.test("orderBy() orders every column descending when asked", () => {
  assertEquals(orderBy(composite, true), `"updated_at" DESC, "tenant_id" DESC, "code" DESC`);
});

Deno.test("positionSelect() reads each column back as text p0, p1, ...", () => {
  assertEquals(
    positionSelect(composite),
    `"updated_at"::text AS p0, "tenant_id"::text AS p1, "code"::text AS p2`,
  );
});

Deno.test("positionFromRow() reads p0 as cursor and p1..pn as key", () => {
  assertEquals(
    positionFromRow({ p0: "2024-01-02 03:04:05+00", p1: "7", p2: "abc", p3: "ignored" }, 2),
    { cursor: "2024-01-02 03:04:05+00", key: ["7", "abc"] },
  );
  assertEquals(positionFromRow({ p0: "c" }, 0), { cursor: "c", key: [] });
});

Deno.test("positionFromRow() turns non-string values into text", () => {
  assertEquals(positionFromRow({ p0: 12, p1: 34 }, 1), { cursor: "12", key: ["34"] });
});

Deno.test("cursorFileToken() turns a UTC timestamp into a file-safe token", () => {
  assertEquals(cursorFileToken("2024-01-02 03:04:05.123456+00"), "2024-01-02T03-04-05.123456Z");
  assertEquals(cursorFileToken("2024-01-02 03:04:05+00"), "2024-01-02T03-04-05Z");
});

Deno.test("cursorFileToken() leaves the Z off a timestamp without time zone", () => {
  assertEquals(cursorFileToken("2024-01-02 03:04:05.5"), "2024-01-02T03-04-05.5");
});

Deno.test("cursorFileToken() returns start for no cursor", () => {
  assertEquals(cursorFileToken(null), "start");
});

Deno.test("cursorFileToken() sanitizes other text to [A-Za-z0-9.-_]", () => {
  assertEquals(cursorFileToken("12345"), "12345");
  assertEquals(cursorFileToken("a/b\\c d:e"), "a_b_c_d_e");
  assertEquals(cursorFileToken("../../etc/passwd"), ".._.._etc_passwd");
  assertEquals(cursorFileToken("2024-01-02 03:04:05+05:30"), "2024-01-02_03_04_05_05_30");
});

Deno.test("cursorFileToken() caps sanitized text at 60 characters", () => {
  const token = cursorFileToken("x".repeat(100));
  assertEquals(token, "x".repeat(60));
});
