// Owns `status [--json]`: the checkpoint's rows as lines or JSON.

import { postgresConfigured } from "../demo/demo.ts";
import { formatStatusRow, readStatus } from "../sync/status.ts";
import { configFrom, flagsFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

export function commandStatus(ctx: CliContext): number {
  const config = configFrom(ctx.parsed, ctx.env);
  const rows = readStatus(config, postgresConfigured(ctx.env, flagsFrom(ctx.parsed)));
  if (ctx.parsed.values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
  } else if (rows.length === 0) {
    ctx.out(`No checkpoint in ${config.stateDir} yet: the next sync bootstraps.`);
  } else {
    for (const row of rows) ctx.out(formatStatusRow(row, config.pgOrigin));
  }
  return 0;
}
