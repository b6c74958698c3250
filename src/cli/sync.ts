// Owns `sync --once` and `sync --loop`: the headless host (the one the
// terminal UI's worker runs) with its events as stderr lines.

import { type Config, secretsOf } from "../core/config.ts";
import { runHeadless } from "../host/headless.ts";
import { configFrom, UsageError } from "./args.ts";
import type { CliContext } from "./context.ts";

/** `given`: the UI's fallback off a terminal, with the config (maybe the demo's) it chose. */
export async function commandSync(
  ctx: CliContext,
  given?: { readonly config: Config; readonly demo: boolean },
): Promise<number> {
  const { config, demo } = given ?? { config: configFrom(ctx.parsed, ctx.env), demo: false };
  const loop = ctx.parsed.values.loop === true;
  if (loop && ctx.parsed.values.once) throw new UsageError("Choose one of --once or --loop");
  await runHeadless({ config, secrets: secretsOf(config), demo, once: !loop, log: ctx.err });
  return 0;
}
