import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  formatSelector,
  parseSelector,
  readSelector,
  selectOnly,
  shellWord,
  sourceName,
  sourceTable,
  splitSelectors,
  suggestSelector,
} from "../../src/core/selector.ts";
import { loadConfig } from "../../src/core/config.ts";
import { SyncError } from "../../src/core/errors.ts";
import { planTables, type Relation } from "../../src/core/table_plan.ts";

const read = (text: string) => parseSelector(text, "dflt");

Deno.test("parseSelector() reads bare parts as written, upper case kept", () => {
  assertEquals(read("public.orders"), { schema: "public", table: "orders" });
  assertEquals(read("  orders "), { schema: "dflt", table: "orders" });
  assertEquals(read("sales.*"), { schema: "sales", table: "*" });
  assertEquals(read("SalesEU.Orders"), { schema: "SalesEU", table: "Orders" });
  assertEquals(read("o'brien.a*b$"), { schema: "o'brien", table: "a*b$" });
});

Deno.test('parseSelector() reads double-quoted parts, with "" for a quote', () => {
  assertEquals(read('"SalesEU"."order items"'), { schema: "SalesEU", table: "order items" });
  assertEquals(read('SalesEU."order items"'), { schema: "SalesEU", table: "order items" });
  assertEquals(read('"my.schema".*'), { schema: "my.schema", table: "*" });
  assertEquals(read('public."a""b"'), { schema: "public", table: 'a"b' });
  assertEquals(read('"a,b"'), { schema: "dflt", table: "a,b" });
  assertEquals(read('" x "."."'), { schema: " x ", table: "." });
  assertEquals(read('""""'), { schema: "dflt", table: '"' });
});

Deno.test("readSelector() refuses what is not one entry, saying why", () => {
  const problems: Record<string, RegExp> = {
    "": /empty/,
    "a.": /empty/,
    ".a": /empty/,
    "a.b.c": /more than one dot/,
    "SalesEU.order items": /"order items" has a space.*needs double quotes/,
    "a,b": /needs double quotes/,
    'a"b.c': /needs double quotes/,
    '"a': /not closed/,
    '"a"b': /followed by a dot or the end/,
    '"a" . b': /followed by a dot or the end/,
    '"".a': /empty name/,
    'public."*"': /table named "\*" cannot be selected by name/,
    "a\0.b": /NUL/,
    '"a\0".b': /NUL/,
  };
  for (const [text, pattern] of Object.entries(problems)) {
    const result = readSelector(text, "dflt");
    assert(!result.ok, `${JSON.stringify(text)} parsed`);
    assertMatch(result.problem, pattern, JSON.stringify(text));
  }
});

Deno.test("splitSelectors() splits on commas outside double quotes", () => {
  assertEquals(splitSelectors("a.b, c ,d.*"), ["a.b", "c", "d.*"]);
  assertEquals(splitSelectors('"x,y".z,"q""r,s".t'), ['"x,y".z', '"q""r,s".t']);
  assertEquals(splitSelectors('"open,'), ['"open,']);
  assertEquals(splitSelectors("a,,b"), ["a", "", "b"]);
});

Deno.test("formatSelector() quotes only the parts that need it", () => {
  assertEquals(formatSelector("public", "orders"), "public.orders");
  assertEquals(formatSelector("SalesEU", "Orders"), "SalesEU.Orders");
  assertEquals(formatSelector("SalesEU", "order items"), 'SalesEU."order items"');
  assertEquals(formatSelector("my.schema", "*"), '"my.schema".*');
  assertEquals(formatSelector("public", 'a"b'), 'public."a""b"');
  assertEquals(formatSelector("public", "a,b"), 'public."a,b"');
  assertEquals(formatSelector("public", "tab\there"), 'public."tab\there"');
});

/** Names made of the characters that matter to the syntax and to shells. */
function awkwardName(random: () => number): string {
  const alphabet = ['"', ".", ",", " ", "*", "'", "a", "B", "_", "$", "\\", "é", "\t", "-", "`"];
  const length = 1 + Math.floor(random() * 6);
  let name = "";
  for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)];
  return name;
}

/** A small deterministic generator, so a failure reproduces. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

Deno.test("formatSelector() round-trips through parseSelector and splitSelectors for awkward names", () => {
  const random = seeded(42);
  for (let i = 0; i < 5000; i++) {
    const schema = awkwardName(random);
    const table = awkwardName(random);
    if (table === "*") continue; // a table named "*" cannot be selected by name
    const text = formatSelector(schema, table);
    assertEquals(read(text), { schema, table }, text);
    // Also as one entry of a list, between others.
    const other = formatSelector(awkwardName(random), "t");
    const entries = splitSelectors(`${other}, ${text} ,${other}`);
    assertEquals(entries.length, 3, text);
    assertEquals(read(entries[1]!), { schema, table }, text);
    // Shortest: no quotes when the bare part reads back the same.
    if (/^[^\s.,"]+$/.test(schema)) assert(text.startsWith(`${schema}.`), text);
    assertEquals(sourceTable(text), { schema, table }, text);
  }
});

Deno.test("shellWord() leaves plain words alone and single-quotes the rest", () => {
  assertEquals(shellWord("public.orders"), "public.orders");
  assertEquals(shellWord("a,b.c_d-1"), "a,b.c_d-1");
  assertEquals(shellWord('SalesEU."order items"'), `'SalesEU."order items"'`);
  assertEquals(shellWord("o'brien.t"), `'o'\\''brien.t'`);
  assertEquals(shellWord("sales.*"), "'sales.*'");
  assertEquals(shellWord("$HOME"), "'$HOME'");
});

Deno.test("shellWord() survives a real shell for awkward names", async () => {
  const random = seeded(7);
  const names = Array.from({ length: 40 }, () => formatSelector(awkwardName(random), "x y"));
  names.push(`a'b."c""d"`, "plain.name");
  const script = names.map((n) => `printf '%s\\0' ${shellWord(n)}`).join("; ");
  const out = await new Deno.Command("bash", { args: ["-c", script] }).output();
  assertEquals(new TextDecoder().decode(out.stdout).split("\0").slice(0, -1), names);
});

Deno.test("selectOnly() is the pasteable POSTGRES_TABLES assignment for one table", () => {
  assertEquals(selectOnly({ schema: "public", table: "orders" }), "POSTGRES_TABLES=public.orders");
  assertEquals(
    selectOnly({ schema: "SalesEU", table: "order items" }),
    `POSTGRES_TABLES='SalesEU."order items"'`,
  );
  assertEquals(
    selectOnly({ schema: "public", table: `it's "x"` }),
    `POSTGRES_TABLES='public."it'\\''s ""x"""'`,
  );
});

Deno.test("sourceTable() reads a checkpoint's source, quoted or from before quoting", () => {
  assertEquals(sourceTable('SalesEU."order items"'), { schema: "SalesEU", table: "order items" });
  assertEquals(sourceTable("SalesEU.order items"), { schema: "SalesEU", table: "order items" });
  assertEquals(sourceTable("s.a,b"), { schema: "s", table: "a,b" });
  assertEquals(sourceTable("public.orders"), { schema: "public", table: "orders" });
  assertEquals(sourceName("SalesEU.order items"), 'SalesEU."order items"');
  assertEquals(sourceName('SalesEU."order items"'), 'SalesEU."order items"');
  assertEquals(sourceName(""), "");
});

Deno.test("suggestSelector() offers the quoted entry that was likely meant", () => {
  assertEquals(suggestSelector("SalesEU.order items"), 'SalesEU."order items"');
  assertEquals(suggestSelector("order items"), '"order items"');
  assertEquals(suggestSelector("sales.a,b"), 'sales."a,b"');
  assertEquals(suggestSelector("a.b.c"), null);
  assertEquals(suggestSelector('"a'), null);
  assertEquals(suggestSelector("a. b"), null);
  assertEquals(suggestSelector("public.orders"), null);
});

const env = (vars: Record<string, string>) => (name: string) => vars[name];

function configProblem(vars: Record<string, string>, file = "", flags = {}): string {
  try {
    loadConfig(env(vars), flags, () => file);
  } catch (error) {
    assert(error instanceof SyncError && error.exitCode === 2, String(error));
    assert(!error.message.includes("\n"), error.message);
    return error.message;
  }
  throw new Error("expected a configuration error");
}

Deno.test("loadConfig() reads quoted POSTGRES_TABLES entries, commas inside quotes kept", () => {
  const config = loadConfig(
    env({ POSTGRES_TABLES: '"SalesEU"."order items", "my.schema".*,public."a,b", plain' }),
  );
  assertEquals(config.tables, [
    { schema: "SalesEU", table: "order items" },
    { schema: "my.schema", table: "*" },
    { schema: "public", table: "a,b" },
    { schema: "analytics", table: "plain" },
  ]);
  const one = loadConfig(env({ POSTGRES_TABLES: 'SalesEU."order items"' }));
  assert(!one.multiTable);
  assertEquals([one.schema, one.table, one.duckdbTable], [
    "SalesEU",
    "order items",
    "SalesEU_order items",
  ]);
});

Deno.test("loadConfig() names a bad POSTGRES_TABLES entry with the quoted form to write", () => {
  const message = configProblem({ POSTGRES_TABLES: "public.orders,SalesEU.order items" });
  assertMatch(
    message,
    /POSTGRES_TABLES entry `SalesEU\.order items` is not schema\.table or schema\.\* \("order items" has a space, comma or double quote, so it needs double quotes; write it as SalesEU\."order items", e\.g\. POSTGRES_TABLES='public\.orders,sales\.\*,"SalesEU"\."order items"'\)/,
  );
  assertMatch(
    configProblem({}, "", { tables: "a.b.c" }),
    /--tables entry `a\.b\.c` is not schema\.table .* e\.g\. --tables='/,
  );
});

Deno.test("loadConfig() names the sync file, not POSTGRES_TABLES, for a bad include entry", () => {
  const file = JSON.stringify({ include: ["public.orders", "SalesEU.order items"] });
  const message = configProblem({ SYNC_CONFIG: "conf/sync.json" }, file);
  assertMatch(
    message,
    /conf\/sync\.json: "include" entry "SalesEU\.order items" is not schema\.table or schema\.\* \(.*; write it as "SalesEU\.\\"order items\\"", e\.g\. /,
  );
  assert(!message.includes("POSTGRES_TABLES"), message);
  assertMatch(
    configProblem({ SYNC_CONFIG: "s.json" }, JSON.stringify({ include: [] })),
    /s\.json: "include" lists no table/,
  );
});

Deno.test("a sync file selects and configures quoted names, keyed as plans name them", () => {
  const file = JSON.stringify({
    include: ['"SalesEU"."order items"', '"my.schema".*'],
    tables: {
      '"SalesEU"."order items"': { cursor: "changed_at" },
      '"my.schema"."a""b"': { target: "ab" },
    },
  });
  const config = loadConfig(env({ SYNC_CONFIG: "sync.json" }), {}, () => file);
  assertEquals(config.tables, [
    { schema: "SalesEU", table: "order items" },
    { schema: "my.schema", table: "*" },
  ]);
  assertEquals(Object.keys(config.overrides), ['SalesEU."order items"', '"my.schema"."a""b"']);
  const relations: Relation[] = [
    { schema: "SalesEU", table: "order items", kind: "r", isPartition: false },
    { schema: "my.schema", table: 'a"b', kind: "r", isPartition: false },
    { schema: "my.schema", table: "c d", kind: "r", isPartition: false },
  ];
  const { plans, skipped } = planTables(config, relations);
  assertEquals(plans.map((p) => [p.source, p.target, p.cursorColumn]), [
    ['SalesEU."order items"', "SalesEU_order items", "changed_at"],
    ['"my.schema"."a""b"', "ab", "updated_at"],
    ['"my.schema"."c d"', "my.schema_c d", "updated_at"],
  ]);
  assertEquals(skipped, []);
  // The same table under two spellings, and a key that is no table, are refused.
  const twice = JSON.stringify({
    tables: { "public.orders": {}, '"public"."orders"': {}, "SalesEU.order items": {} },
  });
  const message = configProblem({ SYNC_CONFIG: "sync.json" }, twice);
  assertMatch(message, /sync\.json: tables keys name public\.orders twice/);
  assertMatch(
    message,
    /sync\.json: tables key "SalesEU\.order items" must be "schema\.table" \(.*; write it as "SalesEU\.\\"order items\\""\)/,
  );
});

Deno.test("planTables() names an unmatched quoted wildcard as it would be written", () => {
  const config = loadConfig(env({ POSTGRES_TABLES: '"my schema".*' }));
  assertEquals(planTables(config, []).unmatched, ['"my schema".*']);
});
