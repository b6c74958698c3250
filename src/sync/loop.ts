// Owns the long-running loop: a cycle every interval, transient failures retried
// with capped exponential backoff (reported, never fatal), a wake-up for "sync
// now", pause/resume, and a clean stop between batches on abort.

import { isRetryable } from "../core/classify_error.ts";
import type { EventSink } from "../core/events.ts";

export interface CycleRunner {
  runCycle(signal?: AbortSignal): Promise<unknown>;
}

export interface LoopOptions {
  readonly intervalSeconds: number;
  readonly signal: AbortSignal;
  readonly emit: EventSink;
  /** Longest backoff between retries, seconds. */
  readonly maxBackoffSeconds?: number;
  readonly control?: LoopControl;
}

/** Lets a driver wake the loop early or pause it. */
export class LoopControl {
  #paused = false;
  #wake: (() => void) | null = null;
  /** A sync-now that arrived while no sleep was running (e.g. mid-cycle). */
  #pending = false;

  get paused(): boolean {
    return this.#paused;
  }

  syncNow(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wake?.();
  }

  /** Sleeps up to `ms`, waking early on syncNow/resume or abort. */
  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending && !this.#paused) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }
}

/** Backoff for the n-th consecutive failure (1-based): 1, 2, 4, ... capped. */
export function backoffSeconds(failures: number, max: number): number {
  return Math.min(max, 2 ** Math.max(0, failures - 1));
}

export async function runLoop(runner: CycleRunner, options: LoopOptions): Promise<void> {
  const control = options.control ?? new LoopControl();
  const max = options.maxBackoffSeconds ?? 60;
  let failures = 0;
  while (!options.signal.aborted) {
    if (control.paused) {
      await control.sleep(3_600_000, options.signal);
      continue;
    }
    let waitSeconds = options.intervalSeconds;
    try {
      await runner.runCycle(options.signal);
      if (failures > 0) {
        options.emit({
          type: "notice",
          message: `recovered after ${failures} failed attempt${failures === 1 ? "" : "s"}`,
        });
      }
      failures = 0;
    } catch (error) {
      if (!isRetryable(error)) throw error;
      failures += 1;
      waitSeconds = backoffSeconds(failures, max);
      options.emit({
        type: "error",
        code: error.code,
        message: error.message,
        transient: true,
        retryInSeconds: waitSeconds,
      });
    }
    if (options.signal.aborted) break;
    if (failures === 0) options.emit({ type: "cycle_idle", nextInSeconds: waitSeconds });
    await control.sleep(waitSeconds * 1000, options.signal);
  }
}
