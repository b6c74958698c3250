// Owns the prompt's readline editing: pure moves and edits of a text and its
// caret (a UTF-16 index), for Left/Right, Home/End, Ctrl+A/E/W/U/K, Alt+B/F,
// Backspace and Delete. Lines (a pasted multi-line query) are kept; Home, End,
// Ctrl+U and Ctrl+K work on the caret's line, as in a shell.

export interface Line {
  readonly text: string;
  readonly caret: number;
}

const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** The caret one character (code point) to the left or right. */
function step(text: string, caret: number, by: -1 | 1): number {
  if (by < 0) {
    if (caret <= 0) return 0;
    return caret >= 2 && isLow(text.charCodeAt(caret - 1)) ? caret - 2 : caret - 1;
  }
  if (caret >= text.length) return text.length;
  return isLow(text.charCodeAt(caret + 1)) ? caret + 2 : caret + 1;
}

const clampCaret = (l: Line) => Math.max(0, Math.min(l.text.length, l.caret));

export function insert(l: Line, s: string): Line {
  const c = clampCaret(l);
  return { text: l.text.slice(0, c) + s + l.text.slice(c), caret: c + s.length };
}

export function backspace(l: Line): Line {
  const c = clampCaret(l);
  const to = step(l.text, c, -1);
  return { text: l.text.slice(0, to) + l.text.slice(c), caret: to };
}

export function deleteForward(l: Line): Line {
  const c = clampCaret(l);
  const to = step(l.text, c, 1);
  return { text: l.text.slice(0, c) + l.text.slice(to), caret: c };
}

export function left(l: Line): Line {
  return { text: l.text, caret: step(l.text, clampCaret(l), -1) };
}

export function right(l: Line): Line {
  return { text: l.text, caret: step(l.text, clampCaret(l), 1) };
}

function lineStart(l: Line): number {
  return l.text.lastIndexOf("\n", clampCaret(l) - 1) + 1;
}

function lineEnd(l: Line): number {
  const i = l.text.indexOf("\n", clampCaret(l));
  return i < 0 ? l.text.length : i;
}

export function home(l: Line): Line {
  return { text: l.text, caret: lineStart(l) };
}

export function end(l: Line): Line {
  return { text: l.text, caret: lineEnd(l) };
}

const WORD = /[\p{L}\p{N}_]/u;

/** Alt+B: to the start of the word before the caret. */
export function wordLeft(l: Line): Line {
  let c = clampCaret(l);
  while (c > 0 && !WORD.test(l.text[c - 1]!)) c -= 1;
  while (c > 0 && WORD.test(l.text[c - 1]!)) c -= 1;
  return { text: l.text, caret: c };
}

/** Alt+F: to the end of the word after the caret. */
export function wordRight(l: Line): Line {
  let c = clampCaret(l);
  while (c < l.text.length && !WORD.test(l.text[c]!)) c += 1;
  while (c < l.text.length && WORD.test(l.text[c]!)) c += 1;
  return { text: l.text, caret: c };
}

/** Ctrl+W: deletes the whitespace-separated word before the caret, as in bash. */
export function killWordBack(l: Line): Line {
  const c = clampCaret(l);
  let from = c;
  while (from > 0 && /\s/.test(l.text[from - 1]!)) from -= 1;
  while (from > 0 && !/\s/.test(l.text[from - 1]!)) from -= 1;
  return { text: l.text.slice(0, from) + l.text.slice(c), caret: from };
}

/** Ctrl+U: deletes from the start of the caret's line to the caret. */
export function killToStart(l: Line): Line {
  const from = lineStart(l);
  return { text: l.text.slice(0, from) + l.text.slice(clampCaret(l)), caret: from };
}

/** Ctrl+K: deletes from the caret to the end of its line. */
export function killToEnd(l: Line): Line {
  const c = clampCaret(l);
  return { text: l.text.slice(0, c) + l.text.slice(lineEnd(l)), caret: c };
}
