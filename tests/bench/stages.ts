// `deno run -A tests/bench/stages.ts`: the DuckDB side of a bootstrap, stage by
// stage, for the levers in docs/performance.md. A CSV shaped like
// Postgres' COPY output of the demo table (default 1,000,000 rows) is loaded
// in batches, each variant run in alternation (medians of --reps runs, so
// machine noise hits all variants alike):
//   - CSV -> Parquet (zstd 1) with preserve_insertion_order on (DuckDB's default) and off,
//     and with read_csv's max_line_size at the file's size (what the sync passes) or 2 MiB
//     (DuckDB's default, which parses in parallel);
//   - Parquet -> INSERT OR REPLACE into a table with a primary key (what the sync does),
//     and plain INSERT into a table without one plus ADD PRIMARY KEY at the end.
// Writes bench-results/stages-<time>.json.

import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { REPO } from "../support/fixture.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    batch: { type: "string", default: "250000" },
    reps: { type: "string", default: "5" },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
const REPS = Number(values.reps);
const dir = await Deno.makeTempDir({ prefix: "pds-stages-" });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const COLUMNS =
  `{'id': 'BIGINT', 'email': 'VARCHAR', 'plan': 'VARCHAR', 'lifetime_value': 'DECIMAL(12,2)',
  'created_at': 'VARCHAR', 'updated_at': 'VARCHAR', 'deleted_at': 'VARCHAR'}`;
const SELECT = `id, email, plan, lifetime_value, CAST(created_at AS TIMESTAMPTZ) AS created_at,
  CAST(updated_at AS TIMESTAMPTZ) AS updated_at, CAST(deleted_at AS TIMESTAMPTZ) AS deleted_at`;
const TABLE = `(id BIGINT, email VARCHAR, plan VARCHAR, lifetime_value DECIMAL(12,2),
  created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ)`;

// The batches' CSV files, as Postgres writes them (timestamps as text, UTC).
const gen = await (await DuckDBInstance.create(":memory:")).connect();
await gen.run("SET TimeZone = 'UTC'");
const batches = Math.ceil(ROWS / BATCH);
for (let b = 0; b < batches; b++) {
  await gen.run(
    `COPY (SELECT range AS id, 'user' || range || '@example.com' AS email,
       ['free','starter','pro','business','enterprise'][1 + range % 5] AS plan,
       round((range % 100000) / 7.0, 2)::DECIMAL(12,2) AS lifetime_value,
       strftime(TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(range * 997), '%Y-%m-%d %H:%M:%S.%f+00') AS created_at,
       strftime(TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_microseconds(range * 991), '%Y-%m-%d %H:%M:%S.%f+00') AS updated_at,
       CASE WHEN range % 17 = 0 THEN '2024-07-01 00:00:00+00' END AS deleted_at
     FROM range(${b * BATCH}, ${Math.min(ROWS, (b + 1) * BATCH)}))
     TO '${dir}/b${b}.csv' (HEADER false)`,
  );
}

/** `maxLineSize` 0: the batch file's size (what the sync passes), else that many bytes. */
async function toParquet(keepOrder: boolean, maxLineSize = 0): Promise<number> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  await c.run("SET TimeZone = 'UTC'");
  await c.run(`SET preserve_insertion_order = ${keepOrder}`);
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    await c.run(
      `COPY (SELECT ${SELECT} FROM read_csv('${dir}/b${b}.csv', header = false, auto_detect = false,
        max_line_size = ${maxLineSize || Deno.statSync(`${dir}/b${b}.csv`).size + 1},
        columns = ${COLUMNS})) TO '${dir}/b${b}.parquet' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
    );
  }
  const ms = performance.now() - started;
  c.closeSync();
  instance.closeSync();
  return ms;
}

async function load(withIndex: boolean): Promise<{ insertMs: number; addKeyMs: number }> {
  const file = `${dir}/w-${withIndex}.duckdb`;
  await Deno.remove(file).catch(() => {});
  await Deno.remove(`${file}.wal`).catch(() => {});
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  await c.run(
    withIndex
      ? `CREATE TABLE t ${TABLE.replace("id BIGINT,", "id BIGINT PRIMARY KEY,")}`
      : `CREATE TABLE t ${TABLE}`,
  );
  let started = performance.now();
  for (let b = 0; b < batches; b++) {
    await c.run(
      `INSERT ${
        withIndex ? "OR REPLACE " : ""
      }INTO t SELECT * FROM read_parquet('${dir}/b${b}.parquet')`,
    );
  }
  const insertMs = performance.now() - started;
  let addKeyMs = 0;
  if (!withIndex) {
    started = performance.now();
    await c.run("ALTER TABLE t ADD PRIMARY KEY (id)");
    addKeyMs = performance.now() - started;
  }
  c.closeSync();
  instance.closeSync();
  return { insertMs, addKeyMs };
}

const runs = {
  parquetKeepOrder: [] as number[],
  parquetNoOrder: [] as number[],
  parquetLines2MiB: [] as number[],
  upsertWithKey: [] as number[],
  insertNoKey: [] as number[],
  addKeyAfter: [] as number[],
};
for (let rep = 0; rep < REPS; rep++) {
  runs.parquetKeepOrder.push(await toParquet(true));
  runs.parquetNoOrder.push(await toParquet(false));
  runs.parquetLines2MiB.push(await toParquet(false, 2 * 1024 * 1024));
  runs.upsertWithKey.push((await load(true)).insertMs);
  const plain = await load(false);
  runs.insertNoKey.push(plain.insertMs);
  runs.addKeyAfter.push(plain.addKeyMs);
}
await Deno.remove(dir, { recursive: true });
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.round(median(v))]));
const results = {
  at: new Date().toISOString(),
  rows: ROWS,
  batch: BATCH,
  reps: REPS,
  medianMs: m,
  runsMs: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map(Math.round)])),
  ratios: {
    parquetNoOrderToKeepOrder: Math.round((m.parquetNoOrder! / m.parquetKeepOrder!) * 100) / 100,
    twoMiBLinesToFileSized: Math.round((m.parquetLines2MiB! / m.parquetNoOrder!) * 100) / 100,
    noKeyPlusAddKeyToUpsert: Math.round(
      ((m.insertNoKey! + m.addKeyAfter!) / m.upsertWithKey!) * 100,
    ) / 100,
  },
};
console.log(`${ROWS} rows in batches of ${BATCH}, medians of ${REPS}:`);
console.log(`CSV -> Parquet, insertion order kept      ${m.parquetKeepOrder} ms`);
console.log(
  `CSV -> Parquet, insertion order not kept  ${m.parquetNoOrder} ms (${results.ratios.parquetNoOrderToKeepOrder}x)`,
);
console.log(
  `  ... with max_line_size 2 MiB              ${m.parquetLines2MiB} ms (${results.ratios.twoMiBLinesToFileSized}x)`,
);
console.log(`INSERT OR REPLACE into a keyed table      ${m.upsertWithKey} ms`);
console.log(
  `INSERT without key + ADD PRIMARY KEY      ${m.insertNoKey} + ${m.addKeyAfter} ms (${results.ratios.noKeyPlusAddKeyToUpsert}x)`,
);
await Deno.mkdir(`${REPO}/bench-results`, { recursive: true });
const out = `${REPO}/bench-results/stages-${results.at.replace(/[:.]/g, "-")}.json`;
await Deno.writeTextFile(out, JSON.stringify(results, null, 2) + "\n");
console.log(`wrote ${out}`);
