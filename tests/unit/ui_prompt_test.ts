// The prompt's pure parts: readline edits of a text and its caret, and the
// history file format (one JSON string a line, multi-line queries kept).

import { assertEquals } from "../support/assert.ts";
import * as edit from "../../ui/line_edit.ts";
import { formatHistory, parseHistory } from "../../ui/history_file.ts";

const at = (text: string, caret = text.length): edit.Line => ({ text, caret });

Deno.test("line_edit: moves by character, word and line", () => {
  assertEquals(edit.left(at("abc")), at("abc", 2));
  assertEquals(edit.right(at("abc", 3)), at("abc", 3));
  assertEquals(edit.left(at("a🙂", 3)), at("a🙂", 1));
  assertEquals(edit.wordLeft(at("SELECT foo_bar")), at("SELECT foo_bar", 7));
  assertEquals(edit.wordRight(at("SELECT foo_bar", 0)), at("SELECT foo_bar", 6));
  assertEquals(edit.home(at("a\nbcd", 4)), at("a\nbcd", 2));
  assertEquals(edit.end(at("a\nbcd\ne", 3)), at("a\nbcd\ne", 5));
});

Deno.test("line_edit: deletes like readline", () => {
  assertEquals(edit.backspace(at("abc", 1)), at("bc", 0));
  assertEquals(edit.deleteForward(at("abc", 1)), at("ac", 1));
  assertEquals(edit.killWordBack(at("SELECT a.b  ")), at("SELECT ", 7));
  assertEquals(edit.killToStart(at("x\nabc", 4)), at("x\nc", 2));
  assertEquals(edit.killToEnd(at("ab\ncd", 1)), at("a\ncd", 1));
  assertEquals(edit.insert(at("ac", 1), "b"), at("abc", 2));
});

Deno.test("history file: one JSON string a line; damaged lines skipped", () => {
  const history = ["SELECT 1", "SELECT 1 -- a\nFROM t"];
  const text = formatHistory(history);
  assertEquals(text.split("\n").length, 3);
  assertEquals(parseHistory(text), history);
  assertEquals(parseHistory('"a"\n{"cut\n42\n"b"\n'), ["a", "b"]);
  assertEquals(parseHistory(""), []);
});
