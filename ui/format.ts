// Owns the pure text helpers of the terminal UI: compact numbers, durations,
// local clock times, clipping and wrapping to a width, terminal display widths
// (CJK and emoji take two cells) and list windows.

export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return "-";
  const abs = Math.abs(n);
  // Thresholds sit where rounding to one decimal would show "1000.0k".
  if (abs >= 999_950_000) return `${(n / 1e9).toFixed(1)}G`;
  if (abs >= 999_950) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** The engine log's byte formatter, under the UI's name. */
export { formatBytes as formatBytesShort } from "../src/mod.ts";

/** "4s", "3m 12s", "2h 05m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function clip(text: string, width: number): string {
  if (width <= 0) return "";
  const flat = text.replace(/[\r\n\t]/g, " ");
  return flat.length > width ? `${flat.slice(0, Math.max(0, width - 1))}…` : flat;
}

/**
 * `text` word-wrapped into at most `maxLines` lines of at most `width`
 * characters (words longer than a line are split); when it still does not fit,
 * the last line ends with an ellipsis.
 */
export function wrap(text: string, width: number, maxLines: number): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const words = text.replace(/\s+/g, " ").trim().split(" ");
  const lines: string[] = [];
  let line = "";
  for (let word of words) {
    while (word !== "") {
      const gap = line === "" ? 0 : 1;
      if (line.length + gap + word.length <= width) {
        line += (gap ? " " : "") + word;
        word = "";
      } else if (line === "") {
        line = word.slice(0, width);
        word = word.slice(width);
      } else {
        lines.push(line);
        line = "";
      }
      if (word !== "" && line.length === width) {
        lines.push(line);
        line = "";
      }
    }
  }
  if (line !== "" || lines.length === 0) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  kept[maxLines - 1] = last.length < width ? `${last}…` : `${last.slice(0, width - 1)}…`;
  return kept;
}

/** Like wrap(), keeping the text's own line breaks (a DuckDB error's caret line). */
export function wrapLines(text: string, width: number, maxLines: number): string[] {
  const all = text.split("\n").flatMap((l) => wrap(l, width, Number.MAX_SAFE_INTEGER));
  if (all.length <= maxLines) return all;
  if (maxLines <= 0) return [];
  const kept = all.slice(0, maxLines);
  const last = kept[maxLines - 1]!;
  kept[maxLines - 1] = last.length < width ? `${last}…` : `${last.slice(0, width - 1)}…`;
  return kept;
}

/** Local wall-clock time "HH:MM:SS" of an epoch ms (the event log names the zone once). */
export function localClock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The local zone as "UTC", "UTC+02:00" or "UTC-05:30" for an epoch ms. */
export function localZone(ms: number): string {
  const offset = -new Date(ms).getTimezoneOffset();
  if (offset === 0) return "UTC";
  const abs = Math.abs(offset);
  return `UTC${offset > 0 ? "+" : "-"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${
    String(abs % 60).padStart(2, "0")
  }`;
}

// Terminal cells per code point: East Asian wide and fullwidth characters and
// emoji take two, combining marks and zero-width joiners none.
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{1f680}-\u{1f6ff}\u{20000}-\u{3fffd}]/u;
const ZERO = /[\u0300-\u036f\u200b-\u200f\u20d0-\u20ff\ufe00-\ufe0f]/u;

function charWidth(ch: string): number {
  if (ZERO.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/** The terminal cells `text` takes. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** `text` cut to at most `width` cells (no ellipsis). */
export function sliceWidth(text: string, width: number): string {
  let w = 0;
  let out = "";
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > width) break;
    w += cw;
    out += ch;
  }
  return out;
}

/** Like clip(), counting terminal cells: cut to `width` cells with an ellipsis. */
export function clipWidth(text: string, width: number): string {
  if (width <= 0) return "";
  const flat = text.replace(/[\r\n\t]/g, " ");
  if (displayWidth(flat) <= width) return flat;
  return `${sliceWidth(flat, width - 1)}…`;
}

export function padEndWidth(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

export function padStartWidth(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - displayWidth(text))) + text;
}

/** The first line of a window of `height` lines over `count` that keeps `selected` in view. */
export function windowStart(selected: number, count: number, height: number): number {
  if (count <= height || height <= 0) return 0;
  // Page-aligned, so a page key moves the window by exactly a page.
  return Math.max(0, Math.min(Math.floor(selected / height) * height, count - height));
}

/** "12-20 of 40" when the list does not fit, else "". */
export function positionInfo(start: number, height: number, count: number): string {
  if (count <= height) return "";
  return `${start + 1}-${Math.min(count, start + height)} of ${count}`;
}
