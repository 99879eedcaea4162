import assert from "node:assert/strict";
import { testValues } from "../autograd/check.ts";
import { gemm, gemmGeneric, setGemmKernels } from "../autograd/backends/cpu/gemm.ts";
import {
  gemmModuleBytes,
  simdSupported,
  WasmGemm,
  wasmGemm,
} from "../autograd/backends/cpu/wasm_gemm.ts";

/** op(A)·op(B) in float64 by the definition. */
function naive(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

// Odd sizes hit every edge of the 4×4 (TS) and 4×8 / 4×2 (wasm) blocks; the larger ones cross
// the k-blocks and the size threshold where the float32 path switches to wasm (40×100×9 takes
// the short-k route that transposes B on its way into wasm memory).
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 3, 17],
  [3, 17, 33],
  [17, 3, 5],
  [33, 33, 33],
  [4, 8, 300],
  [20, 37, 260],
  [5, 70, 520],
  [66, 9, 70],
  [1, 64, 600],
  [40, 100, 9],
  [2, 100, 200],
];

function check(
  kind: string,
  run: (
    tA: boolean,
    tB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    acc: boolean,
  ) => void,
): void {
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const av = testValues(m * k, m + 31 * k), bv = testValues(k * n, n + 7 * k);
        const want = naive(transA, transB, m, n, k, av, bv);
        const a = Float32Array.from(av), b = Float32Array.from(bv);
        for (const acc of [false, true]) {
          // Prefilled C: overwritten without `accumulate`, added to with it.
          const c = new Float32Array(m * n).fill(0.5);
          run(transA, transB, m, n, k, a, b, c, acc);
          const tol = 1e-5 * Math.sqrt(k) + 1e-6;
          for (let i = 0; i < m * n; i++) {
            const expect = want[i] + (acc ? 0.5 : 0);
            assert.ok(
              Math.abs(c[i] - expect) <= tol * Math.max(1, Math.abs(expect)),
              `${kind} ${transA ? "T" : "N"}${transB ? "T" : "N"} ${m}×${n}×${k} acc=${acc} ` +
                `element ${i}: ${c[i]} vs ${expect}`,
            );
          }
        }
      }
    }
  }
}

Deno.test("gemm float32, plain TypeScript kernels: all transposes, odd sizes", () => {
  const previous = setGemmKernels("ts");
  try {
    check("ts", (tA, tB, m, n, k, a, b, c, acc) => gemm(tA, tB, m, n, k, a, b, c, acc));
  } finally {
    setGemmKernels(previous);
  }
});

Deno.test("gemm float32, default kernels (wasm SIMD where available)", () => {
  const previous = setGemmKernels("wasm");
  try {
    check("default", (tA, tB, m, n, k, a, b, c, acc) => gemm(tA, tB, m, n, k, a, b, c, acc));
  } finally {
    setGemmKernels(previous);
  }
});

Deno.test("gemm float64 (generic path) matches the definition", () => {
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = testValues(m * k, 3), b = testValues(k * n, 4);
        const want = naive(transA, transB, m, n, k, a, b);
        const c = new Float64Array(m * n).fill(2);
        gemm(transA, transB, m, n, k, a, b, c, true);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(c[i] - 2 - want[i]) < 1e-12);
        gemmGeneric(transA, transB, m, n, k, a, b, c);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(c[i] - want[i]) < 1e-12);
      }
    }
  }
});

Deno.test("gemm works on subarray views and leaves the rest of C alone", () => {
  const a = Float32Array.from(testValues(8 * 40 + 3, 5)).subarray(3);
  const b = Float32Array.from(testValues(40 * 12, 6));
  const big = new Float32Array(2 + 8 * 12 + 2).fill(9);
  gemm(false, false, 8, 12, 40, a, b, big.subarray(2, 2 + 96));
  const want = naive(false, false, 8, 12, 40, a, b);
  for (let i = 0; i < 96; i++) assert.ok(Math.abs(big[2 + i] - want[i]) < 1e-4);
  assert.deepEqual([big[0], big[1], big[98], big[99]], [9, 9, 9, 9]);
});

Deno.test("wasm SIMD kernels: module validates, both FMA variants and resident operands", {
  ignore: !simdSupported(),
}, () => {
  for (const relaxed of [false, true]) {
    const bytes = gemmModuleBytes(relaxed, false);
    if (!WebAssembly.validate(bytes as BufferSource)) {
      assert.ok(relaxed, "the fixed-width SIMD module must validate");
      continue;
    }
    const w = new WasmGemm({ relaxed, initialBytes: 1 << 20 });
    check(
      `wasm relaxed=${relaxed}`,
      (tA, tB, m, n, k, a, b, c, acc) => w.gemm(tA, tB, m, n, k, a, b, c, acc),
    );
    // Resident operands: no copies; both kernels.
    const [m, n, k] = [8, 16, 36];
    const a = w.alloc(m * k), bn = w.alloc(k * n), bt = w.alloc(n * k), c = w.alloc(m * n);
    a.set(testValues(m * k, 8));
    bn.set(testValues(k * n, 9));
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[j * k + p] = bn[p * n + j];
    const want = naive(false, false, m, n, k, a, bn);
    w.gemmResident(false, m, n, k, a, bn, c);
    for (let i = 0; i < m * n; i++) assert.ok(Math.abs(c[i] - want[i]) < 1e-4);
    w.gemmResident(true, m, n, k, a, bt, c, true);
    for (let i = 0; i < m * n; i++) assert.ok(Math.abs(c[i] - 2 * want[i]) < 1e-4);
    assert.throws(() => w.gemmResident(false, 6, 16, k, a, bn, c), /WasmGemm: m 6, n 16, k 36/);
    // `gemm` on views of its memory: used in place where the layout fits, copied otherwise.
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const bv = transB ? bt : bn;
        const av = transA ? w.alloc(m * k) : a;
        if (transA) {
          for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) av[p * m + i] = a[i * k + p];
        }
        const out = w.alloc(m * n).fill(1);
        w.gemm(transA, transB, m, n, k, av, bv, out, true);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(out[i] - 1 - want[i]) < 1e-4);
      }
    }
  }
  // One row times resident weights (a batch-1 linear or LSTM layer): the weights are the kernel's
  // A operand, the row padded to 2; k beyond one k-block (512) too.
  {
    const w = new WasmGemm({ initialBytes: 1 << 20 });
    for (const [n, k] of [[8, 36], [1024, 288], [16, 600]]) {
      const bt = w.alloc(n * k);
      bt.set(testValues(n * k, 15));
      const row = Float32Array.from(testValues(k, 16));
      const want = naive(false, true, 1, n, k, row, bt);
      for (const acc of [false, true]) {
        const out = new Float32Array(n).fill(acc ? 1 : 7);
        w.gemm(false, true, 1, n, k, row, bt, out, acc);
        for (let j = 0; j < n; j++) {
          assert.ok(
            Math.abs(out[j] - (acc ? 1 : 0) - want[j]) < 1e-4 * Math.max(1, Math.abs(want[j])),
            `1×${n}×${k} acc=${acc} column ${j}: ${out[j]}, expected ${want[j]}`,
          );
        }
      }
    }
  }
  // Views from `alloc` whose product needs scratch beyond the memory: it grows, the (detached)
  // views are read and written through the new buffer, and C is found at its old place.
  const small = new WasmGemm({ initialBytes: 1 << 17 });
  const [m, n, k] = [20, 12, 700];
  const a = small.alloc(m * k), b = small.alloc(k * n), c = small.alloc(m * n);
  a.set(testValues(m * k, 10));
  b.set(testValues(k * n, 11));
  const want = naive(false, false, m, n, k, a, b);
  const at = c.byteOffset;
  small.gemm(false, false, m, n, k, a, b, c);
  assert.ok(small.memory.buffer.byteLength > 1 << 17, "the product grew the memory");
  const got = new Float32Array(small.memory.buffer, at, m * n);
  for (let i = 0; i < m * n; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4);
  // A shared memory is backed by a SharedArrayBuffer, and its views survive growth: operands
  // allocated before a product that grows it are still recognised and used in place.
  const shared = new WasmGemm({ shared: true, initialBytes: 1 << 16 });
  assert.ok(shared.memory.buffer instanceof SharedArrayBuffer);
  const sa = shared.alloc(8 * 64), sb = shared.alloc(64 * 16), sc = shared.alloc(8 * 16);
  sa.set(testValues(8 * 64, 12));
  sb.set(testValues(64 * 16, 13));
  const big = Float32Array.from(testValues(128 * 256, 14));
  shared.gemm(false, false, 128, 128, 256, big, big, new Float32Array(128 * 128));
  assert.ok(shared.memory.buffer.byteLength > 1 << 16, "the big product grew the memory");
  assert.ok(shared.owns(sa) && shared.owns(sb) && shared.owns(sc));
  shared.gemm(false, false, 8, 16, 64, sa, sb, sc);
  const sWant = naive(false, false, 8, 16, 64, sa, sb);
  for (let i = 0; i < 8 * 16; i++) assert.ok(Math.abs(sc[i] - sWant[i]) < 1e-4);
  assert.ok(!shared.owns(new Float32Array(4)));
  // The isolate's instance reserves its memory whole, non-shared (copies into and out of a
  // SharedArrayBuffer run about 4× slower), and a product needing scratch does not grow it: views
  // from its `alloc` stay valid and in use.
  const isolate = wasmGemm()!;
  assert.ok(!(isolate.memory.buffer instanceof SharedArrayBuffer));
  const kept = isolate.alloc(16), before = isolate.memory.buffer;
  isolate.gemm(false, false, 128, 128, 256, big, big, new Float32Array(128 * 128));
  assert.equal(isolate.memory.buffer, before);
  assert.ok(isolate.owns(kept) && kept.length === 16);
  assert.ok(isolate.usedBytes >= kept.byteOffset + 64);
  // A fixed memory that cannot hold a product says so instead of growing (which would detach the
  // views from `alloc`).
  const fixed = new WasmGemm({ initialBytes: 1 << 20, fixed: true });
  const fixedKept = fixed.alloc(16);
  const square = new Float32Array(512 * 512);
  assert.throws(
    () => fixed.gemm(false, false, 512, 512, 512, square, square, new Float32Array(512 * 512)),
    /WasmGemm: an operation \(a product, convolution or ELU\) needs \d+ MiB of the kernels' memory, which holds 1 MiB: use fewer envs per worker or a smaller model/,
  );
  assert.ok(fixed.owns(fixedKept) && fixed.memory.buffer.byteLength === 1 << 20);
  // `gemm` (the dispatcher) asks `fits` first and takes the TypeScript kernel for such a product.
  assert.ok(!fixed.fits(false, 512, 512, 512) && fixed.fits(false, 8, 8, 8));
  // Scratch slots: the same slot returns the same memory until a longer request moves it; other
  // slots and later allocations do not overlap it.
  const s0 = shared.scratch(0, 100), s1 = shared.scratch(1, 50);
  assert.ok(shared.owns(s0) && s0.length === 100 && s1.length === 50);
  assert.equal(shared.scratch(0, 80).byteOffset, s0.byteOffset);
  assert.ok(s1.byteOffset >= s0.byteOffset + 400 || s1.byteOffset + 200 <= s0.byteOffset);
  const grown = shared.scratch(0, 1000);
  assert.equal(grown.length, 1000);
  assert.ok(grown.byteOffset >= s1.byteOffset + 200);
  assert.equal(shared.scratch(0, 1000).byteOffset, grown.byteOffset);
  assert.ok(shared.alloc(4).byteOffset >= grown.byteOffset + 4000);
});
