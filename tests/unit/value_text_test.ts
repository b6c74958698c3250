import { assertEquals } from "../support/assert.ts";
import {
  blobText,
  DATE_INFINITY,
  dateText,
  floatCell,
  intervalText,
  jsonText,
  numberText,
  TIMESTAMP_INFINITY,
  timestampText,
} from "../../src/core/value_text.ts";

Deno.test("dateText() prints infinities, AD and BC dates in PostgreSQL's form", () => {
  assertEquals(dateText(DATE_INFINITY), "infinity");
  assertEquals(dateText(-DATE_INFINITY), "-infinity");
  assertEquals(dateText(0), "1970-01-01");
  assertEquals(dateText(19782), "2024-02-29");
  assertEquals(dateText(-719162), "0001-01-01");
  // Year 0 of the proleptic calendar is 1 BC: no "0000".
  assertEquals(dateText(-719163), "0001-12-31 BC");
  assertEquals(dateText(-719528), "0001-01-01 BC");
  assertEquals(dateText(-735160), "0044-03-15 BC");
  assertEquals(dateText(-2440550), "4713-01-01 BC");
  assertEquals(dateText(2932897), "10000-01-01");
  assertEquals(dateText(DATE_INFINITY - 1), "5881580-07-10");
  assertEquals(dateText(-DATE_INFINITY + 1), "5877642-06-25 BC");
});

Deno.test("timestampText() prints infinities, fractions and BC in PostgreSQL's form", () => {
  assertEquals(timestampText(TIMESTAMP_INFINITY, "us", false), "infinity");
  assertEquals(timestampText(-TIMESTAMP_INFINITY, "us", true), "-infinity");
  assertEquals(timestampText(-TIMESTAMP_INFINITY, "ns", false), "-infinity");
  assertEquals(timestampText(TIMESTAMP_INFINITY, "s", false), "infinity");
  assertEquals(timestampText(0n, "us", false), "1970-01-01 00:00:00");
  assertEquals(timestampText(-1n, "us", false), "1969-12-31 23:59:59.999999");
  assertEquals(timestampText(1709251199999999n, "us", true), "2024-02-29 23:59:59.999999+00");
  assertEquals(timestampText(-62167219200000000n, "us", false), "0001-01-01 00:00:00 BC");
  assertEquals(timestampText(-62167219200000000n, "us", true), "0001-01-01 00:00:00+00 BC");
  assertEquals(timestampText(-63517780799500000n, "us", true), "0044-03-15 12:00:00.5+00 BC");
  assertEquals(timestampText(1500n, "ms", false), "1970-01-01 00:00:01.5");
  assertEquals(timestampText(1n, "ns", false), "1970-01-01 00:00:00.000000001");
  assertEquals(timestampText(-63517780800n, "s", false), "0044-03-15 12:00:00 BC");
});

Deno.test("intervalText() prints an INTERVAL as DuckDB does", () => {
  assertEquals(intervalText(14, 3, 14706789000n), "1 year 2 months 3 days 04:05:06.789");
  assertEquals(intervalText(0, -1, 7200000000n), "-1 day 02:00:00");
  assertEquals(intervalText(1, 0, -1000000n), "1 month -00:00:01");
  assertEquals(intervalText(-1, 0, 1n), "-1 month 00:00:00.000001");
  assertEquals(intervalText(-14, 0, 0n), "-1 year -2 months");
  assertEquals(intervalText(0, 0, 0n), "00:00:00");
});

Deno.test("blobText() escapes what would not read back as the same bytes", () => {
  assertEquals(blobText(new Uint8Array([0x00, 0xff, 0x41])), "\\x00\\xFFA");
  // A backslash followed by "x41" must not read back as "A".
  assertEquals(blobText(new TextEncoder().encode("\\x41")), "\\x5Cx41");
  assertEquals(blobText(new TextEncoder().encode(`"'`)), "\\x22\\x27");
  assertEquals(blobText(new Uint8Array()), "");
});

Deno.test("floatCell() keeps NaN, infinities, -0 and a REAL's own shortest digits", () => {
  assertEquals(floatCell(NaN, false), "NaN");
  assertEquals(floatCell(Infinity, true), "Infinity");
  assertEquals(floatCell(-Infinity, false), "-Infinity");
  assertEquals(Object.is(floatCell(-0, true), -0), true);
  assertEquals(floatCell(Math.fround(0.1), true), 0.1);
  assertEquals(floatCell(Math.fround(3.4028235e38), true), 3.4028235e38);
  assertEquals(floatCell(Math.fround(1.4e-45), true), 1e-45);
  assertEquals(floatCell(Math.fround(16777217), true), 16777216);
  assertEquals(floatCell(0.1 + 0.2, false), 0.30000000000000004);
  for (const x of [Math.fround(1 / 3), Math.fround(123.456), Math.fround(-7e-30)]) {
    assertEquals(Math.fround(floatCell(x, true) as number), x);
  }
});

Deno.test("numberText() and jsonText() keep -0", () => {
  assertEquals(numberText(-0), "-0");
  assertEquals(numberText(1e300), "1e+300");
  assertEquals(
    jsonText([-0, "a\uFEFF", null, true, { k: [1n] }]),
    `[-0,"a\uFEFF",null,true,{"k":[1]}]`,
  );
});
