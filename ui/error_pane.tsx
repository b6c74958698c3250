// The error pane: a fatal engine error (e.g. a wrong password) shown whole, in
// red, with how to leave; it replaces the events pane until the user quits.

import { Text } from "ink";
import { Pane } from "./pane.tsx";
import { wrap } from "./format.ts";

export interface ErrorPaneProps {
  readonly message: string;
  readonly width: number;
  readonly height: number;
}

export function ErrorPane({ message, width, height }: ErrorPaneProps) {
  const lines = wrap(message, width - 4, Math.max(1, height - 3));
  return (
    <Pane title="Stopped" width={width} height={height} focused>
      {lines.map((l, i) => <Text key={i} color="red" wrap="truncate">{l}</Text>)}
      <Text color="gray">Fix the setting and start again; q quits.</Text>
    </Pane>
  );
}
