import { assertEquals } from "../support/assert.ts";
import { CsvLastRow, parseCsvRow } from "../../src/core/csv_tail.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

Deno.test("CsvLastRow finds the last complete row across chunks, ignoring newlines in quotes", () => {
  const text = '1,"a\nb",x\n2,"say ""hi""\n",y\n3,plain,z\n';
  for (const size of [1, 2, 3, 5, 7, 100]) {
    const t = new CsvLastRow();
    for (let i = 0; i < text.length; i += size) t.push(enc(text.slice(i, i + size)));
    assertEquals(dec(t.lastRow()), "3,plain,z", `chunk size ${size}`);
  }
  const none = new CsvLastRow();
  none.push(enc('1,"open\n'));
  assertEquals(none.lastRow(), null);
});

Deno.test("parseCsvRow() splits Postgres CSV: quotes, doubled quotes, commas, NULL vs empty", () => {
  assertEquals(parseCsvRow('1,"a,b","say ""hi""",,""'), ["1", "a,b", 'say "hi"', null, ""]);
  assertEquals(parseCsvRow("2024-01-02 03:04:05.123456+00,42"), [
    "2024-01-02 03:04:05.123456+00",
    "42",
  ]);
  assertEquals(parseCsvRow('"multi\nline",x'), ["multi\nline", "x"]);
});
