// Owns `status`: each checkpointed table's row (mode, cursor, key, rows copied,
// last batch, first-copy progress, whether it came from the configured source)
// and its one-line text.

import type { Config } from "../../core/config.ts";
import { count } from "../../core/counts.ts";
import { sameOriginOffline, withoutSystem } from "../../core/origin.ts";
import { selectsSource, sourceName } from "../../core/selector.ts";
import type { ScanState } from "../../io/postgres/block_scan.ts";
import { CheckpointStore, type TableCheckpoint } from "../../io/state/checkpoint.ts";

export interface StatusRow {
  readonly table: string;
  readonly source: string;
  readonly origin: string | null;
  /** Null when no Postgres is configured, or the checkpoint predates origins. */
  readonly fromConfiguredSource: boolean | null;
  readonly mode: TableCheckpoint["mode"];
  readonly cursor: string | null;
  readonly key: readonly string[] | null;
  readonly rowsCopied: number;
  readonly batches: number;
  readonly lastBatchAt: string | null;
  readonly firstCopy: string | null;
  /** SYNC_METHOD=cdc: the WAL position (a commit) the table includes. */
  readonly lsn: string | null;
}

/**
 * The status rows of STATE_DIR's checkpoint (none without one). With Postgres
 * configured, a checkpoint made from another server or database is named as
 * such (sync would refuse it: SOURCE_CHANGED).
 */
export function readStatus(
  config: Config,
  configured: boolean,
): {
  readonly rows: StatusRow[];
  /** The sources of the other checkpointed tables, as POSTGRES_TABLES would name them. */
  readonly unselected: readonly string[];
} {
  const store = CheckpointStore.openExisting(config.stateDir, { readOnly: true });
  try {
    const configuredOrigin = configured ? config.pgOrigin : null;
    const all = store?.list() ?? [];
    const selected = all.filter((t) => isSelected(config, t));
    return {
      rows: selected.map((t) =>
        statusRow(t, {
          scan: store?.scan(t.table) ?? null,
          configuredOrigin,
          lsn: store?.lsn(t.table) ?? null,
        })
      ),
      unselected: all.filter((t) => !selected.includes(t) && t.source !== "").map((t) =>
        sourceName(t.source)
      ),
    };
  } finally {
    store?.close();
  }
}

/** Whether the selection (POSTGRES_TABLES, the sync file, or the one table) covers a checkpoint. */
function isSelected(config: Config, t: TableCheckpoint): boolean {
  if (t.source !== "") return selectsSource(config.tables, t.source);
  // A checkpoint from before sources were recorded: by its DuckDB name.
  return config.multiTable || t.table === config.duckdbTable;
}

/** One table's row; `configuredOrigin` is null when no Postgres is configured. */
export function statusRow(
  t: TableCheckpoint,
  options: {
    readonly scan: ScanState | null;
    readonly configuredOrigin: string | null;
    readonly lsn?: string | null;
  },
): StatusRow {
  const { scan, configuredOrigin } = options;
  return {
    table: t.table,
    source: t.source,
    origin: t.origin,
    fromConfiguredSource: configuredOrigin !== null && t.origin
      ? sameOriginOffline(t.origin, configuredOrigin)
      : null,
    mode: t.mode,
    cursor: t.cursor,
    key: t.key,
    rowsCopied: t.rowsCopied,
    batches: t.batches,
    lastBatchAt: t.lastBatchAt,
    firstCopy: firstCopyProgress(scan),
    lsn: options.lsn ?? null,
  };
}

/** "block 221 of 3421 (6%)" while a first copy by block ranges is under way. */
function firstCopyProgress(scan: ScanState | null): string | null {
  if (!scan) return null;
  const percent = scan.blocks > 0 ? Math.floor((scan.nextBlock / scan.blocks) * 100) : 100;
  return `block ${scan.nextBlock} of ${scan.blocks} (${percent}%)`;
}

/** The row as one line; `pgOrigin` is the configured source's origin. */
export function formatStatusRow(r: StatusRow, pgOrigin: string): string {
  return `${r.table} (${sourceName(r.source)} on ${
    r.origin === null ? "unknown server" : withoutSystem(r.origin)
  }): ${r.mode}, cursor ${r.cursor ?? "-"}, key ${r.key ? r.key.join(", ") : "-"}, ${
    count(r.rowsCopied, "row")
  } copied in ${count(r.batches, "batch", "batches")}, last batch ${r.lastBatchAt ?? "never"}${
    r.firstCopy ? `, first copy at ${r.firstCopy}` : ""
  }${r.lsn ? `, WAL position ${r.lsn}` : ""}${
    r.fromConfiguredSource === false
      ? `; NOT the configured source ${pgOrigin} (sync would refuse it: SOURCE_CHANGED)`
      : ""
  }`;
}
