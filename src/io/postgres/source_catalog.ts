// Owns the catalog reads of one cycle: the tables' descriptions (columns, key,
// kind) read from Postgres for many tables at once, so that a cycle over
// hundreds of idle tables costs a few catalog queries rather than three per
// table. A description is used only while it is fresh (FRESH_MS), by one table,
// once: a table synced after a long one is described again, close to its reads.

import type pg from "pg";
import { describeTable, describeTables, type TableDescription } from "./mod.ts";
import type { TablePlan } from "../../core/table_plan.ts";

/** How old a description may be when its table's sync starts. */
const FRESH_MS = 2000;
/** Tables described by one batch of catalog queries. */
const CHUNK = 50;

interface Entry {
  readonly at: number;
  readonly batch: Promise<Map<string, TableDescription>>;
}

export class SourceCatalog {
  readonly #plans: readonly TablePlan[];
  readonly #database: string;
  readonly #entries = new Map<string, Entry>();

  constructor(plans: readonly TablePlan[], database: string) {
    this.#plans = plans;
    this.#database = database;
  }

  /**
   * The plan's table as the catalog describes it now; reads it together with
   * the next tables of the cycle that have no fresh description yet.
   */
  async describe(client: pg.Client, plan: TablePlan): Promise<TableDescription> {
    let entry = this.#entries.get(plan.source);
    if (!entry || performance.now() - entry.at > FRESH_MS) {
      const from = Math.max(0, this.#plans.indexOf(plan));
      const batch = this.#plans.slice(from).filter((p) => p === plan || !this.#fresh(p.source))
        .slice(0, CHUNK);
      if (!batch.includes(plan)) batch.unshift(plan);
      const read = describeTables(client, batch);
      // Tables whose sync never asks (a stopped cycle) must not leave a rejection unhandled.
      read.catch(() => {});
      entry = { at: performance.now(), batch: read };
      for (const p of batch) this.#entries.set(p.source, entry);
    }
    this.#entries.delete(plan.source);
    const description = (await entry.batch).get(plan.source);
    // Not found: describeTable says so (TABLE_MISSING).
    return description ?? await describeTable(client, plan, this.#database);
  }

  #fresh(source: string): boolean {
    const entry = this.#entries.get(source);
    return entry !== undefined && performance.now() - entry.at <= FRESH_MS;
  }
}
