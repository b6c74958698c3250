// Owns the frames of a running replication stream between their arrival and
// their turn: an inbox the socket fills (paused when it holds too many,
// resumed once they are taken), keepalives answered as they arrive (between
// cycles and while DuckDB loads frames wait, and the server would time us
// out), a status update on a timer whatever else happens, and a wait for the
// next frames that a new arrival cuts short.

import type { ReplicationFrame } from "../../core/pgoutput.ts";
import type { Lsn } from "../../core/lsn.ts";
import { ReplicationConnection } from "./replication.ts";

/** Status updates go out at least this often, whatever DuckDB is doing. */
const STATUS_EVERY_MS = 5_000;
/** Frames held before the socket is paused until they are taken. */
const INBOX_LIMIT = 5_000;

export interface InboxHooks {
  /** Tells the server how far it may let go (recording it first is the caller's). */
  readonly confirm: (replyRequested?: boolean) => void;
  /**
   * A keepalive with nothing received and unapplied before it: true when the
   * caller took it (its position is ours already), so it is not queued.
   */
  readonly idleKeepalive: (walEnd: Lsn) => boolean;
}

export class ReplicationInbox {
  readonly stream: ReplicationConnection;
  #frames: ReplicationFrame[] = [];
  /** Frames queued that are not keepalives. */
  #pendingData = 0;
  #taking = false;
  #wake: (() => void) | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(stream: ReplicationConnection) {
    this.stream = stream;
  }

  /** Starts the stream from `from` for the publication, the frames queued here. */
  async start(slot: string, publication: string, from: Lsn, hooks: InboxHooks): Promise<void> {
    await this.stream.start(slot, publication, from, (frame) => {
      if (frame.type === "keepalive") {
        if (!this.#taking && this.#pendingData === 0 && hooks.idleKeepalive(frame.walEnd)) {
          if (frame.replyRequested) hooks.confirm();
          return;
        }
        if (frame.replyRequested) hooks.confirm();
      } else {
        this.#pendingData += 1;
      }
      this.#frames.push(frame);
      if (this.#frames.length >= INBOX_LIMIT) this.stream.pause();
      this.#wake?.();
    });
    const timer = setInterval(() => hooks.confirm(), STATUS_EVERY_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }

  get started(): boolean {
    return this.#timer !== null;
  }

  /**
   * Hands every queued frame, in order, to `each` (all that arrive meanwhile
   * too), then resumes the socket. Keepalives wait their turn meanwhile.
   */
  async takeAll(each: (frame: ReplicationFrame) => Promise<void>): Promise<void> {
    this.#taking = true;
    try {
      while (this.#frames.length > 0) {
        // Taken in one go (shift() one by one is quadratic).
        const frames = this.#frames;
        this.#frames = [];
        for (const frame of frames) {
          if (frame.type !== "keepalive") this.#pendingData -= 1;
          await each(frame);
        }
        if (this.#frames.length === 0) this.stream.resume();
      }
    } finally {
      this.#taking = false;
    }
  }

  /** Waits up to `ms` for frames to arrive. */
  async wait(ms: number): Promise<void> {
    if (this.#frames.length > 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#frames = [];
    this.#pendingData = 0;
    await this.stream.close();
  }
}
