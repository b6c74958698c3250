// The DuckDB half of the bench's hand-made pipeline, run as its own process
// after `psql \copy ... TO <csv>`: what a user would type into DuckDB to load
// that CSV file into a keyed table (CREATE TABLE AS SELECT * FROM read_csv,
// then ADD PRIMARY KEY), with the columns typed as the sync types them.
// Usage: deno run -A tests/bench/handmade_duckdb.ts <csv> <duckdb file>

import { DuckDBInstance } from "@duckdb/node-api";

const [csv, file] = Deno.args;
if (!csv || !file) throw new Error("usage: handmade_duckdb.ts <csv> <duckdb file>");
const instance = await DuckDBInstance.create(file);
const connection = await instance.connect();
await connection.run(
  `CREATE TABLE subscriptions AS SELECT * FROM read_csv('${csv}', header = false, columns = {
     'id': 'BIGINT', 'email': 'VARCHAR', 'plan': 'VARCHAR', 'lifetime_value': 'DECIMAL(12,2)',
     'created_at': 'TIMESTAMPTZ', 'updated_at': 'TIMESTAMPTZ', 'deleted_at': 'TIMESTAMPTZ'})`,
);
await connection.run("ALTER TABLE subscriptions ADD PRIMARY KEY (id)");
connection.closeSync();
instance.closeSync();
