// Owns `seed-changes [--inserts N --updates N --deletes N]`: live changes into
// the demo table, on the configured Postgres or else the demo database (a
// running one reached on its port, or the embedded one opened here).

import { seedDemoChanges } from "../demo/seed_session.ts";
import { type Config, secretsOf } from "../core/config.ts";
import { demoConfig, postgresConfigured, runningDemoPort } from "../demo/demo.ts";
import { configFrom, flagsFrom, UsageError } from "./args.ts";
import type { CliContext } from "./context.ts";
import { withDemo } from "./with_demo.ts";

export async function commandSeed(ctx: CliContext): Promise<number> {
  const flags = flagsFrom(ctx.parsed);
  let config = configFrom(ctx.parsed, ctx.env);
  if (!postgresConfigured(ctx.env, flags)) {
    const port = await runningDemoPort(config.stateDir);
    if (port === null) return await withDemo(ctx, { force: true }, (demo) => seedWith(ctx, demo));
    config = demoConfig(ctx.env, flags, port);
  }
  return await seedWith(ctx, config);
}

async function seedWith(ctx: CliContext, config: Config): Promise<number> {
  const secrets = secretsOf(config);
  const counts = {
    inserts: seedCount(ctx, "inserts"),
    updates: seedCount(ctx, "updates"),
    deletes: seedCount(ctx, "deletes"),
  };
  const result = await seedDemoChanges(config, secrets, counts);
  ctx.out(
    `seeded ${config.schema}.${config.table}: inserted ${result.inserted.length} [${
      ids(result.inserted)
    }], updated ${result.updated.length} [${
      ids(result.updated)
    }], soft-deleted ${result.deleted.length} [${ids(result.deleted)}]`,
  );
  return 0;
}

/** The count asked for (1 by default). */
function seedCount(ctx: CliContext, name: "inserts" | "updates" | "deletes"): number {
  const raw = ctx.parsed.values[name];
  if (raw === undefined) return 1;
  if (!/^\d+$/.test(raw) || Number(raw) > 1_000_000) {
    throw new UsageError(
      `--${name}=${JSON.stringify(raw)} is not a whole number from 0 to 1000000`,
    );
  }
  return Number(raw);
}

/** Up to ten ids, then "…". */
function ids(list: readonly string[]): string {
  return list.length > 10 ? `${list.slice(0, 10).join(",")},…` : list.join(",");
}
