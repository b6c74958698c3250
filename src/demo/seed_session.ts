// Owns the one path that writes live changes into the demo table, for the
// seed-changes command and the UI's seed key alike: its own connection (a
// sync's connection may be mid-cycle), the changes in one transaction
// (seed.ts), a Postgres refusal turned into an error that names the fix.

import type { Config } from "../core/config.ts";
import { classifyPgError, connectPg } from "../io/postgres/mod.ts";
import { seedChanges, type SeedCounts, type SeedResult } from "./seed.ts";

export async function seedDemoChanges(
  config: Config,
  secrets: readonly string[],
  counts: SeedCounts,
): Promise<SeedResult> {
  const client = await connectPg(config, [...secrets]);
  try {
    return await seedChanges(client, config, counts).catch((error) => {
      throw classifyPgError(error, config, [...secrets]);
    });
  } finally {
    await client.end().catch(() => {});
  }
}
