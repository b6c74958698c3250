// The status line, always the bottom lines of the screen: the health badge
// (healthy / degraded / down), the loop status with the last error, what the
// engine is doing now, the connection (password masked), then the keys for the
// focused pane and the newest notice.

import { Box, Text } from "ink";
import { clip } from "./format.ts";
import { countdown } from "./checkpoint_pane.tsx";
import { badge } from "./health.ts";
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

/** Seeding works on the demo table only. */
function canSeed(state: UiState): boolean {
  return state.demo || "analytics_subscriptions" in state.tables;
}

function keyHelp(state: UiState): string {
  if (state.focus === "prompt") {
    return "Enter run · Esc/Tab leave · Alt+Enter new line · ↑/↓ history · Ctrl+C quit";
  }
  if (state.detail) return "Esc close · j/k scroll · q quit";
  const move = state.pane === "results"
    ? "j/k rows · ←/→ columns · Enter row"
    : state.pane === "events"
    ? "j/k move · Enter whole entry · f filter"
    : "j/k move · Enter details";
  return `q quit · ? help · ${move} · Tab pane · / query · ${
    canSeed(state) ? "s seed · " : ""
  }r sync now · ${state.status === "paused" ? "p resume" : "p pause"}`;
}

export function StatusLine({ state, width, roomy = false }: StatusLineProps) {
  const b = badge(state);
  const status = statusText(state);
  const notice = state.notices[state.notices.length - 1];
  const source = `${state.demo ? "embedded demo database " : ""}${state.connection}`;
  const head = ` ${b.word} `;
  const activity = state.activity ? ` │ ${state.activity}` : "";
  const used = head.length + 1 + status.text.length + activity.length;
  const keys = keyHelp(state);
  return (
    <Box flexDirection="column" width={width} height={roomy ? 3 : 2}>
      <Text wrap="truncate">
        <Text inverse color={b.color} bold>{head}</Text>
        <Text color={status.color}>
          {clip(` ${status.text}`, Math.max(10, width - head.length))}
        </Text>
        <Text color="yellow">
          {clip(activity, Math.max(0, width - head.length - status.text.length - 1))}
        </Text>
        <Text color="gray">{clip(` │ ${source}`, Math.max(0, width - used))}</Text>
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
