// Owns making the publication ready for SYNC_METHOD=cdc's tables: the tool's
// own (created for the selection, through partition roots, and kept in step
// with it) or a DBA's (checked to publish every selected table, partitioned
// ones through their root, never altered). Tables the role cannot publish
// fail alone; tables that were not published until now are named, since their
// changes in between never reached the stream.

import { configError, SyncError } from "../../core/errors.ts";
import { qualified, quoteIdent } from "../../core/sql.ts";
import type pg from "pg";
import {
  createPublication,
  publicationState,
  publishViaRoot,
  setPublicationTables,
  tablesNotOwned,
} from "../../io/postgres/cdc_catalog.ts";
import type { TableSyncContext } from "../context.ts";
import type { CdcTable } from "./cdc_table.ts";

export interface PreparedPublication {
  /** Tables that can be streamed. */
  readonly tables: CdcTable[];
  /** Targets whose changes were not published before this cycle. */
  readonly newlyPublished: Set<string>;
  readonly failures: { table: string; error: SyncError }[];
}

const nameOf = (t: CdcTable) => `${t.plan.schema}.${t.plan.table}`;

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
): Promise<PreparedPublication> {
  const { store } = ctx;
  const state = await publicationState(client, publication);
  const ours = !state || store.info("cdc_publication") === publication;
  if (!ours) {
    checkDbaPublication(publication, state!, tables);
    return { tables: [...tables], newlyPublished: new Set(), failures: [] };
  }
  // Only an owner may add a table to a publication: the others fail alone.
  const notOwned = await tablesNotOwned(client, tables.map((t) => t.plan));
  const failures = tables.filter((t) => notOwned.has(nameOf(t))).map((t) => ({
    table: t.plan.target,
    error: configError(
      "PG_PERMISSION_DENIED",
      `Cannot stream ${t.plan.source}: only its owner may add it to publication ${publication}, and ${ctx.config.pg.user} does not own it (run ALTER TABLE ${
        qualified(t.plan.schema, t.plan.table)
      } OWNER TO ${
        quoteIdent(ctx.config.pg.user)
      } as a superuser, or have its owner create a publication of the selected tables WITH (publish_via_partition_root = true) and set CDC_PUBLICATION to its name)`,
    ),
  }));
  const streamable = tables.filter((t) => !notOwned.has(nameOf(t)));
  if (streamable.length === 0) return { tables: [], newlyPublished: new Set(), failures };
  const refs = streamable.map((t) => ({ schema: t.plan.schema, table: t.plan.table }));
  if (!state) {
    await createPublication(client, publication, refs);
    store.setInfo("cdc_publication", publication);
    return { tables: streamable, newlyPublished: new Set(), failures };
  }
  const newlyPublished = new Set(
    streamable.filter((t) => !state.members.has(nameOf(t))).map((t) => t.plan.target),
  );
  if (!state.viaRoot) {
    // Made by an earlier version: partitions' changes came under their own names and were lost.
    await publishViaRoot(client, publication);
    for (const t of streamable) if (t.description.kind === "p") newlyPublished.add(t.plan.target);
  }
  const wanted = new Set(refs.map((r) => `${r.schema}.${r.table}`));
  if (
    newlyPublished.size > 0 || [...state.members].some((t) => !wanted.has(t)) ||
    state.members.size !== wanted.size
  ) {
    await setPublicationTables(client, publication, refs);
  }
  return { tables: streamable, newlyPublished, failures };
}

/** A DBA's publication must publish every selected table, partitioned ones through the root. */
function checkDbaPublication(
  publication: string,
  state: NonNullable<Awaited<ReturnType<typeof publicationState>>>,
  tables: readonly CdcTable[],
): void {
  const covered = (t: CdcTable) =>
    state.allTables || state.members.has(nameOf(t)) || state.schemas.has(t.plan.schema);
  const missing = tables.filter((t) => !covered(t));
  const partitioned = tables.filter((t) => t.description.kind === "p");
  const needsRoot = !state.viaRoot && partitioned.length > 0;
  if (missing.length === 0 && !needsRoot) return;
  const pub = quoteIdent(publication);
  const fixes: string[] = [];
  if (missing.length > 0) {
    fixes.push(
      `ALTER PUBLICATION ${pub} ADD TABLE ${
        missing.map((t) => qualified(t.plan.schema, t.plan.table)).join(", ")
      }`,
    );
  }
  if (needsRoot) fixes.push(`ALTER PUBLICATION ${pub} SET (publish_via_partition_root = true)`);
  const problems = [
    ...(missing.length > 0
      ? [`does not publish ${missing.map((t) => t.plan.source).join(", ")}`]
      : []),
    ...(needsRoot
      ? [
        `publishes partitioned ${
          partitioned.map((t) => t.plan.source).join(", ")
        } by partition, not through the root`,
      ]
      : []),
  ];
  throw configError(
    "CDC_PUBLICATION_MISMATCH",
    `Publication ${publication} ${problems.join(" and ")} (run ${
      fixes.join("; ")
    } as its owner, or set CDC_PUBLICATION to a new name and the tool creates its own)`,
  );
}
