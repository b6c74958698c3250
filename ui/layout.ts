// Owns the pure layout of the terminal UI for a terminal size and what there
// is to show: the height of each band (tables and throughput side by side, the
// event log, the query pane, the status line), the split of the top band, and
// "too small" below the smallest usable size. The status line always fits.

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;

export interface LayoutInput {
  readonly columns: number;
  readonly rows: number;
  readonly tables: number;
  readonly logEntries: number;
  /** Rows of the shown result (0 without one), and lines of the error shown instead. */
  readonly resultRows: number;
  readonly promptLines: number;
}

export interface Layout {
  readonly tooSmall: boolean;
  readonly columns: number;
  readonly rows: number;
  /** Height of the Tables and Throughput panes; the events band may be 0 (hidden). */
  readonly top: number;
  readonly tablesWidth: number;
  readonly events: number;
  readonly query: number;
  /** Lines of the status line at the bottom. */
  readonly status: number;
  /** Rows a detail view or the help overlay may take (the events and query bands). */
  readonly middle: number;
  /** Wide enough for the extra detail columns of the Tables pane. */
  readonly wide: boolean;
}

/** Borders of a pane (its title sits in the top border). */
const FRAME = 2;

export function computeLayout(input: LayoutInput): Layout {
  const { columns, rows } = input;
  const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS;
  const status = rows >= 30 ? 3 : 2;
  const body = Math.max(0, rows - status);
  const topWant = Math.max(1, input.tables) + FRAME;
  // Tall terminals give the tables up to half the screen.
  const topCap = Math.max(6, Math.floor(body * (rows >= 40 ? 0.5 : 0.4)));
  const top = Math.max(Math.min(6, topCap), Math.min(topWant, topCap));
  const rest = body - top;
  // prompt lines, header, rule, rows, footer
  const queryWant = input.promptLines + (input.resultRows > 0 ? input.resultRows + 3 : 2) + FRAME;
  const eventsMin = 3;
  const queryMin = Math.min(rest - eventsMin, 6);
  let query = Math.max(queryMin, Math.min(queryWant, rest - eventsMin));
  const eventsWant = Math.max(1, input.logEntries) + FRAME;
  // On a short terminal a result that does not fit takes the events' rows too.
  if (rows < 24 && input.resultRows > 0 && query < queryWant) {
    return finish(input, { top, events: 0, query: rest, status, tooSmall });
  }
  let events = rest - query;
  if (events > eventsWant) {
    // Empty panes shrink: the query pane takes the rest.
    query += events - Math.max(eventsMin, eventsWant);
    events = Math.max(eventsMin, eventsWant);
  }
  return finish(input, { top, events, query, status, tooSmall });
}

function finish(
  input: LayoutInput,
  bands: { top: number; events: number; query: number; status: number; tooSmall: boolean },
): Layout {
  const { columns, rows } = input;
  const tablesWidth = columns >= 160
    ? Math.floor(columns * 0.65)
    : Math.floor(columns * (columns >= 100 ? 0.6 : 0.64));
  return {
    ...bands,
    columns,
    rows,
    tablesWidth,
    middle: bands.events + bands.query,
    wide: tablesWidth >= 96,
  };
}
