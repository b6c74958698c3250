// The Schema drift pane: the append-only log of drift events (newest last):
// time, table, what changed, the DDL applied.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { clip } from "./format.ts";
import type { DriftRecord } from "../src/host/protocol.ts";

export interface DriftPaneProps {
  readonly drift: readonly DriftRecord[];
  readonly width: number;
  readonly height: number;
}

export function driftLine(d: DriftRecord): string {
  return `${d.at.slice(11, 19)} ${d.table} ${d.kind} ${d.column}: ${d.detail}${
    d.ddl ? ` | ${d.ddl}` : " | no DDL"
  }`;
}

export function DriftPane({ drift, width, height }: DriftPaneProps) {
  const rows = Math.max(0, height - 3);
  const shown = drift.slice(-rows);
  return (
    <Pane title="Schema drift" width={width} height={height}>
      {drift.length === 0
        ? <Text color="gray">no schema changes seen</Text>
        : shown.map((d, i) => <Text key={i} wrap="truncate">{clip(driftLine(d), width - 4)}</Text>)}
    </Pane>
  );
}
