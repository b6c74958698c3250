// Owns the pure reading of Postgres COPY CSV as it streams past: where rows
// end (a newline outside quotes) and the text of the last complete row, so a
// batch read with ORDER BY ... LIMIT knows its own end position without a
// second query. Also parses one CSV row into fields (unquoted empty = NULL).

const QUOTE = 34;
const NEWLINE = 10;

export class CsvLastRow {
  #inQuotes = false;
  /** Bytes of the row in progress that began in earlier chunks. */
  #carry: Uint8Array[] = [];
  #last: Uint8Array | null = null;

  /** Feeds the next chunk of the stream. */
  push(chunk: Uint8Array): void {
    let previous = -1; // boundary before the last one in this chunk
    let latest = -1; // last boundary in this chunk
    let inQuotes = this.#inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === QUOTE) inQuotes = !inQuotes;
      else if (byte === NEWLINE && !inQuotes) {
        previous = latest;
        latest = i;
      }
    }
    this.#inQuotes = inQuotes;
    if (latest < 0) {
      this.#carry.push(chunk);
      return;
    }
    if (previous >= 0) {
      this.#last = chunk.subarray(previous + 1, latest);
    } else {
      this.#last = concat([...this.#carry, chunk.subarray(0, latest)]);
    }
    // Keep a copy: the stream may reuse its buffers.
    this.#last = this.#last.slice();
    this.#carry = latest + 1 < chunk.length ? [chunk.slice(latest + 1)] : [];
  }

  /** The last complete row (without its newline), or null when none ended. */
  lastRow(): Uint8Array | null {
    return this.#last;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits one CSV row (Postgres' dialect) into fields; an unquoted empty field is null. */
export function parseCsvRow(row: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  while (true) {
    if (row[i] === '"') {
      let value = "";
      i += 1;
      while (i < row.length) {
        if (row[i] === '"') {
          if (row[i + 1] === '"') {
            value += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else {
          value += row[i];
          i += 1;
        }
      }
      fields.push(value);
    } else {
      const comma = row.indexOf(",", i);
      const end = comma < 0 ? row.length : comma;
      const value = row.slice(i, end).replace(/\r$/, "");
      fields.push(value === "" ? null : value);
      i = end;
    }
    if (row[i] === ",") {
      i += 1;
      continue;
    }
    return fields;
  }
}
