// Owns `query "SQL" [--format table|csv|json]`: read-only SQL on the DuckDB file.

import { formatResult, type QueryFormat } from "../core/query_result.ts";
import { queryWarehouse } from "../io/duckdb/warehouse_query.ts";
import { configFrom, UsageError } from "./args.ts";
import type { CliContext } from "./context.ts";

export async function commandQuery(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const sql = ctx.parsed.positionals.slice(1).join(" ").trim();
  if (!sql) {
    throw new UsageError(
      'query needs SQL, e.g. main.ts query "SELECT count(*) FROM analytics_subscriptions"',
    );
  }
  const format = (ctx.parsed.values.format ?? "table") as QueryFormat;
  if (!["table", "csv", "json"].includes(format)) {
    throw new UsageError(`--format=${JSON.stringify(format)} must be table, csv or json`);
  }
  // A failing query's error leaves as the fatal line, scrubbed there.
  const result = await queryWarehouse(config.duckdbPath, sql, Math.min(config.lockWaitSeconds, 30));
  ctx.out(formatResult(result, format));
  return 0;
}
