// Owns `status [--json]`: the checkpoint's rows as lines or JSON.

import { count } from "../core/counts.ts";
import { formatSelector, shellWord } from "../core/selector.ts";
import { postgresConfigured } from "../demo/demo.ts";
import { formatStatusRow, readStatus } from "../sync/status.ts";
import { configFrom, flagsFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

export function commandStatus(ctx: CliContext): number {
  const config = configFrom(ctx.parsed, ctx.env);
  const { rows, unselected } = readStatus(
    config,
    postgresConfigured(ctx.env, flagsFrom(ctx.parsed)),
  );
  if (ctx.parsed.values.json) {
    ctx.out(JSON.stringify(rows, null, 2));
  } else if (rows.length === 0 && unselected.length === 0) {
    ctx.out(`No checkpoint in ${config.stateDir} yet: the next sync bootstraps.`);
  } else {
    for (const row of rows) ctx.out(formatStatusRow(row, config.pgOrigin));
    if (rows.length === 0) {
      ctx.out(
        `No checkpoint in ${config.stateDir} for ${
          config.tables.map((t) => formatSelector(t.schema, t.table)).join(", ")
        } yet: the next sync bootstraps.`,
      );
    }
  }
  if (unselected.length > 0) {
    ctx.err(
      `notice: ${count(unselected.length, "other table")} in ${config.stateDir} ${
        unselected.length === 1 ? "is" : "are"
      } not selected; see ${unselected.length === 1 ? "it" : "them"} with --tables ${
        shellWord(unselected.join(","))
      }`,
    );
  }
  return 0;
}
