// Owns making the publication ready for SYNC_METHOD=cdc's tables: the tool's
// own (created for the selection and kept in step with it) or a DBA's
// (checked to publish every selected table, never altered).

import type pg from "pg";
import { configError } from "../../core/errors.ts";
import { qualified, quoteIdent } from "../../core/sql.ts";
import {
  createPublication,
  publicationState,
  setPublicationTables,
} from "../../io/postgres/cdc_catalog.ts";
import type { TableSyncContext } from "../context.ts";
import type { CdcTable } from "./cdc_table.ts";

/**
 * The publication ready for `tables`: created (and recorded as the tool's)
 * when missing, kept in step with the selection when the tool made it, and
 * checked to publish every table when a DBA made it.
 */
export async function preparePublication(
  ctx: TableSyncContext,
  client: pg.Client,
  publication: string,
  tables: readonly CdcTable[],
): Promise<void> {
  const { store } = ctx;
  const refs = tables.map((t) => ({ schema: t.plan.schema, table: t.plan.table }));
  const state = await publicationState(client, publication);
  const ours = store.info("cdc_publication") === publication;
  if (!state) {
    await createPublication(client, publication, refs);
    store.setInfo("cdc_publication", publication);
    return;
  }
  const missing = tables.filter((t) => !state.tables.has(`${t.plan.schema}.${t.plan.table}`));
  if (ours) {
    const wanted = new Set(refs.map((r) => `${r.schema}.${r.table}`));
    if (missing.length > 0 || [...state.tables].some((t) => !wanted.has(t))) {
      await setPublicationTables(client, publication, refs);
    }
    return;
  }
  if (!state.allTables && missing.length > 0) {
    const names = missing.map((t) => t.plan.source).join(", ");
    const qualifiedNames = missing.map((t) => qualified(t.plan.schema, t.plan.table)).join(", ");
    throw configError(
      "CDC_PUBLICATION_MISMATCH",
      `Publication ${publication} does not publish ${names} (run ALTER PUBLICATION ${
        quoteIdent(publication)
      } ADD TABLE ${qualifiedNames} as its owner, or set CDC_PUBLICATION to a new name and the tool creates its own)`,
    );
  }
}
