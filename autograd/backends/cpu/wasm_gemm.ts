/**
 * A WebAssembly SIMD float32 GEMM, with the module's bytes written by a tiny builder at first
 * use (no toolchain, no binary shipped with the package).
 *
 * The module imports one memory and exports two kernels with the parameters
 * `(m, n, k, a, b, c, accumulate, ld)` (byte offsets `a`, `b`, `c`; `ld` is the row stride of A,
 * and of B for `gemm_nt`, in floats, so a caller can split k into cache-sized blocks):
 * - `gemm_nn`: `C[m×n] (+)= A[m×k]·B[k×n]`, m a multiple of 4, n of 8. The micro-kernel keeps a
 *   4×8 block of C in eight `f32x4` registers; per step of k it loads an 8-wide slice of a B row
 *   (two `v128.load`s), broadcasts four entries of A (`v128.load32_splat`) and does eight
 *   multiply-adds. Column blocks are outermost so an 8-wide strip of B stays cached while all
 *   rows of A stream past.
 * - `gemm_nt`: `C[m×n] (+)= A[m×k]·B[n×k]ᵀ`, m a multiple of 4, n of 2, k of 4: a 4×2 block of
 *   dot products vectorised along k and reduced across lanes at the end, so a weight matrix in
 *   PyTorch's `[out, in]` layout is used as it is.
 * The multiply-adds are `f32x4.relaxed_madd` (one FMA on x86) where relaxed SIMD is available,
 * `f32x4.mul` + `f32x4.add` otherwise.
 *
 * `WasmGemm.gemm` has `gemm`'s contract on ordinary `Float32Array`s: it copies op(A) and B into
 * its memory (zero-padding, and transposing A or a short-k B), runs a kernel per k-block and
 * copies C back.
 * `WasmGemm.alloc` hands out `Float32Array` views that live in the module's memory; operands that
 * are such views, in a layout the kernels read directly, are not copied (`gemmResident` insists
 * on it for all three).
 *
 * Measured with `deno task bench kernels` and ad-hoc loops, one thread of a 2-core Xeon with
 * AVX-512 shared with other jobs (best of several runs; figures move by ±30 % between runs),
 * Deno 2.9.6 / V8 15.0, GFLOP/s, copies into and out of wasm memory included unless "resident":
 *
 * | m×n×k (layout)                         | wasm  | plain TS | wasm resident |
 * | -------------------------------------- | ----- | -------- | ------------- |
 * | 256³ (NN)                              | 25–32 | 2.1–3.6  | 31–34         |
 * | 512³ (NN)                              | 16–28 | 1.3–3.2  | 13–29         |
 * | 20×1024×288 (NT, LSTM input proj.)     | 19–27 | 2.2–3.6  | 29–31         |
 * | 20×2048×1536 (NT, large LSTM batch 20) | 5–24  | 0.9–3.2  | 22–32         |
 * | 1×1024×288 (NT, small LSTM act)        | 4–5   | 1.6–2.4  | 7.7–8.4       |
 * | 1×2048×1536 (NT, large LSTM act)       | 2–3.3 | 0.7–2.3  | 4.5–8.7       |
 * | 32×1444×800 (NN, large conv2 im2col)   | 11–23 | 1.3–2.9  | 7–17          |
 *
 * For scale: TensorFlow.js 4.22's wasm backend (XNNPACK, one thread) reaches 16–26 GFLOP/s on
 * untransposed products here but 1–2 on `transB` ones, and its cpu backend 0.5–1.
 *
 * What was learned:
 * - Fixed-width SIMD and relaxed SIMD (`f32x4.relaxed_madd`) both validate and run in Deno 2.9.6
 *   without flags; the FMA form is 10–30 % faster than `f32x4.mul` + `f32x4.add` here.
 * - Copies are cheap next to the products except for batch 1, where copying the weight matrix in
 *   costs about as much as the product: weights kept in wasm memory give another 1.5–2.5× there
 *   (the "resident" column).
 * - `new WebAssembly.Memory({ initial, maximum, shared: true })` gives a `SharedArrayBuffer`
 *   buffer; the module must import it with the shared limits flag and a maximum. A shared memory
 *   grows in place: views made before growth stay valid (with their old length), whereas growing
 *   a non-shared memory detaches every view. A worker keeps its local parameter vector in the
 *   memory (`wasmGemm()?.alloc(n)`, synced from the Hogwild `SharedArrayBuffer` with one `set()`):
 *   `lstmCell` at batch 1 then runs 1.6–2× faster (288→256: 300 → 190 µs; 1024→512: 2.0 → 1.0 ms)
 *   because the weights are read in place. Such views must outlive any growth, which a shared
 *   memory allowed; but `TypedArray.prototype.set` into or out of a `SharedArrayBuffer` copies
 *   about 4× slower than between ordinary buffers (0.71 against 0.18 ns a float on the AMD EPYC),
 *   and a learner copies every activation and gradient of its convolutions and ELUs through the
 *   memory. `wasmGemm()` therefore reserves a non-shared memory of 256 MiB at the start (address
 *   space only: pages cost memory when first written) and never grows it: the batched Pong
 *   learner (K = 8) then trains 8–9 % faster than with the shared memory.
 *   Instantiating a worker against one memory shared by all workers (so the Hogwild parameters
 *   themselves live in wasm memory) would also work but needs an allocator that gives each worker
 *   its own scratch region; not done.
 * - Convolutions write im2col straight into `scratch` regions (rows padded to 8 columns) and
 *   keep `Y`, `dY` and `dcol` there, so only weights and weight gradients are copied: +12–18 %
 *   agent steps/s on the small model's rollout, acting included.
 * - The module also exports `im2col`/`col2im` (scalar loops with unsigned bounds checks, one
 *   sample per call) and `elu` (four lanes, expm1 by range reduction and a polynomial). In a
 *   profile of the batched Pong learner (K = 16) the TypeScript versions took 17 % (im2col),
 *   6 % (col2im) and 18 % (`Math.exp` in ELU) of the time; in wasm they take about 7, 6 and 6 %.
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// A tiny WebAssembly module builder

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function utf8(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

/** Instruction emitters (only what the kernel needs). */
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Eqz: [0x45],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};
const v128Load = (offset: number) => op.simd(0x00, 4, ...uleb(offset));
const v128Load32Splat = op.simd(0x09, 2, 0);
const v128Store = (offset: number) => op.simd(0x0b, 4, ...uleb(offset));
const v128Zero = op.simd(0x0c, ...new Array(16).fill(0));
const f32x4Add = op.simd(0xe4);
const f32x4Mul = op.simd(0xe6);
const f32x4RelaxedMadd = op.simd(0x105);

const f32x4ExtractLane = (lane: number) => op.simd(0x1f, lane);
const f32Add = [0x92];
const f32Load = (offset: number) => [0x2a, 2, ...uleb(offset)];
const f32Store = (offset: number) => [0x38, 2, ...uleb(offset)];

// Kernel parameters (i32): m, n, k, a, b, c, accumulate, ld (row stride of A, and of B for
// `gemm_nt`, in floats: lets the caller split k into cache-sized blocks).
const [M, N, K, A, B, C, ACC, LD] = [0, 1, 2, 3, 4, 5, 6, 7];
// Locals (i32).
const [Ii, Jj, P, PA0, PB0, PB1, ROWA, ROWC, PC] = [8, 9, 10, 11, 15, 16, 17, 18, 19];
const I32_LOCALS = 12;
// Locals (v128).
const Y0 = 20, Y1 = 21, X = 22, ACC0 = 23;
const accReg = (r: number, h: number) => ACC0 + 2 * r + h;
const V128_LOCALS = 11;

function fma(relaxed: boolean, acc: number, y: number): number[] {
  return relaxed
    ? [...op.get(X), ...op.get(y), ...op.get(acc), ...f32x4RelaxedMadd, ...op.set(acc)]
    : [...op.get(acc), ...op.get(X), ...op.get(y), ...f32x4Mul, ...f32x4Add, ...op.set(acc)];
}

/** `for (v = start; v < limit; v += step) { body }` (unsigned compare; start defaults to 0) */
function forLoop(
  v: number,
  limit: number,
  step: number,
  body: number[],
  start: number[] = op.i32(0),
): number[] {
  return [
    ...start,
    ...op.set(v),
    ...op.block,
    ...op.loop,
    ...op.get(v),
    ...op.get(limit),
    ...op.i32GeU,
    ...op.brIf(1),
    ...body,
    ...op.get(v),
    ...op.i32(step),
    ...op.i32Add,
    ...op.set(v),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** `for (p = count; p != 0; p--) { body }` */
function countDown(count: number[], body: number[]): number[] {
  return [
    ...count,
    ...op.set(P),
    ...op.block,
    ...op.get(P),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...body,
    ...op.get(P),
    ...op.i32(-1),
    ...op.i32Add,
    ...op.tee(P),
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
}

const addTo = (local: number, delta: number[]) => [
  ...op.get(local),
  ...delta,
  ...op.i32Add,
  ...op.set(local),
];

/** A rows: pa0 = a + i·ld·4, pa1..3 one row further each. */
function rowPointers(): number[] {
  const out = [
    ...op.get(A),
    ...op.get(Ii),
    ...op.get(ROWA),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(PA0),
  ];
  for (let r = 1; r < 4; r++) {
    out.push(...op.get(PA0 + r - 1), ...op.get(ROWA), ...op.i32Add, ...op.set(PA0 + r));
  }
  return out;
}

function zeroAccumulators(): number[] {
  const out: number[] = [];
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) out.push(...v128Zero, ...op.set(accReg(r, h)));
  }
  return out;
}

/** `gemm_nn`: C[m×n] (+)= A[m×k]·B[k×n]; m % 4 = 0, n % 8 = 0; B and C rows are n long. */
function nnBody(relaxed: boolean): number[] {
  const inner: number[] = [
    ...op.get(PB0),
    ...v128Load(0),
    ...op.set(Y0),
    ...op.get(PB0),
    ...v128Load(16),
    ...op.set(Y1),
  ];
  for (let r = 0; r < 4; r++) {
    inner.push(...op.get(PA0 + r), ...v128Load32Splat, ...op.set(X));
    inner.push(...fma(relaxed, accReg(r, 0), Y0), ...fma(relaxed, accReg(r, 1), Y1));
    inner.push(...addTo(PA0 + r, op.i32(4)));
  }
  inner.push(...addTo(PB0, op.get(ROWC)));
  const store = (accumulate: boolean) => {
    const out: number[] = [];
    for (let r = 0; r < 4; r++) {
      for (let h = 0; h < 2; h++) {
        out.push(...op.get(PC));
        if (accumulate) {
          out.push(...op.get(PC), ...v128Load(16 * h), ...op.get(accReg(r, h)), ...f32x4Add);
        } else out.push(...op.get(accReg(r, h)));
        out.push(...v128Store(16 * h));
      }
      out.push(...addTo(PC, op.get(ROWC)));
    }
    return out;
  };
  const block: number[] = [
    ...zeroAccumulators(),
    ...rowPointers(),
    ...op.get(B),
    ...op.get(Jj),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(PB0),
    ...countDown(op.get(K), inner),
    // pc = c + i·n·4 + j·4
    ...op.get(C),
    ...op.get(Ii),
    ...op.get(ROWC),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(Jj),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(PC),
    ...op.get(ACC),
    ...op.if,
    ...store(true),
    0x05,
    ...store(false),
    ...op.end,
  ];
  return [
    ...op.get(LD),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(ROWA),
    ...op.get(N),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(ROWC),
    // Column blocks outermost: the 8-wide strip of B stays cached across all rows of A.
    ...forLoop(Jj, N, 8, forLoop(Ii, M, 4, block)),
    ...op.end,
  ];
}

/**
 * `gemm_nt`: C[m×n] (+)= A[m×k]·B[n×k]ᵀ; m % 4 = 0, n % 2 = 0, k % 4 = 0: 4×2 dot products
 * vectorised along k, each reduced across lanes at the end.
 */
function ntBody(relaxed: boolean): number[] {
  const inner: number[] = [
    ...op.get(PB0),
    ...v128Load(0),
    ...op.set(Y0),
    ...op.get(PB1),
    ...v128Load(0),
    ...op.set(Y1),
  ];
  for (let r = 0; r < 4; r++) {
    inner.push(...op.get(PA0 + r), ...v128Load(0), ...op.set(X));
    inner.push(...fma(relaxed, accReg(r, 0), Y0), ...fma(relaxed, accReg(r, 1), Y1));
    inner.push(...addTo(PA0 + r, op.i32(16)));
  }
  inner.push(...addTo(PB0, op.i32(16)), ...addTo(PB1, op.i32(16)));
  const hsum = (reg: number) => [
    ...op.get(reg),
    ...f32x4ExtractLane(0),
    ...op.get(reg),
    ...f32x4ExtractLane(1),
    ...f32Add,
    ...op.get(reg),
    ...f32x4ExtractLane(2),
    ...op.get(reg),
    ...f32x4ExtractLane(3),
    ...f32Add,
    ...f32Add,
  ];
  const store: number[] = [];
  for (let r = 0; r < 4; r++) {
    for (let h = 0; h < 2; h++) {
      // c[(i+r)·n + j + h] (+)= Σ lanes: address pc, offset 4h; pc moves one row per r.
      store.push(
        ...op.get(PC),
        ...op.get(ACC),
        0x04,
        F32, // if (result f32)
        ...op.get(PC),
        ...f32Load(4 * h),
        ...hsum(accReg(r, h)),
        ...f32Add,
        0x05,
        ...hsum(accReg(r, h)),
        ...op.end,
        ...f32Store(4 * h),
      );
    }
    store.push(...addTo(PC, op.get(ROWC)));
  }
  const block: number[] = [
    ...zeroAccumulators(),
    ...rowPointers(),
    ...op.get(B),
    ...op.get(Jj),
    ...op.get(ROWA),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(PB0),
    ...op.get(PB0),
    ...op.get(ROWA),
    ...op.i32Add,
    ...op.set(PB1),
    ...countDown([...op.get(K), ...op.i32(2), 0x76 /* i32.shr_u */], inner),
    ...op.get(C),
    ...op.get(Ii),
    ...op.get(ROWC),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(Jj),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(PC),
    ...store,
  ];
  return [
    ...op.get(LD),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(ROWA),
    ...op.get(N),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(ROWC),
    // Row pairs of B (weights) outermost: they stay in L1 while A streams past.
    ...forLoop(Jj, N, 2, forLoop(Ii, M, 4, block)),
    ...op.end,
  ];
}

// ELU over f32x4 lanes: y = max(x, 0) + α·expm1(min(x, 0)), with expm1 from a Cody–Waite
// reduction (x = k·ln 2 + r, |r| ≤ ½ln 2), a degree-6 Taylor polynomial r·P(r) (relative error
// below 2e-7 there) and 2^k built from its exponent bits: 2^k·(r·P(r)) + (2^k − 1). Inputs below
// −87 are clamped (e^−87 is below float32's normal range, so the result is −α either way).
// It also writes the derivative d = 1 where x > 0, y + α (= α·eˣ) elsewhere, for the backward.
// Parameters: x, y, d (byte offsets), n (floats, a multiple of 4), α.
const [EX, EY, ED, EN, EALPHA] = [0, 1, 2, 3, 4];
const [EV, ENEG, EKF, ER, EQ, ES, EALPHA_SPLAT] = [5, 6, 7, 8, 9, 10, 11];
/** The first of the loop's constants' locals, and the v128 locals in all. */
const ELU_CONSTANTS = 12, ELU_V128_LOCALS = 32;

function f32x4Const(v: number): number[] {
  const bytes = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
  return op.simd(0x0c, ...bytes);
}

function i32x4Const(v: number): number[] {
  const bytes = new Uint8Array(new Int32Array([v, v, v, v]).buffer);
  return op.simd(0x0c, ...bytes);
}

/** 1.5·2²³: adding it to a float32 of magnitude below 2²² rounds it to an integer. */
const ROUNDING_SHIFT = 12582912;

function eluBody(): number[] {
  // The loop's constants live in locals set once before it: a v128.const inside the loop costs
  // several instructions on x64 at every use (2.2–2.3 ns a float so, 1.7–1.8 without, on the AMD
  // EPYC).
  const constants = new Map<string, number[]>();
  const local = (key: string, value: number[]) => {
    if (!constants.has(key)) constants.set(key, value);
    return op.get(ELU_CONSTANTS + [...constants.keys()].indexOf(key));
  };
  const fc = (v: number) => local(`f${v}`, f32x4Const(v));
  const ic = (v: number) => local(`i${v}`, i32x4Const(v));
  const f = {
    add: op.simd(0xe4),
    sub: op.simd(0xe5),
    mul: op.simd(0xe6),
    min: op.simd(0xea), // f32x4.pmin: one minps (min's NaN and −0 rules take several more)
    max: op.simd(0xeb), // f32x4.pmax
    splat: op.simd(0x13),
    i32Add: op.simd(0xae),
    i32Shl: op.simd(0xab),
    gt: op.simd(0x44), // f32x4.gt
    bitselect: op.simd(0x52), // v128.bitselect
  };
  // q = r·P(r), P(r) = 1 + r/2 + r²/6 + r³/24 + r⁴/120 + r⁵/720 in Estrin's form,
  // (1 + r/2) + r²·((1/6 + r/24) + r²·(1/120 + r/720)): its chain of dependent operations is
  // half of Horner's (1.4–1.7 ns a float against Horner's 1.7–1.8)
  const pair = (c0: number, c1: number) => [
    ...op.get(ER),
    ...fc(c1),
    ...f.mul,
    ...fc(c0),
    ...f.add,
  ];
  const poly: number[] = [
    ...op.get(ER),
    ...op.get(ER),
    ...f.mul,
    ...op.set(EQ), // r²
    ...pair(1 / 120, 1 / 720),
    ...op.get(EQ),
    ...f.mul,
    ...pair(1 / 6, 1 / 24),
    ...f.add,
    ...op.get(EQ),
    ...f.mul,
    ...pair(1, 1 / 2),
    ...f.add,
    ...op.get(ER),
    ...f.mul,
    ...op.set(EQ),
  ];
  const body = [
    ...op.get(EX),
    ...v128Load(0),
    ...op.set(EV),
    // neg = max(min(v, 0), −87)
    ...op.get(EV),
    ...v128Zero,
    ...f.min,
    ...fc(-87),
    ...f.max,
    ...op.set(ENEG),
    // t = neg·log2 e + 1.5·2²³: the sum rounds to an integer k, whose bits are then the low
    // bits of t's mantissa; kf = t − 1.5·2²³ (an add and a subtract for nearest and trunc_sat)
    ...op.get(ENEG),
    ...fc(Math.LOG2E),
    ...f.mul,
    ...fc(ROUNDING_SHIFT),
    ...f.add,
    ...op.tee(ES),
    ...fc(ROUNDING_SHIFT),
    ...f.sub,
    ...op.set(EKF),
    // r = neg − kf·ln2_hi − kf·ln2_lo
    ...op.get(ENEG),
    ...op.get(EKF),
    ...fc(0.693359375),
    ...f.mul,
    ...f.sub,
    ...op.get(EKF),
    ...fc(-2.12194440e-4),
    ...f.mul,
    ...f.sub,
    ...op.set(ER),
    ...poly,
    // s = 2^k from the exponent bits (k + 127) << 23: t's bits shifted by 23 leave k's low 9
    // bits (1.5·2²³'s are 0 there), enough for k in [−126, 0]
    ...op.get(ES),
    ...op.i32(23),
    ...f.i32Shl,
    ...ic(127 << 23),
    ...f.i32Add,
    ...op.set(ES),
    // y = max(v, 0) + α·(s·q + (s − 1)), kept in EQ for the derivative
    ...op.get(EY),
    ...op.get(EV),
    ...v128Zero,
    ...f.max,
    ...op.get(ES),
    ...op.get(EQ),
    ...f.mul,
    ...op.get(ES),
    ...fc(1),
    ...f.sub,
    ...f.add,
    ...op.get(EALPHA_SPLAT),
    ...f.mul,
    ...f.add,
    ...op.tee(EQ),
    ...v128Store(0),
    // d = v > 0 ? 1 : y + α
    ...op.get(ED),
    ...fc(1),
    ...op.get(EQ),
    ...op.get(EALPHA_SPLAT),
    ...f.add,
    ...op.get(EV),
    ...v128Zero,
    ...f.gt,
    ...f.bitselect,
    ...v128Store(0),
    ...addTo(EX, op.i32(16)),
    ...addTo(EY, op.i32(16)),
    ...addTo(ED, op.i32(16)),
  ];
  if (ELU_CONSTANTS + constants.size > ELU_V128_LOCALS) throw new Error("eluBody: too few locals");
  const prologue = [...constants.values()].flatMap((value, i) => [
    ...value,
    ...op.set(ELU_CONSTANTS + i),
  ]);
  // for (n /= 4; n != 0; n--) { body }
  return [
    ...prologue,
    ...op.get(EALPHA),
    ...f.splat,
    ...op.set(EALPHA_SPLAT),
    ...op.block,
    ...op.get(EN),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...body,
    ...op.get(EN),
    ...op.i32(-4),
    ...op.i32Add,
    ...op.tee(EN),
    ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
}

// im2col and col2im of one sample. Parameters (i32; x, col byte offsets): x, col, c, h, w, kh,
// kw, sh, sw, ph, pw, oh, ow, ld. Row (ci·kH + i)·kW + j of col (stride ld floats) holds, for
// every output position (oy, ox), x[ci, oy·sH − pH + i, ox·sW − pW + j], 0 outside the input;
// col2im adds such a matrix back into x. Bounds are unsigned compares of the input coordinates.
const [CX, CCOL, CC, CH, CW, CKH, CKW, CSH, CSW, CPH, CPW, COH, COW, CLD] = [
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
];
const [CCI, CI, CJ, COY, COX, CIY, CIX, CDST, CPLANE, CROW, CBASE, COK] = [
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  22,
  23,
  24,
  25,
];
const [CLO, CHI, CSRC] = [26, 27, 28];
const COL_LOCALS = 15;

/**
 * im2col's inner loops without a bounds check per element: for each kernel column j the output
 * columns whose input column lies inside the row, [lo, hi), are computed once; per output row
 * the columns before lo and from hi on are zeroed and those between copied with stride sW (a
 * whole row of zeros where the input row lies in the padding).
 */
function im2colRows(): number[] {
  const i32Sub = [0x6b], i32LtU = [0x49], i32LtS = [0x48], i32GtS = [0x4a], i32GeS = [0x4e];
  const i32DivS = [0x6d], select = [0x1b], f32Const0 = [0x43, 0, 0, 0, 0];
  const min = (a: number[], b: number[]) => [...a, ...b, ...a, ...b, ...i32LtS, ...select];
  const storeZero = [...op.get(CDST), ...f32Const0, ...f32Store(0), ...addTo(CDST, op.i32(4))];
  const copy = [
    ...op.get(CDST),
    ...op.get(CSRC),
    ...f32Load(0),
    ...f32Store(0),
    ...addTo(CDST, op.i32(4)),
    ...addTo(CSRC, [...op.get(CSW), ...op.i32(2), ...op.i32Shl]),
  ];
  // lo = pW > j ? min(ow, ⌈(pW − j)/sW⌉) : 0
  const lo = [
    ...op.get(CPW),
    ...op.get(CJ),
    ...i32Sub,
    ...op.get(CSW),
    ...op.i32(-1),
    ...op.i32Add,
    ...op.i32Add,
    ...op.get(CSW),
    ...i32DivS,
    ...op.i32(0),
    ...op.get(CPW),
    ...op.get(CJ),
    ...i32GtS,
    ...select,
    ...op.set(CLO),
    ...min(op.get(CLO), op.get(COW)),
    ...op.set(CLO),
  ];
  // hi = max(lo, min(ow, w − 1 + pW − j ≥ 0 ? ⌊(w − 1 + pW − j)/sW⌋ + 1 : 0))
  const t = [
    ...op.get(CW),
    ...op.i32(-1),
    ...op.i32Add,
    ...op.get(CPW),
    ...op.i32Add,
    ...op.get(CJ),
    ...i32Sub,
  ];
  const hi = [
    ...t,
    ...op.get(CSW),
    ...i32DivS,
    ...op.i32(1),
    ...op.i32Add,
    ...op.i32(0),
    ...t,
    ...op.i32(0),
    ...i32GeS,
    ...select,
    ...op.set(CHI),
    ...min(op.get(CHI), op.get(COW)),
    ...op.set(CHI),
    // max(hi, lo)
    ...op.get(CHI),
    ...op.get(CLO),
    ...op.get(CHI),
    ...op.get(CLO),
    ...i32GtS,
    ...select,
    ...op.set(CHI),
  ];
  const oyLoop = forLoop(COY, COH, 1, [
    ...op.get(CIY),
    ...op.get(CH),
    ...i32LtU,
    ...op.if,
    // src = plane + 4·(iy·w + lo·sW − pW + j)
    ...op.get(CPLANE),
    ...op.get(CIY),
    ...op.get(CW),
    ...op.i32Mul,
    ...op.get(CLO),
    ...op.get(CSW),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(CPW),
    ...i32Sub,
    ...op.get(CJ),
    ...op.i32Add,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(CSRC),
    ...forLoop(COX, CLO, 1, storeZero),
    ...forLoop(COX, CHI, 1, copy, op.get(CLO)),
    ...forLoop(COX, COW, 1, storeZero, op.get(CHI)),
    0x05, // else: the input row lies in the padding
    ...forLoop(COX, COW, 1, storeZero),
    ...op.end,
    ...addTo(CIY, op.get(CSH)),
  ]);
  return [...lo, ...hi, ...oyLoop];
}

/** col2im's inner loops: each element of a row added back where its input column is inside. */
function col2imRows(): number[] {
  const i32Sub = [0x6b], i32LtU = [0x49], i32And = [0x71];
  // The element at (oy, ox): in range ⇔ ok(iy) ∧ ix <u w; its address base + 4·ix.
  const inRange = [...op.get(COK), ...op.get(CIX), ...op.get(CW), ...i32LtU, ...i32And];
  const address = [...op.get(CBASE), ...op.get(CIX), ...op.i32(2), ...op.i32Shl, ...op.i32Add];
  const oxLoop = forLoop(COX, COW, 1, [
    ...inRange,
    ...op.if,
    ...address,
    ...address,
    ...f32Load(0),
    ...op.get(CDST),
    ...f32Load(0),
    ...f32Add,
    ...f32Store(0),
    ...op.end,
    ...addTo(CDST, op.i32(4)),
    ...addTo(CIX, op.get(CSW)),
  ]);
  return forLoop(COY, COH, 1, [
    // ix = j − pW; ok = iy <u h; base = plane + 4·iy·w
    ...op.get(CJ),
    ...op.get(CPW),
    ...i32Sub,
    ...op.set(CIX),
    ...op.get(CIY),
    ...op.get(CH),
    ...i32LtU,
    ...op.set(COK),
    ...op.get(CPLANE),
    ...op.get(CIY),
    ...op.get(CW),
    ...op.i32Mul,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(CBASE),
    ...oxLoop,
    ...addTo(CIY, op.get(CSH)),
  ]);
}

/** The loops over (ci, i, j) shared by im2col and col2im, around `rows` (one kernel column's). */
function colBody(rows: number[]): number[] {
  const i32Sub = [0x6b];
  const mulTo = (a: number, b: number) => [...op.get(a), ...op.get(b), ...op.i32Mul];
  const jLoop = forLoop(CJ, CKW, 1, [
    ...op.get(CROW),
    ...op.set(CDST),
    ...op.get(CI),
    ...op.get(CPH),
    ...i32Sub,
    ...op.set(CIY),
    ...rows,
    ...addTo(CROW, [...op.get(CLD), ...op.i32(2), ...op.i32Shl]),
  ]);
  const iLoop = forLoop(CI, CKH, 1, jLoop);
  const ciLoop = forLoop(CCI, CC, 1, [
    // plane = x + 4·ci·h·w
    ...op.get(CX),
    ...mulTo(CCI, CH),
    ...op.get(CW),
    ...op.i32Mul,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.set(CPLANE),
    ...iLoop,
  ]);
  return [...op.get(CCOL), ...op.set(CROW), ...ciLoop, ...op.end];
}

/**
 * Bytes of the module (exports `gemm_nn`, `gemm_nt`, `elu`, `im2col`, `col2im`); `relaxed` uses `f32x4.relaxed_madd`,
 * `shared` imports a shared memory of at most `maxPages` 64 KiB pages.
 */
export function gemmModuleBytes(relaxed: boolean, shared: boolean, maxPages = 32768): Uint8Array {
  const locals = [...uleb(2), ...uleb(I32_LOCALS), I32, ...uleb(V128_LOCALS), V128];
  const fn = (body: number[], localDecl = locals) => {
    const code = [...localDecl, ...body];
    return [...uleb(code.length), ...code];
  };
  const eluLocals = [...uleb(1), ...uleb(ELU_V128_LOCALS - EV), V128]; // locals after the 5 params
  const colLocals = [...uleb(1), ...uleb(COL_LOCALS), I32];
  const memLimits = shared ? [0x03, ...uleb(1), ...uleb(maxPages)] : [0x00, ...uleb(1)];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [
      3,
      ...[0x60, 8, I32, I32, I32, I32, I32, I32, I32, I32, 0],
      ...[0x60, 5, I32, I32, I32, I32, F32, 0],
      ...[0x60, 14, ...new Array(14).fill(I32), 0],
    ]),
    ...section(2, [1, ...utf8("env"), ...utf8("memory"), 0x02, ...memLimits]),
    ...section(3, [5, 0, 0, 1, 2, 2]),
    ...section(7, [
      5,
      ...[...utf8("gemm_nn"), 0x00, 0],
      ...[...utf8("gemm_nt"), 0x00, 1],
      ...[...utf8("elu"), 0x00, 2],
      ...[...utf8("im2col"), 0x00, 3],
      ...[...utf8("col2im"), 0x00, 4],
    ]),
    ...section(10, [
      5,
      ...fn(nnBody(relaxed)),
      ...fn(ntBody(relaxed)),
      ...fn(eluBody(), eluLocals),
      ...fn(colBody(im2colRows()), colLocals),
      ...fn(colBody(col2imRows()), colLocals),
    ]),
  ]);
}

/** Whether this runtime validates relaxed-SIMD (`f32x4.relaxed_madd`) modules. */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(gemmModuleBytes(true, false) as BufferSource);
  } catch {
    return false;
  }
}

/** Whether this runtime validates fixed-width SIMD modules. */
export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(gemmModuleBytes(false, false) as BufferSource);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The runtime side: memory, allocation, copy-in/copy-out

const PAGE = 65536;
/** Largest memory a `WasmGemm` grows to (2 GiB). */
const MAX_BYTES = 32768 * PAGE;

/** Options of `WasmGemm`. */
export interface WasmGemmOptions {
  /** Use `f32x4.relaxed_madd` (default: when the runtime supports it). */
  relaxed?: boolean;
  /** Back the memory with a `SharedArrayBuffer` (default false). */
  shared?: boolean;
  /**
   * Initial memory in bytes (default 16 MiB); it grows on demand, up to 2 GiB (growing a
   * non-shared memory detaches every view of it, `alloc`'s included).
   */
  initialBytes?: number;
  /**
   * Keep the initial size: a call that needs more memory throws instead of growing it (default
   * false). The isolate's instance is fixed, so that its `alloc` views never detach.
   */
  fixed?: boolean;
}

type Kernel = (
  m: number,
  n: number,
  k: number,
  a: number,
  b: number,
  c: number,
  accumulate: number,
  ld: number,
) => void;

/** The geometry of a convolution's im2col: channels, input size, kernel, stride, padding, output. */
export interface ColGeometry {
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  oh: number;
  ow: number;
}

type ColKernel = (
  x: number,
  col: number,
  c: number,
  h: number,
  w: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  ph: number,
  pw: number,
  oh: number,
  ow: number,
  ld: number,
) => void;

/** `scratch` slots of `elu` (the convolutions use 0–5). */
const SLOT_ELU_IN = 8, SLOT_ELU_OUT = 9, SLOT_ELU_DERIVATIVE = 12;
/** `scratch` slots of the batch-1 product with resident weights. */
const SLOT_VECTOR = 10, SLOT_VECTOR_OUT = 11;

/** Depth of a k-block for each kernel (a multiple of 4). */
const KC_NN = 256, KC_NT = 512;

/** A compiled instance of the SIMD GEMM with its own memory and a bump allocator. */
export class WasmGemm {
  /** The module's memory (its buffer is a `SharedArrayBuffer` when `shared`). */
  readonly memory: WebAssembly.Memory;
  /** Whether the kernels use relaxed-SIMD FMA. */
  readonly relaxed: boolean;
  private readonly nn: Kernel;
  private readonly nt: Kernel;
  private readonly eluKernel: (x: number, y: number, d: number, n: number, alpha: number) => void;
  private readonly im2colKernel: ColKernel;
  private readonly col2imKernel: ColKernel;
  /** Bytes handed out by `alloc` (scratch for copies lives above). */
  private top = 0;
  /** The most bytes of the memory any call has used (`alloc`, scratch and copies). */
  #highWater = 0;
  /** Whether the memory keeps its initial size. */
  readonly #fixed: boolean;
  private heap: Float32Array;
  /** Every buffer object this memory has had (a shared memory's old ones stay valid). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** Regions handed out by `scratch`, by slot. */
  private readonly slots: Float32Array[] = [];

  constructor(options: WasmGemmOptions = {}) {
    this.relaxed = options.relaxed ?? relaxedSimdSupported();
    const shared = options.shared ?? false;
    this.#fixed = options.fixed ?? false;
    const maxPages = MAX_BYTES / PAGE;
    const pages = Math.ceil((options.initialBytes ?? 16 << 20) / PAGE);
    this.memory = new WebAssembly.Memory(
      shared ? { initial: pages, maximum: maxPages, shared: true } : { initial: pages },
    );
    const module = new WebAssembly.Module(
      gemmModuleBytes(this.relaxed, shared, maxPages) as BufferSource,
    );
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.nn = instance.exports.gemm_nn as Kernel;
    this.nt = instance.exports.gemm_nt as Kernel;
    this.eluKernel = instance.exports.elu as WasmGemm["eluKernel"];
    this.im2colKernel = instance.exports.im2col as ColKernel;
    this.col2imKernel = instance.exports.col2im as ColKernel;
    this.heap = new Float32Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
  }

  /** Whether `x` is a (live) view of this module's memory, e.g. from `alloc`. */
  owns(x: Float32Array): boolean {
    return this.buffers.has(x.buffer) && x.buffer.byteLength > 0;
  }

  /** The most bytes of the memory used so far, by `alloc`, `scratch` and the products' copies. */
  get usedBytes(): number {
    return this.#highWater;
  }

  private ensure(bytes: number): Float32Array {
    if (bytes > this.#highWater) this.#highWater = bytes;
    const have = this.memory.buffer.byteLength;
    if (bytes > have && this.#fixed) {
      throw new RangeError(
        `WasmGemm: an operation (a product, convolution or ELU) needs ${
          Math.ceil(bytes / 2 ** 20)
        } MiB of the ` +
          `kernels' memory, which holds ${
            Math.floor(have / 2 ** 20)
          } MiB: use fewer envs per worker or a ` +
          `smaller model`,
      );
    }
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.heap.buffer !== this.memory.buffer || this.heap.length * 4 !== have) {
      this.heap = new Float32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
    }
    return this.heap;
  }

  /**
   * A zeroed `Float32Array` of `length` that lives in the module's memory (16-byte aligned). With
   * a non-shared memory, growth detaches earlier views: allocate everything first.
   */
  alloc(length: number): Float32Array {
    const start = (this.top + 15) & ~15;
    this.top = start + 4 * length;
    this.ensure(this.top);
    return new Float32Array(this.memory.buffer, start, length);
  }

  /**
   * A view of `length` floats in the module's memory that callers reuse from one call to the
   * next, one region per `slot` (a small integer): the same slot returns the same memory, moved to
   * a fresh, larger region (the old one abandoned) when `length` outgrows it. Its contents are
   * whatever the last user left there. Meant for scratch that an operation fills and consumes
   * before it returns (e.g. a convolution's im2col matrix, which the kernels then read in place).
   */
  scratch(slot: number, length: number): Float32Array {
    let s = this.slots[slot];
    if (s === undefined || s.length < length || !this.owns(s)) {
      s = this.alloc(Math.max(length, Math.ceil(1.25 * (s?.length ?? 0))));
      this.slots[slot] = s;
    }
    return s.length === length ? s : s.subarray(0, length);
  }

  /**
   * Whether `scratch` could hand out every region of `requests` (`[slot, length]` pairs, taken in
   * order) within the memory's limit (a fixed memory's size, else 2 GiB): a slot already at
   * least that long needs nothing, any other a new region as `scratch` would take it. Operations
   * ask first and take the TypeScript kernels when the answer is no.
   */
  canScratch(requests: readonly (readonly [slot: number, length: number])[]): boolean {
    // The usual case: every slot is already long enough.
    if (requests.every(([slot, length]) => (this.slots[slot]?.length ?? 0) >= length)) return true;
    const limit = this.#fixed ? this.memory.buffer.byteLength : MAX_BYTES;
    const grown = new Map<number, number>();
    let top = this.top;
    for (const [slot, length] of requests) {
      const s = this.slots[slot];
      const have = grown.get(slot) ?? (s !== undefined && this.owns(s) ? s.length : 0);
      if (have >= length) continue;
      const size = Math.max(length, Math.ceil(1.25 * (grown.get(slot) ?? s?.length ?? 0)));
      top = ((top + 15) & ~15) + 4 * size;
      grown.set(slot, size);
    }
    return top <= limit;
  }

  /** Whether `elu` of `n` floats fits the memory (see `canScratch`); else use another path. */
  eluFits(n: number): boolean {
    const padded = (n + 3) & ~3;
    return this.canScratch([
      [SLOT_ELU_IN, padded],
      [SLOT_ELU_OUT, padded],
      [SLOT_ELU_DERIVATIVE, padded],
    ]);
  }

  /**
   * `C (+)= A·op(B)` on views from `alloc`, in the kernels' layouts, with no copies: A is m×k,
   * B is k×n (n×k when `transB`), C is m×n, row-major; `m % 4 = 0`, and `n % 8 = 0`, or with
   * `transB` `n % 2 = 0` and `k % 4 = 0`.
   */
  gemmResident(
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    accumulate = false,
  ): void {
    if (m % 4 !== 0 || (transB ? n % 2 !== 0 || k % 4 !== 0 : n % 8 !== 0)) {
      throw new RangeError(`WasmGemm: m ${m}, n ${n}, k ${k} do not fit the kernel's blocks`);
    }
    const kernel = transB ? this.nt : this.nn;
    kernel(m, n, k, a.byteOffset, b.byteOffset, c.byteOffset, accumulate ? 1 : 0, k);
  }

  /**
   * ELU of `x` into `out` (same length, any `Float32Array`s): `x` for x > 0, α(eˣ − 1) otherwise,
   * four lanes at a time through scratch memory (relative error below 5e-7 against float64). With
   * `derivative`, also its derivative there: 1 for x > 0, α·eˣ (= out + α) otherwise.
   */
  elu(x: Float32Array, out: Float32Array, alpha = 1, derivative?: Float32Array): void {
    const n = x.length, padded = (n + 3) & ~3;
    const xin = this.scratch(SLOT_ELU_IN, padded), yout = this.scratch(SLOT_ELU_OUT, padded);
    const dout = this.scratch(SLOT_ELU_DERIVATIVE, padded);
    xin.set(x);
    this.eluKernel(xin.byteOffset, yout.byteOffset, dout.byteOffset, padded, alpha);
    out.set(n === padded ? yout : yout.subarray(0, n));
    derivative?.set(n === padded ? dout : dout.subarray(0, n));
  }

  /**
   * im2col of one sample: `x` and `col` are views of this memory (`col` starts at the sample's
   * first column; its rows are `ld` floats apart). See `ColGeometry`.
   */
  im2col(x: Float32Array, col: Float32Array, g: ColGeometry, ld: number): void {
    this.#columns(this.im2colKernel, x, col, g, ld);
  }

  /** Adds one sample's im2col matrix `col` back into `x` (both views of this memory). */
  col2im(col: Float32Array, x: Float32Array, g: ColGeometry, ld: number): void {
    this.#columns(this.col2imKernel, x, col, g, ld);
  }

  #columns(kernel: ColKernel, x: Float32Array, col: Float32Array, g: ColGeometry, ld: number) {
    const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
    kernel(x.byteOffset, col.byteOffset, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, ld);
  }

  /**
   * `c (+)= a·Bᵀ` for one row `a` (`[k]`) and weights `B` (`[n×k]`) resident in this memory:
   * the product is computed as `Bᵀ`'s transpose, `(B·aᵀ)ᵀ`, with B as the kernel's A operand (n
   * rows, read in place) and `a` padded to the dot kernel's 2 rows, instead of padding `a` to the
   * kernel's 4 rows: half the work of a batch-1 LSTM or linear layer, and no copy of the weights.
   */
  private vectorTimesResident(
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    accumulate: boolean,
  ): void {
    const x = this.scratch(SLOT_VECTOR, 2 * k);
    x.set(a.subarray(0, k));
    x.fill(0, k);
    const y = this.scratch(SLOT_VECTOR_OUT, 2 * n);
    for (let p0 = 0; p0 < k; p0 += KC_NT) {
      const kc = Math.min(KC_NT, k - p0);
      this.nt(
        n,
        2,
        kc,
        b.byteOffset + 4 * p0,
        x.byteOffset + 4 * p0,
        y.byteOffset,
        p0 > 0 ? 1 : 0,
        k,
      );
    }
    if (accumulate) { for (let j = 0; j < n; j++) c[j] += y[2 * j]; }
    else for (let j = 0; j < n; j++) c[j] = y[2 * j];
  }

  /**
   * Whether a product's copies fit in the memory's limit (2 GiB, or a fixed memory's size; else
   * use another path).
   */
  fits(transB: boolean, m: number, n: number, k: number): boolean {
    const mp = m + 3, np = n + 7, kp = k + 3;
    const limit = this.#fixed ? this.memory.buffer.byteLength : MAX_BYTES;
    return this.top + 4 * (mp * kp + (transB ? np * kp : k * np) + mp * np) + 64 < limit;
  }

  /**
   * `gemm`'s contract on any `Float32Array`s: copies op(A), B and (when accumulating) C into the
   * memory, zero-padded to the kernel's blocks, runs the kernel one k-block at a time and copies
   * C back. B keeps its layout (the `transB` kernel reads n×k rows), so a weight matrix is one
   * `set()`; only a transposed A is gathered element by element. Operands that are views from
   * `alloc` are used in place when their layout fits (A untransposed with m % 4 = 0; B with n a
   * multiple of the kernel's block and, for the dot kernel, k % 4 = 0; C with both), which is how
   * weights kept in wasm memory skip their copy. A product that needs more scratch grows the
   * memory, which for a non-shared memory detaches every earlier view: the result is still
   * written at C's place in memory, but the caller must view it again (or `alloc` enough first).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    accumulate = false,
  ): void {
    // Dot products pay only over enough terms; for short k, B is transposed on the copy instead.
    const dot = transB && k >= 32;
    if (dot && m === 1 && !transA && n % 4 === 0 && k % 4 === 0 && this.owns(b)) {
      this.vectorTimesResident(n, k, a, b, c, accumulate);
      return;
    }
    const mp = (m + 3) & ~3;
    const np = dot ? (n + 1) & ~1 : (n + 7) & ~7;
    // Row length of the copied A (and of B with transB): k, padded to 4 for the dot kernel.
    const kp = dot ? (k + 3) & ~3 : k;
    // Operands that already live in this memory (views from `alloc`) in the kernel's layout are
    // used where they are; the others are copied into scratch above `top`.
    const buffer = this.memory.buffer;
    const [pa0, pb0, pc0] = [a.byteOffset, b.byteOffset, c.byteOffset];
    const aIn = this.owns(a), bIn = this.owns(b), cIn = this.owns(c);
    const aRes = aIn && !transA && mp === m && kp === k;
    const bRes = bIn && np === n && (dot ? kp === k : !transB);
    const cRes = cIn && mp === m && np === n;
    const scratch = (this.top + 15) & ~15;
    const pa = aRes ? pa0 : scratch;
    const pbScratch = aRes ? scratch : pa + 4 * mp * kp;
    const pb = bRes ? pb0 : pbScratch;
    const pcScratch = (bRes ? pbScratch : pbScratch + 4 * (dot ? np * kp : k * np) + 15) & ~15;
    const pc = cRes ? pc0 : pcScratch;
    const [aLen, bLen, cLen] = [a.length, b.length, c.length];
    const heap = this.ensure(cRes ? pcScratch : pcScratch + 4 * mp * np);
    if (heap.buffer !== buffer) {
      // Growth detached the views of the old buffer: view the same bytes in the new one.
      if (aIn) a = new Float32Array(heap.buffer, pa0, aLen);
      if (bIn) b = new Float32Array(heap.buffer, pb0, bLen);
      if (cIn) c = new Float32Array(heap.buffer, pc0, cLen);
    }
    // Rows ≥ m of A and B's padding columns are never read back into C: only the padding that
    // enters sums (A's and B's columns k..kp) must be zero.
    if (!aRes) copyRows(heap, pa >> 2, kp, a, m, k, transA);
    if (!bRes) {
      if (dot) copyRows(heap, pb >> 2, kp, b, n, k, false);
      else copyRows(heap, pb >> 2, np, b, k, n, transB);
    }
    let o = pc >> 2;
    if (accumulate && !cRes) {
      for (let i = 0; i < m; i++, o += np) heap.set(c.subarray(i * n, i * n + n), o);
    }
    if (dot) {
      for (let p0 = 0; p0 < kp; p0 += KC_NT) {
        const kc = Math.min(KC_NT, kp - p0);
        this.nt(mp, np, kc, pa + 4 * p0, pb + 4 * p0, pc, accumulate || p0 > 0 ? 1 : 0, kp);
      }
    } else {
      for (let p0 = 0; p0 < k; p0 += KC_NN) {
        const kc = Math.min(KC_NN, k - p0);
        this.nn(mp, np, kc, pa + 4 * p0, pb + 4 * p0 * np, pc, accumulate || p0 > 0 ? 1 : 0, k);
      }
    }
    if (cRes) return;
    o = pc >> 2;
    for (let i = 0; i < m; i++, o += np) c.set(heap.subarray(o, o + n), i * n);
  }
}

/**
 * Writes `rows` rows of `cols` values of X (X[r,q] = x[r·cols + q], or x[q·rows + r] when
 * `trans`) into `heap` at `o` with row stride `ld`, zeroing columns cols..ld.
 */
function copyRows(
  heap: Float32Array,
  o: number,
  ld: number,
  x: Float32Array,
  rows: number,
  cols: number,
  trans: boolean,
): void {
  if (!trans && ld === cols) {
    heap.set(x.subarray(0, rows * cols), o);
    return;
  }
  for (let r = 0; r < rows; r++, o += ld) {
    if (trans) {
      for (let q = 0, s = r; q < cols; q++, s += rows) heap[o + q] = x[s];
    } else {
      heap.set(x.subarray(r * cols, r * cols + cols), o);
    }
    if (ld > cols) heap.fill(0, o + cols, o + ld);
  }
}

let instance: WasmGemm | null | undefined;

/**
 * The isolate's memory: 256 MiB, fixed. The `large` model's learner at K = 16 uses 136 MiB of it,
 * the `small` model's at K = 8 16 MiB; a product, convolution or ELU that finds too little left
 * takes the TypeScript kernels (`fits`, `canScratch`). V8 counts the whole reservation as external memory, and a
 * larger one made it collect dead typed arrays later: a K = 8 learner's resident set after 170
 * updates was 436 MiB with 2 GiB reserved, 324 with 1 GiB, 284 with 512 MiB, 252 with 256 MiB and
 * 251 with the shared memory that grows.
 */
const ISOLATE_BYTES = 256 << 20;

/**
 * The isolate's `WasmGemm` (the one `gemm` uses), created on first call; null when the runtime
 * lacks wasm SIMD. Its memory is non-shared and reserved whole at the start (256 MiB of address
 * space; pages cost memory only once written, and where the system refuses that much it is a
 * growable shared memory instead), so it never grows and views from its `alloc` stay valid: a
 * worker can keep its local copy of the parameters there (`wasmGemm()?.alloc(size)`), and `gemm`
 * then reads the weights in place instead of copying them on every call.
 */
export function wasmGemm(): WasmGemm | null {
  if (instance !== undefined) return instance;
  instance = null;
  if (!simdSupported()) return instance;
  try {
    return instance = new WasmGemm({ initialBytes: ISOLATE_BYTES, fixed: true });
  } catch (e) {
    // A system that refuses the address space gets the growable shared memory (whose views
    // survive growth), at the shared memory's slower copies.
    if (!(e instanceof RangeError)) throw e;
    return instance = new WasmGemm({ shared: true });
  }
}
