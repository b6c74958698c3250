import { join } from "node:path";
import { assertEquals } from "../support/assert.ts";
import {
  batchFileName,
  listBatchFiles,
  partialPath,
  pruneBatchFiles,
  removePartials,
} from "../../src/io/state/batch_files.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "batch_files_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function touch(dir: string, ...names: string[]): Promise<void> {
  for (const name of names) await Deno.writeTextFile(join(dir, name), "x");
}

async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

const file = (table: string, seq: number) =>
  batchFileName(table, seq, null, "2024-01-02 03:04:05+00");

Deno.test("batchFileName() zero-pads the sequence and names the cursor range", () => {
  assertEquals(
    batchFileName("analytics_subs", 7, null, "2024-01-02 03:04:05.123456+00"),
    "analytics_subs__00000007__start__2024-01-02T03-04-05.123456Z.parquet",
  );
  assertEquals(
    batchFileName("t", 12345678, "2024-01-01 00:00:00+00", "2024-01-02 00:00:00+00"),
    "t__12345678__2024-01-01T00-00-00Z__2024-01-02T00-00-00Z.parquet",
  );
});

Deno.test("batchFileName() sanitizes non-timestamp cursors", () => {
  assertEquals(batchFileName("t", 1, "10", "a/b c"), "t__00000001__10__a_b_c.parquet");
});

Deno.test("batchFileName() sorts by sequence number", () => {
  const names = [file("t", 10), file("t", 2), file("t", 1), file("t", 100)];
  assertEquals(names.sort(), [file("t", 1), file("t", 2), file("t", 10), file("t", 100)]);
});

Deno.test("partialPath() appends .partial inside the directory", () => {
  assertEquals(
    partialPath("/data/pq", "t__00000001.parquet"),
    "/data/pq/t__00000001.parquet.partial",
  );
});

Deno.test("listBatchFiles() lists only this table's parquet files, oldest first", async () => {
  await withTempDir(async (dir) => {
    await touch(
      dir,
      file("t", 3),
      file("t", 1),
      file("t", 2),
      file("other", 1),
      `${file("t", 4)}.partial`,
      "t__notes.txt",
    );
    await Deno.mkdir(join(dir, "t__dir.parquet"));
    assertEquals(await listBatchFiles(dir, "t"), [file("t", 1), file("t", 2), file("t", 3)]);
  });
});

Deno.test("listBatchFiles() returns [] for a missing directory", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await listBatchFiles(join(dir, "nope"), "t"), []);
  });
});

Deno.test("pruneBatchFiles() keeps the newest N files of the table", async () => {
  await withTempDir(async (dir) => {
    await touch(dir, ...[1, 2, 3, 4, 5].map((n) => file("t", n)), file("other", 1));
    assertEquals(await pruneBatchFiles(dir, "t", 2), 3);
    assertEquals(await namesIn(dir), [file("other", 1), file("t", 4), file("t", 5)].sort());
  });
});

Deno.test("pruneBatchFiles() removes nothing when there are at most N files", async () => {
  await withTempDir(async (dir) => {
    await touch(dir, file("t", 1), file("t", 2));
    assertEquals(await pruneBatchFiles(dir, "t", 2), 0);
    assertEquals(await pruneBatchFiles(dir, "t", 10), 0);
    assertEquals(await namesIn(dir), [file("t", 1), file("t", 2)]);
  });
});

Deno.test("pruneBatchFiles() with keep 0 removes every batch file of the table", async () => {
  await withTempDir(async (dir) => {
    await touch(dir, file("t", 1), file("t", 2), file("u", 1));
    assertEquals(await pruneBatchFiles(dir, "t", 0), 2);
    assertEquals(await namesIn(dir), [file("u", 1)]);
  });
});

Deno.test("pruneBatchFiles() returns 0 for a missing directory", async () => {
  await withTempDir(async (dir) => {
    assertEquals(await pruneBatchFiles(join(dir, "nope"), "t", 1), 0);
  });
});

Deno.test("removePartials() deletes .partial files and nothing else", async () => {
  await withTempDir(async (dir) => {
    await touch(dir, file("t", 1), `${file("t", 2)}.partial`, "x.partial", "notes.txt");
    await removePartials(dir);
    assertEquals(await namesIn(dir), [file("t", 1), "notes.txt"].sort());
  });
});

Deno.test("removePartials() ignores a missing directory", async () => {
  await withTempDir(async (dir) => {
    await removePartials(join(dir, "nope"));
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("listBatchFiles() ignores another table sharing the prefix and sorts by sequence", async () => {
  const { listBatchFiles } = await import("../../src/io/state/batch_files.ts");
  const dir = await Deno.makeTempDir();
  try {
    for (
      const name of [
        "s_t__100000000__a__b.parquet",
        "s_t__99999999__a__b.parquet",
        "s_t__x__00000001__a__b.parquet",
      ]
    ) await Deno.writeTextFile(join(dir, name), "");
    assertEquals(await listBatchFiles(dir, "s_t"), [
      "s_t__99999999__a__b.parquet",
      "s_t__100000000__a__b.parquet",
    ]);
    assertEquals(await listBatchFiles(dir, "s_t__x"), ["s_t__x__00000001__a__b.parquet"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileSafe: distinct table names never share a file name", async () => {
  const { fileSafe } = await import("../../src/io/state/batch_files.ts");
  const names = ["a/b", "a_b", "a%2Fb", "a\\b", "a\0b"];
  const safe = names.map(fileSafe);
  assertEquals(new Set(safe).size, names.length);
  assertEquals(safe, ["a%2Fb", "a_b", "a%252Fb", "a%5Cb", "a%00b"]);
});

Deno.test("withScratchFiles removes its files after success and after failure", async () => {
  const { withScratchFiles } = await import("../../src/io/state/batch_files.ts");
  const dir = await Deno.makeTempDir({ prefix: "pds-unit-scratch-" });
  try {
    const seen = await withScratchFiles(dir, "a/b", async (csv, parquet) => {
      await Deno.writeTextFile(csv, "x");
      await Deno.writeTextFile(parquet, "y");
      return [csv, parquet];
    });
    assertEquals(seen, [`${dir}/a%2Fb.csv.partial`, `${dir}/a%2Fb.parquet.partial`]);
    await withScratchFiles(dir, "t", async (csv) => {
      await Deno.writeTextFile(csv, "x");
      throw new Error("boom");
    }).catch(() => {});
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fileSafe: a table name never puts a DuckDB glob character in a file name", async () => {
  const { fileSafe } = await import("../../src/io/state/batch_files.ts");
  assertEquals(fileSafe("a*b?c[1]{x}"), "a%2Ab%3Fc%5B1%5D%7Bx%7D");
  assertEquals(fileSafe(`SalesEU_order items "q" 'x'`), `SalesEU_order items "q" 'x'`);
});
