/**
 * Elementwise ops: binary arithmetic with NumPy-style broadcasting, scalar arithmetic and the
 * unary functions and activations. Each op's forward loop sits beside its backward closure.
 *
 * Broadcasting aligns shapes at their last dimension; a dimension of 1 (or a missing leading one)
 * stretches to the other operand's size. The backward sums the gradient over the stretched
 * dimensions, so a bias of shape `[n]` added to `[t,n]` receives the column sums.
 *
 * @module
 */
import {
  allocate,
  assertSameDType,
  formatShape,
  isGradEnabled,
  result,
  sizeOf,
  Tensor,
} from "../tensor.ts";
import { wasmGemm } from "../backends/cpu/wasm_gemm.ts";

// ---------------------------------------------------------------------------------------------
// Broadcasting

/** How the elements of a broadcast output map back to the elements of each operand. */
interface BroadcastMaps {
  shape: number[];
  /** `ia[i]`: the element of `a` that output element `i` reads. */
  ia: Int32Array;
  /** `ib[i]`: the element of `b` that output element `i` reads. */
  ib: Int32Array;
}

/**
 * The output shape of broadcasting two shapes together. Throws a `RangeError` naming `op` and
 * both shapes when they do not broadcast.
 */
export function broadcastShapes(
  op: string,
  a: readonly number[],
  b: readonly number[],
): number[] {
  const rank = Math.max(a.length, b.length);
  const shape = new Array<number>(rank);
  for (let d = 0; d < rank; d++) {
    const da = d - (rank - a.length) >= 0 ? a[d - (rank - a.length)] : 1;
    const db = d - (rank - b.length) >= 0 ? b[d - (rank - b.length)] : 1;
    if (da === db || db === 1) shape[d] = da;
    else if (da === 1) shape[d] = db;
    else {
      throw new RangeError(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`,
      );
    }
  }
  return shape;
}

// Index maps depend only on the two shapes, and a training loop meets the same few pairs of
// shapes over and over, so they are kept (read-only) in a small cache.
const mapCache = new Map<string, BroadcastMaps>();
const MAP_CACHE_LIMIT = 64;

function broadcastMaps(op: string, a: readonly number[], b: readonly number[]): BroadcastMaps {
  const key = `${a.join(",")}|${b.join(",")}`;
  const cached = mapCache.get(key);
  if (cached !== undefined) return cached;
  const shape = broadcastShapes(op, a, b);
  const rank = shape.length;
  // Strides of each operand in the output's index space; 0 along stretched dimensions.
  const sa = new Array<number>(rank).fill(0);
  const sb = new Array<number>(rank).fill(0);
  for (let d = rank - 1, strideA = 1, strideB = 1; d >= 0; d--) {
    const da = d - (rank - a.length) >= 0 ? a[d - (rank - a.length)] : 1;
    const db = d - (rank - b.length) >= 0 ? b[d - (rank - b.length)] : 1;
    if (da !== 1) sa[d] = strideA;
    if (db !== 1) sb[d] = strideB;
    strideA *= da;
    strideB *= db;
  }
  const n = sizeOf(shape);
  const ia = new Int32Array(n);
  const ib = new Int32Array(n);
  const index = new Array<number>(rank).fill(0);
  let oa = 0;
  let ob = 0;
  for (let i = 0; i < n; i++) {
    ia[i] = oa;
    ib[i] = ob;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      oa += sa[d];
      ob += sb[d];
      if (index[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      index[d] = 0;
    }
  }
  const maps = { shape, ia, ib };
  if (mapCache.size >= MAP_CACHE_LIMIT) mapCache.clear();
  mapCache.set(key, maps);
  return maps;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  return true;
}

/** A constant (no grad) tensor of shape `[]` holding `value`, with `like`'s dtype. */
function constant(value: number, like: Tensor): Tensor {
  const data = allocate(like.dtype, 1);
  data[0] = value;
  return new Tensor(data, []);
}

function operands(op: string, a: Tensor | number, b: Tensor | number): [Tensor, Tensor] {
  if (typeof a === "number") {
    if (typeof b === "number") {
      throw new TypeError(`${op}: both operands are numbers, expected at least one Tensor`);
    }
    return [constant(a, b), b];
  }
  if (typeof b === "number") return [a, constant(b, a)];
  assertSameDType(op, a, b);
  return [a, b];
}

// ---------------------------------------------------------------------------------------------
// Binary arithmetic

/**
 * `a + b` with broadcasting. Either operand may be a number.
 *
 * @example
 * ```ts
 * const y = add(xw, bias); // [t,n] + [n] -> [t,n]
 * ```
 */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number") return addScalar(a, b);
  if (typeof a === "number" && typeof b !== "number") return addScalar(b, a);
  const [x, y] = operands("add", a, b);
  const xd = x.data;
  const yd = y.data;
  if (sameShape(x.shape, y.shape)) {
    const n = xd.length;
    const out = allocate(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = xd[i] + yd[i];
    return result(out, x.shape, [x, y], (g) => {
      if (x.requiresGrad) {
        const gx = x.ensureGrad();
        for (let i = 0; i < n; i++) gx[i] += g[i];
      }
      if (y.requiresGrad) {
        const gy = y.ensureGrad();
        for (let i = 0; i < n; i++) gy[i] += g[i];
      }
    });
  }
  const { shape, ia, ib } = broadcastMaps("add", x.shape, y.shape);
  const n = ia.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[ia[i]] + yd[ib[i]];
  return result(out, shape, [x, y], (g) => {
    if (x.requiresGrad) {
      const gx = x.ensureGrad();
      for (let i = 0; i < n; i++) gx[ia[i]] += g[i];
    }
    if (y.requiresGrad) {
      const gy = y.ensureGrad();
      for (let i = 0; i < n; i++) gy[ib[i]] += g[i];
    }
  });
}

/** `a − b` with broadcasting. Either operand may be a number. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number") return addScalar(a, -b);
  const [x, y] = operands("sub", a, b);
  const xd = x.data;
  const yd = y.data;
  if (sameShape(x.shape, y.shape)) {
    const n = xd.length;
    const out = allocate(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = xd[i] - yd[i];
    return result(out, x.shape, [x, y], (g) => {
      if (x.requiresGrad) {
        const gx = x.ensureGrad();
        for (let i = 0; i < n; i++) gx[i] += g[i];
      }
      if (y.requiresGrad) {
        const gy = y.ensureGrad();
        for (let i = 0; i < n; i++) gy[i] -= g[i];
      }
    });
  }
  const { shape, ia, ib } = broadcastMaps("sub", x.shape, y.shape);
  const n = ia.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[ia[i]] - yd[ib[i]];
  return result(out, shape, [x, y], (g) => {
    if (x.requiresGrad) {
      const gx = x.ensureGrad();
      for (let i = 0; i < n; i++) gx[ia[i]] += g[i];
    }
    if (y.requiresGrad) {
      const gy = y.ensureGrad();
      for (let i = 0; i < n; i++) gy[ib[i]] -= g[i];
    }
  });
}

/** `a · b` elementwise with broadcasting. Either operand may be a number. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number") return mulScalar(a, b);
  if (typeof a === "number" && typeof b !== "number") return mulScalar(b, a);
  const [x, y] = operands("mul", a, b);
  const xd = x.data;
  const yd = y.data;
  if (sameShape(x.shape, y.shape)) {
    const n = xd.length;
    const out = allocate(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = xd[i] * yd[i];
    return result(out, x.shape, [x, y], (g) => {
      if (x.requiresGrad) {
        const gx = x.ensureGrad();
        for (let i = 0; i < n; i++) gx[i] += g[i] * yd[i];
      }
      if (y.requiresGrad) {
        const gy = y.ensureGrad();
        for (let i = 0; i < n; i++) gy[i] += g[i] * xd[i];
      }
    });
  }
  const { shape, ia, ib } = broadcastMaps("mul", x.shape, y.shape);
  const n = ia.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[ia[i]] * yd[ib[i]];
  return result(out, shape, [x, y], (g) => {
    if (x.requiresGrad) {
      const gx = x.ensureGrad();
      for (let i = 0; i < n; i++) gx[ia[i]] += g[i] * yd[ib[i]];
    }
    if (y.requiresGrad) {
      const gy = y.ensureGrad();
      for (let i = 0; i < n; i++) gy[ib[i]] += g[i] * xd[ia[i]];
    }
  });
}

/** `a / b` elementwise with broadcasting. Either operand may be a number. */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number") return mulScalar(a, 1 / b);
  const [x, y] = operands("div", a, b);
  const xd = x.data;
  const yd = y.data;
  if (sameShape(x.shape, y.shape)) {
    const n = xd.length;
    const out = allocate(x.dtype, n);
    for (let i = 0; i < n; i++) out[i] = xd[i] / yd[i];
    return result(out, x.shape, [x, y], (g) => {
      if (x.requiresGrad) {
        const gx = x.ensureGrad();
        for (let i = 0; i < n; i++) gx[i] += g[i] / yd[i];
      }
      if (y.requiresGrad) {
        // d(x/y)/dy = −x/y² = −out/y
        const gy = y.ensureGrad();
        for (let i = 0; i < n; i++) gy[i] -= g[i] * out[i] / yd[i];
      }
    });
  }
  const { shape, ia, ib } = broadcastMaps("div", x.shape, y.shape);
  const n = ia.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[ia[i]] / yd[ib[i]];
  return result(out, shape, [x, y], (g) => {
    if (x.requiresGrad) {
      const gx = x.ensureGrad();
      for (let i = 0; i < n; i++) gx[ia[i]] += g[i] / yd[ib[i]];
    }
    if (y.requiresGrad) {
      const gy = y.ensureGrad();
      for (let i = 0; i < n; i++) gy[ib[i]] -= g[i] * out[i] / yd[ib[i]];
    }
  });
}

/** `x + s` for a number `s`. */
export function addScalar(x: Tensor, s: number): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[i] + s;
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i];
  });
}

/** `x · s` for a number `s` (loss coefficients, the ½ of a squared error). */
export function mulScalar(x: Tensor, s: number): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[i] * s;
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] * s;
  });
}

// ---------------------------------------------------------------------------------------------
// Unary functions

/** `−x`. */
export function neg(x: Tensor): Tensor {
  return mulScalar(x, -1);
}

/** `eˣ`. */
export function exp(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(xd[i]);
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] * out[i];
  });
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = Math.log(xd[i]);
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] / xd[i];
  });
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(xd[i]);
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] * 0.5 / out[i];
  });
}

/**
 * Clamps each element to `[min, max]`. The gradient passes where `min ≤ x ≤ max` and is 0
 * outside, as in PyTorch.
 */
export function clamp(x: Tensor, min: number, max: number): Tensor {
  if (!(min <= max)) {
    throw new RangeError(`clamp: min ${min} is greater than max ${max}`);
  }
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const v = xd[i];
    out[i] = v < min ? min : v > max ? max : v;
  }
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) {
      const v = xd[i];
      if (v >= min && v <= max) gx[i] += g[i];
    }
  });
}

/** `max(x, 0)`; the gradient at 0 is 0. */
export function relu(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[i] > 0 ? xd[i] : 0;
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) if (xd[i] > 0) gx[i] += g[i];
  });
}

/** ELU: `x` for `x > 0`, `α(eˣ − 1)` otherwise (the activation of the Atari seeds' conv layers). */
export function elu(x: Tensor, alpha = 1): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  const wasm = n >= 64 && out instanceof Float32Array ? wasmGemm() : null;
  if (wasm !== null && wasm.eluFits(n)) {
    // Four lanes at a time in wasm (2.5–3× faster than Math.exp; relative error below 5e-7),
    // with the derivative the backward needs: a branch on the sign per element there took 8×
    // as long as this multiply (the signs of a layer's inputs are as good as random)
    const derivative = isGradEnabled() && x.requiresGrad
      ? allocate("float32", n) as Float32Array
      : undefined;
    wasm.elu(xd as Float32Array, out as Float32Array, alpha, derivative);
    return result(out, x.shape, [x], (g) => {
      const gx = x.ensureGrad(), d = derivative!;
      for (let i = 0; i < n; i++) gx[i] += g[i] * d[i];
    });
  } else if (out instanceof Float32Array) {
    // eˣ − 1 in float64 loses nothing a float32 result keeps, and Math.exp is faster than expm1
    for (let i = 0; i < n; i++) {
      const v = xd[i];
      out[i] = v > 0 ? v : alpha * (Math.exp(v) - 1);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = xd[i];
      out[i] = v > 0 ? v : alpha * Math.expm1(v);
    }
  }
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    // For x ≤ 0 the derivative α·eˣ equals out + α.
    for (let i = 0; i < n; i++) gx[i] += xd[i] > 0 ? g[i] : g[i] * (out[i] + alpha);
  });
}

/** Leaky ReLU: `x` for `x > 0`, `slope·x` otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[i] > 0 ? xd[i] : slope * xd[i];
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += xd[i] > 0 ? g[i] : slope * g[i];
  });
}

/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = Math.tanh(xd[i]);
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] * (1 - out[i] * out[i]);
  });
}

/** Logistic sigmoid `1 / (1 + e⁻ˣ)`, computed without overflow for large |x|. */
export function sigmoid(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const v = xd[i];
    if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      out[i] = e / (1 + e);
    }
  }
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) gx[i] += g[i] * out[i] * (1 - out[i]);
  });
}

/**
 * Softplus `log(1 + eˣ)`, computed as `max(x, 0) + log1p(e^−|x|)` so that it neither overflows
 * for large x nor loses precision for very negative x. Its gradient is the sigmoid.
 */
export function softplus(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const v = xd[i];
    out[i] = (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) {
      const v = xd[i];
      let s: number;
      if (v >= 0) s = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        s = e / (1 + e);
      }
      gx[i] += g[i] * s;
    }
  });
}

/** Softsign `x / (1 + |x|)`. */
export function softsign(x: Tensor): Tensor {
  const xd = x.data;
  const n = xd.length;
  const out = allocate(x.dtype, n);
  for (let i = 0; i < n; i++) out[i] = xd[i] / (1 + Math.abs(xd[i]));
  return result(out, x.shape, [x], (g) => {
    const gx = x.ensureGrad();
    for (let i = 0; i < n; i++) {
      const d = 1 + Math.abs(xd[i]);
      gx[i] += g[i] / (d * d);
    }
  });
}
