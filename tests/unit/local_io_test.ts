import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { FileWriteError, isDiskFull, placeOf } from "../../src/core/local_io.ts";
import { classifyLocalError } from "../../src/core/classify_error.ts";
import { SyncError } from "../../src/core/errors.ts";
import { classifyPgError } from "../../src/io/postgres/mod.ts";
import { loadConfig } from "../../src/core/config.ts";

const places = {
  parquetDir: "/data/lake/parquet",
  stateDir: "/data/state",
  duckdbPath: "/data/lake/warehouse.duckdb",
};

/** What Deno throws for a write on a full disk. */
function enospc(path?: string): Error {
  return Object.assign(
    new Error(`No space left on device (os error 28)${path ? `: writefile '${path}'` : ""}`),
    { code: "ENOSPC" },
  );
}

/** What node:sqlite throws. */
function sqliteError(errcode: number, message: string): Error {
  return Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR", errcode, errstr: message });
}

const duckdbFull = new Error(
  'TransactionContext Error: Failed to commit: Could not write file "/data/lake/warehouse.duckdb.wal": No space left on device',
);

Deno.test("isDiskFull() knows ENOSPC, SQLITE_FULL and DuckDB's message, also as a cause", () => {
  assert(isDiskFull(enospc()));
  assert(isDiskFull(sqliteError(13, "database or disk is full")));
  assert(isDiskFull(duckdbFull));
  assert(isDiskFull(new FileWriteError("/x.csv", enospc())));
  assert(!isDiskFull(new Error("permission denied")));
  assert(!isDiskFull(sqliteError(11, "database disk image is malformed")));
  assert(!isDiskFull(Object.assign(new Error("relation does not exist"), { code: "42P01" })));
});

Deno.test("placeOf() picks the setting whose path the error names, the longest first", () => {
  assertEquals(placeOf(duckdbFull, places), "DUCKDB_PATH");
  // PARQUET_DIR inside DUCKDB_PATH's directory is still PARQUET_DIR.
  assertEquals(
    placeOf(new FileWriteError("/data/lake/parquet/t__next-1.csv.partial", enospc()), places),
    "PARQUET_DIR",
  );
  assertEquals(placeOf(enospc("/data/state/.write-test-1"), places), "STATE_DIR");
  assertEquals(placeOf(sqliteError(13, "database or disk is full"), places), "STATE_DIR");
  assertEquals(placeOf(enospc(), places), null);
  // A DuckDB spill file beside the database.
  assertEquals(
    placeOf(new Error('Could not write "/data/lake/duckdb_temp_1.block"'), places),
    "DUCKDB_PATH",
  );
});

Deno.test("classifyLocalError() makes DISK_FULL name the setting, its path and the fix; a loop retries it", () => {
  const parquet = classifyLocalError(
    new FileWriteError("/data/lake/parquet/t__next-1.csv.partial", enospc()),
    places,
  )!;
  assertEquals(parquet.code, "DISK_FULL");
  assert(parquet.transient);
  assertEquals(parquet.exitCode, 1);
  assertMatch(parquet.message, /^No space left in PARQUET_DIR \/data\/lake\/parquet \(/);
  assertMatch(parquet.message, /free space there, or set PARQUET_DIR to a directory/);
  assert(!parquet.message.includes("\n"));

  const state = classifyLocalError(sqliteError(13, "database or disk is full"), places)!;
  assertEquals(state.code, "DISK_FULL");
  assertMatch(state.message, /^No space left in STATE_DIR \/data\/state .*set STATE_DIR/);
  assert(!/reset/.test(state.message), "never advises a reset");

  const duck = classifyLocalError(duckdbFull, places)!;
  assertEquals(duck.code, "DISK_FULL");
  assertMatch(
    duck.message,
    /^No space left for DUCKDB_PATH \/data\/lake\/warehouse.duckdb in \/data\/lake /,
  );

  const somewhere = classifyLocalError(enospc(), places)!;
  assertEquals(somewhere.code, "DISK_FULL");
  assertMatch(
    somewhere.message,
    /PARQUET_DIR \/data\/lake\/parquet, STATE_DIR \/data\/state or DUCKDB_PATH/,
  );
});

Deno.test("classifyLocalError() labels other local failures LOCAL_IO_ERROR and leaves Postgres errors alone", () => {
  const denied = classifyLocalError(
    new FileWriteError(
      "/data/lake/parquet/t.csv.partial",
      new Error("Permission denied (os error 13)"),
    ),
    places,
  )!;
  assertEquals(denied.code, "LOCAL_IO_ERROR");
  assertMatch(denied.message, /^Cannot write PARQUET_DIR \/data\/lake\/parquet: /);
  const sqlite = classifyLocalError(
    sqliteError(8, "attempt to write a readonly database"),
    places,
  )!;
  assertEquals(sqlite.code, "LOCAL_IO_ERROR");
  assertMatch(sqlite.message, /STATE_DIR \/data\/state/);
  assertEquals(classifyLocalError(Object.assign(new Error("x"), { code: "42P01" }), places), null);
  assertEquals(classifyLocalError(new SyncError("PG_ERROR", "x"), places), null);
  assertEquals(
    classifyLocalError(new Error("Catalog Error: table t does not exist"), places),
    null,
  );
});

Deno.test("classifyPgError() does not call a full disk or a SQLite error a Postgres error", () => {
  const config = loadConfig(
    (name) => ({ PARQUET_DIR: "/data/lake/parquet", STATE_DIR: "/data/state" })[name],
    {},
    () => "",
  );
  const full = classifyPgError(enospc(), config, []);
  assertEquals(full.code, "DISK_FULL");
  const rollback = classifyPgError(
    sqliteError(1, "cannot rollback - no transaction is active"),
    config,
    [],
  );
  assertEquals(rollback.code, "LOCAL_IO_ERROR");
  assert(!/Postgres/.test(rollback.message));
  assertEquals(
    classifyPgError(Object.assign(new Error("boom"), { code: "XX000" }), config, []).code,
    "PG_ERROR",
  );
});
