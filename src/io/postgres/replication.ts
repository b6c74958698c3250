// Owns the logical replication connection: a walsender session opened on
// node-postgres's own connection, its commands (IDENTIFY_SYSTEM, creating a
// slot with an exported snapshot, START_REPLICATION with pgoutput), the
// CopyData frames it streams, and the standby status updates that tell
// Postgres how far the WAL may be recycled. Flow control: the socket is paused
// while the caller applies what it has, and resumed after.

import { Buffer } from "node:buffer";
import type pg from "pg";
import type { Config } from "../../core/config.ts";
import { formatLsn, type Lsn, parseLsn } from "../../core/lsn.ts";
import { parseFrame, type ReplicationFrame, statusUpdate } from "../../core/pgoutput.ts";
import { quoteIdent, quoteLiteral } from "../../core/sql.ts";
import { connectPg } from "./connection.ts";

interface RawConnection {
  on(event: "copyData", fn: (message: { chunk: Uint8Array }) => void): void;
  once(event: "replicationStart", fn: () => void): void;
  removeAllListeners(event?: string): void;
  sendCopyFromChunk(chunk: Uint8Array): void;
  stream: { pause(): void; resume(): void; destroy(): void; destroyed?: boolean };
}

export interface CreatedSlot {
  readonly consistentPoint: Lsn;
  /** Valid while this connection runs no other command: the first copy reads in it. */
  readonly snapshot: string;
}

export class ReplicationConnection {
  readonly #client: pg.Client;
  readonly #raw: RawConnection;
  #streaming: Promise<unknown> | null = null;
  #ended = false;
  #failure: unknown = null;

  private constructor(client: pg.Client) {
    this.#client = client;
    this.#raw = (client as unknown as { connection: RawConnection }).connection;
    client.on("error", (error: unknown) => {
      this.#failure ??= error;
    });
  }

  static async open(config: Config, secrets: string[]): Promise<ReplicationConnection> {
    return new ReplicationConnection(await connectPg(config, secrets, { replication: true }));
  }

  /**
   * The slot, created now, with its consistent point and exported snapshot. A
   * temporary slot lives as long as this connection: it only gives a snapshot
   * that is exactly the stream's state at its consistent point.
   */
  async createSlot(slot: string, options: { temporary?: boolean } = {}): Promise<CreatedSlot> {
    const temporary = options.temporary ? " TEMPORARY" : "";
    const result = await this.#client.query(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)}${temporary} LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    const row = result.rows[0] as Record<string, string>;
    return { consistentPoint: parseLsn(row.consistent_point!), snapshot: row.snapshot_name! };
  }

  /**
   * Starts streaming the slot from `from` (the position confirmed before) for
   * the publication; every frame goes to `onFrame` in order. Resolves once
   * the server confirms the stream started.
   */
  async start(
    slot: string,
    publication: string,
    from: Lsn,
    onFrame: (frame: ReplicationFrame) => void,
  ): Promise<void> {
    const started = new Promise<void>((resolve) => this.#raw.once("replicationStart", resolve));
    // A copy: node-postgres reuses the buffer a frame was read into, and frames
    // are applied later than they arrive.
    this.#raw.on("copyData", ({ chunk }) => onFrame(parseFrame(new Uint8Array(chunk))));
    const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(from)} ` +
      `(proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))})`;
    const streaming = this.#client.query(sql).then(
      () => {
        this.#ended = true;
      },
      (error: unknown) => {
        this.#ended = true;
        this.#failure ??= error;
      },
    );
    this.#streaming = streaming;
    await Promise.race([started, streaming.then(() => this.#throwIfFailed())]);
    this.#throwIfFailed();
  }

  /** The error that ended the stream, if it ended. */
  get failure(): unknown {
    return this.#failure ?? (this.#ended ? new Error("the replication stream ended") : null);
  }

  #throwIfFailed(): void {
    const failure = this.failure;
    if (failure) throw failure;
  }

  /** Tells Postgres that everything before `flushed` is durably applied. */
  confirm(flushed: Lsn, replyRequested = false): void {
    if (this.#ended || this.#raw.stream.destroyed) return;
    this.#raw.sendCopyFromChunk(Buffer.from(statusUpdate(flushed, new Date(), replyRequested)));
  }

  pause(): void {
    this.#raw.stream.pause();
  }

  resume(): void {
    this.#raw.stream.resume();
  }

  /** Closes the connection (the slot becomes free for the next session). */
  async close(): Promise<void> {
    this.#raw.removeAllListeners("copyData");
    this.#raw.stream.destroy();
    await this.#streaming?.catch(() => {});
    await this.#client.end().catch(() => {});
  }
}
