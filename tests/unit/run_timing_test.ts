import { assertEquals } from "../support/assert.ts";
import { FileTimer, formatDuration } from "../support/run_timing.ts";

Deno.test("formatDuration: milliseconds, seconds, minutes and hours as people read them", () => {
  assertEquals(formatDuration(850), "850ms");
  assertEquals(formatDuration(4_249), "4.2s");
  assertEquals(formatDuration(42_900), "42s");
  assertEquals(formatDuration(355_000), "5m 55s");
  assertEquals(formatDuration(3_723_000), "1h 2m 3s");
});

Deno.test("FileTimer: a file runs from its 'running' line to the next file's or the report", () => {
  let now = 0;
  const timer = new FileTimer(() => now);
  timer.write("Check a\nrunning 2 tests from ./a_test.ts\nx ... ok (1ms)\n");
  now = 5_000;
  // A line split across chunks is read whole.
  timer.write("running 1 test fr");
  timer.write("om ./b_test.ts\n");
  now = 6_000;
  timer.write("running 3 tests from ./c_test.ts\n");
  now = 26_000;
  timer.write("\nok | 6 passed | 0 failed (26s)\n");
  now = 99_000;
  assertEquals(timer.slowest(2), [
    { file: "./c_test.ts", ms: 20_000 },
    { file: "./a_test.ts", ms: 5_000 },
  ]);
});
