// Owns the choice of the embedded demo database: used when no Postgres is
// configured (or `demo` forces it), started for the command and stopped after.

import type { Config } from "../core/config.ts";
import { loadConfig } from "../core/config.ts";
import { configError } from "../core/errors.ts";
import { demoConfig, postgresConfigured, startDemoDatabase } from "../demo/demo.ts";
import { flagsFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

/** Any explicit configuration means a real server: never a silent switch to the demo. */
export async function withDemo<T>(
  ctx: CliContext,
  options: { readonly force: boolean },
  run: (config: Config, demo: boolean) => Promise<T>,
): Promise<T> {
  const flags = flagsFrom(ctx.parsed);
  const base = loadConfig(ctx.env, flags, (path) => Deno.readTextFileSync(path));
  if (!options.force && postgresConfigured(ctx.env, flags)) return await run(base, false);
  if (base.method === "cdc") {
    throw configError(
      "CDC_NOT_READY",
      "SYNC_METHOD=cdc needs a real PostgreSQL with logical replication, which the embedded demo database does not have (set DATABASE_URL to your server, or leave SYNC_METHOD unset for the demo)",
    );
  }
  const demo = await startDemoDatabase(base.stateDir);
  try {
    return await run(demoConfig(ctx.env, flags, demo.port), true);
  } finally {
    await demo.stop();
  }
}
