// A place the sync writes on a read-only file system (a tmpfs mounted
// read-only) is one LOCAL_IO_ERROR line naming the setting and the path, for
// DUCKDB_PATH and PARQUET_DIR alike; `sync --loop` retries, and goes on by
// itself once the file system is made writable (the fix the message names).
// Needs root (mount); otherwise the tests are ignored.

import { assertEquals, assertMatch } from "../support/assert.ts";
import { duckRows, runMain, spawnMain } from "../support/fixture.ts";
import { withDb } from "../support/with_db.ts";
import { collect, waitFor } from "../support/child_output.ts";

async function sh(args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(args[0]!, { args: args.slice(1), stderr: "piped" })
    .output();
  return { ok: out.success, text: new TextDecoder().decode(out.stderr) };
}

async function mountUnavailable(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not root: mounting a tmpfs needs root";
  const dir = await Deno.makeTempDir({ prefix: "pds-ro-probe-" });
  try {
    const mounted = await sh(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir]);
    if (!mounted.ok) return `mount -t tmpfs failed: ${mounted.text.trim()}`;
    await sh(["umount", dir]);
    return null;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const skipReason = await mountUnavailable();
if (skipReason) console.log(`read_only_test.ts: every test ignored: ${skipReason}`);

/** A read-only tmpfs at `dir` for `use`, always unmounted. */
async function withReadOnly(dir: string, use: () => Promise<void>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const mounted = await sh(["mount", "-t", "tmpfs", "-o", "ro,size=30m", "tmpfs", dir]);
  if (!mounted.ok) throw new Error(`mount failed: ${mounted.text}`);
  try {
    await use();
  } finally {
    const un = await sh(["umount", dir]);
    if (!un.ok) await sh(["umount", "-l", dir]);
  }
}

Deno.test({
  name:
    "DUCKDB_PATH or PARQUET_DIR on a read-only file system: LOCAL_IO_ERROR naming the setting and the path",
  ignore: skipReason !== null,
  fn: () =>
    withDb({ seedRows: false }, async (db) => {
      const ro = `${db.dir}/ro`;
      await withReadOnly(ro, async () => {
        const cases: [string, string, string][] = [
          ["DUCKDB_PATH", `${ro}/warehouse.duckdb`, ro],
          ["DUCKDB_PATH", `${ro}/lake/warehouse.duckdb`, `${ro}/lake`],
          ["PARQUET_DIR", `${ro}/parquet`, `${ro}/parquet`],
        ];
        for (const [setting, path, where] of cases) {
          const r = await runMain(["sync", "--once"], db.env({ [setting]: path }));
          assertEquals(r.code, 1, r.stderr);
          assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
          assertMatch(
            r.stderr,
            new RegExp(
              `^error LOCAL_IO_ERROR: Cannot write ${setting} ${path}: .*Read-only file system.* \\(${where} is on a read-only file system or not writable by this user: make it writable`,
            ),
          );
        }
      });
    }),
});

Deno.test({
  name: "sync --loop retries a read-only DUCKDB_PATH and syncs once it is mounted read-write",
  ignore: skipReason !== null,
  fn: () =>
    withDb({}, async (db) => {
      const ro = `${db.dir}/ro`;
      await withReadOnly(ro, async () => {
        const path = `${ro}/warehouse.duckdb`;
        const child = spawnMain(
          ["sync", "--loop", "--interval", "1"],
          db.env({ DUCKDB_PATH: path }),
        );
        const err = collect(child.stderr);
        const out = collect(child.stdout);
        try {
          await waitFor(
            () => (err.text().match(/LOCAL_IO_ERROR: Cannot write DUCKDB_PATH/g) ?? []).length >= 2,
            60_000,
            () => `two retries: ${err.text()}`,
          );
          const remounted = await sh(["mount", "-o", "remount,rw", ro]);
          assertEquals(remounted.ok, true, remounted.text);
          await waitFor(
            () => /cycle analytics_subscriptions .*10,000 rows/.test(err.text()),
            120_000,
            () => `a cycle after the remount: ${err.text()}`,
          );
        } finally {
          try {
            child.kill("SIGTERM");
          } catch { /* it has exited already */ }
          await child.status;
          await Promise.all([err.done, out.done]);
        }
        const [row] = await duckRows(
          path,
          "SELECT count(*)::INTEGER AS n FROM analytics_subscriptions",
        );
        assertEquals(row?.n, 10_000);
      });
    }),
});
