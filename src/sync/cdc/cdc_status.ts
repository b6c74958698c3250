// Owns what `status` says of the replication stream: the slot this STATE_DIR
// streams from, the position Postgres has confirmed, the WAL it holds back,
// and how long ago the last applied transaction committed. Postgres is asked
// when it can be reached; the checkpoint's part is shown either way.

import type { Config } from "../../core/config.ts";
import { errorMessage } from "../../core/errors.ts";
import { formatLsn } from "../../core/lsn.ts";
import { CheckpointStore } from "../../io/state/checkpoint.ts";
import { connectPg } from "../../io/postgres/mod.ts";
import { slotState } from "../../io/postgres/cdc_catalog.ts";

export interface ReplicationStatus {
  readonly slot: string;
  readonly publication: string | null;
  /** Null when Postgres could not be asked (see `error`). */
  readonly confirmedFlushLsn: string | null;
  readonly retainedWalBytes: number | null;
  /** Seconds from the last applied transaction's commit in Postgres to its commit in DuckDB. */
  readonly lagSeconds: number | null;
  /** Seconds since that transaction committed in Postgres. */
  readonly lastCommitAgeSeconds: number | null;
  readonly lastCommitAt: string | null;
  readonly error: string | null;
}

/** The replication status of STATE_DIR, or null when it never streamed. */
export async function replicationStatus(
  config: Config,
  secrets: string[],
  now: Date = new Date(),
): Promise<ReplicationStatus | null> {
  const store = CheckpointStore.openExisting(config.stateDir, { readOnly: true });
  if (!store) return null;
  let slot: string | null;
  let publication: string | null;
  let lastCommitAt: string | null;
  let lag: string | null;
  try {
    slot = store.info("cdc_slot") ?? (config.cdc.slot || null);
    publication = store.info("cdc_publication") ?? (config.cdc.publication || null);
    lastCommitAt = store.info("cdc_last_commit");
    lag = store.info("cdc_last_lag");
  } finally {
    store.close();
  }
  if (!slot) return null;
  const lastCommitAgeSeconds = lastCommitAt
    ? Math.max(0, (now.getTime() - Date.parse(lastCommitAt)) / 1000)
    : null;
  const base = {
    slot,
    publication,
    lastCommitAt,
    lagSeconds: lag === null ? null : Number(lag),
    lastCommitAgeSeconds,
  };
  try {
    const client = await connectPg(config, secrets);
    try {
      const state = await slotState(client, slot);
      return {
        ...base,
        confirmedFlushLsn: state?.confirmedFlush != null ? formatLsn(state.confirmedFlush) : null,
        retainedWalBytes: state ? state.retainedBytes : null,
        error: state ? null : `slot ${slot} does not exist`,
      };
    } finally {
      await client.end().catch(() => {});
    }
  } catch (error) {
    return { ...base, confirmedFlushLsn: null, retainedWalBytes: null, error: errorMessage(error) };
  }
}

/** The replication status as one line. */
export function formatReplication(r: ReplicationStatus): string {
  const held = r.retainedWalBytes === null
    ? ""
    : `, holding ${(r.retainedWalBytes / 1e6).toFixed(1)} MB of WAL`;
  const lag = r.lagSeconds === null || r.lastCommitAgeSeconds === null
    ? ""
    : `, last change applied ${r.lagSeconds.toFixed(1)} s after its commit (${
      r.lastCommitAgeSeconds.toFixed(0)
    } s ago)`;
  return `replication: slot ${r.slot}${
    r.publication ? ` (publication ${r.publication})` : ""
  }, confirmed ${r.confirmedFlushLsn ?? "-"}${held}${lag}${r.error ? ` (${r.error})` : ""}`;
}
