// Owns the table selection syntax shared by POSTGRES_TABLES and the sync file:
// parsing it, and rendering a table back as the text a user can paste into it
// (and, for a suggested command, into a shell). Pure.
//
// The syntax follows SQL identifiers: an entry is `schema.table`, `schema.*` or
// `table`; a part is either bare (any characters but white space, ".", ",", '"'
// and NUL, taken exactly as written, upper case included) or in double quotes,
// where any character but NUL may appear and '"' is written '""'. Entries are
// separated by commas outside quotes. Unlike SQL, a bare part keeps its case:
// `SalesEU.orders` names schema "SalesEU", as it always has here.

/** One entry of a selection: a table, or every table of a schema (table "*"). */
export interface TableSelector {
  readonly schema: string;
  readonly table: string;
}

/** A parsed entry, or why it is not one. */
export type SelectorResult =
  | { readonly ok: true; readonly selector: TableSelector }
  | { readonly ok: false; readonly problem: string };

/** One part as written: its name, and whether it was quoted (`"*"` is a name, `*` a wildcard). */
interface Part {
  readonly name: string;
  readonly quoted: boolean;
}

const BARE = /^[^\s.,"\0]+$/;

/**
 * Splits a comma-separated selection into its entries (commas inside double
 * quotes belong to a name), each trimmed. An unclosed quote runs to the end.
 */
export function splitSelectors(text: string): string[] {
  const entries: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === "," && !quoted) {
      entries.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  entries.push(text.slice(start).trim());
  return entries;
}

/** Reads one part at `at`: the part and the index after it, or a problem. */
function readPart(
  text: string,
  at: number,
): { part: Part; next: number } | { problem: string } {
  if (text[at] === '"') {
    let name = "";
    let i = at + 1;
    for (;;) {
      const close = text.indexOf('"', i);
      if (close < 0) return { problem: "a double quote is not closed" };
      name += text.slice(i, close);
      if (text[close + 1] !== '"') {
        i = close + 1;
        break;
      }
      name += '"';
      i = close + 2;
    }
    if (name === "") return { problem: 'an empty name ("") names nothing' };
    if (name.includes("\0")) return { problem: "a name cannot contain a NUL byte" };
    return { part: { name, quoted: true }, next: i };
  }
  let end = at;
  while (end < text.length && text[end] !== ".") end++;
  const name = text.slice(at, end);
  if (name === "") return { problem: "a name is empty" };
  if (!BARE.test(name)) {
    return {
      problem: name.includes("\0")
        ? "a name cannot contain a NUL byte"
        : `${JSON.stringify(name)} has a space, comma or double quote, so it needs double quotes`,
    };
  }
  return { part: { name, quoted: false }, next: end };
}

/**
 * Parses one entry: `schema.table`, `schema.*` or `table` (in `defaultSchema`),
 * each part bare or double-quoted. A table named "*" cannot be selected by name
 * (`schema.*` selects the whole schema).
 */
export function readSelector(raw: string, defaultSchema: string): SelectorResult {
  const text = raw.trim();
  const parts: Part[] = [];
  let at = 0;
  while (at <= text.length) {
    const read = readPart(text, at);
    if ("problem" in read) return { ok: false, problem: read.problem };
    parts.push(read.part);
    if (read.next === text.length) break;
    if (text[read.next] !== ".") {
      return { ok: false, problem: "a quoted name must be followed by a dot or the end" };
    }
    at = read.next + 1;
  }
  if (parts.length > 2) {
    return { ok: false, problem: "it has more than one dot outside double quotes" };
  }
  const [schemaPart, tablePart] = parts.length === 2 ? parts : [null, parts[0]!];
  if (tablePart.name === "*" && tablePart.quoted) {
    return {
      ok: false,
      problem: 'a table named "*" cannot be selected by name (schema.* selects every table)',
    };
  }
  return {
    ok: true,
    selector: { schema: schemaPart?.name ?? defaultSchema, table: tablePart.name },
  };
}

/** Parses one entry (see readSelector), or null when it is not one. */
export function parseSelector(raw: string, defaultSchema: string): TableSelector | null {
  const result = readSelector(raw, defaultSchema);
  return result.ok ? result.selector : null;
}

function formatPart(name: string): string {
  return BARE.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/**
 * A table as the shortest `schema.table` text that parses back to it: each
 * part bare when it can be, else double-quoted (`SalesEU."order items"`).
 * Table "*" is rendered `schema.*`, the wildcard of a TableSelector.
 */
export function formatSelector(schema: string, table: string): string {
  return `${formatPart(schema)}.${table === "*" ? "*" : formatPart(table)}`;
}

/** `text` as one shell word: as it is when every character is safe, else in single quotes. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The environment assignment that selects just this table, ready to paste in a
 * shell before a command: `POSTGRES_TABLES='SalesEU."order items"'`. Every
 * message that suggests selecting one table uses this.
 */
export function selectOnly(table: TableSelector): string {
  return `POSTGRES_TABLES=${shellWord(formatSelector(table.schema, table.table))}`;
}

/**
 * The (schema, table) of a `source` as stored in a checkpoint: formatSelector's
 * text, or (written before names were quoted) the bare `schema.table`, split at
 * its first dot.
 */
export function sourceTable(source: string): TableSelector {
  const parsed = readSelector(source, "");
  if (parsed.ok && parsed.selector.schema !== "" && parsed.selector.table !== "*") {
    return parsed.selector;
  }
  const dot = source.indexOf(".");
  return dot < 0
    ? { schema: "", table: source }
    : { schema: source.slice(0, dot), table: source.slice(dot + 1) };
}

/**
 * For an entry without double quotes that does not parse (`SalesEU.order
 * items`), the quoted entry the user most likely meant; null when there is no
 * single reading.
 */
export function suggestSelector(raw: string): string | null {
  const text = raw.trim();
  if (text.includes('"')) return null;
  const parts = text.split(".");
  if (parts.length > 2 || parts.some((p) => p === "" || p !== p.trim())) return null;
  const suggestion = parts.length === 1
    ? formatPart(parts[0]!)
    : formatSelector(parts[0]!, parts[1]!);
  return suggestion === text ? null : suggestion;
}

/** A stored `source` (see sourceTable) as formatSelector names it, for messages. */
export function sourceName(source: string): string {
  if (source === "") return source; // not recorded
  const { schema, table } = sourceTable(source);
  return formatSelector(schema, table);
}

/** True when one of `selectors` (schema.table or schema.*) names the stored `source`. */
export function selectsSource(selectors: readonly TableSelector[], source: string): boolean {
  const { schema, table } = sourceTable(source);
  return selectors.some((s) => s.schema === schema && (s.table === "*" || s.table === table));
}
