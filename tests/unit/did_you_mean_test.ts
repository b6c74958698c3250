// closest() (src/core/did_you_mean.ts): a typo's nearest known name, or none.

import { assertEquals } from "../support/assert.ts";
import { closest } from "../../src/core/did_you_mean.ts";

Deno.test("closest() finds a name within two edits, and nothing further away", () => {
  const known = ["batch-size", "bootstrap-batch-size", "interval", "once", "loop"];
  assertEquals(closest("bath-size", known), "batch-size");
  assertEquals(closest("intervall", known), "interval");
  assertEquals(closest("onc", known), "once");
  assertEquals(closest("zzz", known), null);
  assertEquals(closest("", known), null);
});
