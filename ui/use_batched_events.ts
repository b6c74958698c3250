// Owns render batching: worker events are buffered and handed to the reducer at
// most every `flushMs` (about 5 renders a second however fast events come), and
// a slow tick keeps countdowns and lag moving when nothing happens.

import { useEffect } from "react";
import type { WorkerEvent } from "../src/host/protocol.ts";
import type { UiAction } from "./state.ts";

/** Where events come from: the worker bridge, or a scripted source in tests. */
export interface EventSource {
  subscribe(listener: (event: WorkerEvent) => void): () => void;
}

export function useBatchedEvents(
  source: EventSource,
  dispatch: (action: UiAction) => void,
  options: { flushMs?: number; tickMs?: number; now?: () => number } = {},
): void {
  const flushMs = options.flushMs ?? 200;
  const tickMs = options.tickMs ?? 1000;
  const now = options.now ?? Date.now;
  useEffect(() => {
    let buffer: WorkerEvent[] = [];
    let lastDispatch = 0;
    const unsubscribe = source.subscribe((event) => {
      buffer.push(event);
    });
    const flush = setInterval(() => {
      const t = now();
      if (buffer.length > 0) {
        const events = buffer;
        buffer = [];
        lastDispatch = t;
        dispatch({ type: "events", events, now: t });
      } else if (t - lastDispatch >= tickMs) {
        lastDispatch = t;
        dispatch({ type: "tick", now: t });
      }
    }, flushMs);
    return () => {
      clearInterval(flush);
      unsubscribe();
    };
  }, [source, dispatch, flushMs, tickMs, now]);
}
