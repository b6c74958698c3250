// Owns how DuckDB's allocator gives freed memory back to the system. DuckDB
// allocates through its own copy of jemalloc, which keeps freed pages to reuse
// them; a first copy or verify frees hundreds of megabytes a second, so the
// process held 250-350 MB it no longer used, and more the longer it ran
// (docs/performance.md). That jemalloc reads its options from
// DUCKDB_JE_MALLOC_CONF as it starts, so they are set in the environment when
// this module is evaluated: src/mod.ts imports it first, before any module
// that loads DuckDB. A value the user set (even empty: jemalloc's defaults,
// about a tenth faster, more memory) wins.

const VARIABLE = "DUCKDB_JE_MALLOC_CONF";
/** Freed pages go back at once (a shorter delay than none kept them all). */
const OPTIONS = "dirty_decay_ms:0,muzzy_decay_ms:0";

try {
  if (Deno.env.get(VARIABLE) === undefined) Deno.env.set(VARIABLE, OPTIONS);
} catch {
  // Without permission to the environment, DuckDB keeps its own defaults.
}
