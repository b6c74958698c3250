// Owns PostgreSQL log sequence numbers (LSNs): the "16/B374D848" text Postgres
// prints, as bigints that compare and subtract exactly.

/** An LSN as a 64-bit unsigned integer. */
export type Lsn = bigint;

/** "16/B374D848" -> 0x16B374D848n. Throws on anything else. */
export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!match) throw new RangeError(`Cannot read LSN "${text}": expected hex/hex`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** 0x16B374D848n -> "16/B374D848", as Postgres prints it. */
export function formatLsn(lsn: Lsn): string {
  const high = (lsn >> 32n) & 0xffffffffn;
  const low = lsn & 0xffffffffn;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}
