// The pure core of SYNC_METHOD=cdc: LSN text, replication frames and pgoutput
// messages, stream values in the first copy's COPY text, the fold of changes
// into net changes per key, and the key a table's changes are applied by.

import { assertEquals, assertThrows } from "../support/assert.ts";
import { formatLsn, parseLsn } from "../../src/core/lsn.ts";
import { parseFrame, parseLogical, statusUpdate, UNCHANGED } from "../../src/core/pgoutput.ts";
import { copyTextOf, intervalParts, parseArray } from "../../src/core/wal_values.ts";
import { ChangeSet } from "../../src/core/change_set.ts";
import { cdcKey, cdcNames } from "../../src/core/cdc_plan.ts";
import { recordEndBefore } from "../../src/io/postgres/cdc_catalog.ts";
import type { TablePlan } from "../../src/core/table_plan.ts";

Deno.test("parseLsn() and formatLsn() round-trip Postgres' text and order numerically", () => {
  assertEquals(formatLsn(parseLsn("16/B374D848")), "16/B374D848");
  assertEquals(parseLsn("0/10") < parseLsn("0/9"), false);
  assertEquals(parseLsn("1/0") > parseLsn("0/FFFFFFFF"), true);
  assertThrows(() => parseLsn("16-B3"));
});

/** Bytes of a message built from parts: strings as C strings unless raw. */
function bytes(
  ...parts:
    (number[] | string | { i16: number } | { i32: number } | { i64: bigint } | { raw: string })[]
): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (const p of parts) {
    if (Array.isArray(p)) out.push(...p);
    else if (typeof p === "string") out.push(...enc.encode(p), 0);
    else if ("raw" in p) out.push(...enc.encode(p.raw));
    else if ("i16" in p) out.push((p.i16 >> 8) & 255, p.i16 & 255);
    else if ("i32" in p) {
      out.push((p.i32 >>> 24) & 255, (p.i32 >>> 16) & 255, (p.i32 >>> 8) & 255, p.i32 & 255);
    } else for (let s = 56n; s >= 0n; s -= 8n) out.push(Number((p.i64 >> s) & 255n));
  }
  return new Uint8Array(out);
}
const ch = (c: string) => [c.charCodeAt(0)];
const text = (v: string) =>
  [ch("t"), { i32: new TextEncoder().encode(v).length }, { raw: v }] as const;

Deno.test("parseFrame() reads XLogData and keepalive frames", () => {
  const x = parseFrame(bytes(ch("w"), { i64: 5n }, { i64: 9n }, { i64: 0n }, [1, 2, 3]));
  assertEquals(x.type === "xlog" && [x.walStart, x.walEnd, [...x.data]], [5n, 9n, [1, 2, 3]]);
  const k = parseFrame(bytes(ch("k"), { i64: 0x1_0000_0002n }, { i64: 0n }, [1]));
  assertEquals(k, { type: "keepalive", walEnd: 0x1_0000_0002n, replyRequested: true });
});

Deno.test("parseLogical() reads Relation, Insert, Update with an old key, Delete, Truncate and Commit", () => {
  const rel = parseLogical(
    bytes(
      ch("R"),
      { i32: 42 },
      "app",
      "items",
      ch("d"),
      { i16: 2 },
      [1],
      "id",
      { i32: 23 },
      { i32: -1 },
      [0],
      "name",
      { i32: 25 },
      { i32: -1 },
    ),
  );
  assertEquals(rel, {
    type: "relation",
    relationId: 42,
    schema: "app",
    table: "items",
    replicaIdentity: "d",
    columns: [
      { name: "id", key: true, typeOid: 23, typmod: -1 },
      { name: "name", key: false, typeOid: 25, typmod: -1 },
    ],
  });
  const ins = parseLogical(
    bytes(ch("I"), { i32: 42 }, ch("N"), { i16: 2 }, ...text("7"), ...text("héllo")),
  );
  assertEquals(ins, { type: "insert", relationId: 42, row: ["7", "héllo"] });
  const upd = parseLogical(
    bytes(
      ch("U"),
      { i32: 42 },
      ch("K"),
      { i16: 2 },
      ...text("7"),
      ch("n"),
      ch("N"),
      { i16: 2 },
      ...text("8"),
      ch("u"),
    ),
  );
  assertEquals(upd, { type: "update", relationId: 42, old: ["7", null], row: ["8", UNCHANGED] });
  const del = parseLogical(bytes(ch("D"), { i32: 42 }, ch("K"), { i16: 2 }, ...text("8"), ch("n")));
  assertEquals(del, { type: "delete", relationId: 42, old: ["8", null] });
  assertEquals(parseLogical(bytes(ch("T"), { i32: 2 }, [0], { i32: 42 }, { i32: 43 })), {
    type: "truncate",
    relationIds: [42, 43],
  });
  const commit = parseLogical(bytes(ch("C"), [0], { i64: 100n }, { i64: 120n }, { i64: 0n }));
  assertEquals(commit.type === "commit" && [commit.commitLsn, commit.endLsn], [100n, 120n]);
});

Deno.test("statusUpdate() reports one position as written, flushed and applied", () => {
  const b = statusUpdate(0x1_0000_0010n, new Date(Date.UTC(2000, 0, 1)), true);
  const view = new DataView(b.buffer);
  assertEquals([
    String.fromCharCode(b[0]!),
    view.getBigUint64(1),
    view.getBigUint64(9),
    view.getBigUint64(17),
    view.getBigInt64(25),
    b[33],
  ], ["r", 0x1_0000_0010n, 0x1_0000_0010n, 0x1_0000_0010n, 0n, 1]);
});

Deno.test("stream values become the first copy's COPY text: bytea, intervals, arrays", () => {
  assertEquals(copyTextOf("bytea", "\\xdeadbeef"), "deadbeef");
  assertEquals(
    intervalParts("1 year 2 mons -3 days +04:05:06.5"),
    "14 months -3 days 14706500000 microseconds",
  );
  assertEquals(intervalParts("-1 days +02:00:00"), "0 months -1 days 7200000000 microseconds");
  assertEquals(intervalParts("-00:00:01.000001"), "0 months 0 days -1000001 microseconds");
  assertEquals(
    intervalParts("2562047788:00:54"),
    "0 months 0 days 9223372036854000000 microseconds",
  );
  assertEquals(intervalParts("infinity"), "infinity");
  assertEquals(parseArray('{a,NULL,"c \\"d\\"","",b\\,c}'), ["a", null, 'c "d"', "", "b,c"]);
  assertEquals(parseArray("{{1,2},{3,4}}"), [["1", "2"], ["3", "4"]]);
  assertEquals(parseArray("[0:1]={x,y}"), ["x", "y"]);
  assertEquals(parseArray("{}"), []);
  assertEquals(parseArray('{"(1,1),(0,0)";"(2,2),(1,1)"}', ";"), ["(1,1),(0,0)", "(2,2),(1,1)"]);
  assertEquals(copyTextOf("array", '{a,NULL,"c,d"}'), '["a",null,"c,d"]');
  // inet's output drops a host's mask; the first copy's ::text keeps it.
  assertEquals(copyTextOf("inet", "10.0.0.1"), "10.0.0.1/32");
  assertEquals(copyTextOf("inet", "::1"), "::1/128");
  assertEquals(copyTextOf("inet", "::ffff:10.0.0.1"), "::ffff:10.0.0.1/128");
  assertEquals(copyTextOf("inet", "10.0.0.1/8"), "10.0.0.1/8");
  assertEquals(
    copyTextOf("inet_array", "{10.0.0.1,NULL,::1/64,192.168.0.0/16}"),
    '["10.0.0.1/32",null,"::1/64","192.168.0.0/16"]',
  );
  assertThrows(() => parseArray("{a,b"));
});

Deno.test("ChangeSet folds changes into one net change per key, keeping unchanged values from the batch or naming the key to keep them from", () => {
  const set = new ChangeSet([0]);
  set.insert(["1", "a", "big-1"]);
  set.update(["1", "b", UNCHANGED], null);
  set.update(["2", "c", UNCHANGED], null);
  set.update(["30", "moved", UNCHANGED], ["3"]);
  set.delete(["4"]);
  set.insert(["4", "again", "big-4"]);
  set.delete(["5"]);
  const net = [...set.changes()];
  assertEquals(net, [
    { op: "upsert", values: ["1", "b", "big-1"], keepFrom: null },
    { op: "upsert", values: ["2", "c", UNCHANGED], keepFrom: ["2"] },
    { op: "delete", key: ["3"] },
    { op: "upsert", values: ["30", "moved", UNCHANGED], keepFrom: ["3"] },
    { op: "upsert", values: ["4", "again", "big-4"], keepFrom: null },
    { op: "delete", key: ["5"] },
  ]);
  assertEquals([set.inserts, set.updates, set.deletes], [2, 3, 2]);
  set.truncate();
  assertEquals([set.truncated, set.size], [true, 0]);
});

const plan = (over: Partial<TablePlan> = {}): TablePlan => ({
  schema: "app",
  table: "t",
  source: "app.t",
  target: "app_t",
  cursorColumn: "updated_at",
  cursorExplicit: false,
  softDeleteColumn: "deleted_at",
  primaryKey: null,
  mode: null,
  refreshEvery: 1,
  explicit: true,
  missing: false,
  ...over,
} as TablePlan);
const shape = (primaryKey: string[], isTable = true) => ({
  columns: ["id", "v"],
  notNull: new Set(["id"]),
  primaryKey,
  isTable,
});

Deno.test("cdcKey() takes the primary key, or a configured key with REPLICA IDENTITY FULL, and names the fix otherwise", () => {
  assertEquals(cdcKey(plan(), shape(["id"]), "d"), ["id"]);
  assertEquals(cdcKey(plan({ primaryKey: ["id"] }), shape([]), "f"), ["id"]);
  assertThrows(() => cdcKey(plan(), shape([]), "d"), Error, 'REPLICA IDENTITY FULL and set "key"');
  assertThrows(
    () => cdcKey(plan({ primaryKey: ["id"] }), shape([]), "d"),
    Error,
    'ALTER TABLE "app"."t" REPLICA IDENTITY FULL',
  );
  assertThrows(() => cdcKey(plan(), shape(["id"]), "n"), Error, "REPLICA IDENTITY FULL");
  assertThrows(() => cdcKey(plan(), shape([], false), "d"), Error, "SYNC_METHOD=cursor");
  assertEquals(cdcNames({ slot: "", publication: "pub" }, "a6a6e909-efe2-4c42-92bf-6263839bbb32"), {
    slot: "pds_a6a6e909efe24c42",
    publication: "pub",
  });
});

Deno.test("recordEndBefore() moves an insert position just past a page header back to the page's start", () => {
  const mb16 = 16 * 1024 * 1024;
  // Mid-page: unchanged.
  assertEquals(recordEndBefore(parseLsn("0/1A2B3C8"), 8192, mb16), parseLsn("0/1A2B3C8"));
  // Just past a short header (a page inside a segment): the page's start.
  assertEquals(recordEndBefore(parseLsn("0/1A2C018"), 8192, mb16), parseLsn("0/1A2C000"));
  // Just past a long header (a segment's first page): the segment's start.
  assertEquals(recordEndBefore(parseLsn("0/2000028"), 8192, mb16), parseLsn("0/2000000"));
  // 24 bytes into a segment's first page is inside its long header's reach: unchanged.
  assertEquals(recordEndBefore(parseLsn("0/2000018"), 8192, mb16), parseLsn("0/2000018"));
});
