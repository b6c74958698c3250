// Owns watching a child process from a test: its output collected as it
// arrives, and waiting (with a deadline) until a check holds.

/** Collects a stream's text as it arrives; `done` settles when it ends. */
export function collect(
  stream: ReadableStream<Uint8Array>,
): { text: () => string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text, done };
}

/**
 * Polls `check` every 100 ms until it holds; after `timeoutMs` throws
 * "timed out waiting for <what>" (`what` may be read only then, e.g. a log).
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
}
