// Owns reading the frames of a COPY ... TO STDOUT from the bytes PostgreSQL
// sends: each row arrives as a CopyData message (a type byte, a 4-byte length,
// the row's bytes), and the decoder hands out only the rows' bytes, in order,
// however the socket split the messages. It stops at CopyDone (or at an
// ErrorResponse) and returns what follows, which belongs to the driver again.
// Pure: no IO, no allocation per row.

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
/** Messages the server may send in the middle of a COPY; they are skipped. */
const SKIPPED = new Set([
  0x48, // 'H' CopyOutResponse
  0x4e, // 'N' NoticeResponse
  0x53, // 'S' ParameterStatus
  0x41, // 'A' NotificationResponse
]);

export type CopyFeed =
  /** The COPY goes on: every byte of the chunk was consumed. */
  | { readonly ended: false }
  /**
   * The COPY ended: `rest` is what the server sent after CopyDone, or the
   * ErrorResponse (`failed`) or other message that ended it and what follows,
   * for the driver to read.
   */
  | { readonly ended: true; readonly failed: boolean; readonly rest: Uint8Array };

/** Where row bytes go: `bytes` from `from` (inclusive) to `to` (exclusive). */
export type RowBytes = (bytes: Uint8Array, from: number, to: number) => void;

export class CopyOutDecoder {
  /** A message header split across chunks, as far as it arrived. */
  readonly #header = new Uint8Array(5);
  #headerLength = 0;
  /** The type of the message whose body is being read, and its bytes still to come. */
  #type = 0;
  #remaining = 0;
  #ended = false;

  /** Reads one chunk from the socket; the rows' bytes go to `emit`. */
  feed(chunk: Uint8Array, emit: RowBytes): CopyFeed {
    if (this.#ended) throw new Error("COPY already ended");
    let at = 0;
    const end = chunk.byteLength;
    while (at < end) {
      if (this.#remaining > 0) {
        const to = Math.min(end, at + this.#remaining);
        if (this.#type === COPY_DATA) emit(chunk, at, to);
        this.#remaining -= to - at;
        at = to;
        continue;
      }
      let type: number;
      let length: number;
      let headerStart: number;
      if (this.#headerLength > 0 || end - at < 5) {
        const take = Math.min(5 - this.#headerLength, end - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerLength);
        this.#headerLength += take;
        at += take;
        if (this.#headerLength < 5) break;
        this.#headerLength = 0;
        type = this.#header[0]!;
        length = readLength(this.#header, 1);
        headerStart = -1;
      } else {
        type = chunk[at]!;
        length = readLength(chunk, at + 1);
        headerStart = at;
        at += 5;
      }
      if (type === COPY_DONE) {
        this.#ended = true;
        return { ended: true, failed: false, rest: chunk.subarray(at) };
      }
      if (type !== COPY_DATA && !SKIPPED.has(type)) {
        // An ErrorResponse, or anything else: the driver reads it, whole.
        this.#ended = true;
        const rest = headerStart >= 0
          ? chunk.subarray(headerStart)
          : concat(this.#header, chunk.subarray(at));
        return { ended: true, failed: type === ERROR_RESPONSE, rest };
      }
      this.#type = type;
      this.#remaining = length - 4;
    }
    return { ended: false };
  }
}

function readLength(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
