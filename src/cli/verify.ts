// Owns `verify [--json] [--repair]`: a line per table as it is done (or the
// verdicts as JSON), then an error naming the tables that are not equal.

import { secretsOf } from "../core/config.ts";
import { SyncError } from "../core/errors.ts";
import { formatSelector } from "../core/selector.ts";
import { scrub } from "../core/secrets.ts";
import { formatVerdict, type TableVerdict, verifyTables } from "../sync/ops/verify.ts";
import { configFrom } from "./args.ts";
import type { CliContext } from "./context.ts";

export async function commandVerify(ctx: CliContext): Promise<number> {
  const config = configFrom(ctx.parsed, ctx.env);
  const secrets = secretsOf(config);
  const json = ctx.parsed.values.json === true;
  const repair = ctx.parsed.values.repair === true;
  // Verdicts carry Postgres' own error texts: scrubbed as the host's events are.
  const verdicts = await verifyTables({
    config,
    secrets,
    repair,
    onTable: (v) => {
      if (!json) ctx.out(scrub(formatVerdict(v), secrets));
    },
  });
  if (json) ctx.out(scrub(JSON.stringify(verdicts, null, 2), secrets));
  if (verdicts.length === 0) {
    throw new SyncError(
      "TABLE_MISSING",
      `verify found no tables to compare in ${
        config.tables.map((t) => formatSelector(t.schema, t.table)).join(", ")
      }`,
    );
  }
  const failure = verifyFailure(verdicts, repair);
  if (failure) throw failure;
  return 0;
}

/** The error naming the tables that are not equal, or null when all are (or were skipped). */
function verifyFailure(
  verdicts: readonly TableVerdict[],
  repair: boolean,
): SyncError | null {
  const bad = verdicts.filter((v) => v.status !== "equal" && v.status !== "skipped");
  if (bad.length === 0) return null;
  return new SyncError(
    "VERIFY_DIFFERS",
    `${bad.length} of ${
      verdicts.filter((v) => v.status !== "skipped").length
    } tables are not equal: ${
      bad.map((v) => `${v.table} (${v.status.replace("_", " ")})`).join(", ")
    }${
      repair || !bad.some((v) => v.status === "differs")
        ? ""
        : " (run verify --repair to re-copy the differing rows)"
    }`,
  );
}
