// Owns watching a child process from a test: its output collected as it
// arrives, waiting (with a deadline) until a check holds, and stopping a
// `sync --loop` as a user would (SIGTERM) to read its exit and its log.

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

/** SIGTERM to a running `sync --loop`: its exit code and its whole stderr. */
export async function stopLoop(child: Deno.ChildProcess): Promise<{ code: number; log: string }> {
  child.kill("SIGTERM");
  const status = await child.status;
  const log = await new Response(child.stderr).text();
  await child.stdout.cancel().catch(() => {});
  return { code: status.code, log };
}
