// count() (src/core/counts.ts): grouped digits and a noun that agrees with the number.

import { assertEquals } from "../support/assert.ts";
import { count } from "../../src/core/counts.ts";

Deno.test("count() groups digits and picks singular or plural", () => {
  assertEquals(count(0, "row"), "0 rows");
  assertEquals(count(1, "row"), "1 row");
  assertEquals(count(10_000, "row"), "10,000 rows");
  assertEquals(count(1, "batch", "batches"), "1 batch");
  assertEquals(count(2, "batch", "batches"), "2 batches");
});
