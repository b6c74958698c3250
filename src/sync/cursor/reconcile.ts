// Owns hard-delete reconciliation (RECONCILE_DELETES_EVERY): every N cycles the
// keys of a table are compared by bucket checksums, as verify does, and rows
// DuckDB holds whose key Postgres no longer has are deleted (or, with
// RECONCILE_DELETES_MODE=mark, get the soft-delete column set). Rows Postgres
// has that DuckDB lacks are left to the incremental sync.

import type pg from "pg";
import type { TableInfo } from "../../io/postgres/mod.ts";
import type { TablePlan } from "../../core/table_plan.ts";
import type { TableSyncContext } from "../context.ts";
import { compareTable } from "../ops/compare_tables.ts";
import { keyHashIn } from "../../core/table_compare.ts";
import { quoteIdent, sourceFrom } from "../../core/sql.ts";
import { mapColumn } from "../../core/type_map.ts";
import { count } from "../../core/counts.ts";
import { fenceReplay } from "../ops/replay.ts";

/** Finds rows deleted outright in Postgres and removes (or marks) them in DuckDB. */
export async function reconcileDeletes(
  ctx: TableSyncContext,
  client: pg.Client,
  plan: TablePlan,
  info: TableInfo,
): Promise<number> {
  const keyNames = info.keyset.key.map((k) => k.name);
  const key = info.columns.filter((c) => keyNames.includes(c.name))
    .sort((a, b) => keyNames.indexOf(a.name) - keyNames.indexOf(b.name))
    .map((c) => mapColumn(c, { wideNumeric: ctx.config.wideNumeric }));
  const warehouse = await ctx.warehouseFile.acquire({
    lockWaitSeconds: ctx.config.lockWaitSeconds,
    signal: ctx.signal,
  });
  try {
    const target = await warehouse.columns(plan.target);
    if (!target) return 0;
    // Keys are compared as canonical text: a key column whose DuckDB type is not
    // its mapped type (a narrowing kept wider) would make every row look gone.
    const types = new Map(target.map((c) => [c.name, c.duckType]));
    const mismatched = key.filter((k) => types.get(k.name) !== k.duckType);
    if (mismatched.length > 0) {
      ctx.emit({
        type: "notice",
        message: `${plan.target}: hard-delete reconciliation skipped: key column(s) ${
          mismatched.map((k) => `${k.name} (DuckDB ${types.get(k.name)}, mapped ${k.duckType})`)
            .join(", ")
        } differ in type (reset the table to rebuild it)`,
      });
      return 0;
    }
    const soft = plan.softDeleteColumn;
    const canMark = ctx.config.reconcileDeletesMode === "mark" && soft !== "" && types.has(soft);
    // This table's batches are done for the cycle and no other task writes it,
    // so the comparison needs no writer lock; only the change below takes it.
    // Every Postgres row counts (a NULL cursor still means the key exists);
    // a row gone from Postgres whose soft-delete column is set is already marked.
    const result = await compareTable(client, warehouse, {
      shape: { key, columns: key },
      pgFrom: sourceFrom(info),
      duckFrom: quoteIdent(plan.target),
      pgWhere: "true",
      pgBucketWhere: `${quoteIdent(info.keyset.cursor.name)} IS NOT NULL`,
      duckWhere: "true",
      pendingExpr: null,
      markedExpr: canMark ? `(${quoteIdent(soft)} IS NOT NULL)` : null,
      uncompared: [],
      unrepairable: [],
      repairColumns: [],
      allColumns: [],
      expectedRows: info.estimatedRows,
    }, true);
    const gone = [...result.extra].sort((a, b) => a.label.localeCompare(b.label));
    if (gone.length === 0) return 0;
    const where = keyHashIn("duck", key, gone);
    await fenceReplay(ctx.store, ctx.config.parquetDir, plan.target);
    await ctx.writer.run(async () => {
      if (canMark) {
        await warehouse.run(
          `UPDATE ${quoteIdent(plan.target)} SET ${quoteIdent(soft)} = now() WHERE ${where} AND ${
            quoteIdent(soft)
          } IS NULL`,
        );
      } else {
        await warehouse.run(`DELETE FROM ${quoteIdent(plan.target)} WHERE ${where}`);
      }
    });
    const shown = gone.slice(0, 10).map((r) => r.label).join("; ");
    const verb = canMark ? `marked deleted (${soft} set)` : "deleted";
    const fallback = ctx.config.reconcileDeletesMode === "mark" && !canMark
      ? ` (RECONCILE_DELETES_MODE=mark needs a "${soft || "soft-delete"}" column; deleted instead)`
      : "";
    ctx.emit({
      type: "notice",
      message: `${plan.target}: ${
        count(gone.length, "row")
      } gone from Postgres, ${verb} in DuckDB [${shown}${
        gone.length > 10 ? "; …" : ""
      }]${fallback}${result.partial ? "; more remain for the next reconcile" : ""}`,
    });
    return gone.length;
  } finally {
    warehouse.close();
  }
}
