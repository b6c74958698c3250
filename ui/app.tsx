// The root component: lays out the panes and the status line for the
// terminal's size (layout.ts), feeds batched worker events to the reducer and
// turns keys and pastes into UI actions and worker commands. Knows only the
// protocol.

import { Box, Text, useInput, usePaste, useStdout } from "ink";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { WorkerCommand } from "../src/host/protocol.ts";
import { initialState, reduce, type UiAction } from "./state.ts";
import { mapKey, type Pages, pasteText } from "./keys.ts";
import { type EventSource, useBatchedEvents } from "./use_batched_events.ts";
import { CheckpointPane } from "./checkpoint_pane.tsx";
import { ThroughputPane } from "./throughput_pane.tsx";
import { EventsPane } from "./events_pane.tsx";
import { promptLineCount, QueryPane } from "./query_pane.tsx";
import { StatusLine } from "./status_line.tsx";
import { HelpOverlay } from "./help_overlay.tsx";
import { ErrorPane } from "./error_pane.tsx";
import { DetailView } from "./detail_view.tsx";
import { computeLayout, MIN_COLUMNS, MIN_ROWS } from "./layout.ts";
import { wrap, wrapLines } from "./format.ts";

export interface AppProps {
  readonly events: EventSource;
  readonly send: (command: WorkerCommand) => void;
  /** Called once when the user asks to quit. */
  readonly onQuit: () => void;
  readonly flushMs?: number;
  /** Fixed size for tests; otherwise the terminal's. */
  readonly size?: { readonly columns: number; readonly rows: number };
  /** Prompt history from earlier runs, oldest first. */
  readonly history?: readonly string[];
  /** Called with the whole history after a query is added to it. */
  readonly onHistory?: (history: readonly string[]) => void;
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
    (now: number) => ({ ...initialState(now), history: [...(props.history ?? [])] }),
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
  const savedHistory = useRef(state.history);
  useEffect(() => {
    if (state.history === savedHistory.current) return;
    savedHistory.current = state.history;
    props.onHistory?.(state.history);
  }, [state.history]);

  const { columns, rows } = useTerminalSize(props.size);
  const queryWidth = columns - 4;
  const errorLines = state.queryError
    ? wrapLines(`error: ${state.queryError}`, queryWidth, 1000).length
    : 0;
  // A fatal error (bad configuration) stops the engine: show all of it in place of the events.
  const stoppedOnError = (state.status === "stopping" || state.status === "stopped") &&
    state.lastError !== null;
  const layout = computeLayout({
    columns,
    rows,
    tables: Object.keys(state.tables).length,
    logEntries: stoppedOnError
      ? wrap(state.lastError ?? "", queryWidth, 1000).length + 1
      : state.log.length,
    resultRows: errorLines || (state.result ? state.result.rows.length : 0),
    promptLines: promptLineCount(state.input),
  });
  const pages: Pages = {
    tables: Math.max(1, layout.top - 2),
    events: Math.max(1, layout.events - 2),
    results: Math.max(1, layout.query - 2 - promptLineCount(state.input) - 3),
    detail: Math.max(1, layout.middle - 3),
  };
  const pagesRef = useRef(pages);
  pagesRef.current = pages;

  const handle = (outcome: ReturnType<typeof mapKey>) => {
    for (const action of outcome.actions) dispatch(action);
    if (outcome.command) props.send(outcome.command);
    if (outcome.quit) {
      quitting.current = true;
      dispatch({ type: "notice", message: "quitting: finishing the batch in flight…" });
      props.onQuit();
    }
  };
  useInput((input, key) => {
    if (quitting.current) return;
    handle(mapKey(input, key, latest.current, pagesRef.current));
  });
  usePaste((text) => {
    if (quitting.current) return;
    handle(pasteText(latest.current, text));
  });

  if (layout.tooSmall) {
    return (
      <Box flexDirection="column" width={columns} height={rows}>
        <Text color="yellow" wrap="wrap">
          terminal too small: {columns}x{rows}, needs at least{" "}
          {MIN_COLUMNS}x{MIN_ROWS}. Enlarge it, or press q to quit.
        </Text>
      </Box>
    );
  }
  const middle = state.help
    ? <HelpOverlay width={columns} height={layout.middle} scroll={state.detailScroll} />
    : state.detail
    ? <DetailView state={state} width={columns} height={layout.middle} />
    : (
      <>
        {layout.events === 0
          ? null
          : stoppedOnError
          ? <ErrorPane message={state.lastError ?? ""} width={columns} height={layout.events} />
          : (
            <EventsPane
              state={state}
              width={columns}
              height={layout.events}
              focused={state.focus === "panes" && state.pane === "events"}
            />
          )}
        <QueryPane
          state={state}
          width={columns}
          height={layout.query}
          browsing={state.focus === "panes" && state.pane === "results"}
        />
      </>
    );
  return (
    <Box flexDirection="column" width={columns} height={rows}>
      <Box flexDirection="row" height={layout.top}>
        <CheckpointPane
          state={state}
          width={layout.tablesWidth}
          height={layout.top}
          focused={state.focus === "panes" && state.pane === "tables"}
          wide={layout.wide}
        />
        <ThroughputPane state={state} width={columns - layout.tablesWidth} height={layout.top} />
      </Box>
      {middle}
      <StatusLine state={state} width={columns} roomy={layout.status === 3} />
    </Box>
  );
}
