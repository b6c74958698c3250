// Owns the exact text of warehouse values as `query` and the Query pane show
// them, in every format alike: dates and timestamps in PostgreSQL's own form
// ("infinity", "-infinity", "0044-03-15 BC", "0044-03-15 12:00:00.5+00 BC",
// which PostgreSQL reads back to the same value), intervals and blobs in
// DuckDB's form, floats by the shortest digits that read back to the same
// float (a REAL's own shortest digits, not its double's), -0 kept, and JSON
// written without losing -0. Pure: no DuckDB here.

/** DuckDB's infinite DATE, as days since 1970-01-01 (int32 max and its negation). */
export const DATE_INFINITY = 2147483647;
/** DuckDB's infinite timestamps in any unit (int64 max and its negation). */
export const TIMESTAMP_INFINITY = 9223372036854775807n;

const pad = (n: number | bigint | string, width = 2) => n.toString().padStart(width, "0");

/** Proleptic Gregorian year (0 = 1 BC), month and day of a day count since 1970-01-01. */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  // H. Hinnant's civil_from_days: integer arithmetic, exact for any int32.
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** "2024-02-29", "0001-01-01 BC" (for year 0 and before), "infinity", "-infinity". */
export function dateText(days: number): string {
  if (days === DATE_INFINITY) return "infinity";
  if (days === -DATE_INFINITY) return "-infinity";
  const { text, bc } = datePart(days);
  return bc ? `${text} BC` : text;
}

function datePart(days: number): { text: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  return { text: `${pad(bc ? 1 - year : year, 4)}-${pad(month)}-${pad(day)}`, bc };
}

export type TimeUnit = "s" | "ms" | "us" | "ns";

const PER_SECOND: Record<TimeUnit, bigint> = { s: 1n, ms: 1000n, us: 1000000n, ns: 1000000000n };
const FRACTION_DIGITS: Record<TimeUnit, number> = { s: 0, ms: 3, us: 6, ns: 9 };

/**
 * A timestamp counted in `unit` since 1970-01-01 00:00:00 (UTC for a
 * timestamptz, which then ends in "+00"): "2024-02-29 23:59:59.999999",
 * "0044-03-15 12:00:00.5+00 BC", "infinity", "-infinity".
 */
export function timestampText(count: bigint, unit: TimeUnit, withZone: boolean): string {
  if (count === TIMESTAMP_INFINITY) return "infinity";
  if (count === -TIMESTAMP_INFINITY) return "-infinity";
  const perSecond = PER_SECOND[unit];
  const perDay = 86400n * perSecond;
  let days = count / perDay;
  let rest = count % perDay;
  if (rest < 0n) {
    days -= 1n;
    rest += perDay;
  }
  const seconds = rest / perSecond;
  const digits = FRACTION_DIGITS[unit];
  const fraction = digits === 0 ? "" : pad(rest % perSecond, digits).replace(/0+$/, "");
  const { text, bc } = datePart(Number(days));
  return `${text} ${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}${
    fraction ? `.${fraction}` : ""
  }${withZone ? "+00" : ""}${bc ? " BC" : ""}`;
}

/** An INTERVAL as DuckDB prints it: "1 year 2 months -3 days 04:05:06.5". */
export function intervalText(months: number, days: number, micros: bigint): string {
  const parts: string[] = [];
  const years = Math.trunc(months / 12);
  const restMonths = months % 12;
  const unit = (n: number, name: string) => `${n} ${name}${Math.abs(n) === 1 ? "" : "s"}`;
  if (years !== 0) parts.push(unit(years, "year"));
  if (restMonths !== 0) parts.push(unit(restMonths, "month"));
  if (days !== 0) parts.push(unit(days, "day"));
  if (micros !== 0n || parts.length === 0) {
    const sign = micros < 0n ? "-" : "";
    if (micros < 0n) micros = -micros;
    const seconds = micros / 1_000_000n;
    const fraction = pad(micros % 1_000_000n, 6).replace(/0+$/, "");
    parts.push(
      `${sign}${pad(seconds / 3600n)}:${pad((seconds / 60n) % 60n)}:${pad(seconds % 60n)}${
        fraction ? `.${fraction}` : ""
      }`,
    );
  }
  return parts.join(" ");
}

/**
 * A BLOB as DuckDB prints it and reads it back: printable ASCII as itself,
 * every other byte (and the quotes and the backslash, so that the text never
 * reads as another blob) as "\xHH".
 */
export function blobText(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += byte < 0x20 || byte >= 0x7f || byte === 0x22 || byte === 0x27 || byte === 0x5c
      ? `\\x${pad(byte.toString(16).toUpperCase())}`
      : String.fromCharCode(byte);
  }
  return out;
}

/**
 * A float as a cell: NaN and the infinities as the texts "NaN", "Infinity",
 * "-Infinity" (which PostgreSQL and DuckDB read back); other values as numbers.
 * A REAL (`single`) becomes the double of its own shortest digits (0.1, not
 * 0.10000000149011612), which reads back as the same REAL.
 */
export function floatCell(value: number, single: boolean): number | string {
  if (!Number.isFinite(value)) return String(value);
  if (!single || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(value.toPrecision(digits));
    if (Math.fround(shorter) === value) return shorter;
  }
  return Number(value.toPrecision(9));
}

/** A number's text, -0 included (String(-0) and JSON.stringify(-0) say "0"). */
export function numberText(value: number): string {
  if (Object.is(value, -0)) return "-0";
  return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
}

/**
 * JSON text of a cell (null, boolean, number, string, arrays and objects of
 * those), like JSON.stringify but keeping -0 and writing a bigint as a number.
 */
export function jsonText(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "number":
      return numberText(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (typeof value === "object") {
    return `{${
      Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")
    }}`;
  }
  return JSON.stringify(String(value));
}
