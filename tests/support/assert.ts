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

/** `fn` throws an error of `type` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  type: new (...args: never[]) => Error = Error,
  includes = "",
): void {
  nodeAssert.throws(fn, (error: unknown) => {
    nodeAssert.ok(error instanceof type, `expected ${type.name}, got ${error}`);
    nodeAssert.ok(
      (error as Error).message.includes(includes),
      `"${(error as Error).message}" does not include "${includes}"`,
    );
    return true;
  });
}

/**
 * Fails when `secret` shows in `text` other than inside a longer name (a
 * letter, digit, _ or $ right before or after it): where it stands as itself.
 */
export function assertOnlyInsideNames(text: string, secret: string): void {
  const nameChar = /[\p{L}\p{N}_$]/u;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
    const before = text[at - 1] ?? "";
    const after = text[at + secret.length] ?? "";
    nodeAssert.ok(
      nameChar.test(before) || nameChar.test(after),
      `the secret stands as itself at ${at}: ${text.slice(Math.max(0, at - 60), at + 60)}`,
    );
  }
}
