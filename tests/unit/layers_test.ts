// The import graph keeps its layers: src/core is pure (no Deno.*, no Postgres,
// DuckDB or SQLite), each folder of src/ imports only the layers below it,
// ui/ sees only the engine's surface and the worker protocol, main.ts only the
// surface, and no module imports itself back through others.

import { assertEquals } from "../support/assert.ts";
import { dirname, join, normalize, relative } from "node:path";

const REPO = normalize(join(dirname(new URL(import.meta.url).pathname), "../.."));

/** What each part of the program may import (besides itself and npm/node packages). */
const ALLOWED: Record<string, readonly string[]> = {
  "src/core": ["src/core"],
  "src/io": ["src/core", "src/io"],
  "src/sync": ["src/core", "src/io", "src/sync"],
  "src/demo": ["src/core", "src/io", "src/demo"],
  "src/host": ["src/core", "src/io", "src/sync", "src/demo", "src/host"],
  "src/cli": ["src/core", "src/io", "src/sync", "src/demo", "src/host", "src/cli"],
  "src/mod.ts": ["src/core", "src/io", "src/sync", "src/demo", "src/host", "src/cli"],
  "ui": ["ui", "src/mod.ts", "src/host/protocol.ts"],
  // main.ts starts the terminal UI, whose entry is ui/tui.tsx.
  "main.ts": ["src/mod.ts", "ui/tui.tsx"],
};

function partOf(file: string): string {
  if (file === "main.ts" || file === "src/mod.ts") return file;
  if (file.startsWith("ui/")) return "ui";
  const folder = /^src\/[a-z]+/.exec(file)?.[0];
  if (!folder || !(folder in ALLOWED)) throw new Error(`${file} is in no known layer`);
  return folder;
}

function allows(part: string, target: string): boolean {
  return ALLOWED[part]!.some((p) => target === p || target.startsWith(`${p}/`));
}

async function sourceFiles(): Promise<string[]> {
  const files = ["main.ts"];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(join(REPO, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (/\.tsx?$/.test(entry.name)) files.push(path);
    }
  };
  await walk("src");
  await walk("ui");
  return files.sort();
}

/**
 * Code without its whole-line comments, so that a comment naming a module is
 * not an import (a comment after code on the same line is kept: rare, and
 * telling it from a string holding "//" or "/*" needs a real parser).
 */
function code(text: string): string {
  return text.replace(/^\s*\/\*[\s\S]*?\*\//gm, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Relative imports (static, re-exports and dynamic) as repository paths. */
function importsOf(file: string, text: string): string[] {
  const specs = [
    ...code(text).matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g),
  ].map((m) => m[1]!);
  return specs.map((spec) => relative(REPO, normalize(join(REPO, dirname(file), spec))));
}

async function graph(): Promise<Map<string, string[]>> {
  const edges = new Map<string, string[]>();
  for (const file of await sourceFiles()) {
    edges.set(file, importsOf(file, await Deno.readTextFile(join(REPO, file))));
  }
  return edges;
}

Deno.test("every import goes to the same layer or one below it", async () => {
  const wrong: string[] = [];
  for (const [file, targets] of await graph()) {
    for (const target of targets) {
      if (!allows(partOf(file), target)) wrong.push(`${file} -> ${target}`);
    }
  }
  assertEquals(wrong, []);
});

Deno.test("src/core is pure: no Deno.*, no Postgres, DuckDB or SQLite", async () => {
  const impure: string[] = [];
  for (const file of (await sourceFiles()).filter((f) => f.startsWith("src/core/"))) {
    const text = code(await Deno.readTextFile(join(REPO, file)));
    if (/\bDeno\./.test(text)) impure.push(`${file}: Deno.*`);
    const packages = [...text.matchAll(/from\s*["']((?:npm:|node:)?[^."'][^"']*)["']/g)]
      .map((m) => m[1]!);
    for (const p of packages) {
      if (/^(pg|@duckdb\/.*|node:sqlite|node:fs.*)$/.test(p)) {
        impure.push(`${file}: ${p}`);
      }
    }
  }
  assertEquals(impure, []);
});

Deno.test("no import cycles", async () => {
  const edges = await graph();
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "open") {
        cycles.push([...stack.slice(stack.indexOf(target)), target].join(" -> "));
      } else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  assertEquals(cycles, []);
});

Deno.test("the two sync methods never import each other; the rest of sync/ reaches them only from the engine", async () => {
  const METHODS = ["src/sync/cursor/", "src/sync/cdc/"];
  const wrong: string[] = [];
  for (const [file, targets] of await graph()) {
    const own = METHODS.find((m) => file.startsWith(m));
    for (const target of targets) {
      const method = METHODS.find((m) => target.startsWith(m));
      if (!method || method === own) continue;
      const fromEngine = file === "src/sync/engine.ts";
      // Outside sync/, the commands (status, reset) may ask a method's module directly.
      const outsideSync = !file.startsWith("src/sync/");
      if (!fromEngine && !outsideSync) wrong.push(`${file} -> ${target}`);
    }
  }
  assertEquals(wrong, []);
});
