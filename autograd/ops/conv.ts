/**
 * Convolutions on the CPU GEMM: `conv2d` and `conv1d` (PyTorch layouts and semantics: cross-
 * correlation, zero padding, any stride).
 *
 * im2col gathers the receptive fields of the whole batch into `col[K, N·P]` (K = C·kH·kW rows,
 * P = OH·OW output positions per sample); then one GEMM each: forward `Y[O, N·P] = W·col`
 * (per sample instead, straight into the output, when P ≥ 256),
 * weight gradient `dW[O,K] += dY[O, N·P]·colᵀ` (what lets a rollout's backward batch all of its
 * time steps into a single weight-gradient product) and `dcol = Wᵀ·dY`, which col2im adds back
 * into dX. Where a batch's im2col would exceed 8 M elements (the large model's conv2 at batch 20)
 * the batch is cut into a few chunks of samples, one set of GEMMs per chunk, and the backward
 * recomputes `col` instead of keeping it.
 *
 * With float32 and the WebAssembly kernels (`convolveInWasm`), `col`, `Y`, `dY` and `dcol` live
 * in reused scratch regions of the kernels' memory, rows padded to 8 columns, so the GEMMs read
 * and write them in place instead of copying them in and out: measured on the small Atari model
 * (A/B in one process, alternating, 2 shared cores at load 4), rollout 272–282 → 304–334 agent
 * steps/s and acting alone 1037–1050 → 1161–1181 (+12–18 %).
 *
 * @module
 */
import { gemm, gemmKernels } from "../backends/cpu/gemm.ts";
import { type ColGeometry, type WasmGemm, wasmGemm } from "../backends/cpu/wasm_gemm.ts";
import {
  allocate,
  assertSameDType,
  type FloatArray,
  formatShape,
  isGradEnabled,
  result,
  type Tensor,
} from "../tensor.ts";

/** Most im2col elements the weight-gradient GEMM gathers at once (32 MiB of float32). */
const COL_LIMIT = 8 << 20;

/** Output positions per sample below which the forward runs one GEMM over many samples. */
const BATCH_FORWARD_BELOW = 256;

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Step between receptive fields: one number or `[sH, sW]`. Default 1. */
  stride?: number | readonly [number, number];
  /** Zeros added on each side: one number or `[pH, pW]`. Default 0. */
  padding?: number | readonly [number, number];
}

/** Options of `conv1d`. */
export interface Conv1dOptions {
  /** Step between receptive fields. Default 1. */
  stride?: number;
  /** Zeros added on each side. Default 0. */
  padding?: number;
}

/**
 * Geometry of one convolution (a 1-D convolution is a 2-D one with H = kH = 1): the im2col
 * kernel's, with the batch n and the output channels o.
 */
interface ConvGeometry extends ColGeometry {
  n: number;
  o: number;
}

function pair(op: string, name: string, v: number | readonly [number, number]): [number, number] {
  const [a, b] = typeof v === "number" ? [v, v] : v;
  const min = name === "stride" ? 1 : 0;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < min || b < min) {
    throw new RangeError(`${op}: ${name} ${JSON.stringify(v)} must be integers ≥ ${min}`);
  }
  return [a, b];
}

/**
 * 2-D convolution: `x[N,C,H,W]`, `weight[O,C,kH,kW]`, optional `bias[O]` → `[N,O,OH,OW]` with
 * `OH = ⌊(H + 2pH − kH)/sH⌋ + 1` (likewise OW), as `torch.nn.functional.conv2d`.
 *
 * @example
 * ```ts
 * const y = elu(conv2d(obs, conv1.weight, conv1.bias, { stride: 2, padding: 1 })); // 42 -> 21
 * ```
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  options: Conv2dOptions = {},
): Tensor {
  const op = "conv2d";
  if (x.rank !== 4) {
    throw new RangeError(`${op}: input has shape ${formatShape(x.shape)}, expected [N,C,H,W]`);
  }
  if (weight.rank !== 4) {
    throw new RangeError(
      `${op}: weight has shape ${formatShape(weight.shape)}, expected [O,C,kH,kW]`,
    );
  }
  const [sh, sw] = pair(op, "stride", options.stride ?? 1);
  const [ph, pw] = pair(op, "padding", options.padding ?? 0);
  const [n, c, h, w] = x.shape;
  const [o, wc, kh, kw] = weight.shape;
  const geo = geometry(op, x, weight, bias, { n, c, h, w, o, wc, kh, kw, sh, sw, ph, pw });
  return convolve(x, weight, bias, geo, [n, o, geo.oh, geo.ow]);
}

/**
 * 1-D convolution: `x[N,C,L]`, `weight[O,C,k]`, optional `bias[O]` → `[N,O,L']` with
 * `L' = ⌊(L + 2p − k)/s⌋ + 1`, as `torch.nn.functional.conv1d`.
 *
 * @example
 * ```ts
 * const y = conv1d(x, weight, bias, { stride: 1, padding: 1 }); // [N,C,L] -> [N,O,L]
 * ```
 */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor,
  options: Conv1dOptions = {},
): Tensor {
  const op = "conv1d";
  if (x.rank !== 3) {
    throw new RangeError(`${op}: input has shape ${formatShape(x.shape)}, expected [N,C,L]`);
  }
  if (weight.rank !== 3) {
    throw new RangeError(`${op}: weight has shape ${formatShape(weight.shape)}, expected [O,C,k]`);
  }
  const [, sw] = pair(op, "stride", options.stride ?? 1);
  const [, pw] = pair(op, "padding", options.padding ?? 0);
  const [n, c, w] = x.shape;
  const [o, wc, kw] = weight.shape;
  const geo = geometry(op, x, weight, bias, {
    n,
    c,
    h: 1,
    w,
    o,
    wc,
    kh: 1,
    kw,
    sh: 1,
    sw,
    ph: 0,
    pw,
  });
  return convolve(x, weight, bias, geo, [n, o, geo.ow]);
}

function geometry(
  op: string,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  g: Omit<ConvGeometry, "oh" | "ow"> & { wc: number },
): ConvGeometry {
  assertSameDType(op, x, weight);
  if (g.c !== g.wc) {
    throw new RangeError(
      `${op}: input ${formatShape(x.shape)} has ${g.c} channels, weight ${
        formatShape(weight.shape)
      } expects ${g.wc}`,
    );
  }
  if (bias !== undefined) {
    assertSameDType(op, x, bias);
    if (bias.rank !== 1 || bias.shape[0] !== g.o) {
      throw new RangeError(
        `${op}: bias has shape ${formatShape(bias.shape)}, weight ${
          formatShape(weight.shape)
        } expects [${g.o}]`,
      );
    }
  }
  const oh = Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1;
  const ow = Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1;
  if (oh < 1 || ow < 1) {
    throw new RangeError(
      `${op}: kernel ${formatShape(weight.shape.slice(2))} is larger than the padded input ${
        formatShape(x.shape)
      }`,
    );
  }
  const { wc: _wc, ...rest } = g;
  return { ...rest, oh, ow };
}

function convolve(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  geo: ConvGeometry,
  outShape: number[],
): Tensor {
  const wasm = x.dtype === "float32" && gemmKernels() === "wasm" ? wasmGemm() : null;
  // A convolution whose scratch the kernels' memory cannot hold runs on the plain arrays below.
  if (wasm !== null && wasm.canScratch(wasmScratch(x, weight, bias, geo))) {
    return convolveInWasm(wasm, x, weight, bias, geo, outShape);
  }
  const { n, c, h, w, o, kh, kw } = geo;
  const kk = c * kh * kw;
  const p = geo.oh * geo.ow;
  const xd = x.data, wd = weight.data;
  const out = allocate(x.dtype, n * o * p);
  const bd = bias === undefined ? null : bias.data;
  // Samples per GEMM: the whole batch unless its im2col would outgrow COL_LIMIT.
  const chunk = Math.max(1, Math.min(n, Math.floor(COL_LIMIT / (kk * p))));
  // The forward batches samples only when they are small: with many output positions, one GEMM
  // per sample writing in place beats a batch-wide GEMM followed by a reordering pass.
  const batched = chunk > 1 && p < BATCH_FORWARD_BELOW;
  const col = allocate(x.dtype, kk * (batched ? chunk : 1) * p);
  const tmp = batched ? allocate(x.dtype, o * chunk * p) : null;
  for (let s0 = 0; s0 < n; s0 += batched ? chunk : 1) {
    const cs = batched ? Math.min(chunk, n - s0) : 1, np = cs * p;
    for (let s = 0; s < cs; s++) im2col(xd, (s0 + s) * c * h * w, geo, col, np, s * p);
    if (tmp === null || cs === 1) {
      // One sample: the GEMM writes its output in place, onto the bias.
      const y = out.subarray(s0 * o * p, (s0 + 1) * o * p);
      if (bd !== null) { for (let j = 0; j < o; j++) y.fill(bd[j], j * p, (j + 1) * p); }
      gemm(false, false, o, p, kk, wd, col, y, bd !== null);
    } else {
      // Y[O, cs·P] = W·col, then to [cs, O, P] plus bias.
      gemm(false, false, o, np, kk, wd, col, tmp);
      for (let s = 0; s < cs; s++) {
        for (let j = 0; j < o; j++) {
          const dst = ((s0 + s) * o + j) * p, src = j * np + s * p, bj = bd === null ? 0 : bd[j];
          for (let q = 0; q < p; q++) out[dst + q] = tmp[src + q] + bj;
        }
      }
    }
  }
  // When the forward gathered the whole batch at once the backward reuses that im2col;
  // otherwise it gathers again, chunk by chunk.
  const kept = batched && chunk >= n ? col : null;
  const parents = bias === undefined ? [x, weight] : [x, weight, bias];
  return result(out, outShape, parents, (g) => {
    if (bias !== undefined && bias.requiresGrad) {
      const gb = bias.ensureGrad();
      for (let s = 0; s < n; s++) {
        for (let j = 0; j < o; j++) {
          let t = 0;
          const base = (s * o + j) * p;
          for (let q = 0; q < p; q++) t += g[base + q];
          gb[j] += t;
        }
      }
    }
    if (!weight.requiresGrad && !x.requiresGrad) return;
    // Per chunk: dY as [O, cs·P]; dW += dY·colᵀ (one GEMM over the chunk, i.e. the whole batch
    // unless it is huge); dcol = Wᵀ·dY, scattered back by col2im.
    const cols = kept ?? allocate(x.dtype, kk * chunk * p);
    const dy = chunk > 1 ? allocate(x.dtype, o * chunk * p) : null;
    const dcol = x.requiresGrad ? allocate(x.dtype, kk * chunk * p) : null;
    const gw = weight.requiresGrad ? weight.ensureGrad() : null;
    const gx = x.requiresGrad ? x.ensureGrad() : null;
    for (let s0 = 0; s0 < n; s0 += chunk) {
      const cs = Math.min(chunk, n - s0), np = cs * p;
      let gy: FloatArray = g.subarray(s0 * o * p, (s0 + cs) * o * p);
      if (dy !== null && cs > 1) {
        for (let s = 0; s < cs; s++) {
          for (let j = 0; j < o; j++) {
            const src = ((s0 + s) * o + j) * p;
            dy.set(g.subarray(src, src + p), j * np + s * p);
          }
        }
        gy = dy;
      }
      if (gw !== null) {
        if (kept === null) {
          for (let s = 0; s < cs; s++) im2col(xd, (s0 + s) * c * h * w, geo, cols, np, s * p);
        }
        gemm(false, true, o, kk, np, gy, cols, gw, true);
      }
      if (gx !== null && dcol !== null) {
        gemm(true, false, kk, np, o, wd, gy, dcol);
        for (let s = 0; s < cs; s++) col2im(dcol, geo, gx, (s0 + s) * c * h * w, np, s * p);
      }
    }
  });
}

/** `WasmGemm.scratch` slots of `convolveInWasm`. */
const SLOT_COL = 0, SLOT_Y = 1, SLOT_DY = 2, SLOT_DCOL = 3, SLOT_X = 4, SLOT_GX = 5;

/** Samples per chunk of `convolveInWasm`: the whole batch unless its im2col outgrows COL_LIMIT. */
function wasmChunk(geo: ConvGeometry): number {
  const kk = geo.c * geo.kh * geo.kw, p = geo.oh * geo.ow;
  return Math.max(1, Math.min(geo.n, Math.floor(COL_LIMIT / (kk * p))));
}

/**
 * The scratch regions (`[slot, length]`) `convolveInWasm` takes for its forward and, when a
 * gradient is wanted, its backward: the forward takes them all, so the backward never needs more
 * memory than the forward found.
 */
function wasmScratch(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  geo: ConvGeometry,
): [number, number][] {
  const kk = geo.c * geo.kh * geo.kw, p = geo.oh * geo.ow, chw = geo.c * geo.h * geo.w;
  const cs = wasmChunk(geo), ld = (cs * p + 7) & ~7;
  const requests: [number, number][] = [[SLOT_COL, kk * ld], [SLOT_X, cs * chw]];
  requests.push([SLOT_Y, geo.o * ld]);
  const wantGrad = isGradEnabled() &&
    (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false));
  if (wantGrad) requests.push([SLOT_DY, geo.o * ld]);
  if (wantGrad && x.requiresGrad) requests.push([SLOT_DCOL, kk * ld], [SLOT_GX, cs * chw]);
  return requests;
}

/** The `cs` samples of `x` from `s0` on, copied into wasm scratch for the im2col kernel. */
function samplesInWasm(wasm: WasmGemm, x: Float32Array, s0: number, cs: number, chw: number) {
  const xs = wasm.scratch(SLOT_X, cs * chw);
  xs.set(x.subarray(s0 * chw, (s0 + cs) * chw));
  return xs;
}

/** im2col of `cs` samples (already in wasm memory) into `col` (row stride `ld`), in wasm. */
function im2colInWasm(
  wasm: WasmGemm,
  xs: Float32Array,
  cs: number,
  geo: ConvGeometry,
  col: Float32Array,
  ld: number,
): void {
  const chw = geo.c * geo.h * geo.w, p = geo.oh * geo.ow;
  for (let s = 0; s < cs; s++) {
    wasm.im2col(xs.subarray(s * chw, (s + 1) * chw), col.subarray(s * p), geo, ld);
  }
}

/** Zeroes columns `from..ld` of each of `rows` rows of stride `ld`. */
function zeroTail(m: Float32Array, rows: number, from: number, ld: number): void {
  if (from < ld) { for (let r = 0; r < rows; r++) m.fill(0, r * ld + from, r * ld + ld); }
}

/**
 * `convolve` for float32 with the WebAssembly kernels: im2col writes `col` straight into the
 * module's memory (a reused scratch region) with rows padded to a multiple of 8 columns, the
 * layout the kernels read in place, and the products' outputs (`Y`, `dcol`) and the reordered
 * `dY` stay there too, so only the weights and the weight gradient are copied in and out. The
 * forward always runs one GEMM per chunk of samples; an im2col the backward will reuse is kept
 * as an ordinary array (one copy each way).
 */
function convolveInWasm(
  wasm: WasmGemm,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | undefined,
  geo: ConvGeometry,
  outShape: number[],
): Tensor {
  const { n, c, h, w, o, kh, kw } = geo;
  const kk = c * kh * kw;
  const p = geo.oh * geo.ow;
  const xd = x.data as Float32Array, wd = weight.data as Float32Array;
  const out = allocate(x.dtype, n * o * p) as Float32Array;
  const bd = bias === undefined ? null : bias.data;
  const chunk = wasmChunk(geo);
  /** Row stride of col, Y and dY for `cs` samples: padded to the kernels' 8 columns. */
  const stride = (cs: number) => (cs * p + 7) & ~7;
  const wantGrad = isGradEnabled() &&
    (x.requiresGrad || weight.requiresGrad || (bias?.requiresGrad ?? false));
  // Every region the backward will take, taken now (`convolve` checked that they fit).
  for (const [slot, length] of wasmScratch(x, weight, bias, geo)) wasm.scratch(slot, length);
  let kept: Float32Array | null = null;
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const cs = Math.min(chunk, n - s0), np = cs * p, ld = stride(cs);
    const col = wasm.scratch(SLOT_COL, kk * ld);
    im2colInWasm(wasm, samplesInWasm(wasm, xd, s0, cs, c * h * w), cs, geo, col, ld);
    zeroTail(col, kk, np, ld);
    const y = wasm.scratch(SLOT_Y, o * ld);
    gemm(false, false, o, ld, kk, wd, col, y);
    for (let s = 0; s < cs; s++) {
      for (let j = 0; j < o; j++) {
        const dst = ((s0 + s) * o + j) * p, src = j * ld + s * p, bj = bd === null ? 0 : bd[j];
        for (let q = 0; q < p; q++) out[dst + q] = y[src + q] + bj;
      }
    }
    if (wantGrad && weight.requiresGrad && chunk >= n) kept = col.slice();
  }
  const parents = bias === undefined ? [x, weight] : [x, weight, bias];
  return result(out, outShape, parents, (g) => {
    if (bias !== undefined && bias.requiresGrad) {
      const gb = bias.ensureGrad();
      for (let s = 0; s < n; s++) {
        for (let j = 0; j < o; j++) {
          let t = 0;
          const base = (s * o + j) * p;
          for (let q = 0; q < p; q++) t += g[base + q];
          gb[j] += t;
        }
      }
    }
    if (!weight.requiresGrad && !x.requiresGrad) return;
    const gw = weight.requiresGrad ? weight.ensureGrad() : null;
    const gx = x.requiresGrad ? x.ensureGrad() : null;
    for (let s0 = 0; s0 < n; s0 += chunk) {
      const cs = Math.min(chunk, n - s0), np = cs * p, ld = stride(cs);
      // dY as [O, cs·P] (padded rows) in wasm memory.
      const dy = wasm.scratch(SLOT_DY, o * ld);
      for (let s = 0; s < cs; s++) {
        for (let j = 0; j < o; j++) {
          const src = ((s0 + s) * o + j) * p;
          dy.set(g.subarray(src, src + p), j * ld + s * p);
        }
      }
      zeroTail(dy, o, np, ld);
      if (gw !== null) {
        const col = wasm.scratch(SLOT_COL, kk * ld);
        if (kept !== null) col.set(kept);
        else {
          im2colInWasm(wasm, samplesInWasm(wasm, xd, s0, cs, c * h * w), cs, geo, col, ld);
          zeroTail(col, kk, np, ld);
        }
        gemm(false, true, o, kk, ld, dy, col, gw, true);
      }
      if (gx !== null) {
        const dcol = wasm.scratch(SLOT_DCOL, kk * ld);
        gemm(true, false, kk, ld, o, wd, dy, dcol);
        // col2im in wasm, adding into a copy of this chunk's input gradient.
        const chw = c * h * w;
        const gxs = wasm.scratch(SLOT_GX, cs * chw);
        const gxChunk = (gx as Float32Array).subarray(s0 * chw, (s0 + cs) * chw);
        gxs.set(gxChunk);
        for (let s = 0; s < cs; s++) {
          wasm.col2im(dcol.subarray(s * p), gxs.subarray(s * chw, (s + 1) * chw), geo, ld);
        }
        gxChunk.set(gxs);
      }
    }
  });
}

/**
 * Gathers the receptive fields of one sample (starting at `x[x0]`) into `col`: row
 * `(ci·kH + i)·kW + j`, column `off + oy·OW + ox`, row stride `ld`; padding reads as 0.
 */
function im2col(
  x: FloatArray,
  x0: number,
  geo: ConvGeometry,
  col: FloatArray,
  ld: number,
  off: number,
): void {
  const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = geo;
  let row = 0;
  for (let ci = 0; ci < c; ci++) {
    const plane = x0 + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row++) {
        let dst = row * ld + off;
        // Output columns whose input column iw = ox·sW − pW + j lies inside [0, W).
        const lo = Math.min(ow, Math.max(0, Math.ceil((pw - j) / sw)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 + pw - j) / sw) + 1));
        for (let oy = 0; oy < oh; oy++, dst += ow) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = plane + iy * w - pw + j;
          for (let ox = 0; ox < lo; ox++) col[dst + ox] = 0;
          if (sw === 1 && hi - lo >= 64) {
            col.set(x.subarray(src + lo, src + hi), dst + lo);
          } else if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) col[dst + ox] = x[src + ox];
          } else {
            for (let ox = lo; ox < hi; ox++) col[dst + ox] = x[src + ox * sw];
          }
          for (let ox = hi; ox < ow; ox++) col[dst + ox] = 0;
        }
      }
    }
  }
}

/** Adds one sample's columns of `col` (laid out as by `im2col`) back into `gx` at `x0`. */
function col2im(
  col: FloatArray,
  geo: ConvGeometry,
  gx: FloatArray,
  x0: number,
  ld: number,
  off: number,
): void {
  const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = geo;
  let row = 0;
  for (let ci = 0; ci < c; ci++) {
    const plane = x0 + ci * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, row++) {
        let srcRow = row * ld + off;
        const lo = Math.min(ow, Math.max(0, Math.ceil((pw - j) / sw)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((w - 1 + pw - j) / sw) + 1));
        for (let oy = 0; oy < oh; oy++, srcRow += ow) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= h) continue;
          const dst = plane + iy * w - pw + j;
          for (let ox = lo; ox < hi; ox++) gx[dst + ox * sw] += col[srcRow + ox];
        }
      }
    }
  }
}
