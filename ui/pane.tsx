// A bordered pane with its title in the top border line.

import { Box, Text } from "ink";
import type { ReactNode } from "react";

export interface PaneProps {
  readonly title: string;
  readonly width?: number | string;
  readonly height?: number;
  readonly focused?: boolean;
  readonly children?: ReactNode;
  readonly flexGrow?: number;
}

export function Pane(props: PaneProps) {
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor={props.focused ? "cyan" : "gray"}
      width={props.width}
      height={props.height}
      flexGrow={props.flexGrow}
      paddingX={1}
      overflow="hidden"
    >
      <Text bold color={props.focused ? "cyan" : "white"}>{props.title}</Text>
      {props.children}
    </Box>
  );
}
