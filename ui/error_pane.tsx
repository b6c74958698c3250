// The error pane: a fatal engine error (e.g. a wrong password) shown whole, in
// red, with how to leave; it replaces the drift pane until the user quits.

import { Text } from "ink";
import { Pane } from "./pane.tsx";

export interface ErrorPaneProps {
  readonly message: string;
  readonly width: number;
  readonly height: number;
}

export function ErrorPane({ message, width, height }: ErrorPaneProps) {
  return (
    <Pane title="Stopped" width={width} height={height} focused>
      <Text color="red" wrap="wrap">{message}</Text>
      <Text color="gray">Fix the setting and start again; q quits.</Text>
    </Pane>
  );
}
