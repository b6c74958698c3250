// The Throughput pane: rows/s of recent batches as a sparkline, the last
// batch, and totals since start.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip, compactNumber, formatBytesShort, formatDuration, sparkline } from "./format.ts";
import type { UiState } from "./state.ts";

export interface ThroughputPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
}

export function ThroughputPane({ state, width, height }: ThroughputPaneProps) {
  const inner = width - 4;
  const rates = state.batches.map((b) => (b.durationMs > 0 ? b.rows / (b.durationMs / 1000) : 0));
  const last = state.batches[state.batches.length - 1];
  const peak = Math.max(0, ...rates);
  const lines = [
    rates.length === 0 ? "no batches yet" : sparkline(rates, inner),
    last
      ? `last ${last.rows.toLocaleString("en-US")} rows, ${
        compactNumber(rates[rates.length - 1] ?? 0)
      } rows/s, ${Math.round(last.durationMs)} ms, ${formatBytesShort(last.bytes)}`
      : "",
    `peak ${compactNumber(peak)} rows/s`,
    `total ${state.totals.rows.toLocaleString("en-US")} rows in ${state.totals.batches} batch${
      state.totals.batches === 1 ? "" : "es"
    }, ${formatBytesShort(state.totals.bytes)} since ${
      formatDuration(state.now - state.startedAt)
    } ago`,
  ];
  return (
    <Pane title="Throughput" width={width} height={height}>
      {lines.slice(0, Math.max(0, height - 3)).map((l, i) => (
        <Text key={i} color={i === 0 ? "cyan" : undefined} wrap="truncate">{clip(l, inner)}</Text>
      ))}
    </Pane>
  );
}
