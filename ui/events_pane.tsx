// The Events pane: the session's log of notices, errors, failures, retries,
// seeds and schema drift with local timestamps (the zone in the title),
// filterable by table (f), scrolling with the selection; Enter shows an entry
// whole (a drift event's full DDL).

import { Text } from "ink";
import { Line, Pane, positionInfo, type SegLine, windowStart } from "./pane.tsx";
import { localClock, localZone } from "./format.ts";
import {
  type LogEntry,
  type LogKind,
  resolveSelection,
  type UiState,
  visibleLog,
} from "./state.ts";

export interface EventsPaneProps {
  readonly state: UiState;
  readonly width: number;
  readonly height: number;
  readonly focused?: boolean;
}

const KIND_COLOR: Record<LogKind, string | undefined> = {
  notice: undefined,
  error: "red",
  failed: "red",
  retry: "red",
  drift: "magenta",
  recovered: "green",
  seed: "cyan",
  query: "yellow",
};

export function eventLine(e: LogEntry): SegLine {
  return [
    { text: `${localClock(e.at)} `, color: "gray" },
    { text: e.kind.padEnd(10), color: KIND_COLOR[e.kind], bold: true },
    ...(e.count ? [{ text: `×${e.count} `, color: "yellow", bold: true }] : []),
    { text: e.text, color: e.kind === "notice" ? undefined : KIND_COLOR[e.kind] },
  ];
}

export function EventsPane({ state, width, height, focused }: EventsPaneProps) {
  const inner = width - 4;
  const rows = Math.max(1, height - 2);
  const entries = visibleLog(state);
  const selected = resolveSelection(state.selected.events, entries.length);
  const start = windowStart(selected, entries.length, rows);
  const filter = state.logFilter ? `table ${state.logFilter} (f: next)` : "";
  const info = [positionInfo(start, rows, entries.length), filter].filter(Boolean).join(" · ");
  return (
    <Pane
      title={`2 Events, ${localZone(state.now)}`}
      info={info}
      width={width}
      height={height}
      focused={focused}
    >
      {entries.length === 0
        ? (
          <Text color="gray" wrap="truncate">
            {state.logFilter
              ? `nothing about ${state.logFilter} yet`
              : "no notices, errors or schema changes yet"}
          </Text>
        )
        : entries.slice(start, start + rows).map((e, i) => (
          <Line
            key={start + i}
            line={eventLine(e)}
            width={inner}
            inverse={focused && start + i === selected}
          />
        ))}
    </Pane>
  );
}
