// Owns the replication slot of a SYNC_METHOD=cdc cycle: checked when it
// exists (another plugin or database, invalidated, in use elsewhere), created
// with its exported snapshot when it does not, and warned about when it holds
// more WAL than CDC_MAX_RETAINED_WAL.

import type pg from "pg";
import { checkFreeSlot, checkSlot, slotState } from "../../io/postgres/cdc_catalog.ts";
import { type CreatedSlot, ReplicationConnection } from "../../io/postgres/replication.ts";
import type { TableSyncContext } from "../context.ts";

/**
 * The slot checked (`streaming`: our own stream holds it, so only its loss
 * matters), or created now: then its connection, whose exported snapshot
 * lives while it runs nothing else, and the slot's consistent point.
 */
export async function prepareSlot(
  ctx: TableSyncContext,
  client: pg.Client,
  slot: string,
  options: { readonly streaming: boolean; readonly secrets: string[] },
): Promise<{ connection: ReplicationConnection; created: CreatedSlot } | null> {
  const state = await slotState(client, slot);
  if (state) {
    const active = state.active && !options.streaming;
    checkSlot({ ...state, active }, slot, ctx.config.pg.database);
    return null;
  }
  await checkFreeSlot(client);
  const connection = await ReplicationConnection.open(ctx.config, options.secrets);
  try {
    const created = await connection.createSlot(slot);
    ctx.store.setInfo("cdc_slot", slot);
    return { connection, created };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** Warns (at most every 5 minutes) when the slot holds more WAL than allowed; the time warned. */
export async function warnRetained(
  ctx: TableSyncContext,
  client: pg.Client,
  slot: string,
  warnedAt: number,
): Promise<number> {
  const retained = (await slotState(client, slot))?.retainedBytes ?? 0;
  if (retained <= ctx.config.cdc.maxRetainedWalBytes || performance.now() - warnedAt <= 300_000) {
    return warnedAt;
  }
  ctx.emit({
    type: "notice",
    message: `Replication slot ${slot} holds ${
      (retained / 1e6).toFixed(0)
    } MB of WAL, more than CDC_MAX_RETAINED_WAL (the sync is behind, or was stopped: run it, or \`reset --yes\` to drop the slot)`,
  });
  return performance.now();
}
