/**
 * Matrix products on the CPU GEMM: `matmul` (2-D, and batched 3-D) and the fused `linear` layer.
 * Backwards are GEMMs that accumulate into the inputs' gradients, so parameter gradients that
 * are views into one flat vector are summed in place.
 *
 * @module
 */
import { gemm } from "../backends/cpu/gemm.ts";
import {
  accumulateWeightGradient,
  allocate,
  assertSameDType,
  formatShape,
  result,
  type Tensor,
} from "../tensor.ts";

/**
 * Matrix product `a · b`:
 * - `[m,k] @ [k,n]` → `[m,n]`;
 * - `[b,m,k] @ [k,n]` → `[b,m,n]` (one matrix applied to every batch entry);
 * - `[b,m,k] @ [b,k,n]` → `[b,m,n]` (batched).
 *
 * @example
 * ```ts
 * const c = matmul(a, b); // [2,3] @ [3,4] -> [2,4]
 * ```
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertSameDType("matmul", a, b);
  const pair = `${formatShape(a.shape)} @ ${formatShape(b.shape)}`;
  const batched = b.rank === 3;
  if (!((a.rank === 2 && b.rank === 2) || (a.rank === 3 && (b.rank === 2 || b.rank === 3)))) {
    throw new RangeError(
      `matmul: ${pair}: expected [m,k] @ [k,n], [b,m,k] @ [k,n] or [b,m,k] @ [b,k,n]`,
    );
  }
  const k = a.shape[a.rank - 1];
  const kb = b.shape[b.rank - 2];
  if (k !== kb) {
    throw new RangeError(`matmul: ${pair}: inner dimensions ${k} and ${kb} differ`);
  }
  if (batched && a.shape[0] !== b.shape[0]) {
    throw new RangeError(
      `matmul: ${pair}: batch dimensions ${a.shape[0]} and ${b.shape[0]} differ`,
    );
  }
  const n = b.shape[b.rank - 1];
  const ad = a.data;
  const bd = b.data;
  const shape = [...a.shape.slice(0, -1), n];

  if (!batched) {
    // `[b,m,k] @ [k,n]` is `[b·m,k] @ [k,n]` on the same storage.
    const m = a.rank === 2 ? a.shape[0] : a.shape[0] * a.shape[1];
    const out = allocate(a.dtype, m * n);
    gemm(false, false, m, n, k, ad, bd, out);
    return result(out, shape, [a, b], (g) => {
      if (a.requiresGrad) gemm(false, true, m, k, n, g, bd, a.ensureGrad(), true); // dA = dC·Bᵀ
      if (b.requiresGrad) gemm(true, false, k, n, m, ad, g, b.ensureGrad(), true); // dB = Aᵀ·dC
    });
  }

  const batch = a.shape[0];
  const m = a.shape[1];
  const sa = m * k;
  const sb = k * n;
  const sc = m * n;
  const out = allocate(a.dtype, batch * sc);
  for (let i = 0; i < batch; i++) {
    gemm(
      false,
      false,
      m,
      n,
      k,
      ad.subarray(i * sa, (i + 1) * sa),
      bd.subarray(i * sb, (i + 1) * sb),
      out.subarray(i * sc, (i + 1) * sc),
    );
  }
  return result(out, shape, [a, b], (g) => {
    const ga = a.requiresGrad ? a.ensureGrad() : null;
    const gb = b.requiresGrad ? b.ensureGrad() : null;
    for (let i = 0; i < batch; i++) {
      const gi = g.subarray(i * sc, (i + 1) * sc);
      if (ga !== null) {
        const bi = bd.subarray(i * sb, (i + 1) * sb);
        gemm(false, true, m, k, n, gi, bi, ga.subarray(i * sa, (i + 1) * sa), true);
      }
      if (gb !== null) {
        const ai = ad.subarray(i * sa, (i + 1) * sa);
        gemm(true, false, k, n, m, ai, gi, gb.subarray(i * sb, (i + 1) * sb), true);
      }
    }
  });
}

/**
 * A fully connected layer with PyTorch's layout: `y = x·Wᵀ + b`, `weight` of shape
 * `[out, in]`, `bias` of shape `[out]`. `x` is `[..., in]` (leading dimensions are rows) and
 * `y` is `[..., out]`. Forward is one GEMM onto rows pre-filled with the bias; backward gives
 * `dX = dY·W`, `dW += dYᵀ·X` and `db += Σ_rows dY`.
 *
 * @example
 * ```ts
 * const h = relu(linear(x, fc1.weight, fc1.bias)); // [t,in] -> [t,out]
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  assertSameDType("linear", x, weight);
  if (weight.rank !== 2) {
    throw new RangeError(
      `linear: weight has shape ${formatShape(weight.shape)}, expected [out,in]`,
    );
  }
  const [nOut, nIn] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== nIn) {
    throw new RangeError(
      `linear: input ${formatShape(x.shape)} and weight ${formatShape(weight.shape)}: ` +
        `input has ${x.rank < 1 ? 0 : x.shape[x.rank - 1]} features, weight expects ${nIn}`,
    );
  }
  if (bias !== undefined) {
    assertSameDType("linear", x, bias);
    if (bias.rank !== 1 || bias.shape[0] !== nOut) {
      throw new RangeError(
        `linear: bias ${formatShape(bias.shape)} does not match weight ${
          formatShape(weight.shape)
        }: expected [${nOut}]`,
      );
    }
  }
  let rows = 1;
  for (let d = 0; d < x.rank - 1; d++) rows *= x.shape[d];
  const xd = x.data;
  const wd = weight.data;
  const out = allocate(x.dtype, rows * nOut);
  if (bias !== undefined) {
    const bd = bias.data;
    for (let r = 0; r < rows; r++) out.set(bd, r * nOut);
  }
  gemm(false, true, rows, nOut, nIn, xd, wd, out, bias !== undefined);
  const shape = [...x.shape.slice(0, -1), nOut];
  const parents = bias === undefined ? [x, weight] : [x, weight, bias];
  return result(out, shape, parents, (g) => {
    if (x.requiresGrad) gemm(false, false, rows, nIn, nOut, g, wd, x.ensureGrad(), true);
    if (weight.requiresGrad) accumulateWeightGradient(weight, nOut, nIn, rows, g, xd);
    if (bias !== undefined && bias.requiresGrad) {
      const gb = bias.ensureGrad();
      for (let r = 0; r < rows; r++) {
        const row = r * nOut;
        for (let j = 0; j < nOut; j++) gb[j] += g[row + j];
      }
    }
  });
}
