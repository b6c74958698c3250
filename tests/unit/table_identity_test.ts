// The continuity checks of SYNC_METHOD=cdc (core/table_identity.ts) and the
// change fold's handling of a key briefly held twice (core/change_set.ts).

import { assertEquals } from "../support/assert.ts";
import {
  compareRelation,
  compareWithRecorded,
  schemaChanged,
  slotBreak,
} from "../../src/core/table_identity.ts";
import { ChangeSet } from "../../src/core/change_set.ts";

const recorded = {
  relid: "16400",
  pgTypes: { id: "integer", a: "text", b: "text" },
  attnums: { id: 1, a: 2, b: 3 },
};
const col = (name: string, attnum: number, pgType = "text") => ({ name, attnum, pgType });

Deno.test("compareWithRecorded() is same for the table its copy was made from", () => {
  const verdict = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("a", 2), col("b", 3)],
  });
  assertEquals(verdict.kind, "same");
});

Deno.test("compareWithRecorded() breaks on another relation under the name", () => {
  const verdict = compareWithRecorded(recorded, {
    oid: "16999",
    columns: [col("id", 1, "integer"), col("a", 2), col("b", 3)],
  });
  assertEquals(verdict.kind, "break");
});

Deno.test("compareWithRecorded() breaks on a column dropped and added again, swapped names, a new type", () => {
  const readded = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("b", 3), col("a", 4)],
  });
  assertEquals(readded.kind, "break");
  const swapped = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("b", 2), col("a", 3)],
  });
  assertEquals(swapped.kind, "break");
  const retyped = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "bigint"), col("a", 2), col("b", 3)],
  });
  assertEquals(retyped.kind, "break");
  const renamed = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("a", 2), col("c", 3)],
  });
  assertEquals(renamed.kind, "break");
});

Deno.test("compareWithRecorded() follows columns only added or dropped", () => {
  const added = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("a", 2), col("b", 3), col("c", 4)],
  });
  assertEquals(added.kind, "follow");
  const dropped = compareWithRecorded(recorded, {
    oid: "16400",
    columns: [col("id", 1, "integer"), col("b", 3)],
  });
  assertEquals(dropped.kind, "follow");
});

const streamed = [
  { name: "id", pgType: "integer", typeOid: 23, typmod: -1 },
  { name: "a", pgType: "text", typeOid: 25, typmod: -1 },
  { name: "b", pgType: "text", typeOid: 25, typmod: -1 },
];
const rel = (name: string, typeOid = 25, typmod = -1) => ({ name, key: false, typeOid, typmod });

Deno.test("compareRelation() tells a message of the same shape, one to follow and a break", () => {
  assertEquals(compareRelation(streamed, [rel("id", 23), rel("a"), rel("b")]).kind, "same");
  assertEquals(
    compareRelation(streamed, [rel("id", 23), rel("a"), rel("b"), rel("c")]).kind,
    "follow",
  );
  assertEquals(compareRelation(streamed, [rel("id", 23), rel("b")]).kind, "follow");
  // Swapped names, a column dropped and added again (now last), a new type or typmod.
  assertEquals(compareRelation(streamed, [rel("id", 23), rel("b"), rel("a")]).kind, "break");
  assertEquals(compareRelation(streamed, [rel("id", 20), rel("a"), rel("b")]).kind, "break");
  assertEquals(
    compareRelation(streamed, [rel("id", 23), rel("a", 25, 14), rel("b")]).kind,
    "break",
  );
  // A column renamed in the stream (a name gone, one come), even the last one: a break.
  assertEquals(compareRelation(streamed, [rel("id", 23), rel("away"), rel("b")]).kind, "break");
  assertEquals(compareRelation(streamed, [rel("id", 23), rel("a"), rel("b2")]).kind, "break");
  // A generated column is not in the stream, as pgoutput leaves it out.
  const withGenerated = [...streamed, { name: "g", pgType: "integer", generated: true }];
  assertEquals(compareRelation(withGenerated, [rel("id", 23), rel("a"), rel("b")]).kind, "same");
});

Deno.test("slotBreak() names a slot that vanished or moved past what this STATE_DIR confirmed", () => {
  assertEquals(slotBreak(null, "s", { tables: 0, confirmed: null }), null);
  assertEquals(typeof slotBreak(null, "s", { tables: 2, confirmed: 100n }), "string");
  assertEquals(
    slotBreak({ name: "s", confirmedFlush: 90n }, "s", { tables: 2, confirmed: 100n }),
    null,
  );
  assertEquals(
    typeof slotBreak({ name: "s", confirmedFlush: 150n }, "s", { tables: 2, confirmed: 100n }),
    "string",
  );
  // An older STATE_DIR that never recorded a position: only a missing slot is known.
  assertEquals(
    slotBreak({ name: "s", confirmedFlush: 150n }, "s", { tables: 2, confirmed: null }),
    null,
  );
});

Deno.test("ChangeSet.delete() with the whole old row keeps another row's write of the key", () => {
  const set = new ChangeSet([0]);
  set.insert(["1", "b"]);
  set.delete(["1"], ["1", "a"]);
  assertEquals([...set.changes()], [{ op: "upsert", values: ["1", "b"], keepFrom: null }]);
  set.delete(["1"], ["1", "b"]);
  assertEquals([...set.changes()], [{ op: "delete", key: ["1"] }]);
  // Without the whole row (a primary key names it), a delete is a delete.
  const plain = new ChangeSet([0]);
  plain.insert(["1", "b"]);
  plain.delete(["1"]);
  assertEquals([...plain.changes()], [{ op: "delete", key: ["1"] }]);
});

Deno.test("schemaChanged() is the one test of both methods: types, attribute numbers, added or dropped columns", () => {
  const same = [col("id", 1, "integer"), col("a", 2), col("b", 3)];
  assertEquals(schemaChanged(recorded, same), false);
  assertEquals(schemaChanged(recorded, [...same, col("c", 4)]), true);
  assertEquals(schemaChanged(recorded, same.slice(0, 2)), true);
  assertEquals(schemaChanged(recorded, [col("id", 1, "bigint"), col("a", 2), col("b", 3)]), true);
  assertEquals(schemaChanged(recorded, [col("id", 1, "integer"), col("a", 5), col("b", 3)]), true);
});
