// Owns reading the replication stream's messages: the CopyData frames of the
// streaming replication protocol (XLogData, primary keepalive) and, inside
// XLogData, the pgoutput plugin's logical messages (protocol version 1: Begin,
// Commit, Relation, Insert, Update, Delete, Truncate; Origin and Type are read
// and ignored). Pure: bytes in, typed messages out. Column values stay in
// Postgres' text form, exactly as the type's output function wrote them.

import type { Lsn } from "./lsn.ts";

/** A column value in a tuple: text, NULL, or a TOASTed value the change left alone. */
export type TupleValue = string | null | typeof UNCHANGED;

/** pgoutput's "unchanged TOASTed value" marker ('u'): keep the value the row has. */
export const UNCHANGED: unique symbol = Symbol("unchanged toast");

export interface RelationColumn {
  readonly name: string;
  /** Part of the replica identity (the key a DELETE or UPDATE names the row by). */
  readonly key: boolean;
  readonly typeOid: number;
  /** atttypmod (-1: none), e.g. a numeric's precision and scale. */
  readonly typmod?: number;
}

export type LogicalMessage =
  | {
    readonly type: "begin";
    readonly finalLsn: Lsn;
    readonly commitTime: Date;
    readonly xid: number;
  }
  | {
    readonly type: "commit";
    readonly commitLsn: Lsn;
    readonly endLsn: Lsn;
    readonly commitTime: Date;
  }
  | {
    readonly type: "relation";
    readonly relationId: number;
    readonly schema: string;
    readonly table: string;
    /** 'd' default (the primary key), 'n' nothing, 'f' full, 'i' an index. */
    readonly replicaIdentity: string;
    readonly columns: readonly RelationColumn[];
  }
  | { readonly type: "insert"; readonly relationId: number; readonly row: readonly TupleValue[] }
  | {
    readonly type: "update";
    readonly relationId: number;
    /** The old key ('K') or whole old row ('O', REPLICA IDENTITY FULL), when sent. */
    readonly old: readonly TupleValue[] | null;
    readonly row: readonly TupleValue[];
  }
  | { readonly type: "delete"; readonly relationId: number; readonly old: readonly TupleValue[] }
  | { readonly type: "truncate"; readonly relationIds: readonly number[] }
  | { readonly type: "other"; readonly tag: string };

/** A CopyData frame of the replication stream. */
export type ReplicationFrame =
  | {
    readonly type: "xlog";
    readonly walStart: Lsn;
    readonly walEnd: Lsn;
    readonly data: Uint8Array;
  }
  | { readonly type: "keepalive"; readonly walEnd: Lsn; readonly replyRequested: boolean };

/** Microseconds between the Unix epoch and Postgres' epoch (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;

class Reader {
  #view: DataView;
  #bytes: Uint8Array;
  offset = 0;
  // ignoreBOM: a leading U+FEFF is part of the value, never a byte-order mark to drop.
  static #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  byte(): number {
    return this.#view.getUint8(this.offset++);
  }
  int16(): number {
    const v = this.#view.getInt16(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.#view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }
  uint64(): bigint {
    const v = this.#view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }
  time(): Date {
    const us = this.#view.getBigInt64(this.offset);
    this.offset += 8;
    return new Date(Number((us + PG_EPOCH_US) / 1000n));
  }
  /** A NUL-terminated string. */
  cstring(): string {
    const end = this.#bytes.indexOf(0, this.offset);
    if (end < 0) throw new RangeError("pgoutput: unterminated string");
    const text = Reader.#decoder.decode(this.#bytes.subarray(this.offset, end));
    this.offset = end + 1;
    return text;
  }
  text(length: number): string {
    const bytes = this.#bytes;
    const start = this.offset;
    const end = start + length;
    this.offset = end;
    // Most values are short ASCII (numbers, timestamps, keys): building them
    // here is several times faster than a TextDecoder call each.
    if (length <= 64) {
      let text = "";
      for (let i = start; i < end; i++) {
        const b = bytes[i]!;
        if (b >= 0x80) return Reader.#decoder.decode(bytes.subarray(start, end));
        text += String.fromCharCode(b);
      }
      return text;
    }
    return Reader.#decoder.decode(bytes.subarray(start, end));
  }
  rest(): Uint8Array {
    return this.#bytes.subarray(this.offset);
  }
}

/** Reads one CopyData frame of a START_REPLICATION stream. */
export function parseFrame(bytes: Uint8Array): ReplicationFrame {
  const r = new Reader(bytes);
  const tag = String.fromCharCode(r.byte());
  if (tag === "w") {
    const walStart = r.uint64();
    const walEnd = r.uint64();
    r.uint64(); // send time
    return { type: "xlog", walStart, walEnd, data: r.rest() };
  }
  if (tag === "k") {
    const walEnd = r.uint64();
    r.uint64(); // send time
    return { type: "keepalive", walEnd, replyRequested: r.byte() === 1 };
  }
  throw new RangeError(`replication stream: unknown frame '${tag}'`);
}

function tuple(r: Reader): TupleValue[] {
  const count = r.int16();
  const values: TupleValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = String.fromCharCode(r.byte());
    if (kind === "n") values[i] = null;
    else if (kind === "u") values[i] = UNCHANGED;
    else if (kind === "t") values[i] = r.text(r.int32());
    else throw new RangeError(`pgoutput: unsupported tuple value kind '${kind}'`);
  }
  return values;
}

/** Reads one pgoutput message (the data of an XLogData frame). */
export function parseLogical(bytes: Uint8Array): LogicalMessage {
  const r = new Reader(bytes);
  const tag = String.fromCharCode(r.byte());
  switch (tag) {
    case "B":
      return { type: "begin", finalLsn: r.uint64(), commitTime: r.time(), xid: r.int32() };
    case "C": {
      r.byte(); // flags
      return { type: "commit", commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.time() };
    }
    case "R": {
      const relationId = r.int32();
      const schema = r.cstring();
      const table = r.cstring();
      const replicaIdentity = String.fromCharCode(r.byte());
      const count = r.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        const name = r.cstring();
        const typeOid = r.int32();
        const typmod = r.int32();
        columns.push({ name, key: (flags & 1) === 1, typeOid, typmod });
      }
      return { type: "relation", relationId, schema, table, replicaIdentity, columns };
    }
    case "I": {
      const relationId = r.int32();
      r.byte(); // 'N'
      return { type: "insert", relationId, row: tuple(r) };
    }
    case "U": {
      const relationId = r.int32();
      let marker = String.fromCharCode(r.byte());
      let old: TupleValue[] | null = null;
      if (marker === "K" || marker === "O") {
        old = tuple(r);
        marker = String.fromCharCode(r.byte());
      }
      return { type: "update", relationId, old, row: tuple(r) };
    }
    case "D": {
      const relationId = r.int32();
      r.byte(); // 'K' or 'O'
      return { type: "delete", relationId, old: tuple(r) };
    }
    case "T": {
      const count = r.int32();
      r.byte(); // options
      const relationIds: number[] = [];
      for (let i = 0; i < count; i++) relationIds.push(r.int32());
      return { type: "truncate", relationIds };
    }
    default:
      return { type: "other", tag };
  }
}

/**
 * A standby status update: `flushed` is the position up to which everything is
 * durably applied (Postgres may recycle WAL before it), reported as written,
 * flushed and applied alike.
 */
export function statusUpdate(flushed: Lsn, now: Date, replyRequested = false): Uint8Array {
  const bytes = new Uint8Array(34);
  const view = new DataView(bytes.buffer);
  bytes[0] = "r".charCodeAt(0);
  view.setBigUint64(1, flushed);
  view.setBigUint64(9, flushed);
  view.setBigUint64(17, flushed);
  view.setBigInt64(25, BigInt(now.getTime()) * 1000n - PG_EPOCH_US);
  bytes[33] = replyRequested ? 1 : 0;
  return bytes;
}
