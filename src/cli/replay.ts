// Owns `replay FILE...`: re-applies Parquet batch files (never regressing a newer row).

import { replayBatchFiles } from "../sync/ops/replay.ts";
import { configFrom, UsageError } from "./args.ts";
import type { CliContext } from "./context.ts";

export async function commandReplay(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const files = ctx.parsed.positionals.slice(1);
  if (files.length === 0) {
    throw new UsageError("replay needs Parquet batch files, e.g. parquet/*.parquet");
  }
  for (const file of files) {
    try {
      await Deno.stat(file);
    } catch {
      throw new UsageError(`replay: no such file ${file}`);
    }
  }
  await replayBatchFiles(config, files, ctx.out);
  return 0;
}
