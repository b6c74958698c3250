// DuckDB's allocator options: set for the process by loading src/mod.ts,
// before DuckDB starts, unless the user set them.

import { assertEquals } from "../support/assert.ts";

async function seenByProgram(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `await import(${JSON.stringify(new URL("../../src/mod.ts", import.meta.url).href)});
       console.log(JSON.stringify(Deno.env.get("DUCKDB_JE_MALLOC_CONF") ?? null));`,
    ],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.success, true, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim());
}

Deno.test("loading the program asks DuckDB's jemalloc to return freed pages at once", async () => {
  const env = { ...Deno.env.toObject() };
  delete env.DUCKDB_JE_MALLOC_CONF;
  assertEquals(
    await seenByProgram(env),
    "dirty_decay_ms:0,muzzy_decay_ms:0",
  );
});

Deno.test("a DUCKDB_JE_MALLOC_CONF the user set is kept, even empty", async () => {
  const env = Deno.env.toObject();
  assertEquals(await seenByProgram({ ...env, DUCKDB_JE_MALLOC_CONF: "" }), "");
  assertEquals(
    await seenByProgram({ ...env, DUCKDB_JE_MALLOC_CONF: "narenas:1" }),
    "narenas:1",
  );
});
