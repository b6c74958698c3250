// A bordered pane with its title (and a position or count on the right) drawn
// into the top border line, so a pane spends no row on its title; and the
// line type the panes render: coloured segments cut to a width in terminal
// cells.

import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { clipWidth, displayWidth, sliceWidth } from "./format.ts";

export interface PaneProps {
  readonly title: string;
  /** Right side of the top border: "12-20 of 40", a filter, a count. */
  readonly info?: string;
  readonly width: number;
  readonly height: number;
  readonly focused?: boolean;
  readonly children?: ReactNode;
}

function borderTitle(title: string, info: string, width: number): string {
  const inner = Math.max(0, width - 2);
  const left = clipWidth(`─ ${title} `, inner);
  const right = info ? ` ${info} ─` : "";
  const room = inner - displayWidth(left);
  if (displayWidth(right) > room) return `╭${left}${"─".repeat(room)}╮`;
  return `╭${left}${"─".repeat(room - displayWidth(right))}${right}╮`;
}

export function Pane(props: PaneProps) {
  const color = props.focused ? "cyan" : "gray";
  return (
    <Box flexDirection="column" width={props.width} height={props.height}>
      <Text color={color} bold={props.focused} wrap="truncate">
        {borderTitle(props.title, props.info ?? "", props.width)}
      </Text>
      <Box
        flexDirection="column"
        borderStyle="round"
        borderTop={false}
        borderColor={color}
        width={props.width}
        height={Math.max(1, props.height - 1)}
        paddingX={1}
        overflow="hidden"
      >
        {props.children}
      </Box>
    </Box>
  );
}

export interface Seg {
  readonly text: string;
  readonly color?: string;
  readonly bold?: boolean;
  readonly dim?: boolean;
}

export type SegLine = readonly Seg[];

/** The segments cut to `width` cells (an ellipsis marks the cut). */
function fitLine(line: SegLine, width: number): Seg[] {
  const total = line.reduce((n, s) => n + displayWidth(s.text), 0);
  if (total <= width) return [...line];
  const out: Seg[] = [];
  let left = width - 1;
  for (const s of line) {
    if (left <= 0) break;
    const part = sliceWidth(s.text.replace(/[\r\n\t]/g, " "), left);
    out.push({ ...s, text: part });
    left -= displayWidth(part);
  }
  out.push({ text: "…", color: "gray" });
  return out;
}

export function Line(
  { line, width, inverse }: { line: SegLine; width: number; inverse?: boolean },
) {
  const segs = fitLine(line, width);
  const used = segs.reduce((n, s) => n + displayWidth(s.text), 0);
  return (
    <Text wrap="truncate" inverse={inverse}>
      {segs.map((s, i) => (
        <Text key={i} color={s.color} bold={s.bold} dimColor={s.dim}>{s.text}</Text>
      ))}
      {inverse ? " ".repeat(Math.max(0, width - used)) : ""}
    </Text>
  );
}

export { positionInfo, windowStart } from "./format.ts";
