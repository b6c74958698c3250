// Owns one streamed table: its key and column mappings, how the stream's
// relation messages line up with them, and turning a batch of its net changes
// (core/change_set.ts) into the CSV and the load the batch sink applies.

import { ChangeSet, type NetChange } from "../../core/change_set.ts";
import type { RelationColumn, TupleValue } from "../../core/pgoutput.ts";
import { UNCHANGED } from "../../core/pgoutput.ts";
import { quoteIdent } from "../../core/sql.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import type { ColumnMapping } from "../../core/type_map.ts";
import { copyTextOf, csvField, type WalForm, walFormOf } from "../../core/wal_values.ts";
import type { Lsn } from "../../core/lsn.ts";
import { compareRelation, type ShapeVerdict } from "../../core/table_identity.ts";
import type { TableDescription } from "../../io/postgres/mod.ts";
import { fromColumn, KEEP_COLUMN, OP_COLUMN } from "../../io/duckdb/warehouse_changes.ts";

export class CdcTable {
  readonly plan: TablePlan;
  readonly key: readonly string[];
  description: TableDescription;
  mappings: readonly ColumnMapping[];
  #forms: WalForm[];
  #keyIndexes: number[];
  /** Relation column position -> mapping position (-1: not copied). */
  #relationMap: number[] | null = null;
  /** Changes arrive with the whole old row (REPLICA IDENTITY FULL). */
  fullIdentity = false;
  /** A change could not be applied: the table is re-copied next cycle, its changes skipped. */
  failed = false;
  /** How the table now compares with what its copy was made from (set each cycle). */
  verdict: ShapeVerdict = { kind: "same" };
  /** The commit position the DuckDB table includes (changes at or before it are skipped). */
  lsn: Lsn | null;
  changes: ChangeSet;

  constructor(
    plan: TablePlan,
    description: TableDescription,
    mappings: readonly ColumnMapping[],
    key: readonly string[],
    lsn: Lsn | null,
  ) {
    this.plan = plan;
    this.description = description;
    this.key = key;
    this.mappings = mappings;
    this.#forms = mappings.map(walFormOf);
    this.#keyIndexes = key.map((k) => mappings.findIndex((m) => m.name === k));
    this.lsn = lsn;
    this.changes = new ChangeSet(this.#keyIndexes);
  }

  /** New mappings after a schema change (the batch must be empty). */
  remap(description: TableDescription, mappings: readonly ColumnMapping[]): void {
    this.description = description;
    this.mappings = mappings;
    this.#forms = mappings.map(walFormOf);
    this.#keyIndexes = this.key.map((k) => mappings.findIndex((m) => m.name === k));
    this.#relationMap = null;
    this.changes = new ChangeSet(this.#keyIndexes);
  }

  /** Starts the next batch. */
  resetChanges(): void {
    this.changes = new ChangeSet(this.#keyIndexes);
  }

  /**
   * Lines the stream's columns up with the mappings (by name, after
   * compareRelation has proved positions agree) and says whether the shape is
   * the one DuckDB follows, one it can follow in place, or a break.
   */
  relate(columns: readonly RelationColumn[]): ShapeVerdict {
    const verdict = compareRelation(this.description.columns, columns);
    this.#relationMap = columns.map((c) => this.mappings.findIndex((m) => m.name === c.name));
    return verdict;
  }

  /** Whether a relation message is this table's (by OID: renames keep it, a new table does not). */
  isRelation(relationId: number): boolean {
    return this.description.oid === String(relationId);
  }

  /** A tuple in mapping order; columns the stream did not send stay unchanged. */
  #row(tuple: readonly TupleValue[]): TupleValue[] {
    const map = this.#relationMap;
    if (!map) throw new Error(`no relation message for ${this.plan.source} before its changes`);
    const row: TupleValue[] = this.mappings.map(() => UNCHANGED);
    tuple.forEach((value, i) => {
      const j = map[i]!;
      if (j >= 0) row[j] = value;
    });
    return row;
  }

  #keyOf(row: readonly TupleValue[]): string[] {
    return this.#keyIndexes.map((i) => {
      const v = row[i];
      if (typeof v !== "string") {
        throw new Error(`a change to ${this.plan.source} arrived without its key`);
      }
      return v;
    });
  }

  insert(tuple: readonly TupleValue[]): void {
    this.changes.insert(this.#row(tuple));
  }

  /** Folds a row change into the batch; about how many bytes its values hold. */
  change(
    message:
      | { readonly type: "insert"; readonly row: readonly TupleValue[] }
      | {
        readonly type: "update";
        readonly old: readonly TupleValue[] | null;
        readonly row: readonly TupleValue[];
      }
      | { readonly type: "delete"; readonly old: readonly TupleValue[] },
  ): number {
    if (message.type === "insert") {
      this.insert(message.row);
      return CdcTable.bytesOf(message.row);
    }
    if (message.type === "update") {
      this.update(message.old, message.row);
      return CdcTable.bytesOf(message.row) + CdcTable.bytesOf(message.old);
    }
    this.delete(message.old);
    return CdcTable.bytesOf(message.old);
  }

  /** About how many bytes a change's values hold (batches are bounded by bytes too). */
  static bytesOf(tuple: readonly TupleValue[] | null): number {
    let n = 0;
    if (tuple) { for (const v of tuple) if (typeof v === "string") n += v.length; }
    return n;
  }

  update(old: readonly TupleValue[] | null, tuple: readonly TupleValue[]): void {
    const row = this.#row(tuple);
    const oldKey = old ? this.#keyOf(this.#row(old)) : null;
    // A key stored out of line (TOAST) that the UPDATE left alone comes as
    // "unchanged"; Postgres then logs the old key, which is the same value.
    if (oldKey) {
      this.#keyIndexes.forEach((k, i) => {
        if (row[k] === UNCHANGED) row[k] = oldKey[i]!;
      });
    }
    this.changes.update(row, oldKey);
  }

  delete(old: readonly TupleValue[]): void {
    const row = this.#row(old);
    // REPLICA IDENTITY FULL names the whole old row: a delete of another row
    // that briefly held the same key must not remove the one written here.
    this.changes.delete(this.#keyOf(row), this.fullIdentity ? row : null);
  }

  /** The batch file's columns: the change's kind and kept columns, then the table's. */
  sinkColumns(): ColumnMapping[] {
    const text = (name: string): ColumnMapping => ({
      ...this.mappings[0]!,
      name,
      pgType: "text",
      duckType: "VARCHAR",
      csvType: "VARCHAR",
      fromCsv: null,
    });
    const from = this.#keyIndexes.map((k, i) => {
      const m = this.mappings[k]!;
      const name = fromColumn(i);
      return {
        ...m,
        name,
        fromCsv: m.fromCsv?.replaceAll(quoteIdent(m.name), quoteIdent(name)) ?? null,
      };
    });
    return [text(OP_COLUMN), text(KEEP_COLUMN), ...from, ...this.mappings];
  }

  /** The batch (or a part of its changes) as CSV text, and the columns some row keeps from DuckDB. */
  batchCsv(
    changes: Iterable<NetChange> = this.changes.changes(),
  ): { csv: string; kept: string[] } {
    const kept = new Set<string>();
    const lines: string[] = [];
    for (const change of changes) lines.push(this.#line(change, kept));
    return { csv: lines.length > 0 ? lines.join("\n") + "\n" : "", kept: [...kept] };
  }

  #line(change: NetChange, kept: Set<string>): string {
    const fields: string[] = [];
    if (change.op === "delete") {
      fields.push(csvField("d"), csvField(null), ...this.#keyIndexes.map(() => csvField(null)));
      const values = this.mappings.map(() => null as string | null);
      this.#keyIndexes.forEach((k, i) => values[k] = change.key[i]!);
      values.forEach((v, j) => fields.push(this.#field(j, v)));
      return fields.join(",");
    }
    const keep = this.mappings.filter((_, j) => change.values[j] === UNCHANGED).map((m) => m.name);
    keep.forEach((name) => kept.add(name));
    fields.push(csvField("u"), csvField(keep.length > 0 ? JSON.stringify(keep) : null));
    this.#keyIndexes.forEach((k, i) => {
      fields.push(keep.length > 0 ? this.#field(k, change.keepFrom?.[i] ?? null) : csvField(null));
    });
    change.values.forEach((v, j) => fields.push(this.#field(j, v === UNCHANGED ? null : v)));
    return fields.join(",");
  }

  #field(j: number, value: string | null): string {
    if (value === null) return csvField(null);
    return csvField(copyTextOf(this.#forms[j]!, value, this.mappings[j]!.pgType));
  }
}
