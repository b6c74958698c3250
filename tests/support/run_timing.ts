// Owns the test run's timing: a wall-clock duration as people read it, and how
// long each test file took, read from `deno test`'s output as it streams (its
// files run one after another, each opening with a "running N tests from" line).

/** "850ms", "4.2s", "42s", "5m 55s", "1h 2m 3s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const total = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  if (h > 0) return `${h}h ${m}m ${s}s`;
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export interface FileTime {
  readonly file: string;
  readonly ms: number;
}

/** Times each test file from the lines of `deno test`'s output. */
export class FileTimer {
  readonly #now: () => number;
  readonly #done: FileTime[] = [];
  #current: { file: string; since: number } | null = null;
  #partial = "";

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Feeds output text (any chunking); a file ends where the next one starts or the report begins. */
  write(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      const started = /^running \d+ tests? from (.+)$/.exec(line);
      if (started) {
        this.#finish();
        this.#current = { file: started[1]!.trim(), since: this.#now() };
      } else if (/^( ERRORS |(ok|FAILED) \| \d+ passed)/.test(line)) {
        this.#finish();
      }
    }
  }

  /** The files timed so far, slowest first (the one still running counted until now). */
  slowest(limit: number): FileTime[] {
    this.#finish();
    return [...this.#done].sort((a, b) => b.ms - a.ms).slice(0, limit);
  }

  #finish(): void {
    if (!this.#current) return;
    this.#done.push({ file: this.#current.file, ms: this.#now() - this.#current.since });
    this.#current = null;
  }
}
