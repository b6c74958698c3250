// Owns the default command (`tui`, or none) and `demo`: the terminal UI when
// stdin and stdout are terminals, otherwise the headless loop; on the embedded
// demo database when no Postgres is configured (or `demo` asks for it).

import { secretsOf } from "../core/config.ts";
import { SyncError } from "../core/errors.ts";
import { checkMetricsPort } from "../host/metrics_server.ts";
import type { CliContext } from "./context.ts";
import { commandSync } from "./sync.ts";
import { withDemo } from "./with_demo.ts";

export async function commandTui(ctx: CliContext, forceDemo: boolean): Promise<number> {
  return await withDemo(ctx, { force: forceDemo }, async (config, demo) => {
    if (demo) {
      ctx.err(
        `notice: no Postgres configured: using the embedded demo database (data in ${config.stateDir}/demo-postgres); set DATABASE_URL or POSTGRES_HOST to sync a real one`,
      );
    }
    const values = ctx.parsed.values;
    if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
      ctx.err(
        `notice: stdin or stdout is not a terminal; running headless (sync ${
          values.once ? "--once" : "--loop"
        }) instead of the terminal UI`,
      );
      const headless = {
        ...ctx,
        parsed: { ...ctx.parsed, values: { ...values, loop: values.once ? values.loop : true } },
      };
      return await commandSync(headless, { config, demo });
    }
    if (!ctx.startTui) throw new SyncError("INTERNAL", "this build has no terminal UI");
    // A port in use is one line before the UI opens, not a failure inside it.
    checkMetricsPort(config);
    return await ctx.startTui({ config, secrets: secretsOf(config), demo });
  });
}
