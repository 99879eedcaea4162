import assert from "node:assert/strict";
import { checkOp, testValues } from "../autograd/check.ts";
import { Tensor, tensor } from "../autograd/tensor.ts";
import { conv1d, conv2d } from "../autograd/ops/conv.ts";
import { elu } from "../autograd/ops/elementwise.ts";
import { maxPool2d } from "../autograd/ops/pool.ts";

/** Direct-loop conv2d (float64), the reference for forward values. */
function naiveConv2d(
  x: ArrayLike<number>,
  [n, c, h, w]: number[],
  wt: ArrayLike<number>,
  [o, , kh, kw]: number[],
  bias: ArrayLike<number> | null,
  [sh, sw]: number[],
  [ph, pw]: number[],
): { data: Float64Array; shape: number[] } {
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < o; j++) {
      for (let y = 0; y < oh; y++) {
        for (let z = 0; z < ow; z++) {
          let acc = bias ? bias[j] : 0;
          for (let ci = 0; ci < c; ci++) {
            for (let a = 0; a < kh; a++) {
              for (let b = 0; b < kw; b++) {
                const iy = y * sh - ph + a, ix = z * sw - pw + b;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc += x[((s * c + ci) * h + iy) * w + ix] * wt[((j * c + ci) * kh + a) * kw + b];
              }
            }
          }
          out[((s * o + j) * oh + y) * ow + z] = acc;
        }
      }
    }
  }
  return { data: out, shape: [n, o, oh, ow] };
}

function f64(values: ArrayLike<number>, shape: number[]): Tensor {
  return tensor(values, shape, { dtype: "float64" });
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-9): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `element ${i}: ${got[i]} vs ${want[i]}`);
  }
}

const cases = [
  { name: "stride 2, pad 1", x: [2, 3, 7, 6], w: [4, 3, 3, 3], stride: 2, padding: 1 },
  { name: "pad 2", x: [2, 2, 5, 5], w: [3, 2, 5, 5], stride: 1, padding: 2 },
  {
    name: "rectangular, stride [2,1], pad [0,1]",
    x: [3, 2, 6, 5],
    w: [2, 2, 3, 2],
    stride: [2, 1] as [number, number],
    padding: [0, 1] as [number, number],
  },
  { name: "stride 3 kernel 1", x: [1, 2, 7, 7], w: [2, 2, 1, 1], stride: 3, padding: 0 },
];

Deno.test("conv2d forward matches a direct loop", () => {
  for (const cs of cases) {
    const xs = testValues(cs.x.reduce((a, b) => a * b), 1);
    const ws = testValues(cs.w.reduce((a, b) => a * b), 2);
    const bs = testValues(cs.w[0], 3);
    const st = typeof cs.stride === "number" ? [cs.stride, cs.stride] : cs.stride;
    const pd = typeof cs.padding === "number" ? [cs.padding, cs.padding] : cs.padding;
    const want = naiveConv2d(xs, cs.x, ws, cs.w, bs, st, pd);
    for (const dtype of ["float64", "float32"] as const) {
      const y = conv2d(
        tensor(xs, cs.x, { dtype }),
        tensor(ws, cs.w, { dtype }),
        tensor(bs, [cs.w[0]], { dtype }),
        { stride: cs.stride, padding: cs.padding },
      );
      assert.deepEqual(y.shape, want.shape, cs.name);
      assertClose(y.data, want.data, dtype === "float64" ? 1e-12 : 1e-5);
    }
  }
});

Deno.test("conv2d gradients (batch > 1, strides and paddings)", () => {
  for (const cs of cases) {
    const nx = cs.x.reduce((a, b) => a * b), nw = cs.w.reduce((a, b) => a * b);
    checkOp(
      `conv2d ${cs.name}`,
      (x, w, b) => conv2d(x, w, b, { stride: cs.stride, padding: cs.padding }),
      [
        { shape: cs.x, values: testValues(nx, 4) },
        { shape: cs.w, values: testValues(nw, 5) },
        { shape: [cs.w[0]], values: testValues(cs.w[0], 6) },
      ],
    );
  }
  // 272 output positions per sample: the forward runs per sample, the backward gathers again.
  checkOp("conv2d per-sample forward", (x, w, b) => conv2d(x, w, b, { padding: 1 }), [
    { shape: [2, 2, 17, 16], values: testValues(2 * 2 * 17 * 16, 20) },
    { shape: [2, 2, 3, 3], values: testValues(36, 21) },
    { shape: [2], values: testValues(2, 22) },
  ]);
  // Without bias.
  checkOp("conv2d no bias", (x, w) => conv2d(x, w, undefined, { stride: 2, padding: 1 }), [
    { shape: [2, 1, 6, 6], values: testValues(72, 7) },
    { shape: [2, 1, 3, 3], values: testValues(18, 8) },
  ]);
});

Deno.test("conv1d matches conv2d with a height of 1, and its gradients check", () => {
  const xs = testValues(2 * 3 * 9, 9), ws = testValues(4 * 3 * 3, 10), bs = testValues(4, 11);
  const y1 = conv1d(f64(xs, [2, 3, 9]), f64(ws, [4, 3, 3]), f64(bs, [4]), {
    stride: 2,
    padding: 1,
  });
  const y2 = conv2d(f64(xs, [2, 3, 1, 9]), f64(ws, [4, 3, 1, 3]), f64(bs, [4]), {
    stride: [1, 2],
    padding: [0, 1],
  });
  assert.deepEqual(y1.shape, [2, 4, 5]);
  assertClose(y1.data, y2.data, 0);
  checkOp("conv1d", (x, w, b) => conv1d(x, w, b, { stride: 2, padding: 1 }), [
    { shape: [2, 3, 9], values: xs },
    { shape: [4, 3, 3], values: ws },
    { shape: [4], values: bs },
  ]);
  checkOp("conv1d pad 2", (x, w) => conv1d(x, w, undefined, { padding: 2 }), [
    { shape: [3, 2, 5], values: testValues(30, 12) },
    { shape: [2, 2, 4], values: testValues(16, 13) },
  ]);
});

Deno.test("conv2d weight gradient accumulates into an existing gradient", () => {
  const x = f64(testValues(2 * 4 * 4, 14), [2, 1, 4, 4]);
  const w = new Tensor(Float64Array.from(testValues(9, 15)), [1, 1, 3, 3], { requiresGrad: true });
  conv2d(x, w).backward(new Float64Array(8).fill(1));
  const once = Float64Array.from(w.grad!);
  conv2d(x, w).backward(new Float64Array(8).fill(1));
  assertClose(w.grad!, once.map((v) => 2 * v), 1e-12);
});

Deno.test("conv2d and conv1d shape errors name the op and the shapes", () => {
  const x = tensor(new Float32Array(2 * 3 * 5 * 5), [2, 3, 5, 5]);
  assert.throws(
    () => conv2d(x, tensor(new Float32Array(4 * 1 * 3 * 3), [4, 1, 3, 3])),
    /conv2d: input \[2,3,5,5\] has 3 channels, weight \[4,1,3,3\] expects 1/,
  );
  assert.throws(
    () => conv2d(x, tensor(new Float32Array(4 * 3 * 9), [4, 3, 9])),
    /conv2d: weight has shape \[4,3,9\], expected \[O,C,kH,kW\]/,
  );
  assert.throws(
    () => conv2d(x, tensor(new Float32Array(4 * 3 * 9), [4, 3, 3, 3]), tensor([1, 2], [2])),
    /conv2d: bias has shape \[2\], weight \[4,3,3,3\] expects \[4\]/,
  );
  assert.throws(
    () => conv2d(x, tensor(new Float32Array(3 * 49), [1, 3, 7, 7])),
    /conv2d: kernel \[7,7\] is larger than the padded input \[2,3,5,5\]/,
  );
  assert.throws(
    () => conv2d(x, tensor(new Float32Array(27), [1, 3, 3, 3]), undefined, { stride: 0 }),
    /conv2d: stride 0/,
  );
  assert.throws(
    () => conv1d(x, tensor(new Float32Array(9), [1, 3, 3])),
    /conv1d: input has shape \[2,3,5,5\], expected \[N,C,L\]/,
  );
});

Deno.test("maxPool2d forward: floor output size, padding never wins", () => {
  // 5×5 plane, kernel 2 → 2×2 output (floor), stride 2.
  const xs = Array.from({ length: 25 }, (_, i) => i);
  const y = maxPool2d(tensor(xs, [1, 1, 5, 5]), 2);
  assert.deepEqual(y.shape, [1, 1, 2, 2]);
  assert.deepEqual(y.toArray(), [6, 8, 16, 18]);
  // Negative values with padding 1: padded cells must not yield 0.
  const neg = maxPool2d(tensor(xs.map((v) => -1 - v), [1, 1, 5, 5]), 3, 2, 1);
  assert.deepEqual(neg.shape, [1, 1, 3, 3]);
  assert.deepEqual(neg.toArray(), [-1, -2, -4, -6, -7, -9, -16, -17, -19]);
});

Deno.test("maxPool2d gradients (overlapping, padded, batched)", () => {
  // Distinct values, so the max is unique and finite differences apply.
  const n = 2 * 3 * 7 * 6;
  const values = testValues(n, 16).map((v, i) => v + i * 1e-3);
  checkOp("maxPool2d k2", (x) => maxPool2d(x, 2), [{ shape: [2, 3, 7, 6], values }]);
  checkOp("maxPool2d k3 s2 p1", (x) => maxPool2d(x, 3, 2, 1), [{ shape: [2, 3, 7, 6], values }]);
  checkOp("maxPool2d k[3,2] s1", (x) => maxPool2d(x, [3, 2], 1), [{
    shape: [2, 3, 7, 6],
    values,
  }]);
});

Deno.test("maxPool2d ties: the gradient goes to the first maximum in scan order only", () => {
  for (const dtype of ["float32", "float64"] as const) {
    // One 2×2 window of equal values: only element 0 gets the gradient.
    const x = tensor([5, 5, 5, 5], [1, 1, 2, 2], { dtype, requiresGrad: true });
    maxPool2d(x, 2).backward();
    assert.deepEqual(Array.from(x.grad!), [1, 0, 0, 0]);
    // Tie between the second and third cells of a 2×2 window: the earlier one (row 0, col 1).
    const y = tensor([0, 7, 7, 1], [1, 1, 2, 2], { dtype, requiresGrad: true });
    maxPool2d(y, 2).backward();
    assert.deepEqual(Array.from(y.grad!), [0, 1, 0, 0]);
    // Overlapping windows (k2 s1) over a constant plane: each window credits its top-left cell.
    const z = tensor(new Array(9).fill(3), [1, 1, 3, 3], { dtype, requiresGrad: true });
    maxPool2d(z, 2, 1).backward(
      dtype === "float32" ? new Float32Array(4).fill(1) : new Float64Array(4).fill(1),
    );
    assert.deepEqual(Array.from(z.grad!), [1, 1, 0, 1, 1, 0, 0, 0, 0]);
  }
});

Deno.test("maxPool2d errors name the op and the shapes", () => {
  assert.throws(
    () => maxPool2d(tensor(new Float32Array(4), [2, 2]), 2),
    /maxPool2d: input has shape \[2,2\], expected \[N,C,H,W\]/,
  );
  assert.throws(
    () => maxPool2d(tensor(new Float32Array(4), [1, 1, 2, 2]), 2, 2, 2),
    /maxPool2d: padding \[2,2\] must be at most half the kernel \[2,2\]/,
  );
  assert.throws(
    () => maxPool2d(tensor(new Float32Array(4), [1, 1, 2, 2]), 3),
    /maxPool2d: kernel \[3,3\] is larger than the padded input \[1,1,2,2\]/,
  );
});

Deno.test("conv2d weight gradient over a batch too large for one im2col equals the per-sample sum", () => {
  // 9 × 600² = 3.24 M im2col elements per sample: the batch of 3 is split into chunks.
  const [n, size] = [3, 600];
  const xs = Float32Array.from(testValues(n * size * size, 17));
  const ws = Float32Array.from(testValues(2 * 9, 18));
  const g = Float32Array.from(testValues(n * 2 * size * size, 19));
  const batched = new Tensor(Float32Array.from(ws), [2, 1, 3, 3], { requiresGrad: true });
  conv2d(new Tensor(xs, [n, 1, size, size]), batched, undefined, { padding: 1 }).backward(g);
  const single = new Tensor(Float32Array.from(ws), [2, 1, 3, 3], { requiresGrad: true });
  const per = 2 * size * size;
  for (let s = 0; s < n; s++) {
    const x = new Tensor(xs.slice(s * size * size, (s + 1) * size * size), [1, 1, size, size]);
    conv2d(x, single, undefined, { padding: 1 }).backward(g.slice(s * per, (s + 1) * per));
  }
  const scale = Math.max(...Array.from(single.grad!, Math.abs));
  assertClose(batched.grad!, single.grad!, 1e-4 * scale);
});

Deno.test("conv2d float32 at model shapes (wasm kernels, im2col in wasm memory) matches float64", () => {
  const shapes = [
    { x: [3, 32, 11, 11], w: [32, 32, 3, 3], stride: 2, padding: 1 },
    { x: [2, 1, 42, 42], w: [6, 1, 3, 3], stride: 2, padding: 1 }, // O and C·kH·kW not ×4
    { x: [1, 32, 3, 3], w: [32, 32, 3, 3], stride: 2, padding: 1 }, // 4 positions, batch 1
    { x: [2, 3, 20, 20], w: [5, 3, 4, 4], stride: 1, padding: 2 },
  ];
  for (const [i, cs] of shapes.entries()) {
    const nx = cs.x.reduce((a, b) => a * b), nw = cs.w.reduce((a, b) => a * b);
    const xs = testValues(nx, 30 + i), ws = testValues(nw, 40 + i), bs = testValues(cs.w[0], 50);
    const run = (dtype: "float32" | "float64", gradOfX: boolean, gradOfW: boolean) => {
      const arr = (v: ArrayLike<number>) =>
        dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v);
      const x = new Tensor(arr(xs), cs.x, { requiresGrad: gradOfX });
      const w = new Tensor(arr(ws), cs.w, { requiresGrad: gradOfW });
      const b = new Tensor(arr(bs), [cs.w[0]], { requiresGrad: true });
      const y = conv2d(x, w, b, { stride: cs.stride, padding: cs.padding });
      y.backward(arr(testValues(y.size, 60 + i)));
      return { y: y.data, gx: x.grad, gw: w.grad, gb: b.grad! };
    };
    const want = run("float64", true, true);
    const tol = (v: ArrayLike<number>) => 1e-4 * Math.max(1, ...Array.from(v, Math.abs));
    for (const [gx, gw] of [[true, true], [true, false], [false, true]]) {
      const got = run("float32", gx, gw);
      assertClose(got.y, want.y, tol(want.y));
      assertClose(got.gb, want.gb, tol(want.gb));
      if (gx) assertClose(got.gx!, want.gx!, tol(want.gx!));
      if (gw) assertClose(got.gw!, want.gw!, tol(want.gw!));
    }
  }
});

Deno.test("a convolution and an ELU that the kernels' full memory cannot hold run on plain arrays", async () => {
  const xShape = [4, 16, 42, 42], wShape = [32, 16, 3, 3];
  const xs = testValues(4 * 16 * 42 * 42, 71), ws = testValues(32 * 16 * 9, 72);
  const gs = testValues(4 * 32 * 21 * 21, 73);
  const es = Array.from(testValues(100_000, 74), (v) => 4 * v - 2);
  const egs = testValues(100_000, 75);
  // The reference: float64 on plain arrays.
  const x = new Tensor(Float64Array.from(xs), xShape, { requiresGrad: true });
  const w = new Tensor(Float64Array.from(ws), wShape, { requiresGrad: true });
  const y = conv2d(x, w, undefined, { stride: 2, padding: 1 });
  y.backward(Float64Array.from(gs));
  const ex = new Tensor(Float64Array.from(es), [es.length], { requiresGrad: true });
  const ey = elu(ex);
  ey.backward(Float64Array.from(egs));
  const worker = new Worker(new URL("./wasm_full_worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    const got = await new Promise<Record<string, number[]> & Record<string, unknown>>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        worker.postMessage({
          x: Array.from(xs),
          xShape,
          w: Array.from(ws),
          wShape,
          g: Array.from(gs),
          e: es,
          eg: Array.from(egs),
        });
      },
    );
    assert.match(got.direct as unknown as string, /needs \d+ MiB of the kernels' memory/);
    assert.ok(got.sameSize, "the memory kept its size");
    assert.ok(got.keptLive, "views from alloc stay live");
    const tol = (v: ArrayLike<number>) => 1e-4 * Math.max(1, ...Array.from(v, Math.abs));
    assertClose(got.y, y.data, tol(y.data));
    assertClose(got.gx, x.grad!, tol(x.grad!));
    assertClose(got.gw, w.grad!, tol(w.grad!));
    assertClose(got.ey, ey.data, tol(ey.data));
    assertClose(got.egx, ex.grad!, tol(ex.grad!));
  } finally {
    worker.terminate();
  }
});
