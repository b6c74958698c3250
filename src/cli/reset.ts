// Owns `reset [--yes] [--force] [--target T]`: asks before removing (or requires --yes off a
// terminal), then reports what src/sync/ops/reset.ts removed.

import { planReset, resetTables } from "../sync/ops/reset.ts";
import { dropCreatedCdcObjects } from "../sync/cdc/cdc_cleanup.ts";
import { configFrom, UsageError } from "./args.ts";
import { secretsOf } from "../core/config.ts";
import type { CliContext } from "./context.ts";

export async function commandReset(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const named = ctx.parsed.values.target;
  if (named !== undefined && named.trim() === "") {
    throw new UsageError("--target needs a DuckDB table name (e.g. --target public_orders)");
  }
  const plan = await planReset(config, ctx.parsed.values.force === true, named ?? null);
  if (plan.kind === "refused") throw new UsageError(plan.message);
  if (plan.kind === "nothing") {
    ctx.out(plan.message);
    // A first run that failed may still have left what this STATE_DIR created on the server.
    if (ctx.parsed.values.yes) {
      const cdc = await dropCreatedCdcObjects(config, secretsOf(config));
      if (cdc) ctx.out(`reset: ${cdc}`);
    }
    return 0;
  }
  if (!ctx.parsed.values.yes) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        "reset deletes the checkpoint and the DuckDB table: pass --yes to confirm",
      );
    }
    const answer = prompt(
      `Delete the checkpoint of ${
        plan.targets.join(", ") || "every table"
      } in ${config.stateDir}, the table(s) in ${config.duckdbPath} and their Parquet batches? [y/N]`,
    );
    if (!answer || !/^y(es)?$/i.test(answer.trim())) {
      ctx.err("reset cancelled");
      return 1;
    }
  }
  ctx.out(await resetTables(config, plan.targets));
  const cdc = await dropCreatedCdcObjects(config, secretsOf(config));
  if (cdc) ctx.out(`reset: ${cdc}`);
  return 0;
}
