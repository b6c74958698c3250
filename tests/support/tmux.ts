// Owns driving a real terminal for end-to-end tests: tmux commands, shell
// quoting for the command a session runs, and waiting for text on the screen.

/** Runs a tmux command; throws with tmux's message when it fails. */
export async function tmux(...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Starts a detached session of `columns` x `rows` running the shell `command`. */
export async function newSession(
  session: string,
  columns: number,
  rows: number,
  command: string,
): Promise<void> {
  await tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    String(columns),
    "-y",
    String(rows),
    command,
  );
}

export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Polls the pane until `pattern` matches; returns the screen, or throws showing it. */
export async function waitForScreen(
  session: string,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = "";
  while (Date.now() < deadline) {
    screen = await tmux("capture-pane", "-t", session, "-p");
    if (pattern.test(screen)) return screen;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${pattern} on screen:\n${screen}`);
}
