import nodeAssert from "node:assert/strict";
import { assert, assertEquals } from "../support/assert.ts";
import { backoffSeconds, type CycleRunner, LoopControl, runLoop } from "../../src/sync/loop.ts";
import { SyncError } from "../../src/core/errors.ts";
import type { EngineEvent } from "../../src/core/events.ts";

/** Fails the test instead of hanging when `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A runner whose n-th call (1-based) runs `script(n)`. */
function scripted(script: (call: number) => void | Promise<void>): CycleRunner & {
  calls: number;
} {
  const runner = {
    calls: 0,
    async runCycle(_signal?: AbortSignal): Promise<unknown> {
      runner.calls += 1;
      await script(runner.calls);
      return undefined;
    },
  };
  return runner;
}

const transient = () => new SyncError("PG_UNREACHABLE", "x", { transient: true });

Deno.test("backoffSeconds() doubles from 1 and is capped", () => {
  assertEquals([1, 2, 3, 4, 5, 6, 7].map((n) => backoffSeconds(n, 60)), [1, 2, 4, 8, 16, 32, 60]);
  assertEquals(backoffSeconds(10, 60), 60);
  assertEquals(backoffSeconds(3, 3), 3);
  assertEquals(backoffSeconds(1, 0.5), 0.5);
});

Deno.test("backoffSeconds() treats 0 failures like the first and never overflows", () => {
  assertEquals(backoffSeconds(0, 60), 1);
  assertEquals(backoffSeconds(5000, 60), 60);
});

Deno.test("LoopControl.sleep() resolves after the timeout", async () => {
  const control = new LoopControl();
  const started = performance.now();
  await within(control.sleep(20, new AbortController().signal));
  assert(performance.now() - started >= 15, "woke too early");
});

Deno.test("LoopControl.syncNow() wakes a sleep early", async () => {
  const control = new LoopControl();
  const started = performance.now();
  const sleeping = control.sleep(60_000, new AbortController().signal);
  control.syncNow();
  await within(sleeping, 1000);
  assert(performance.now() - started < 1000);
});

Deno.test("LoopControl.sleep() ends when the signal aborts", async () => {
  const control = new LoopControl();
  const abort = new AbortController();
  const sleeping = control.sleep(60_000, abort.signal);
  setTimeout(() => abort.abort(), 5);
  await within(sleeping, 1000);
});

Deno.test("LoopControl pause() and resume() flip paused and resume wakes a sleep", async () => {
  const control = new LoopControl();
  assertEquals(control.paused, false);
  control.pause();
  assertEquals(control.paused, true);
  const sleeping = control.sleep(60_000, new AbortController().signal);
  control.resume();
  assertEquals(control.paused, false);
  await within(sleeping, 1000);
});

Deno.test("runLoop() runs cycles every interval and reports cycle_idle", async () => {
  const abort = new AbortController();
  const events: EngineEvent[] = [];
  const runner = scripted((call) => {
    if (call === 3) abort.abort();
  });
  await within(
    runLoop(runner, { intervalSeconds: 0.01, signal: abort.signal, emit: (e) => events.push(e) }),
  );
  assertEquals(runner.calls, 3);
  assertEquals(events, [
    { type: "cycle_idle", nextInSeconds: 0.01 },
    { type: "cycle_idle", nextInSeconds: 0.01 },
  ]);
});

Deno.test("runLoop() passes the abort signal to the runner", async () => {
  const abort = new AbortController();
  let seen: AbortSignal | undefined;
  const runner: CycleRunner = {
    runCycle(signal) {
      seen = signal;
      abort.abort();
      return Promise.resolve();
    },
  };
  await within(runLoop(runner, { intervalSeconds: 0.01, signal: abort.signal, emit: () => {} }));
  assert(seen === abort.signal);
});

Deno.test("runLoop() does not run a cycle when the signal is already aborted", async () => {
  const abort = new AbortController();
  abort.abort();
  const runner = scripted(() => {});
  await within(runLoop(runner, { intervalSeconds: 0.01, signal: abort.signal, emit: () => {} }));
  assertEquals(runner.calls, 0);
});

Deno.test("runLoop() retries a transient SyncError and reports it as an error event", async () => {
  const abort = new AbortController();
  const events: EngineEvent[] = [];
  const runner = scripted((call) => {
    if (call === 1) throw transient();
    if (call === 3) abort.abort();
  });
  await within(
    runLoop(runner, {
      intervalSeconds: 0.01,
      maxBackoffSeconds: 0.01,
      signal: abort.signal,
      emit: (e) => events.push(e),
    }),
  );
  assertEquals(runner.calls, 3);
  assertEquals(events, [
    {
      type: "error",
      code: "PG_UNREACHABLE",
      message: "x",
      transient: true,
      retryInSeconds: 0.01,
    },
    { type: "notice", message: "recovered after 1 failed attempt" },
    { type: "cycle_idle", nextInSeconds: 0.01 },
  ]);
});

Deno.test("runLoop() backs off 1, 2, 4 s on consecutive failures and resets after a success", async () => {
  const abort = new AbortController();
  const control = new LoopControl();
  const retries: (number | null)[] = [];
  const runner = scripted((call) => {
    if (call <= 3 || call === 5) throw transient();
    if (call === 6) abort.abort();
  });
  await within(
    runLoop(runner, {
      intervalSeconds: 0.01,
      signal: abort.signal,
      control,
      emit: (e) => {
        if (e.type === "error") {
          retries.push(e.retryInSeconds);
          // Skip the real backoff: wake the sleep that follows this event.
          setTimeout(() => control.syncNow(), 0);
        }
      },
    }),
  );
  assertEquals(runner.calls, 6);
  assertEquals(retries, [1, 2, 4, 1]);
});

Deno.test("runLoop() caps the backoff at maxBackoffSeconds", async () => {
  const abort = new AbortController();
  const control = new LoopControl();
  const retries: (number | null)[] = [];
  const runner = scripted((call) => {
    if (call === 5) {
      abort.abort();
      return;
    }
    throw transient();
  });
  await within(
    runLoop(runner, {
      intervalSeconds: 0.01,
      maxBackoffSeconds: 3,
      signal: abort.signal,
      control,
      emit: (e) => {
        if (e.type === "error") {
          retries.push(e.retryInSeconds);
          setTimeout(() => control.syncNow(), 0);
        }
      },
    }),
  );
  assertEquals(retries, [1, 2, 3, 3]);
});

Deno.test("runLoop() throws a non-transient SyncError out", async () => {
  const abort = new AbortController();
  const events: EngineEvent[] = [];
  const runner = scripted((call) => {
    if (call === 2) throw new SyncError("TABLE_MISSING", "no such table");
  });
  await nodeAssert.rejects(
    within(
      runLoop(runner, { intervalSeconds: 0.01, signal: abort.signal, emit: (e) => events.push(e) }),
    ),
    (error: unknown) => error instanceof SyncError && error.code === "TABLE_MISSING",
  );
  assertEquals(runner.calls, 2);
  assertEquals(events.filter((e) => e.type === "error"), []);
});

Deno.test("runLoop() throws errors that are not SyncErrors out", async () => {
  const runner = scripted(() => {
    throw new TypeError("bug");
  });
  await nodeAssert.rejects(
    within(
      runLoop(runner, {
        intervalSeconds: 0.01,
        signal: new AbortController().signal,
        emit: () => {},
      }),
    ),
    TypeError,
  );
  assertEquals(runner.calls, 1);
});

Deno.test("runLoop() stops promptly when aborted during the interval sleep", async () => {
  const abort = new AbortController();
  const runner = scripted(() => {
    setTimeout(() => abort.abort(), 5);
  });
  const started = performance.now();
  await within(
    runLoop(runner, { intervalSeconds: 3600, signal: abort.signal, emit: () => {} }),
    1000,
  );
  assertEquals(runner.calls, 1);
  assert(performance.now() - started < 1000);
});

Deno.test("runLoop() starts the next cycle early on syncNow()", async () => {
  const abort = new AbortController();
  const control = new LoopControl();
  const runner = scripted((call) => {
    if (call === 1) setTimeout(() => control.syncNow(), 5);
    if (call === 2) abort.abort();
  });
  await within(
    runLoop(runner, { intervalSeconds: 3600, signal: abort.signal, control, emit: () => {} }),
    1000,
  );
  assertEquals(runner.calls, 2);
});

Deno.test("runLoop() runs no cycle while paused and continues after resume()", async () => {
  const abort = new AbortController();
  const control = new LoopControl();
  control.pause();
  const runner = scripted(() => abort.abort());
  const loop = runLoop(runner, {
    intervalSeconds: 0.01,
    signal: abort.signal,
    control,
    emit: () => {},
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  assertEquals(runner.calls, 0);
  control.syncNow(); // still paused: wakes, sees the pause, sleeps again
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(runner.calls, 0);
  control.resume();
  await within(loop, 1000);
  assertEquals(runner.calls, 1);
});

Deno.test("runLoop() stops while paused when aborted", async () => {
  const abort = new AbortController();
  const control = new LoopControl();
  control.pause();
  const runner = scripted(() => {});
  const loop = runLoop(runner, {
    intervalSeconds: 0.01,
    signal: abort.signal,
    control,
    emit: () => {},
  });
  setTimeout(() => abort.abort(), 5);
  await within(loop, 1000);
  assertEquals(runner.calls, 0);
});

Deno.test("LoopControl.syncNow() during a cycle makes the next sleep return at once", async () => {
  const control = new LoopControl();
  control.syncNow();
  const started = performance.now();
  await control.sleep(5_000, new AbortController().signal);
  assert(performance.now() - started < 1_000);
});
