// Owns how counts read in messages: digits grouped ("10,000 rows") and the
// noun in the singular for one ("1 batch", "2 batches").

/** `n` with its digits grouped and `noun` (or `plural`, default noun + "s") agreeing with it. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? noun : plural}`;
}
