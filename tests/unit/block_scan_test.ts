import { assert, assertEquals } from "../support/assert.ts";
import {
  blocksFor,
  canScan,
  densestAfter,
  nextBlocksPerBatch,
  nextRange,
  rowsPerFullBlock,
  type ScanState,
} from "../../src/io/postgres/block_scan.ts";
import type { TableInfo } from "../../src/io/postgres/mod.ts";

const state = (blocks: number, nextBlock: number, blocksPerBatch: number): ScanState => ({
  horizon: { at: "2026-01-01 00:00:00+00", usedLookback: false, zone: "UTC" },
  filenode: "1234",
  blocks,
  nextBlock,
  blocksPerBatch,
  recentFrom: "2025-12-31 23:00:00+00",
  xmin: "1000",
});

Deno.test("nextRange walks [0, blocks) in half-open steps and ends with null", () => {
  let s = state(960, 0, 300);
  const ranges: [number, number][] = [];
  for (let r = nextRange(s); r; r = nextRange(s)) {
    ranges.push([r.from, r.to]);
    s = { ...s, nextBlock: r.to };
  }
  assertEquals(ranges, [[0, 300], [300, 600], [600, 960]]);
  assertEquals(nextRange(state(0, 0, 10)), null);
});

Deno.test("nextRange folds a remainder of up to a quarter batch into the last batch", () => {
  assertEquals(nextRange(state(1250, 1000, 200)), { from: 1000, to: 1250 });
  assertEquals(nextRange(state(1251, 1000, 200)), { from: 1000, to: 1200 });
});

Deno.test("blocksFor aims at the batch's rows; unknown density assumes 50 rows a block", () => {
  assertEquals(blocksFor(250_000, 86.5), 2890);
  assertEquals(blocksFor(1_000, NaN), 20);
  assertEquals(blocksFor(1_000, 0), 20);
  assertEquals(blocksFor(1, 500), 1);
});

Deno.test("nextBlocksPerBatch adapts to the rows seen, doubles on empty stretches, grows at most 8x", () => {
  assertEquals(nextBlocksPerBatch(1_000, 20, 2_000), 10);
  assertEquals(nextBlocksPerBatch(1_000, 20, 0), 40);
  assertEquals(nextBlocksPerBatch(100_000, 10, 10), 80);
  assert(nextBlocksPerBatch(1_000, 1, 100_000) >= 1);
});

Deno.test("nextBlocksPerBatch after a sparse stretch stays within the densest rows per block known", () => {
  // 250,000 rows wanted; the statistics said 48 rows per block, but the first
  // 5,208 blocks held 362 live rows (dead tuples of a big UPDATE).
  const next = nextBlocksPerBatch(250_000, 5_208, 362, 48);
  assertEquals(next, 10_417); // 500,000 rows at 48 per block: at most twice the batch
  // Without the density known (a scan saved before it was kept): up to 8x.
  assertEquals(nextBlocksPerBatch(250_000, 5_208, 362), 41_664);
  // A denser stretch than estimated shrinks the next batch to it.
  assertEquals(nextBlocksPerBatch(250_000, 5_208, 500_000, 48), 2_604);
  // As dense as estimated: the batch aims at its size, the bound does not bite.
  assertEquals(nextBlocksPerBatch(250_000, 5_000, 240_000, 50), 5_208);
  assertEquals(densestAfter(48, 5_208, 362), 48);
  assertEquals(densestAfter(48, 1_000, 96_000), 96);
  assertEquals(densestAfter(undefined, 0, 0), 0);
});

Deno.test("rowsPerFullBlock: rows of a sampled size that fit in an 8 KiB block", () => {
  // 100-byte rows take 104 + 4: (8192 - 24) / 108 = 75.
  assertEquals(rowsPerFullBlock(8192, 100), 75);
  assertEquals(rowsPerFullBlock(8192, 0), 0);
  assertEquals(rowsPerFullBlock(8192, NaN), 0);
});

Deno.test("canScan: only ordinary heap tables without children, with a timestamp cursor, on PostgreSQL 14+", () => {
  const table = {
    kind: "r",
    hasChildren: false,
    accessMethod: "heap",
    cursorIsTime: true,
  } as TableInfo;
  assert(canScan(table, 150004));
  assert(!canScan(table, 130010));
  assert(!canScan({ ...table, kind: "p" }, 150004));
  assert(!canScan({ ...table, kind: "v" }, 150004));
  assert(!canScan({ ...table, hasChildren: true }, 150004), "inheritance children");
  assert(!canScan({ ...table, accessMethod: "columnar" }, 150004), "not a heap");
  assert(!canScan({ ...table, cursorIsTime: false }, 150004));
  assert(!canScan({ ...table, partitions: [] } as TableInfo, 150004));
});
