// Std-style assertion names over node:assert/strict (jsr:@std/assert cannot be
// reached here).

import nodeAssert from "node:assert/strict";

export function assert(condition: unknown, message?: string): asserts condition {
  nodeAssert.ok(condition, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  nodeAssert.match(actual, pattern, message);
}

export function assertNotMatch(actual: string, pattern: RegExp, message?: string): void {
  nodeAssert.doesNotMatch(actual, pattern, message);
}
