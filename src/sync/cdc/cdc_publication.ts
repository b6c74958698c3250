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
  dropSlot,
  publicationState,
  publishViaRoot,
  setPublicationTables,
  slotState,
  tablesNotOwned,
} from "../../io/postgres/cdc_catalog.ts";
import type { TableSyncContext } from "../context.ts";
import type { CdcTable } from "./cdc_table.ts";

export interface PreparedPublication {
  /** Tables that can be streamed. */
  readonly tables: CdcTable[];
  /** Targets whose changes were not published before this cycle. */
  readonly newlyPublished: Set<string>;
  /** The publication was missing and was created now. */
  readonly created: boolean;
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
    return { tables: [...tables], newlyPublished: new Set(), failures: [], created: false };
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
  if (streamable.length === 0) {
    return { tables: [], newlyPublished: new Set(), failures, created: false };
  }
  const refs = streamable.map((t) => ({ schema: t.plan.schema, table: t.plan.table }));
  if (!state) {
    await createPublication(client, publication, refs);
    store.setInfo("cdc_publication", publication);
    return { tables: streamable, newlyPublished: new Set(), failures, created: true };
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
  return { tables: streamable, newlyPublished, failures, created: false };
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

/**
 * The publication was missing while tables hold positions (dropped by
 * someone): the slot cannot stream it from before it existed, and changes
 * in between were never published. The slot this STATE_DIR made is dropped
 * (a new one is made, every table copied again in its snapshot); a slot it
 * did not make is left to its owner, with the command.
 */
export async function publicationRecreated(
  ctx: TableSyncContext,
  client: pg.Client,
  names: { slot: string; publication: string },
  tables: readonly CdcTable[],
  session: {
    readonly closeStream: () => Promise<void>;
    readonly markBroken: (table: CdcTable, reason: string) => void;
  },
): Promise<void> {
  if (!tables.some((t) => t.lsn !== null)) return;
  if (!(await slotState(client, names.slot))) return;
  if (ctx.store.info("cdc_slot") !== names.slot) {
    throw configError(
      "CDC_PUBLICATION_MISMATCH",
      `Publication ${names.publication} was missing and was created again, and replication slot ${names.slot} cannot stream it from before then (drop the slot with SELECT pg_drop_replication_slot('${names.slot}') and the next run copies the tables again)`,
    );
  }
  await session.closeStream();
  for (const table of tables) {
    if (table.lsn === null) continue;
    session.markBroken(
      table,
      `publication ${names.publication} was dropped: changes since it were not published`,
    );
  }
  await dropSlot(client, names.slot);
}

/**
 * Why the stream ended: a publication dropped while it streamed is retried
 * (the next cycle creates it again and copies the tables again).
 */
export function streamFailure(failure: unknown): unknown {
  const text = failure instanceof Error ? failure.message : String(failure);
  if (!/publication ".*" does not exist/.test(text)) return failure;
  return new SyncError(
    "CDC_PUBLICATION_MISMATCH",
    `The publication was dropped while the sync streamed from it (${text}): the next cycle creates it again and copies the tables again`,
    { transient: true },
  );
}
