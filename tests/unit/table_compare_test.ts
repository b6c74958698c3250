import { assertEquals } from "../support/assert.ts";
import { differingBuckets, diffRows, prefixFor } from "../../src/core/table_compare.ts";
import { forEachLimited, Mutex } from "../../src/core/mutex.ts";

Deno.test("prefixFor: about a thousand rows per bucket, at most six hex digits", () => {
  assertEquals([0, 1000, 1001, 16_000, 16_001, 1_000_000, 1e12].map(prefixFor), [
    0,
    0,
    1,
    1,
    2,
    3,
    6,
  ]);
});

Deno.test("differingBuckets: count, checksum or presence on one side only", () => {
  const a = new Map([["0", { n: "1", s: "5" }], ["1", { n: "2", s: "7" }], ["2", {
    n: "1",
    s: "1",
  }]]);
  const b = new Map([["0", { n: "1", s: "5" }], ["1", { n: "2", s: "8" }], ["3", {
    n: "1",
    s: "1",
  }]]);
  assertEquals(differingBuckets(a, b), ["1", "2", "3"]);
});

Deno.test("diffRows: missing, extra, changed and pending rows by key hash", () => {
  const pg = [
    { kh: "k1", rh: "r1", label: "id=1" },
    { kh: "k2", rh: "r2", label: "id=2" },
    { kh: "k3", rh: "r3", label: "id=3" },
    { kh: "k5", rh: "r5new", label: "id=5", pending: true },
  ];
  const duck = [
    { kh: "k1", rh: "r1", label: "id=1" },
    { kh: "k2", rh: "r2-old", label: "id=2" },
    { kh: "k4", rh: "r4", label: "id=4" },
    { kh: "k5", rh: "r5", label: "id=5" },
  ];
  const d = diffRows(pg, duck);
  assertEquals(d.missing.map((r) => r.label), ["id=3"]);
  assertEquals(d.changed.map((r) => r.label), ["id=2"]);
  assertEquals(d.extra.map((r) => r.label), ["id=4"]);
  assertEquals(d.pending.map((r) => r.label), ["id=5"]);
});

Deno.test("diffRows: keyless rows pair by their own hash, duplicates counted", () => {
  const row = (h: string) => ({ kh: h, rh: h, label: "" });
  const d = diffRows([row("a"), row("a"), row("b")], [row("a"), row("c")]);
  assertEquals([d.missing.length, d.extra.length, d.changed.length], [2, 1, 0]);
});

Deno.test("Mutex runs holders one at a time in arrival order; forEachLimited bounds concurrency", async () => {
  const mutex = new Mutex();
  const log: string[] = [];
  const hold = (name: string, ms: number) =>
    mutex.run(async () => {
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
    });
  await Promise.all([hold("a", 20), hold("b", 1), hold("c", 1)]);
  assertEquals(log, ["a+", "a-", "b+", "b-", "c+", "c-"]);
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5], 2, async (n) => {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    running -= 1;
    if (n === 3) throw new Error("one fails, the rest go on");
    done.push(n);
  });
  assertEquals([peak, done.sort()], [2, [1, 2, 4, 5]]);
});

Deno.test("rotate: a list from any start, wrapping around", async () => {
  const { rotate } = await import("../../src/sync/ops/compare_tables.ts");
  assertEquals(rotate(["a", "b", "c"], 1), ["b", "c", "a"]);
  assertEquals(rotate(["a", "b", "c"], 5), ["c", "a", "b"]);
  assertEquals(rotate([], 3), []);
});

Deno.test("keyHashIn: the key's md5 among the listed hashes, hex only", async () => {
  const { keyHashIn } = await import("../../src/core/table_compare.ts");
  const key = [{ name: "id", pgCanonical: `"id"::text`, duckCanonical: `CAST("id" AS VARCHAR)` }];
  assertEquals(
    keyHashIn("pg", key as never, [{ kh: "ab12" }, { kh: "cd'; drop" }]),
    `md5(coalesce('V' || length("id"::text)::text || ':' || "id"::text, 'N')) IN ('ab12', 'cdd')`,
  );
});
