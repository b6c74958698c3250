// Owns the cursor method's cycle: each table on a connection of its own,
// SYNC_CONCURRENCY at a time, decided from its shape (incremental by its
// keyset, a full refresh spaced by REFRESH_EVERY, or skipped with the reason),
// with hard deletes reconciled every RECONCILE_DELETES_EVERY cycles. A table's
// failure is its own: the others go on.

import { forEachLimited } from "../../core/mutex.ts";
import { decideSync, type TablePlan } from "../../core/table_plan.ts";
import type { Horizon } from "../../core/scan_state.ts";
import { isClosed, shapeOf, tableInfoOf } from "../../io/postgres/mod.ts";
import type { SourceCatalog } from "../../io/postgres/source_catalog.ts";
import type { TableCycleResult, TableSyncContext } from "../context.ts";
import type { Connections, MethodCycle, SyncMethod, TableFailure } from "../sync_method.ts";
import { syncIncremental } from "./table_sync.ts";
import { syncFullRefresh } from "./full_refresh.ts";
import { reconcileDeletes } from "./reconcile.ts";

export class CursorMethod implements SyncMethod {
  readonly #connections: Connections;
  readonly #noticeOnce: (id: string, message: string) => void;
  /** Tables already synced once by this process (a first cycle says more). */
  readonly #toldFirst = new Set<string>();

  constructor(connections: Connections, noticeOnce: (id: string, message: string) => void) {
    this.#connections = connections;
    this.#noticeOnce = noticeOnce;
  }

  async cycle(
    input: MethodCycle,
  ): Promise<{ results: TableCycleResult[]; failures: TableFailure[] }> {
    const { ctx, catalog, plans, horizon } = input;
    const results: TableCycleResult[] = [];
    const failures: TableFailure[] = [];
    await forEachLimited(plans, ctx.config.concurrency, async (plan) => {
      if (ctx.signal?.aborted) return;
      try {
        const result = await this.#syncTable(ctx, catalog, plan, horizon, input.cycle);
        if (result) results.push(result);
      } catch (error) {
        const failure = { table: plan.target, error: this.#connections.classify(error) };
        failures.push(failure);
        input.failed(failure);
      }
    });
    return { results, failures };
  }

  interrupt(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Syncs one table on its own connection; null when it is skipped. */
  async #syncTable(
    ctx: TableSyncContext,
    catalog: SourceCatalog,
    plan: TablePlan,
    horizon: Horizon,
    cycle: number,
  ): Promise<TableCycleResult | null> {
    const { store, config } = ctx;
    const client = await this.#connections.acquire();
    let broken = false;
    try {
      const description = await catalog.describe(client, plan);
      const decision = decideSync(plan, shapeOf(description));
      const first = !this.#toldFirst.has(plan.source);
      this.#toldFirst.add(plan.source);
      if (decision.kind === "skip") {
        this.#noticeOnce(`skip:${plan.source}`, decision.reason);
        return null;
      }
      if (decision.kind === "full_refresh") {
        if (decision.reason) this.#noticeOnce(`refresh:${plan.source}`, decision.reason);
        const checkpoint = store.get(plan.target);
        const due = checkpoint?.mode !== "full_refresh" ||
          store.refreshPending(plan.target) ||
          (cycle - 1) % plan.refreshEvery === 0;
        if (!due) return { rows: 0, batches: 0, idle: true, mode: "full_refresh" };
        // A failed refresh is tried again next cycle, not refreshEvery cycles later.
        store.setRefreshPending(plan.target, plan.source, true);
        const refreshed = await syncFullRefresh(ctx, client, plan, description, decision.key);
        store.setRefreshPending(plan.target, plan.source, false);
        return refreshed;
      }
      const info = tableInfoOf(description, plan.cursorColumn, decision.key, {
        wideNumeric: config.wideNumeric,
      });
      const result = await syncIncremental(ctx, client, plan, info, horizon, first);
      const every = config.reconcileDeletesEvery;
      if (every > 0 && cycle % every === 0 && !ctx.signal?.aborted) {
        await reconcileDeletes(ctx, client, plan, info);
      }
      return result;
    } catch (error) {
      const e = this.#connections.classify(error, plan.source);
      broken = e.transient || e.code === "PG_ERROR" || isClosed(client);
      throw e;
    } finally {
      this.#connections.release(client, broken);
    }
  }
}
