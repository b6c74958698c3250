// The root component: lays out the four panes and the status line for the
// terminal's size, feeds batched worker events to the reducer and turns keys
// into UI actions and worker commands. Knows only the protocol.

import { Box, useInput, useStdout } from "ink";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { WorkerCommand } from "../src/host/protocol.ts";
import { initialState, reduce, type UiAction } from "./state.ts";
import { mapKey } from "./keys.ts";
import { type EventSource, useBatchedEvents } from "./use_batched_events.ts";
import { CheckpointPane } from "./checkpoint_pane.tsx";
import { ThroughputPane } from "./throughput_pane.tsx";
import { DriftPane } from "./drift_pane.tsx";
import { QueryPane } from "./query_pane.tsx";
import { StatusLine } from "./status_line.tsx";
import { HELP_LINES, HelpOverlay } from "./help_overlay.tsx";
import { ErrorPane } from "./error_pane.tsx";

/** Help lines plus its title and two borders. */
const HELP_HEIGHT = HELP_LINES.length + 3;

export interface AppProps {
  readonly events: EventSource;
  readonly send: (command: WorkerCommand) => void;
  /** Called once when the user asks to quit. */
  readonly onQuit: () => void;
  readonly flushMs?: number;
  /** Fixed size for tests; otherwise the terminal's. */
  readonly size?: { readonly columns: number; readonly rows: number };
}

function useTerminalSize(fixed?: { columns: number; rows: number }) {
  const stdout = useStdout().stdout as unknown as {
    columns?: number;
    rows?: number;
    on(event: "resize", fn: () => void): void;
    off(event: "resize", fn: () => void): void;
  };
  const read = () => ({
    columns: fixed?.columns ?? stdout.columns ?? 80,
    rows: fixed?.rows ?? stdout.rows ?? 24,
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout]);
  return size;
}

export function App(props: AppProps) {
  const [state, dispatchToReact] = useReducer(
    reduce,
    Date.now(),
    (now: number) => initialState(now),
  );
  // Ink delivers the keys of one read one after another before re-rendering, so
  // each key must see the state left by the previous one: the ref applies every
  // action at once, in the same order React will.
  const latest = useRef(state);
  const dispatch = useCallback((action: UiAction) => {
    latest.current = reduce(latest.current, action);
    dispatchToReact(action);
  }, []);
  useBatchedEvents(props.events, dispatch, { flushMs: props.flushMs ?? 200 });
  const quitting = useRef(false);

  useInput((input, key) => {
    if (quitting.current) return;
    const outcome = mapKey(input, key, latest.current);
    for (const action of outcome.actions) dispatch(action);
    if (outcome.command) props.send(outcome.command);
    if (outcome.quit) {
      quitting.current = true;
      dispatch({ type: "notice", message: "quitting: finishing the batch in flight…" });
      props.onQuit();
    }
  });

  const { columns, rows } = useTerminalSize(props.size);
  const width = Math.max(40, columns);
  const height = Math.max(16, rows);
  // Room for one line per table in the Checkpoint pane when there are many.
  const tableCount = Object.keys(state.tables).length;
  const topHeight = Math.max(7, Math.min(Math.max(8, tableCount + 3), Math.floor(height / 3)));
  // A fatal error (bad configuration) stops the engine: show all of it, taking
  // rows from the Query pane.
  const stopped = (state.status === "stopping" || state.status === "stopped") &&
    state.lastError !== null;
  const driftHeight = state.help
    ? 0
    : stopped
    ? Math.max(4, Math.min(9, height - topHeight - 8))
    : Math.max(4, Math.min(6, Math.floor(height / 5)));
  const roomy = height >= 28;
  const statusHeight = roomy ? 3 : 2;
  const queryHeight = Math.max(
    5,
    height - topHeight - driftHeight - statusHeight - (state.help ? HELP_HEIGHT : 0),
  );
  const half = Math.floor(width / 2);

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box flexDirection="row">
        <CheckpointPane state={state} width={half} height={topHeight} />
        <ThroughputPane state={state} width={width - half} height={topHeight} />
      </Box>
      {state.help
        ? <HelpOverlay width={width} />
        : stopped
        ? <ErrorPane message={state.lastError ?? ""} width={width} height={driftHeight} />
        : <DriftPane drift={state.drift} width={width} height={driftHeight} />}
      <QueryPane state={state} width={width} height={queryHeight} />
      <StatusLine state={state} width={width} roomy={roomy} />
    </Box>
  );
}
