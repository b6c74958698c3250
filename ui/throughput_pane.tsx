// The Throughput pane: rows/s over time in fixed buckets (newest right) with
// its scale labelled, an axis marking outages (×, a gap in the bars) and failed
// cycles (!), the time span and the busiest tables of that span when there is
// room; the session's totals in the top border.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, compactNumber, formatDuration } from "./format.ts";
import { axis, bars, buildChart, changeRates, topTables } from "./throughput_chart.ts";
import type { UiState } from "./state.ts";

export interface ThroughputPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
}

export function ThroughputPane({ state, width, height }: ThroughputPaneProps) {
  const inner = Math.max(1, width - 4);
  const rows = Math.max(1, height - 2);
  const chart = buildChart(state, inner);
  // Scale line, bars, axis, then the time span and the busiest tables when there is room.
  const withSpan = rows >= 5;
  const windowFrom = state.now - chart.bucketSeconds * inner * 1000;
  const top = rows >= 7 ? topTables(state.batches, windowFrom, 4) : "";
  const barRows = Math.max(1, rows - (withSpan ? 3 : 2) - (top ? 1 : 0));
  const span = `-${formatDuration(chart.bucketSeconds * inner * 1000)}`;
  const scale = state.totals.batches === 0
    ? `no batches yet · ${chart.bucketSeconds}s/column`
    : `${compactNumber(chart.scale)} rows/s ┤ ${chart.bucketSeconds}s/column`;
  const lines: { text: string; color?: string }[] = [
    { text: scale, color: "gray" },
    ...bars(chart, barRows).map((text) => ({ text, color: "cyan" })),
    { text: axis(chart), color: "gray" },
    ...(withSpan
      ? [{ text: `${span}${" ".repeat(Math.max(1, inner - span.length - 3))}now`, color: "gray" }]
      : []),
    ...(top ? [{ text: top }] : []),
  ];
  const kinds = changeRates(state.batches, windowFrom, state.now);
  if (kinds) lines.splice(1, 0, { text: kinds, color: "gray" });
  const info = state.totals.batches === 0
    ? ""
    : `Σ ${compactNumber(state.totals.rows)} rows${
      width >= 50 ? `, ${state.totals.batches} batches` : ""
    }`;
  return (
    <Pane title="Throughput" info={info} width={width} height={height}>
      {lines.slice(0, rows).map((l, i) => (
        <Text key={i} color={l.color} wrap="truncate">{clip(l.text, inner)}</Text>
      ))}
    </Pane>
  );
}
