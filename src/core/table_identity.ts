// Owns whether a table is still what its copy was made from, decided purely
// from what the checkpoint recorded and what Postgres says now, for both
// methods: its OID (SYNC_METHOD=cdc records it), each column's attribute
// number and type; and the continuity checks of the stream built on it:
// whether a relation message in the stream announces a shape DuckDB can
// follow in place (columns added or dropped) or a break (a column dropped and
// added again, renamed, swapped, retyped; another relation under the name),
// and whether the replication slot is the one this STATE_DIR streamed from.
// A break re-copies the table; it is never followed silently.

import type { RelationColumn } from "./pgoutput.ts";

/** What DuckDB's copy was made from (the checkpoint's schema snapshot). */
export interface RecordedShape {
  /** The relation's OID when the copy was made (absent in older checkpoints). */
  readonly relid?: string;
  /** Its storage when the copy was made (relfilenodes; see TableDescription.storage). */
  readonly storage?: string;
  readonly pgTypes: Readonly<Record<string, string>>;
  readonly attnums?: Readonly<Record<string, number>>;
}

/** A column as the catalog describes it now. */
export interface CurrentColumn {
  readonly name: string;
  readonly pgType: string;
  readonly attnum?: number;
  readonly typeOid?: number;
  readonly typmod?: number;
  readonly generated?: boolean;
}

/** same: nothing to do; follow: columns only added or dropped; break: re-copy, for `reason`. */
export type ShapeVerdict =
  | { readonly kind: "same" }
  | { readonly kind: "follow"; readonly reason: string }
  | { readonly kind: "break"; readonly reason: string };

const SAME: ShapeVerdict = { kind: "same" };

/**
 * The table now against what its copy was made from. Columns are matched by
 * attribute number, so a swap of two names or a column dropped and added
 * again under its old name is a break, never a silent relabelling.
 */
export function compareWithRecorded(
  recorded: RecordedShape,
  current: {
    readonly oid?: string;
    readonly storage?: string;
    readonly columns: readonly CurrentColumn[];
  },
): ShapeVerdict {
  if (recorded.relid !== undefined && current.oid !== undefined && recorded.relid !== current.oid) {
    return {
      kind: "break",
      reason: "it was dropped and created again (another relation under its name)",
    };
  }
  const attnums = recorded.attnums ?? {};
  const byAttnum = new Map(Object.entries(attnums).map(([name, n]) => [n, name]));
  const added: string[] = [];
  for (const column of current.columns) {
    const before = recorded.pgTypes[column.name];
    const beforeAttnum = attnums[column.name];
    if (before === undefined) {
      const renamedFrom = column.attnum === undefined ? undefined : byAttnum.get(column.attnum);
      if (renamedFrom !== undefined && renamedFrom !== column.name) {
        return {
          kind: "break",
          reason: `column ${renamedFrom} was renamed to ${column.name}`,
        };
      }
      added.push(column.name);
      continue;
    }
    if (
      beforeAttnum !== undefined && column.attnum !== undefined && beforeAttnum !== column.attnum
    ) {
      return {
        kind: "break",
        reason:
          `column ${column.name} is another column than the one copied (dropped and added again, or renamed)`,
      };
    }
    if (before !== column.pgType) {
      return {
        kind: "break",
        reason: `column ${column.name} changed type from ${before} to ${column.pgType}`,
      };
    }
  }
  if (
    recorded.storage !== undefined && current.storage !== undefined &&
    recorded.storage !== current.storage
  ) {
    // Rows changed without a row change in the write-ahead log.
    return {
      kind: "break",
      reason:
        "its storage changed since it was copied (rewritten by ALTER … TYPE … USING, VACUUM FULL or CLUSTER, truncated, or a partition attached, detached or truncated)",
    };
  }
  const names = new Set(current.columns.map((c) => c.name));
  const dropped = Object.keys(recorded.pgTypes).filter((name) => !names.has(name));
  if (added.length === 0 && dropped.length === 0) return SAME;
  const parts = [
    ...(added.length > 0 ? [`column(s) ${added.join(", ")} added`] : []),
    ...(dropped.length > 0 ? [`column(s) ${dropped.join(", ")} dropped`] : []),
  ];
  return { kind: "follow", reason: parts.join(" and ") };
}

/** Whether the table's columns differ in any way from the recorded ones (a schema change). */
export function schemaChanged(
  recorded: RecordedShape,
  columns: readonly CurrentColumn[],
): boolean {
  return compareWithRecorded(recorded, { columns }).kind !== "same";
}

/**
 * A relation message against the columns the table is streamed with now
 * (catalog order, generated columns left out as pgoutput leaves them out).
 * Columns keep their order in both lists, so matching position by position
 * tells a swap or a re-added column from columns merely added or dropped.
 */
export function compareRelation(
  streamed: readonly CurrentColumn[],
  relation: readonly RelationColumn[],
): ShapeVerdict {
  const known = streamed.filter((c) => !c.generated);
  const index = new Map(known.map((c, i) => [c.name, i]));
  let last = -1;
  let extras = false;
  let changed = relation.length !== known.length;
  for (const column of relation) {
    const i = index.get(column.name);
    if (i === undefined) {
      extras = true;
      changed = true;
      continue;
    }
    if (extras || i <= last) {
      return {
        kind: "break",
        reason: `the columns around ${column.name} were reordered or renamed`,
      };
    }
    if (i !== last + 1) changed = true;
    last = i;
    const before = known[i]!;
    const typeDiffers = before.typeOid !== undefined && before.typeOid !== column.typeOid;
    const modDiffers = before.typmod !== undefined && column.typmod !== undefined &&
      before.typmod !== column.typmod;
    if (typeDiffers || modDiffers) {
      return { kind: "break", reason: `column ${column.name} changed type` };
    }
  }
  const present = new Set(relation.map((c) => c.name));
  if (extras && known.some((c) => !present.has(c.name))) {
    // A name gone and a name come: a rename (maybe of the last column), or a
    // column dropped and another added; the stream cannot tell them apart.
    return { kind: "break", reason: "columns were renamed, or dropped and added, in the stream" };
  }
  return changed ? { kind: "follow", reason: "columns added or dropped in the stream" } : SAME;
}

/**
 * Whether the slot is the one this STATE_DIR streamed from: a slot that
 * vanished while tables hold positions, or one whose confirmed position is
 * past every position this STATE_DIR ever confirmed (dropped and created
 * again, or moved by someone else), left changes unstreamed.
 */
export function slotBreak(
  slot: { readonly name: string; readonly confirmedFlush: bigint | null } | null,
  name: string,
  positions: { readonly tables: number; readonly confirmed: bigint | null },
): string | null {
  if (positions.tables === 0) return null;
  if (slot === null) {
    return `replication slot ${name} is gone (dropped, or CDC_SLOT changed): the changes since the last sync were not streamed`;
  }
  if (
    positions.confirmed !== null && slot.confirmedFlush !== null &&
    slot.confirmedFlush > positions.confirmed
  ) {
    return `replication slot ${name} is not the one this STATE_DIR streamed from (it was dropped and created again, or moved by another client): changes may have been skipped`;
  }
  return null;
}
