// Owns undoing what SYNC_METHOD=cdc created in Postgres: once `reset` leaves a
// STATE_DIR with no table, the replication slot (which would hold WAL back for
// ever) and the publication the tool created are dropped; a slot or
// publication it did not create (CDC_SLOT / CDC_PUBLICATION naming a DBA's)
// is never touched.

import type { Config } from "../../core/config.ts";
import { errorMessage } from "../../core/errors.ts";
import { CheckpointStore } from "../../io/state/checkpoint.ts";
import { connectPg } from "../../io/postgres/mod.ts";
import { dropPublication, dropSlot } from "../../io/postgres/cdc_catalog.ts";

/** Drops the slot and publication this STATE_DIR created, when it has no table left. */
export async function dropCreatedCdcObjects(
  config: Config,
  secrets: string[],
): Promise<string | null> {
  let store: CheckpointStore | null;
  try {
    store = CheckpointStore.openExisting(config.stateDir);
  } catch {
    return null;
  }
  if (!store) return null;
  try {
    const slot = store.info("cdc_slot");
    const publication = store.info("cdc_publication");
    if ((!slot && !publication) || store.list().length > 0) return null;
    let client;
    try {
      client = await connectPg(config, secrets);
    } catch (error) {
      return `could not drop replication slot ${slot ?? "-"} and publication ${
        publication ?? "-"
      }: ${
        errorMessage(error)
      } (run \`reset --yes\` again once Postgres is reachable, or drop them by hand: SELECT pg_drop_replication_slot('${slot}'); DROP PUBLICATION ${publication})`;
    }
    const done: string[] = [];
    try {
      if (slot) {
        if (await dropSlot(client, slot)) done.push(`replication slot ${slot}`);
        store.setInfo("cdc_slot", null);
        store.setInfo("cdc_confirmed", null);
      }
      if (publication) {
        await dropPublication(client, publication);
        done.push(`publication ${publication}`);
        store.setInfo("cdc_publication", null);
      }
    } catch (error) {
      return `could not drop ${slot ? `replication slot ${slot}` : ""}: ${
        errorMessage(error)
      } (stop the sync streaming from it, then run \`reset --yes\` again)`;
    } finally {
      await client.end().catch(() => {});
    }
    return done.length > 0 ? `${done.join(" and ")} dropped (created by this tool)` : null;
  } finally {
    store.close();
  }
}
