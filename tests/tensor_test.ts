import assert from "node:assert/strict";
import { backward, noGrad, result, Tensor, tensor } from "../autograd/tensor.ts";

Deno.test("tensor: shape mismatch names both sizes", () => {
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 elements, shape \[2,2\] needs 4/);
});

Deno.test("tape: gradients flow through a shared input once per use", () => {
  const x = tensor([3], [1], { requiresGrad: true });
  // y = x * x built from a hand-written op so the tape alone is under test
  const square = (a: Tensor) =>
    result(Float32Array.of(a.data[0] * a.data[0]), [1], [a], (g) => {
      a.ensureGrad()[0] += 2 * a.data[0] * g[0];
    });
  const twice = (a: Tensor, b: Tensor) =>
    result(Float32Array.of(a.data[0] + b.data[0]), [1], [a, b], (g) => {
      a.ensureGrad()[0] += g[0];
      b.ensureGrad()[0] += g[0];
    });
  const y = square(x);
  const z = twice(y, y); // dz/dx = 2 * 2x = 12
  backward(z);
  assert.equal(x.grad![0], 12);
  assert.equal(y.grad, null, "intermediate gradients are released");
  backward(twice(square(x), square(x)));
  assert.equal(x.grad![0], 24, "leaf gradients accumulate");
});

Deno.test("noGrad: ops inside record nothing", () => {
  const x = tensor([2], [1], { requiresGrad: true });
  const y = noGrad(() =>
    result(Float32Array.of(x.data[0]), [1], [x], () => {
      throw new Error("must not run");
    })
  );
  assert.equal(y.requiresGrad, false);
  assert.throws(() => backward(y), /does not require grad/);
});

Deno.test("backward: a leaf weight used at many steps gets every step's gradient; a computed weight too", async () => {
  const { linear } = await import("../autograd/ops/matmul.ts");
  const { add, mul, sum } = await import("../autograd/ops/mod.ts");
  // float64, so the sums compare exactly enough whatever the order the products take
  const values = (n: number, seed: number) =>
    Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
  const [rows, nIn, nOut, steps] = [3, 5, 4, 4];
  const xs = Array.from(
    { length: steps },
    (_, t) => new Tensor(values(rows * nIn, t), [rows, nIn]),
  );
  const weights = (w: Tensor) => {
    // a chain over the steps, as a recurrent model's: y_t = linear(x_t, w) + 0.5·y_(t−1)
    let y: Tensor | null = null;
    for (const x of xs) {
      const z = linear(x, w);
      y = y === null ? z : add(z, mul(y, new Tensor(Float64Array.of(0.5), [1])));
    }
    return y!;
  };
  // dL/dW for L = Σ y_T: step t contributes 0.5^(T−1−t)·1ᵀ·x_t to every row of dW
  const want = new Float64Array(nOut * nIn);
  xs.forEach((x, t) => {
    const scale = 0.5 ** (steps - 1 - t);
    for (let o = 0; o < nOut; o++) {
      for (let i = 0; i < nIn; i++) {
        for (let r = 0; r < rows; r++) want[o * nIn + i] += scale * x.data[r * nIn + i];
      }
    }
  });
  const close = (got: ArrayLike<number>, expected: ArrayLike<number>, what: string) => {
    for (let i = 0; i < expected.length; i++) {
      assert.ok(
        Math.abs(got[i] - expected[i]) < 1e-12,
        `${what}[${i}]: ${got[i]} ≠ ${expected[i]}`,
      );
    }
  };
  const leaf = new Tensor(values(nOut * nIn, 9), [nOut, nIn], { requiresGrad: true });
  sum(weights(leaf)).backward();
  close(leaf.grad!, want, "leaf");
  // The gradient is complete when backward returns, and a second pass adds to it.
  sum(weights(leaf)).backward();
  close(leaf.grad!, want.map((v) => 2 * v), "leaf after two passes");
  // A weight computed from a leaf (w = 2·v): its gradient must be whole before its own backward
  // runs, so its products are taken at once; v gets 2× the leaf's gradient.
  const v = new Tensor(values(nOut * nIn, 9), [nOut, nIn], { requiresGrad: true });
  sum(weights(mul(v, new Tensor(Float64Array.of(2), [1])))).backward();
  close(v.grad!, want.map((g) => 2 * g), "computed weight");
});
