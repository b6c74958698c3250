import nodeAssert from "node:assert/strict";
import { assertEquals } from "../support/assert.ts";
import { qualified, quoteIdent, quoteLiteral } from "../../src/core/sql.ts";

Deno.test("quoteIdent() wraps a name in double quotes", () => {
  assertEquals(quoteIdent("id"), '"id"');
  assertEquals(quoteIdent("Mixed Case"), '"Mixed Case"');
  assertEquals(quoteIdent(""), '""');
});

Deno.test("quoteIdent() doubles embedded double quotes", () => {
  assertEquals(quoteIdent('a"b'), '"a""b"');
  assertEquals(quoteIdent('"'), '""""');
  assertEquals(quoteIdent(`x"; DROP TABLE t; --`), `"x""; DROP TABLE t; --"`);
});

Deno.test("quoteIdent() leaves single quotes alone", () => {
  assertEquals(quoteIdent("o'brien"), `"o'brien"`);
});

Deno.test("quoteLiteral() wraps a value in single quotes", () => {
  assertEquals(quoteLiteral("abc"), "'abc'");
  assertEquals(quoteLiteral(""), "''");
  assertEquals(quoteLiteral("2024-01-02 03:04:05+00"), "'2024-01-02 03:04:05+00'");
});

Deno.test("quoteLiteral() doubles embedded single quotes", () => {
  assertEquals(quoteLiteral("it's"), "'it''s'");
  assertEquals(quoteLiteral("''"), "''''''");
  assertEquals(quoteLiteral("x'); DROP TABLE t; --"), "'x''); DROP TABLE t; --'");
});

Deno.test("quoteLiteral() keeps backslashes as they are (standard-conforming strings)", () => {
  assertEquals(quoteLiteral("a\\b"), "'a\\b'");
  assertEquals(quoteLiteral('say "hi"\n'), `'say "hi"\n'`);
});

Deno.test("quoteLiteral() rejects a NUL byte with RangeError", () => {
  nodeAssert.throws(() => quoteLiteral("a\0b"), RangeError);
  nodeAssert.throws(() => quoteLiteral("\0"), /NUL/);
});

Deno.test("qualified() quotes schema and table separately", () => {
  assertEquals(qualified("analytics", "subscriptions"), '"analytics"."subscriptions"');
  assertEquals(qualified('my"schema', "a.b"), '"my""schema"."a.b"');
});
