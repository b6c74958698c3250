// Owns `status [--json]`: the checkpoint's rows as lines or JSON, and, when
// this STATE_DIR streams the write-ahead log, the replication slot's state
// (each JSON row carries it under "replication").

import { postgresConfigured } from "../demo/demo.ts";
import { secretsOf } from "../core/config.ts";
import { formatStatusRow, readStatus } from "../sync/status.ts";
import { formatReplication, replicationStatus } from "../sync/cdc/cdc_status.ts";
import { configFrom, flagsFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

export async function commandStatus(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const configured = postgresConfigured(ctx.env, flagsFrom(ctx.parsed));
  const rows = readStatus(config, configured);
  const replication = rows.some((r) => r.lsn !== null) && configured
    ? await replicationStatus(config, secretsOf(config))
    : null;
  if (ctx.parsed.values.json) {
    ctx.out(JSON.stringify(
      rows.map((r) => ({ ...r, replication: r.lsn !== null ? replication : null })),
      null,
      2,
    ));
  } else if (rows.length === 0) {
    ctx.out(`No checkpoint in ${config.stateDir} yet: the next sync bootstraps.`);
  } else {
    for (const row of rows) ctx.out(formatStatusRow(row, config.pgOrigin));
    if (replication) ctx.out(formatReplication(replication));
  }
  return 0;
}
