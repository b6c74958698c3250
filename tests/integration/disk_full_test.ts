// A full disk under each place the program writes (PARQUET_DIR during a first
// copy and during an incremental batch, STATE_DIR, DUCKDB_PATH's directory),
// made real with a small tmpfs: the run ends within seconds with one DISK_FULL
// line naming the setting and its path, leaves no Postgres session idle in a
// transaction, status still reads the checkpoint, and once space is freed the
// next run makes DuckDB equal Postgres row for row. `sync --loop` retries and
// recovers by itself. Needs root (mount); otherwise every test is ignored.

import { assert, assertEquals, assertMatch, assertNotMatch } from "../support/assert.ts";
import {
  createTestDb,
  duckDemoRows,
  pgDemoRows,
  sharedCluster,
  spawnMain,
  type TestDb,
} from "../support/fixture.ts";
import { CheckpointStore } from "../../src/io/state/checkpoint.ts";
import { classifyLocalError } from "../../src/core/classify_error.ts";

/** Why these tests cannot run here, or null when a tmpfs can be mounted. */
async function tmpfsUnavailable(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not root: mounting a small tmpfs needs root";
  const dir = await Deno.makeTempDir({ prefix: "pds-disk-full-probe-" });
  try {
    const mounted = await sh(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
    if (!mounted.ok) return `mount -t tmpfs failed: ${mounted.text.trim()}`;
    await sh(["umount", dir]);
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function sh(args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(args[0]!, { args: args.slice(1), stderr: "piped" })
    .output();
  return { ok: out.success, text: new TextDecoder().decode(out.stderr) };
}

const skipReason = await tmpfsUnavailable();
if (skipReason) console.log(`disk_full_test.ts: every test ignored: ${skipReason}`);

/** Mounts a 30 MB tmpfs at `dir` for `use`, and always unmounts it. */
async function withSmallDisk(dir: string, use: () => Promise<void>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const mounted = await sh(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", dir]);
  if (!mounted.ok) throw new Error(`mount failed: ${mounted.text}`);
  try {
    await use();
  } finally {
    // Lazy: a killed child may still hold a file there for a moment.
    const un = await sh(["umount", dir]);
    if (!un.ok) await sh(["umount", "-l", dir]);
  }
}

/** Fills the file system of `dir` until only about `leave` bytes are free; returns the filler. */
async function fill(dir: string, leave: number): Promise<string> {
  const reserve = `${dir}/reserve`;
  if (leave > 0) await Deno.writeFile(reserve, new Uint8Array(leave));
  const filler = `${dir}/filler`;
  const file = await Deno.open(filler, { write: true, create: true, truncate: true });
  try {
    for (const size of [1 << 20, 4096]) {
      const chunk = new Uint8Array(size);
      try {
        while (true) await file.write(chunk);
      } catch { /* full at this chunk size */ }
    }
  } finally {
    file.close();
  }
  if (leave > 0) await Deno.remove(reserve);
  return filler;
}

/** Rows with about 400 bytes of incompressible text each. */
async function addRows(db: TestDb, n: number, tag: string): Promise<void> {
  await db.sql(`INSERT INTO analytics.subscriptions (email, plan, lifetime_value)
    SELECT '${tag}' || g || '-' || array_to_string(ARRAY(
             SELECT md5(g::text || '${tag}' || i) FROM generate_series(1, 12) i), '') || '@example.com',
           'pro', g
    FROM generate_series(1, ${n}) g`);
}

interface Run {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;
}

/** Runs main.ts; a run still going after `deadlineMs` is killed and fails the test. */
async function run(
  args: string[],
  env: Record<string, string>,
  deadlineMs = 60_000,
): Promise<Run> {
  const child = spawnMain(args, env);
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), deadlineMs);
  });
  const status = await Promise.race([child.status, timedOut]);
  clearTimeout(timer);
  if (status === "timeout") {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(
      `${args.join(" ")} did not finish within ${deadlineMs / 1000}s (it hangs): ${await stderr}`,
    );
  }
  return { code: status.code, stdout: await stdout, stderr: await stderr };
}

/** States of this database's sessions opened by the program. */
async function ourSessions(db: TestDb): Promise<string[]> {
  const out = await db.sql(
    `SELECT coalesce(state, '') FROM pg_stat_activity
     WHERE datname = '${db.name}' AND application_name = 'postgres-duckdb-sync'`,
  );
  return out === "" ? [] : out.split("\n");
}

async function assertEqualCopies(db: TestDb): Promise<void> {
  const pg = await pgDemoRows(db);
  const duck = await duckDemoRows(`${db.dir}/lake/warehouse.duckdb`);
  assertEquals(duck.length, pg.length, "DuckDB has as many rows as Postgres");
  assert(duck.join("\n") === pg.join("\n"), "DuckDB equals Postgres row for row");
}

/** One DISK_FULL line naming the setting and its path, and no other error line. */
function assertDiskFull(result: Run, setting: string, path: string): void {
  assertEquals(result.code, 1, result.stderr);
  const errors = result.stderr.split("\n").filter((l) => /\berror\b/.test(l));
  assertEquals(errors.length, 1, result.stderr);
  assertMatch(errors[0]!, /^error DISK_FULL: /);
  assert(errors[0]!.includes(`${setting} ${path}`), errors[0]);
  assertMatch(errors[0]!, new RegExp(`free space there, or .*${setting}`));
  assertNotMatch(result.stderr, /PG_ERROR|Postgres error|CHECKPOINT_CORRUPT|reset --yes/);
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: skipReason !== null, fn });

test("PARQUET_DIR full during the first copy: DISK_FULL at once, no open transaction, exact after freeing space", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/small`;
  try {
    await addRows(db, 20_000, "a");
    await withSmallDisk(disk, async () => {
      const filler = await fill(disk, 512 * 1024);
      const env = db.env({ PARQUET_DIR: `${disk}/parquet` });
      const full = await run(["sync", "--once"], env);
      assertDiskFull(full, "PARQUET_DIR", `${disk}/parquet`);
      assertEquals(await ourSessions(db), [], "the session is closed, not idle in transaction");
      // The partial batch file is gone: the program does not keep the disk full.
      assertEquals([...Deno.readDirSync(`${disk}/parquet`)].map((e) => e.name), []);
      await Deno.remove(filler);
      const again = await run(["sync", "--once"], env);
      assertEquals(again.code, 0, again.stderr);
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

test("PARQUET_DIR full during an incremental batch: DISK_FULL, the checkpoint stays, exact after freeing space", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/small`;
  try {
    await withSmallDisk(disk, async () => {
      const env = db.env({ PARQUET_DIR: `${disk}/parquet`, BATCH_SIZE: "50000" });
      assertEquals((await run(["sync", "--once"], env)).code, 0);
      const before = (await run(["status", "--json"], env)).stdout;
      await addRows(db, 20_000, "b");
      const filler = await fill(disk, 512 * 1024);
      const full = await run(["sync", "--once"], env);
      assertDiskFull(full, "PARQUET_DIR", `${disk}/parquet`);
      assertEquals(await ourSessions(db), []);
      assertEquals((await run(["status", "--json"], env)).stdout, before, "checkpoint unmoved");
      await Deno.remove(filler);
      const again = await run(["sync", "--once"], env);
      assertEquals(again.code, 0, again.stderr);
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

test("STATE_DIR full: DISK_FULL (not CHECKPOINT_CORRUPT), status still reads the checkpoint, exact after freeing space", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/small`;
  try {
    await withSmallDisk(disk, async () => {
      const env = db.env({ STATE_DIR: `${disk}/state` });
      assertEquals((await run(["sync", "--once"], env)).code, 0);
      await addRows(db, 2_000, "c");
      // Room for a small probe file but not for SQLite's shared-memory file:
      // SQLite then says only "disk I/O error".
      const filler = await fill(disk, 16 * 1024);
      const full = await run(["sync", "--once"], env);
      assertDiskFull(full, "STATE_DIR", `${disk}/state`);
      assertEquals(await ourSessions(db), []);
      const status = await run(["status"], env);
      assertEquals(status.code, 0, status.stderr);
      assertMatch(status.stdout, /analytics_subscriptions .*: incremental, cursor .*rows copied/);
      assertNotMatch(status.stdout + status.stderr, /CHECKPOINT_CORRUPT|reset/);
      await Deno.remove(filler);
      const again = await run(["sync", "--once"], env);
      assertEquals(again.code, 0, again.stderr);
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

test("STATE_DIR filling up while the store is open: SQLite's disk-full error is kept, not a failed ROLLBACK", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pds-disk-full-" });
  try {
    await withSmallDisk(dir, async () => {
      const store = CheckpointStore.open(dir);
      try {
        store.commit({ table: "t", source: "public.t", event: { type: "keyset_copy_started" } });
        await fill(dir, 0);
        let error: unknown = null;
        try {
          for (let seq = 1; seq < 100_000; seq++) {
            store.commit({
              table: "t",
              source: "public.t",
              origin: "db:5432/app",
              event: {
                type: "batch_committed",
                position: { cursor: "x".repeat(2000), key: ["1"] },
              },
              batch: {
                table: "t",
                seq,
                finishedAt: "2026-01-01T00:00:00Z",
                rows: 1,
                bytes: 1,
                durationMs: 1,
                cursorFrom: "y".repeat(4000),
                cursorTo: "z".repeat(4000),
                file: "",
              },
            });
          }
        } catch (e) {
          error = e;
        }
        assert(error !== null, "the store filled the disk");
        assertMatch(String(error), /database or disk is full/);
        const classified = classifyLocalError(error, {
          parquetDir: "parquet",
          stateDir: dir,
          duckdbPath: "lake/warehouse.duckdb",
        });
        assertEquals(classified?.code, "DISK_FULL");
        assert(classified!.message.includes(`STATE_DIR ${dir}`), classified!.message);
      } finally {
        store.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

test("DUCKDB_PATH's directory full: DISK_FULL naming DUCKDB_PATH, exact after freeing space", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/lake`;
  try {
    await withSmallDisk(disk, async () => {
      const env = db.env();
      assertEquals((await run(["sync", "--once"], env)).code, 0);
      await addRows(db, 20_000, "d");
      const filler = await fill(disk, 512 * 1024);
      const full = await run(["sync", "--once"], env);
      assertDiskFull(full, "DUCKDB_PATH", `${disk}/warehouse.duckdb`);
      assertEquals(await ourSessions(db), []);
      await Deno.remove(filler);
      const again = await run(["sync", "--once"], env);
      assertEquals(again.code, 0, again.stderr);
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

/** A `sync --loop` child whose stderr is collected, with a deadline on every wait. */
function startLoop(env: Record<string, string>) {
  const child = spawnMain(["sync", "--loop", "--interval", "1"], env);
  let stderr = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const waitFor = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (exited && !(await check())) throw new Error(`exited before ${what}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    stderr: () => stderr,
    waitFor,
    /** SIGTERM; the loop must exit 0 within seconds. */
    async stop(): Promise<void> {
      child.kill("SIGTERM");
      const stopped = Date.now();
      await waitFor("the exit after SIGTERM", () => exited);
      assert(Date.now() - stopped < 15_000, "stops within seconds");
      assertEquals((await status).code, 0, stderr);
      await reading;
    },
    async kill(): Promise<void> {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await status;
      await reading.catch(() => {});
    },
  };
}

test("sync --loop on a full PARQUET_DIR: retries with a DISK_FULL line each time, holds no transaction, recovers, stops on SIGTERM", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/small`;
  try {
    await addRows(db, 20_000, "e");
    await withSmallDisk(disk, async () => {
      const filler = await fill(disk, 512 * 1024);
      const loop = startLoop(db.env({ PARQUET_DIR: `${disk}/parquet` }));
      try {
        await loop.waitFor("two DISK_FULL retries", () =>
          (loop.stderr().match(
            /error DISK_FULL: No space left in PARQUET_DIR .*\(retrying in \d+s\)/g,
          ) ?? []).length >= 2);
        const states = await ourSessions(db);
        assert(!states.some((s) => s.startsWith("idle in transaction")), states.join(", "));
        await Deno.remove(filler);
        await loop.waitFor(
          "recovery",
          () => /recovered after \d+ failed attempts?/.test(loop.stderr()),
        );
        await loop.waitFor(
          "the bootstrap",
          () => /Bootstrap of analytics.subscriptions complete/.test(loop.stderr()),
        );
        await loop.stop();
      } finally {
        await loop.kill();
      }
      assertNotMatch(loop.stderr(), /PG_ERROR|Postgres error/);
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

test("sync --loop started on a full STATE_DIR: waits with a DISK_FULL line each time, then syncs once space is freed", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/small`;
  try {
    await withSmallDisk(disk, async () => {
      const env = db.env({ STATE_DIR: `${disk}/state` });
      assertEquals((await run(["sync", "--once"], env)).code, 0);
      await addRows(db, 2_000, "f");
      const filler = await fill(disk, 16 * 1024);
      const loop = startLoop(env);
      try {
        await loop.waitFor("two DISK_FULL retries", () =>
          (loop.stderr().match(
            /error DISK_FULL: No space left in STATE_DIR .*\(retrying in \d+s\)/g,
          ) ?? []).length >= 2);
        await Deno.remove(filler);
        await loop.waitFor(
          "the incremental cycle",
          () => /cycle analytics_subscriptions incremental: 2,000 rows/.test(loop.stderr()),
        );
        await loop.stop();
      } finally {
        await loop.kill();
      }
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});

test("sync --loop with DUCKDB_PATH's directory full: retries, and the same process recovers once space is freed", async () => {
  const db = await createTestDb(await sharedCluster());
  const disk = `${db.dir}/lake`;
  try {
    await withSmallDisk(disk, async () => {
      const env = db.env();
      assertEquals((await run(["sync", "--once"], env)).code, 0);
      await addRows(db, 20_000, "g");
      const filler = await fill(disk, 512 * 1024);
      const loop = startLoop(env);
      try {
        await loop.waitFor("two DISK_FULL retries", () =>
          (loop.stderr().match(
            /error DISK_FULL: No space left for DUCKDB_PATH .*\(retrying in \d+s\)/g,
          ) ?? []).length >= 2);
        await Deno.remove(filler);
        await loop.waitFor(
          "recovery",
          () => /recovered after \d+ failed attempts?/.test(loop.stderr()),
        );
        await loop.stop();
      } finally {
        await loop.kill();
      }
      await assertEqualCopies(db);
    });
  } finally {
    await db.cleanup();
  }
});
