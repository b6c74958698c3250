// Owns the shapes of a first copy's progress that the checkpoint keeps: the
// safe horizon read before a cycle's data queries, and the state of a block
// scan under way (io/postgres/block_scan.ts reads the table; sync/cursor/scan_phase.ts runs it).

export interface Horizon {
  /** Exact text of the horizon timestamp (UTC); rows with cursor < horizon are settled. */
  readonly at: string;
  /** True when open transactions of other roles could not be seen. */
  readonly usedLookback: boolean;
  /**
   * The database's own TimeZone (not this session's UTC): writers' now() fills a
   * `timestamp without time zone` cursor with wall-clock time in that zone.
   */
  readonly zone: string;
}

/** Persisted in the checkpoint while a block scan is under way. */
export interface ScanState {
  /** The safe horizon read before the scan began. */
  readonly horizon: Horizon;
  /** pg_relation_filenode() when the scan began: a rewrite changes it. */
  readonly filenode: string;
  /** Heap blocks when the scan began; later blocks hold only rows with cursor >= horizon. */
  readonly blocks: number;
  /** The first block not yet copied. */
  readonly nextBlock: number;
  /** Blocks per batch (adapted to the rows per block seen so far). */
  readonly blocksPerBatch: number;
  /**
   * The cursor value (Postgres text) an hour before the horizon: a row at or
   * after it may have been copied before (it changed while the scan ran), so
   * loading it first removes an older copy. The hour only adds safety margin.
   */
  readonly recentFrom: string;
  /**
   * The oldest transaction still running when the scan began (a 32-bit xid):
   * every row version written since has an xmin at least this new, including
   * one an UPDATE moved without changing the cursor (copyChangedSinceToCsv).
   */
  readonly xmin: string;
  /**
   * The most rows per block seen so far or estimated: from the statistics'
   * average, and from how many rows of the sampled size fit in a block
   * (absent in scans saved before it was kept). A batch never spans more
   * blocks than would hold twice its rows at this density.
   */
  readonly densest?: number;
}
