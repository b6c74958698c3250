// Owns what change data capture needs to know of a table before streaming it,
// decided purely from its shape: the key its changes are applied by (the
// primary key, or a configured key with REPLICA IDENTITY FULL), or the error
// that names the fix; how the method treats a table (streamed, or skipped as
// the session skips it); and the slot and publication names a STATE_DIR uses.

import { configError, SyncError } from "./errors.ts";
import type { SyncDecision, TablePlan, TableShape } from "./table_plan.ts";
import { quoteIdent } from "./sql.ts";

/** The slot and publication of a STATE_DIR: as configured, or from its id. */
export function cdcNames(
  configured: { readonly slot: string; readonly publication: string },
  stateId: string,
): { slot: string; publication: string } {
  const derived = `pds_${stateId.replaceAll("-", "").slice(0, 16)}`;
  return {
    slot: configured.slot || derived,
    publication: configured.publication || derived,
  };
}

/**
 * The key a table's changes are applied by. Postgres names a changed row by
 * its replica identity: the primary key by default ('d'), or the whole old row
 * ('f', REPLICA IDENTITY FULL), which also carries a configured key.
 */
export function cdcKey(plan: TablePlan, shape: TableShape, replicaIdentity: string): string[] {
  const qualified = `${quoteIdent(plan.schema)}.${quoteIdent(plan.table)}`;
  if (shape.isTable === false) {
    throw configError(
      "REPLICA_IDENTITY_MISSING",
      `Cannot stream ${plan.source}: it is a view or foreign table, which has no write-ahead log (sync it with SYNC_METHOD=cursor, or select its underlying tables)`,
    );
  }
  const key = plan.primaryKey ? [...plan.primaryKey] : [...shape.primaryKey];
  if (key.length === 0) {
    throw configError(
      "REPLICA_IDENTITY_MISSING",
      `Cannot stream ${plan.source}: it has no primary key (add one, or run ALTER TABLE ${qualified} REPLICA IDENTITY FULL and set "key" for it in the sync file to NOT NULL columns that are unique)`,
    );
  }
  const missing = key.filter((k) => !shape.columns.includes(k));
  if (missing.length > 0) {
    throw configError(
      "PRIMARY_KEY_MISSING",
      `Cannot stream ${plan.source}: its configured key names column(s) ${
        missing.join(", ")
      } that the table does not have`,
    );
  }
  const nullable = key.filter((k) => !shape.notNull.has(k));
  if (nullable.length > 0) {
    // A NULL key could never be applied: the stream would stop at its change.
    throw configError(
      "PRIMARY_KEY_MISSING",
      `Cannot stream ${plan.source}: key column(s) ${
        nullable.join(", ")
      } can be NULL (add NOT NULL: ${
        nullable.map((k) => `ALTER TABLE ${qualified} ALTER COLUMN ${quoteIdent(k)} SET NOT NULL;`)
          .join(" ")
      } or set "key" for it in the sync file to NOT NULL columns that are unique)`,
    );
  }
  const isPrimaryKey = shape.primaryKey.length === key.length &&
    shape.primaryKey.every((k, i) => k === key[i]);
  if (replicaIdentity === "f" || (replicaIdentity === "d" && isPrimaryKey)) return key;
  throw configError(
    "REPLICA_IDENTITY_MISSING",
    `Cannot stream ${plan.source}: Postgres does not log its rows' key ${
      key.join(", ")
    } with each change (run ALTER TABLE ${qualified} REPLICA IDENTITY FULL)`,
  );
}

/**
 * How SYNC_METHOD=cdc treats a table, as its session decides (verify follows
 * it): streamed by its key (every row, whatever its cursor column), or, matched
 * by a wildcard and without a key Postgres logs, skipped with the fix. A table
 * named on its own that cannot be streamed fails with that error.
 */
export function cdcDecision(
  plan: TablePlan,
  shape: TableShape,
  replicaIdentity: string,
): Exclude<SyncDecision, { kind: "full_refresh" }> {
  try {
    return { kind: "incremental", key: cdcKey(plan, shape, replicaIdentity) };
  } catch (error) {
    if (
      error instanceof SyncError && error.code === "REPLICA_IDENTITY_MISSING" && !plan.explicit
    ) {
      return { kind: "skip", reason: error.message };
    }
    throw error;
  }
}
