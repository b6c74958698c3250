// Owns `status [--json]`: the checkpoint's rows as lines or JSON, and, when
// this STATE_DIR streams the write-ahead log, the replication slot's state
// (each JSON row carries it under "replication").

import { count } from "../core/counts.ts";
import { formatSelector, shellWord } from "../core/selector.ts";
import { postgresConfigured } from "../demo/demo.ts";
import { secretsOf } from "../core/config.ts";
import { formatStatusRow, readStatus } from "../sync/ops/status.ts";
import { formatReplication, replicationStatus } from "../sync/cdc/cdc_status.ts";
import { configFrom, flagsFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

export async function commandStatus(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const configured = postgresConfigured(ctx.env, flagsFrom(ctx.parsed));
  const { rows, unselected } = readStatus(config, configured);
  const replication = rows.some((r) => r.lsn !== null) && configured
    ? await replicationStatus(config, secretsOf(config))
    : null;
  if (ctx.parsed.values.json) {
    ctx.out(JSON.stringify(
      rows.map((r) => ({ ...r, replication: r.lsn !== null ? replication : null })),
      null,
      2,
    ));
  } else if (rows.length === 0 && unselected.length === 0) {
    ctx.out(`No checkpoint in ${config.stateDir} yet: the next sync bootstraps.`);
  } else {
    for (const row of rows) ctx.out(formatStatusRow(row, config.pgOrigin));
    if (replication) ctx.out(formatReplication(replication));
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
