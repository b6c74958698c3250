// The detail view Enter opens over the events and query panes: a table's full
// checkpoint, health, last error and history; a log entry whole (a drift
// event's DDL); a result row as a record with whole values. j/k and PgUp/PgDn
// scroll it, Esc closes it. The status line stays below it.

import { Text } from "ink";
import { cellText } from "../src/mod.ts";
import { Line, Pane, type SegLine } from "./pane.tsx";
import { formatDuration, localClock, localZone, positionInfo, wrap } from "./format.ts";
import { copyProgress, freshness, tableHealth } from "./health.ts";
import { type UiState, visibleLog } from "./state.ts";
import { eventLine } from "./events_pane.tsx";

function wrapped(label: string, value: string, width: number, color?: string): SegLine[] {
  const lines = value.split("\n").flatMap((l) => wrap(`${l}`, Math.max(10, width - 2), 1000));
  return [
    [{ text: label, color: "gray", bold: true }],
    ...lines.map((l): SegLine => [{ text: `  ${l}`, color }]),
  ];
}

/** The table's batches since the UI started: count, rows, the last one. */
function sessionBatches(state: UiState, table: string): string {
  const mine = state.batches.filter((b) => b.table === table);
  const last = mine[mine.length - 1];
  if (!last) return "no batches";
  const rows = mine.reduce((n, b) => n + b.rows, 0);
  return `${mine.length} batches, ${rows.toLocaleString("en-US")} rows; last at ${
    localClock(last.at)
  }: ${last.rows.toLocaleString("en-US")} rows in ${Math.round(last.durationMs)} ms`;
}

function detailTitle(state: UiState): string {
  const d = state.detail;
  if (!d) return "";
  if (d.kind === "table") return `Table ${d.table}`;
  if (d.kind === "event") return "Event";
  return `Row ${d.index + 1} of ${state.result?.rows.length ?? 0}`;
}

function detailLines(state: UiState, width: number): SegLine[] {
  const d = state.detail;
  if (!d) return [];
  if (d.kind === "table") {
    const t = state.tables[d.table];
    if (!t) return [[{ text: "this table is gone" }]];
    const h = tableHealth(t, state);
    const field = (k: string, v: string, color?: string): SegLine => [
      { text: `${k.padEnd(16)}`, color: "gray" },
      { text: v, color },
    ];
    const history = state.log.filter((e) => e.table === t.table || e.text.includes(t.table));
    return [
      field("state", `${h.word} · ${h.detail}`, h.color),
      field("mode", t.mode),
      field("freshness", freshness(t)),
      field(
        "last good cycle",
        t.lastGoodAt === null
          ? "none this session"
          : `${formatDuration(state.now - t.lastGoodAt)} ago`,
      ),
      ...(t.lsn
        ? [
          field("WAL position", t.lsn),
          field(
            "lag",
            t.lagMs === null ? "-" : `${(t.lagMs / 1000).toFixed(1)} s at the last batch`,
          ),
        ]
        : [field("cursor", t.cursor ?? "-")]),
      field("key", t.key ? t.key.join(", ") : "-"),
      field("rows copied", t.rowsCopied.toLocaleString("en-US")),
      field("this session", sessionBatches(state, t.table)),
      ...(t.mode === "bootstrap" ? [field("first copy", copyProgress(t, state.now))] : []),
      ...(t.error ? wrapped("last error", t.error, width, "red") : [field("last error", "none")]),
      [{
        text: `history (${history.length}, times ${localZone(state.now)})`,
        color: "gray",
        bold: true,
      }],
      ...history.flatMap((e) => wrapped(`${localClock(e.at)} ${e.kind}`, e.text, width)),
    ];
  }
  if (d.kind === "event") {
    const e = visibleLog(state)[d.index];
    if (!e) return [[{ text: "this entry is gone" }]];
    const lines: SegLine[] = [
      eventLine({ ...e, text: "" }),
      [{ text: `table ${e.table ?? "-"} · ${new Date(e.at).toString()}`, color: "gray" }],
      ...(e.count
        ? [[{
          text: `seen ${e.count} times since ${new Date(e.firstAt ?? e.at).toString()}`,
          color: "yellow",
        }]]
        : []),
      ...wrapped("text", e.text, width),
    ];
    if (e.drift) {
      lines.push(
        ...wrapped("change", `${e.drift.kind} ${e.drift.column}: ${e.drift.detail}`, width),
      );
      lines.push(...wrapped("DDL applied", e.drift.ddl ?? "none", width, "magenta"));
    }
    return lines;
  }
  const r = state.result;
  const row = r?.rows[d.index];
  if (!r || !row) return [[{ text: "no such row" }]];
  return r.columns.flatMap((c, i) => wrapped(c, cellText(row[i]), width));
}

export interface DetailViewProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
}

export function DetailView({ state, width, height }: DetailViewProps) {
  const inner = width - 4;
  const rows = Math.max(1, height - 3);
  const lines = detailLines(state, inner);
  const start = Math.min(state.detailScroll, Math.max(0, lines.length - rows));
  return (
    <Pane
      title={detailTitle(state)}
      info={positionInfo(start, rows, lines.length) || "Esc closes"}
      width={width}
      height={height}
      focused
    >
      {lines.slice(start, start + rows).map((l, i) => <Line key={i} line={l} width={inner} />)}
      <Text color="gray" wrap="truncate">j/k PgUp/PgDn scroll · Esc closes</Text>
    </Pane>
  );
}
