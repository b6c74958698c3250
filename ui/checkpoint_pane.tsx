// The Tables pane: one line per table with its state word and colour (in sync,
// copying, behind, retrying, failed, paused), freshness or progress or the
// error, and on wide terminals the rows copied, exact cursor and key. It
// scrolls with the selection; Enter opens the table's detail view.

import { Pane, positionInfo, type SegLine, windowStart } from "./pane.tsx";
import { Line } from "./pane.tsx";
import { Text } from "ink";
import { displayWidth, formatDuration, padEndWidth } from "./format.ts";
import { tableHealth } from "./health.ts";
import { resolveSelection, tableNames, type TableView, type UiState } from "./state.ts";

export interface CheckpointPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
  readonly focused?: boolean;
  /** Room for rows copied, cursor and key columns. */
  readonly wide?: boolean;
}

export function countdown(state: UiState): string {
  switch (state.status) {
    case "syncing":
      return "syncing now";
    case "paused":
      return "paused";
    case "starting":
      return "starting";
    case "stopping":
      return "stopping";
    case "stopped":
      return "stopped";
    default:
      return state.nextCycleAt === null
        ? "-"
        : `next in ${formatDuration(Math.max(0, state.nextCycleAt - state.now))}`;
  }
}

/** "retrying" and a space. */
const WORD_WIDTH = 9;

const keyText = (t: TableView) => (t.key ? t.key.join(", ") : "-");

/** One table's line: name, state word, detail; with `wide`, copied, cursor and key too. */
export function tableLine(
  t: TableView,
  state: UiState,
  nameWidth: number,
  wide: boolean,
  width: number,
  /** Width of the key column, the same for every line of the pane. */
  keyWidth = 0,
): SegLine {
  const h = tableHealth(t, state);
  const name = padEndWidth(t.table, nameWidth);
  if (!wide) {
    return [
      { text: `${name} ` },
      { text: padEndWidth(h.word, WORD_WIDTH), color: h.color, bold: true },
      { text: h.detail, color: h.color === "red" ? "red" : undefined },
    ];
  }
  const copied = t.rowsCopied.toLocaleString("en-US").padStart(13);
  // A table streamed from the WAL has a position instead of a cursor.
  const position = t.cursor ?? (t.lsn ? `lsn ${t.lsn}${lagText(t)}` : "-");
  const tail = `${copied}  ${position.padEnd(30)} ${padEndWidth(keyText(t), keyWidth)}`;
  const detailWidth = Math.max(10, width - nameWidth - WORD_WIDTH - 2 - displayWidth(tail) - 1);
  const detail = displayWidth(h.detail) > detailWidth
    ? `${h.detail.slice(0, detailWidth - 1)}…`
    : padEndWidth(h.detail, detailWidth);
  return [
    { text: `${name} ` },
    { text: padEndWidth(h.word, WORD_WIDTH), color: h.color, bold: true },
    { text: `${detail} `, color: h.color === "red" ? "red" : undefined },
    { text: tail, color: "gray" },
  ];
}

export function CheckpointPane({ state, width, height, focused, wide }: CheckpointPaneProps) {
  const inner = width - 4;
  const rows = Math.max(1, height - 2);
  const tables = tableNames(state).map((name) => state.tables[name]!);
  const failed = tables.filter((t) => t.error !== null).length;
  const title = `1 Tables${tables.length > 0 ? ` (${tables.length})` : ""}`;
  if (tables.length === 0) {
    return (
      <Pane title={title} width={width} height={height} focused={focused}>
        <Text color="gray" wrap="truncate">
          {state.status === "stopped" || state.status === "stopping"
            ? `${countdown(state)} before the first cycle`
            : "waiting for the first cycle…"}
        </Text>
      </Pane>
    );
  }
  const nameWidth = Math.min(
    Math.max(...tables.map((t) => displayWidth(t.table))),
    Math.max(8, Math.floor(inner * 0.4)),
  );
  const keyWidth = Math.min(30, Math.max(...tables.map((t) => displayWidth(keyText(t)))));
  const selected = resolveSelection(state.selected.tables, tables.length);
  const start = windowStart(selected, tables.length, rows);
  const info = positionInfo(start, rows, tables.length) ||
    (failed > 0 ? `${failed} failed` : countdown(state));
  const header: SegLine | null = wide
    ? [{
      text: `${padEndWidth("table", nameWidth)} ${"state".padEnd(WORD_WIDTH)} `,
      color: "gray",
    }]
    : null;
  return (
    <Pane title={title} info={info} width={width} height={height} focused={focused}>
      {header && rows > tables.length ? <Line line={header} width={inner} /> : null}
      {tables.slice(start, start + rows).map((t, i) => (
        <Line
          key={t.table}
          line={tableLine(t, state, nameWidth, wide ?? false, inner, keyWidth)}
          width={inner}
          inverse={focused && start + i === selected}
        />
      ))}
    </Pane>
  );
}

/** ", lag 0.8s" after a streamed table's position, when a batch reported one. */
function lagText(t: TableView): string {
  return t.lagMs === null ? "" : `, lag ${(t.lagMs / 1000).toFixed(1)}s`;
}
