// The status line: connection (password masked), loop status with the last
// error, the newest notice, and key help.

import { Box, Text } from "ink";
import { clip } from "./format.ts";
import { countdown } from "./checkpoint_pane.tsx";
import type { UiState } from "./state.ts";

export interface StatusLineProps {
  readonly state: UiState;
  readonly width: number;
  /** With room (tall terminals) the newest notice gets a line of its own. */
  readonly roomy?: boolean;
}

export function statusText(state: UiState): { text: string; color: string } {
  switch (state.status) {
    case "retrying":
      return {
        text: `retrying (${countdown({ ...state, status: "waiting" })}): ${state.lastError ?? ""}`,
        color: "red",
      };
    case "paused":
      return { text: "paused", color: "yellow" };
    case "syncing":
      return { text: "running: syncing", color: "green" };
    case "waiting":
      return { text: `running: ${countdown(state)}`, color: "green" };
    case "starting":
      return { text: "starting", color: "yellow" };
    case "stopping":
    case "stopped":
      // A fatal error stops the engine: it is reported as stopped at once.
      if (state.lastError) return { text: `stopped: ${state.lastError}`, color: "red" };
      return state.status === "stopped"
        ? { text: "stopped", color: "yellow" }
        : { text: "stopping…", color: "yellow" };
  }
}

function sourceLength(state: UiState): number {
  return (state.demo ? "embedded demo database ".length : 0) + state.connection.length;
}

export function StatusLine({ state, width, roomy = false }: StatusLineProps) {
  const status = statusText(state);
  const notice = state.notices[state.notices.length - 1];
  // The status (and its error) wins over the connection when space is short.
  const statusWidth = Math.max(30, width - sourceLength(state) - 3);
  const source = `${state.demo ? "embedded demo database " : ""}${state.connection}`;
  const keys = state.focus === "prompt"
    ? "Enter run · ↑/↓ history · PgUp/PgDn scroll · Esc leave prompt"
    : "s seed · r sync now · p pause · Tab query · ? help · q quit";
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text color={status.color}>{clip(status.text, statusWidth)}</Text>
        <Text color="gray">
          {clip(` │ ${source}`, Math.max(0, width - Math.min(status.text.length, statusWidth)))}
        </Text>
      </Text>
      {roomy
        ? <Text color="yellow" wrap="truncate">{clip(notice ? `» ${notice}` : "", width)}</Text>
        : null}
      <Text color="gray" wrap="truncate">
        {clip(!roomy && notice ? `${keys}  ·  ${notice}` : keys, width)}
      </Text>
    </Box>
  );
}
