/** Helpers shared by the tests. */
import assert from "node:assert/strict";

/**
 * Asserts that every element of `actual` is within `rtol` times the largest magnitude of
 * `expected` of its counterpart, naming the worst element otherwise.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0, at = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  assert.ok(
    worst <= rtol * scale,
    `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} ` +
      `(error ${worst.toExponential(2)} > ${(rtol * scale).toExponential(2)})`,
  );
}

/** Runs `fn` with a new temporary directory and removes the directory afterwards. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "a3g_test_",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
