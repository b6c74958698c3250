// The COPY OUT frame reader: rows' bytes out in order however the socket split
// the messages, skipped notices, and the bytes after CopyDone or from an
// ErrorResponse on handed back whole.

import { assertEquals } from "../support/assert.ts";
import { type CopyFeed, CopyOutDecoder } from "../../src/core/copy_frames.ts";

const text = new TextEncoder();

function message(type: string, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + body.byteLength);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setUint32(1, 4 + body.byteLength);
  out.set(body, 5);
  return out;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Feeds `stream` cut at `cuts`; returns the row bytes, how it ended, and what
 * the driver reads afterwards (the rest, then the chunks not fed).
 */
function decode(
  stream: Uint8Array,
  cuts: number[],
): { rows: string; end: CopyFeed; driver: number[] } {
  const decoder = new CopyOutDecoder();
  const got: number[] = [];
  const emit = (b: Uint8Array, from: number, to: number) => got.push(...b.subarray(from, to));
  let at = 0;
  let end: CopyFeed = { ended: false };
  for (const cut of [...cuts, stream.byteLength]) {
    if (cut <= at) continue;
    end = decoder.feed(stream.subarray(at, cut), emit);
    at = cut;
    if (end.ended) break;
  }
  const driver = end.ended ? [...end.rest, ...stream.subarray(at)] : [];
  return { rows: new TextDecoder().decode(new Uint8Array(got)), end, driver };
}

const rows = ["1,a\n", '2,"b\nc"\n', "3,\uFEFFd\n"];
const copy = join(
  message("H", new Uint8Array([0, 0, 2, 0, 0, 0, 0])),
  message("d", text.encode(rows[0])),
  message("N", text.encode("Snotice\0\0")),
  message("d", text.encode(rows[1])),
  message("S", text.encode("a\0b\0")),
  message("d", text.encode(rows[2])),
  message("c"),
);
const after = join(message("C", text.encode("COPY 3\0")), message("Z", text.encode("I")));

Deno.test("the rows' bytes come out in order at every split of the stream, and what follows CopyDone is handed back", () => {
  const stream = join(copy, after);
  for (let first = 0; first <= copy.byteLength; first++) {
    for (const second of [first + 1, first + 3, first + 7]) {
      const { rows: got, end, driver } = decode(stream, [first, second]);
      assertEquals(got, rows.join(""), `cut at ${first}, ${second}`);
      assertEquals(end.ended && !end.failed, true);
      // The driver reads exactly what follows CopyDone, wherever the cuts fell.
      assertEquals(driver, [...after], `cut at ${first}, ${second}`);
    }
  }
});

Deno.test("one byte at a time gives the same rows", () => {
  const stream = join(copy, after);
  const cuts = Array.from({ length: stream.byteLength }, (_, i) => i + 1);
  assertEquals(decode(stream, cuts).rows, rows.join(""));
});

Deno.test("an ErrorResponse ends the COPY and is handed back whole, header included, even when split", () => {
  const error = message("E", text.encode("SERROR\0Mboom\0\0"));
  const stream = join(message("d", text.encode(rows[0])), error, message("Z", text.encode("I")));
  const errorAt = message("d", text.encode(rows[0])).byteLength;
  for (const cut of [errorAt, errorAt + 2, errorAt + 5, errorAt + 9]) {
    const { rows: got, end, driver } = decode(stream, [cut]);
    assertEquals(got, rows[0]);
    assertEquals(end.ended && end.failed, true);
    assertEquals(driver, [...error, ...message("Z", text.encode("I"))], `cut at ${cut}`);
  }
});

Deno.test("an error before any row (no COPY started) is handed back at once", () => {
  const error = message("E", text.encode("SERROR\0Mno such table\0\0"));
  const { rows: got, end, driver } = decode(error, []);
  assertEquals(got, "");
  assertEquals(end.ended && end.failed, true);
  assertEquals(driver, [...error]);
});
