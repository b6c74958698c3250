// Owns running one COPY ... TO STDOUT on a node-postgres client and handing its
// rows' bytes out in blocks of about 1 MiB. While the COPY runs it reads the
// socket itself (core/copy_frames.ts strips the framing without touching rows
// one by one); what the server sends after the COPY goes back to the driver,
// which finishes the query as usual. The socket is paused while a block is
// being written, so memory stays at one block however slow the writer.

import { Buffer } from "node:buffer";
import type pg from "pg";
import { CopyOutDecoder } from "../../core/copy_frames.ts";
import { abandonConnection } from "./connection.ts";

/** Bytes gathered before they are handed to the writer. */
const BLOCK_BYTES = 1 << 20;

interface Socket {
  listeners(event: "data"): ((chunk: Uint8Array) => void)[];
  removeListener(event: "data", listener: (chunk: Uint8Array) => void): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): void;
  pause(): void;
  resume(): void;
}

interface Connection {
  stream: Socket;
  query(text: string): void;
}

/**
 * Runs `sql` (a COPY ... TO STDOUT) on `client`, awaiting `write` for each
 * block of row bytes in order. Returns the number of rows. A `write` that
 * throws ends the COPY by closing the connection (the server aborts the
 * query) and the error is rethrown.
 */
export function copyOut(
  client: pg.Client,
  sql: string,
  write: (block: Uint8Array) => Promise<void>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const decoder = new CopyOutDecoder();
    let block = new Uint8Array(BLOCK_BYTES);
    let filled = 0;
    let writing: Promise<void> = Promise.resolve();
    let writeError: unknown = null;
    let rows = 0;
    let settled = false;
    let socket: Socket | null = null;
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(rows);
    };
    const flush = () => {
      if (filled === 0) return;
      const full = block.subarray(0, filled);
      block = new Uint8Array(BLOCK_BYTES);
      filled = 0;
      const paused = socket;
      paused?.pause();
      writing = writing.then(() => writeError ? undefined : write(full)).then(
        () => paused?.resume(),
        (error) => {
          writeError ??= error;
          abandonConnection(client);
          finish(error);
        },
      );
    };
    const emit = (bytes: Uint8Array, from: number, to: number) => {
      while (from < to) {
        const n = Math.min(to - from, BLOCK_BYTES - filled);
        block.set(bytes.subarray(from, from + n), filled);
        filled += n;
        from += n;
        if (filled === BLOCK_BYTES) flush();
      }
    };
    const query = {
      submit(connection: Connection) {
        const stream = connection.stream;
        socket = stream;
        const driver = stream.listeners("data")[0]!;
        stream.removeListener("data", driver);
        const onData = (chunk: Uint8Array) => {
          if (writeError) return;
          const fed = decoder.feed(chunk, emit);
          if (!fed.ended) return;
          stream.removeListener("data", onData);
          stream.on("data", driver);
          flush();
          socket = null;
          if (fed.rest.byteLength > 0) driver(toBuffer(fed.rest));
        };
        stream.on("data", onData);
        connection.query(sql);
        // Under Deno a COPY that follows other traffic on the same client
        // stalls unless the socket is set flowing once the COPY is submitted.
        stream.resume();
      },
      handleCommandComplete(message: { text?: string }) {
        rows = Number(/COPY (\d+)/.exec(message.text ?? "")?.[1] ?? 0);
      },
      handleReadyForQuery() {
        writing.then(() => finish(writeError));
      },
      handleError(error: unknown) {
        socket = null;
        writing.then(() => finish(writeError ?? error));
      },
      // Never sent during a COPY TO; present for the driver's sake.
      handleRowDescription() {},
      handleDataRow() {},
      handlePortalSuspended() {},
      handleEmptyQuery() {},
      handleCopyInResponse() {},
      handleCopyData() {},
    };
    (client as unknown as { query(q: unknown): void }).query(query);
  });
}

/** node-postgres' parser expects a Buffer. */
function toBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
