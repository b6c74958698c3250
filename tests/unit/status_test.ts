// `status`'s rows and lines from a checkpoint record, without a checkpoint file.

import { assertEquals } from "../support/assert.ts";
import { formatStatusRow, statusRow } from "../../src/sync/ops/status.ts";
import type { TableCheckpoint } from "../../src/io/state/checkpoint.ts";
import type { ScanState } from "../../src/io/postgres/block_scan.ts";

const checkpoint: TableCheckpoint = {
  table: "analytics_subscriptions",
  source: "analytics.subscriptions",
  origin: "db:5432/app",
  state: { kind: "incremental", position: { cursor: "2024-01-02 00:00:00+00", key: ["42"] } },
  mode: "incremental",
  cursor: "2024-01-02 00:00:00+00",
  key: ["42"],
  rowsCopied: 10_000,
  batches: 3,
  lastBatchAt: "2024-01-02T00:00:01.000Z",
  updatedAt: null,
};

Deno.test("statusRow(): from the configured source, no scan under way", () => {
  const row = statusRow(checkpoint, { scan: null, configuredOrigin: "db:5432/app" });
  assertEquals(row.fromConfiguredSource, true);
  assertEquals(row.firstCopy, null);
  assertEquals(
    formatStatusRow(row, "db:5432/app"),
    "analytics_subscriptions (analytics.subscriptions on db:5432/app): incremental, cursor 2024-01-02 00:00:00+00, key 42, 10,000 rows copied in 3 batches, last batch 2024-01-02T00:00:01.000Z",
  );
});

Deno.test("statusRow(): another source is named; unconfigured means unknown", () => {
  const other = statusRow(checkpoint, { scan: null, configuredOrigin: "other:5432/app" });
  assertEquals(other.fromConfiguredSource, false);
  assertEquals(
    formatStatusRow(other, "other:5432/app").endsWith(
      "; NOT the configured source other:5432/app (sync would refuse it: SOURCE_CHANGED)",
    ),
    true,
  );
  assertEquals(
    statusRow(checkpoint, { scan: null, configuredOrigin: null }).fromConfiguredSource,
    null,
  );
});

Deno.test("statusRow(): a first copy by block ranges shows its progress", () => {
  const scan = { blocks: 3421, nextBlock: 221 } as ScanState;
  const row = statusRow({ ...checkpoint, mode: "bootstrap", cursor: null, key: null }, {
    scan,
    configuredOrigin: null,
  });
  assertEquals(row.firstCopy, "block 221 of 3421 (6%)");
  assertEquals(
    formatStatusRow(row, "x").includes("cursor -, key -, ") &&
      formatStatusRow(row, "x").endsWith(", first copy at block 221 of 3421 (6%)"),
    true,
  );
});
