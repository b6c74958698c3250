// Owns a file's SHA-256, read in 1 MiB blocks (memory stays at one block):
// what the checkpoint records of each batch file when it is written, and what
// replay checks before applying one.

import { createHash } from "node:crypto";

/** The SHA-256 of the file at `path`, as lowercase hex. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const block = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(block);
    if (n === null) break;
    hash.update(block.subarray(0, n));
  }
  return hash.digest("hex");
}
