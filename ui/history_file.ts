// Owns the prompt history file in STATE_DIR: one JSON string per line (a
// multi-line query stays one entry), newest last, read at start and rewritten
// whole after each query. A missing or damaged file reads as an empty history.

const HISTORY_FILE = "query_history.jsonl";
const KEPT = 500;

export function parseHistory(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line);
      if (typeof v === "string" && v.trim() !== "") out.push(v);
    } catch {
      // A line cut by a crash is skipped; the rest of the history stays.
    }
  }
  return out.slice(-KEPT);
}

export function formatHistory(history: readonly string[]): string {
  return history.slice(-KEPT).map((h) => JSON.stringify(h)).join("\n") + "\n";
}

export async function readHistory(stateDir: string): Promise<string[]> {
  try {
    return parseHistory(await Deno.readTextFile(`${stateDir}/${HISTORY_FILE}`));
  } catch {
    return [];
  }
}

/** Writes the history beside a temporary name and renames it over the old file. */
export async function writeHistory(stateDir: string, history: readonly string[]): Promise<void> {
  await Deno.mkdir(stateDir, { recursive: true });
  const path = `${stateDir}/${HISTORY_FILE}`;
  const temp = `${path}.tmp`;
  await Deno.writeTextFile(temp, formatHistory(history));
  await Deno.rename(temp, path);
}
