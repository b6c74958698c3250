// Owns folding one table's stream of row changes (inserts, updates, deletes,
// truncates, in commit order) into the net change per key that one DuckDB
// transaction applies: the last row written for each key, or its deletion,
// after an optional emptying of the table. An UPDATE leaves a TOASTed value
// it did not touch out of the stream (pgoutput's unchanged marker); the fold
// fills it from an earlier change in the same batch when there is one, and
// otherwise keeps the marker with the key of the row whose current DuckDB
// value it must keep (the old key, when the UPDATE changed the key). Pure.

import { type TupleValue, UNCHANGED } from "./pgoutput.ts";

/** The net change of one key: a whole row (maybe with kept values), or a deletion. */
export type NetChange =
  | {
    readonly op: "upsert";
    /** Column values by position in the change set's columns. */
    readonly values: readonly TupleValue[];
    /** Key of the DuckDB row that unchanged values come from (null: none unchanged). */
    readonly keepFrom: readonly string[] | null;
  }
  | { readonly op: "delete"; readonly key: readonly string[] };

export class ChangeSet {
  /** The table is emptied before the net changes are applied. */
  truncated = false;
  /** Changes folded in (before folding), for counts. */
  inserts = 0;
  updates = 0;
  deletes = 0;
  readonly #changes = new Map<string, NetChange>();
  readonly #keyIndexes: readonly number[];

  /** `keyIndexes`: positions of the key columns in every row. */
  constructor(keyIndexes: readonly number[]) {
    this.#keyIndexes = keyIndexes;
  }

  get size(): number {
    return this.#changes.size;
  }

  /** Net changes, one per key (in the order keys were first touched). */
  changes(): IterableIterator<NetChange> {
    return this.#changes.values();
  }

  truncate(): void {
    this.truncated = true;
    this.#changes.clear();
  }

  insert(row: readonly TupleValue[]): void {
    this.inserts += 1;
    this.#upsert(row, null);
  }

  /** `oldKey`: the row's key before the update, when the update changed it. */
  update(row: readonly TupleValue[], oldKey: readonly string[] | null): void {
    this.updates += 1;
    this.#upsert(row, oldKey);
  }

  /**
   * `oldRow`: the whole deleted row, when the stream names rows by all their
   * values (REPLICA IDENTITY FULL with a configured key): a delete of a row
   * other than the one this batch wrote for the key (the key was briefly held
   * twice inside a transaction) leaves that write in place.
   */
  delete(key: readonly string[], oldRow: readonly TupleValue[] | null = null): void {
    this.deletes += 1;
    const id = keyId(key);
    const before = this.#changes.get(id);
    if (oldRow && before?.op === "upsert" && !sameRow(before.values, oldRow)) return;
    this.#changes.set(id, { op: "delete", key });
  }

  #keyOf(row: readonly TupleValue[]): string[] {
    return this.#keyIndexes.map((i) => {
      const v = row[i];
      if (typeof v !== "string") throw new RangeError("a key column arrived without a value");
      return v;
    });
  }

  #upsert(row: readonly TupleValue[], oldKey: readonly string[] | null): void {
    const key = this.#keyOf(row);
    const id = keyId(key);
    const moved = oldKey !== null && keyId(oldKey) !== id;
    const fromKey = moved ? oldKey : key;
    const before = this.#changes.get(keyId(fromKey));
    let values: TupleValue[] = [...row];
    let keepFrom: readonly string[] | null = null;
    if (values.some((v) => v === UNCHANGED)) {
      if (before?.op === "upsert") {
        values = values.map((v, i) => (v === UNCHANGED ? before.values[i]! : v));
        keepFrom = values.some((v) => v === UNCHANGED) ? before.keepFrom : null;
      } else if (before?.op === "delete" || (this.truncated && !before)) {
        // The row was gone before this change: nothing to keep (not possible in a
        // consistent stream; NULL rather than another row's value).
        values = values.map((v) => (v === UNCHANGED ? null : v));
      } else {
        keepFrom = fromKey;
      }
    }
    if (moved) {
      this.#changes.set(keyId(oldKey), { op: "delete", key: oldKey });
    }
    this.#changes.set(id, { op: "upsert", values, keepFrom });
  }
}

/** Whether a written row is the row a delete names (values it did not carry match anything). */
function sameRow(written: readonly TupleValue[], deleted: readonly TupleValue[]): boolean {
  return written.every((v, i) => {
    const d = deleted[i];
    return v === UNCHANGED || d === UNCHANGED || d === undefined || v === d;
  });
}

/** One string per key, for a Map. */
function keyId(key: readonly string[]): string {
  return JSON.stringify(key);
}
