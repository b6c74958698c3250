import { assertEquals } from "../support/assert.ts";
import {
  cellText,
  formatCsv,
  formatJson,
  formatResult,
  formatTable,
  type QueryResult,
} from "../../src/core/query_result.ts";

const sample: QueryResult = {
  columns: ["id", "name", "amount"],
  rows: [
    ["1", "alice", "12.50"],
    ["22", null, "3.00"],
  ],
};

Deno.test("cellText() renders NULL, strings as-is and other values as JSON", () => {
  assertEquals(cellText(null), "NULL");
  assertEquals(cellText(undefined), "NULL");
  assertEquals(cellText("text"), "text");
  assertEquals(cellText(""), "");
  assertEquals(cellText(42), "42");
  assertEquals(cellText(true), "true");
  assertEquals(cellText({ a: [1, 2] }), `{"a":[1,2]}`);
});

Deno.test("formatTable() aligns columns, renders NULL and ends with a row count", () => {
  assertEquals(
    formatTable(sample),
    [
      "id | name  | amount",
      "---+-------+-------",
      "1  | alice | 12.50",
      "22 | NULL  | 3.00",
      "(2 rows)",
    ].join("\n"),
  );
});

Deno.test("formatTable() says (1 row) for a single row", () => {
  const out = formatTable({ columns: ["n"], rows: [[1]] });
  assertEquals(out, "n\n-\n1\n(1 row)");
});

Deno.test("formatTable() prints headers and (0 rows) for an empty result", () => {
  assertEquals(formatTable({ columns: ["a", "bb"], rows: [] }), "a | bb\n--+---\n(0 rows)");
});

Deno.test("formatTable() clips wide values with an ellipsis", () => {
  const out = formatTable({ columns: ["v"], rows: [["abcdefghij"], ["abc"]] }, 5);
  assertEquals(out.split("\n"), [
    "v",
    "-----",
    "abcd…",
    "abc",
    "(2 rows; values over 5 characters cut, --format csv or json shows them whole)",
  ]);
});

Deno.test("formatTable() clips at 60 characters by default", () => {
  const wide = "x".repeat(100);
  const lines = formatTable({ columns: ["v"], rows: [[wide]] }).split("\n");
  assertEquals(lines[2], `${"x".repeat(59)}…`);
  assertEquals(lines[1], "-".repeat(60));
});

Deno.test("formatTable() does not clip values exactly at the limit", () => {
  const lines = formatTable({ columns: ["v"], rows: [["12345"]] }, 5).split("\n");
  assertEquals(lines[2], "12345");
});

Deno.test("formatTable() flattens newlines and tabs into spaces", () => {
  const lines = formatTable({ columns: ["v"], rows: [["a\nb\tc"]] }).split("\n");
  assertEquals(lines, ["v", "-----", "a b c", "(1 row)"]);
});

Deno.test("formatCsv() writes a header and plain fields", () => {
  assertEquals(formatCsv(sample), "id,name,amount\n1,alice,12.50\n22,,3.00");
});

Deno.test("formatCsv() quotes commas, quotes and newlines", () => {
  const out = formatCsv({
    columns: ["a", "b,c"],
    rows: [["x,y", 'say "hi"'], ["line1\nline2", "cr\r"]],
  });
  assertEquals(out, `a,"b,c"\n"x,y","say ""hi"""\n"line1\nline2","cr\r"`);
});

Deno.test("formatCsv() tells an empty string from NULL", () => {
  assertEquals(formatCsv({ columns: ["a", "b"], rows: [["", null]] }), `a,b\n"",`);
});

Deno.test("formatCsv() writes non-string values as JSON", () => {
  assertEquals(
    formatCsv({ columns: ["n", "o"], rows: [[3, { k: 1 }]] }),
    `n,o\n3,"{""k"":1}"`,
  );
});

Deno.test("formatJson() writes one JSON object per row", () => {
  const out = formatJson(sample);
  const lines = out.split("\n");
  assertEquals(lines.length, 2);
  assertEquals(JSON.parse(lines[0]!), { id: "1", name: "alice", amount: "12.50" });
  assertEquals(JSON.parse(lines[1]!), { id: "22", name: null, amount: "3.00" });
});

Deno.test("formatJson() fills missing cells with null and writes nothing for no rows", () => {
  assertEquals(formatJson({ columns: ["a", "b"], rows: [["x"]] }), `{"a":"x","b":null}`);
  assertEquals(formatJson({ columns: ["a"], rows: [] }), "");
});

Deno.test("formatResult() dispatches on the format", () => {
  assertEquals(formatResult(sample, "table"), formatTable(sample));
  assertEquals(formatResult(sample, "csv"), formatCsv(sample));
  assertEquals(formatResult(sample, "json"), formatJson(sample));
});

Deno.test("cellText() writes -0 and numbers inside lists exactly", () => {
  assertEquals(cellText(-0), "-0");
  assertEquals(cellText([-0, 1.5, null]), "[-0,1.5,null]");
  assertEquals(cellText({ months: 1, days: 2, micros: "3" }), `{"months":1,"days":2,"micros":"3"}`);
});

Deno.test("every format keeps a leading U+FEFF and prints special values alike", () => {
  const result: QueryResult = {
    columns: ["\uFEFFt", "d", "f", "z"],
    rows: [["\uFEFFx", "0044-03-15 BC", "NaN", -0]],
  };
  assertEquals(formatCsv(result), "\uFEFFt,d,f,z\n\uFEFFx,0044-03-15 BC,NaN,-0");
  assertEquals(
    formatJson(result),
    `{"\uFEFFt":"\uFEFFx","d":"0044-03-15 BC","f":"NaN","z":-0}`,
  );
  // The table, for the eye, flattens whitespace (U+FEFF is whitespace to JS) to keep columns aligned.
  assertEquals(formatTable(result).split("\n")[2], " x | 0044-03-15 BC | NaN | -0");
});

Deno.test("formatJson() writes every column, a repeated name too", () => {
  assertEquals(formatJson({ columns: ["a", "a"], rows: [[1, 2]] }), `{"a":1,"a":2}`);
});
