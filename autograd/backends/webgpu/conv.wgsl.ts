/**
 * WGSL 2-D convolution (NCHW input, OIHW weight, square stride, symmetric zero padding) as
 * implicit GEMMs: the receptive fields are read straight from the input through the patch index,
 * never gathered into an im2col buffer. With P = outH·outW positions per sample and
 * K = inC·kH·kW:
 *
 * - `conv2dKernel` (forward): `Y[batch·P, outC] = patches · Wᵀ + b`. Each invocation owns 4
 *   positions × 4 output channels and walks k as (channel, kernel row, kernel column), so the
 *   padding test of a row is done once per kernel row; an 8×8 workgroup covers 32 positions ×
 *   32 channels.
 * - `conv2dInputGradKernel` (dx): the transposed implicit GEMM as a gather. An input pixel
 *   receives from the kernel taps `(i, j)` with `iy + pad − i` and `ix + pad − j` divisible by the
 *   stride, so each invocation owns 4 pixels of one row that share their column residue modulo
 *   the stride (`ix = r, r + s, r + 2s, …`): they then use the same taps and read 4 neighbouring
 *   output columns, and only the taps that contribute are visited. Times 4 input channels.
 * - `conv2dWeightGradKernel` (dW, db): `dW[outC, K+1] = dYᵀ · [patches | 1]` (the extra column
 *   of ones gives the bias gradient) over the long reduction batch·P, split into chunks of
 *   `chunkLen` positions: each workgroup sums one chunk for a 32×32 block of (out channel, k) into
 *   `partial[chunk]`, then `conv2dWeightGradSumKernel` adds the chunks (and writes or accumulates
 *   dW and db).
 *
 * Out-of-range rows and columns of a block are clamped on load and skipped on store, as in
 * `matmul.wgsl.ts`. Neighbouring invocations (the workgroup's x) differ in the channel block and
 * share positions, so on a CPU adapter, which runs invocations side by side in SIMD lanes, they
 * take the same branches.
 *
 * Uniforms of the three GEMM kernels begin with the shape `batch, inC, h, w, outC, kh, kw,
 * stride, pad, outH, outW`, then `gridX` (workgroups per row of the dispatch grid) and `tilesX`
 * (blocks of 32 along the workgroup's x), then per kernel: `rowBlocks` (dx: pixel blocks per
 * input row), `tilesY, chunkLen` (dW).
 *
 * @module
 */
import type { Kernel } from "./device.ts";

/** Invocations per workgroup side of the convolution GEMMs (8×8, each computing 4×4 outputs). */
export const CONV_WORKGROUP = 8;
/** Side of the output block one workgroup of the convolution GEMMs computes. */
export const CONV_TILE = CONV_WORKGROUP * 4;
/** Invocations per workgroup of the chunk-summing kernel. */
export const CONV_SUM_WORKGROUP = 64;

const FOUR = [0, 1, 2, 3];
/** `f(q)` for q = 0..3, joined into lines. */
const each = (f: (q: number) => string, sep = "\n  ") => FOUR.map(f).join(sep);

const PARAMS = `struct Params {
  batch: u32, inC: u32, h: u32, w: u32, outC: u32, kh: u32, kw: u32, stride: u32,
  pad: u32, outH: u32, outW: u32, gridX: u32, tilesX: u32, extra0: u32, extra1: u32,
}`;

/** Workgroup block indices: `tx` along the workgroup's x, `ty` along its y. */
const BLOCKS = `let wg = wid.y * u.gridX + wid.x;
  let tx = wg % u.tilesX;
  let ty = wg / u.tilesX;`;

/**
 * Forward: bindings `x, weight, bias, y`. Dispatch `ceil(outC/32)·ceil(batch·P/32)` workgroups
 * (2-D grid, `tilesX = ceil(outC/32)`).
 */
export function conv2dKernel(): Kernel {
  return {
    name: "conv2d",
    spec: { wg: CONV_WORKGROUP },
    wgsl: () => `
${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> u: Params;

@compute @workgroup_size(${CONV_WORKGROUP}, ${CONV_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${BLOCKS}
  let c0 = (tx * ${CONV_WORKGROUP}u + lid.x) * 4u;
  let r0 = (ty * ${CONV_WORKGROUP}u + lid.y) * 4u;
  let plane = u.outH * u.outW;
  let rows = u.batch * plane;
  if (c0 >= u.outC || r0 >= rows) { return; }
  let kk = u.inC * u.kh * u.kw;
  let hw = u.h * u.w;
  let wi = i32(u.w);
  let hi = i32(u.h);
  // Weight rows of the 4 output channels (clamped).
  ${each((q) => `let wb${q} = min(c0 + ${q}u, u.outC - 1u) * kk;`)}
  // Per position: sample, position in the plane, top-left corner of the receptive field.
  ${
      each((p) =>
        `let pos${p} = min(r0 + ${p}u, rows - 1u);
  let n${p} = pos${p} / plane;
  let rem${p} = pos${p} % plane;
  let iy${p} = i32((rem${p} / u.outW) * u.stride) - i32(u.pad);
  let ix${p} = i32((rem${p} % u.outW) * u.stride) - i32(u.pad);
  let xb${p} = i32(n${p} * u.inC * hw);`
      )
    }
  ${each((p) => `var acc${p} = vec4<f32>();`)}
  var k = 0u;
  for (var ci = 0u; ci < u.inC; ci++) {
    let cb = i32(ci * hw);
    for (var i = 0u; i < u.kh; i++) {
      ${
      each((p) =>
        `let ry${p} = iy${p} + i32(i);
      let rv${p} = ry${p} >= 0 && ry${p} < hi;
      let rb${p} = xb${p} + cb + ry${p} * wi;`, "\n      ")
    }
      for (var j = 0u; j < u.kw; j++) {
        let wv = vec4<f32>(weight[wb0 + k], weight[wb1 + k], weight[wb2 + k], weight[wb3 + k]);
        ${
      each(
        (p) =>
          `let cx${p} = ix${p} + i32(j);
        let ok${p} = rv${p} && cx${p} >= 0 && cx${p} < wi;
        acc${p} += select(0.0, x[u32(select(0, rb${p} + cx${p}, ok${p}))], ok${p}) * wv;`,
        "\n        ",
      )
    }
        k++;
      }
    }
  }
  ${
      each((p) =>
        `if (r0 + ${p}u < rows) {
    let base = n${p} * u.outC * plane + rem${p};
    for (var q = 0u; q < 4u; q++) {
      let c = c0 + q;
      if (c >= u.outC) { break; }
      y[base + c * plane] = acc${p}[q] + bias[c];
    }
  }`
      )
    }
}
`,
  };
}

/**
 * Input gradient: bindings `dy, weight, dx`; uniform `extra0 = rowBlocks = ceil(ceil(w/stride)/4)`
 * (pixel blocks per residue of an input row). Dispatch `ceil(inC/32)·ceil(batch·h·stride·
 * rowBlocks/8)` workgroups (`tilesX = ceil(inC/32)`). Overwrites dx.
 */
export function conv2dInputGradKernel(): Kernel {
  return {
    name: "conv2d_dx",
    spec: { wg: CONV_WORKGROUP },
    wgsl: () => `
${PARAMS}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${CONV_WORKGROUP}, ${CONV_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${BLOCKS}
  let c0 = (tx * ${CONV_WORKGROUP}u + lid.x) * 4u;
  let pb = ty * ${CONV_WORKGROUP}u + lid.y;
  let rowBlocks = u.extra0;
  let s = u.stride;
  if (c0 >= u.inC || pb >= u.batch * u.h * s * rowBlocks) { return; }
  // Pixel block: sample n, row iy, column residue r, block tb of 4 columns r + s·(4·tb + p).
  let tb = pb % rowBlocks;
  let r = (pb / rowBlocks) % s;
  let iy = (pb / (rowBlocks * s)) % u.h;
  let n = pb / (rowBlocks * s * u.h);
  let khw = u.kh * u.kw;
  // Weight offsets of the 4 input channels (clamped).
  ${each((q) => `let wc${q} = min(c0 + ${q}u, u.inC - 1u) * khw;`)}
  let oplane = u.outH * u.outW;
  let ow = i32(u.outW);
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  // Taps (i, j) that reach this row and these columns: i ≡ iy + pad, j ≡ r + pad (mod stride).
  for (var i = (iy + u.pad) % s; i < u.kh; i += s) {
    let t = i32(iy + u.pad) - i32(i);
    if (t < 0) { break; }
    let oy = u32(t) / s;
    if (oy >= u.outH) { continue; }
    let dyRow = n * u.outC * oplane + oy * u.outW;
    for (var j = (r + u.pad) % s; j < u.kw; j += s) {
      // Output column of the block's first pixel (may be negative: then masked).
      let oxb = i32(4u * tb) + (i32(r + u.pad) - i32(j)) / i32(s);
      ${
      each((p) =>
        `let ox${p} = oxb + ${p};
      let ok${p} = ox${p} >= 0 && ox${p} < ow;
      let oc${p} = u32(select(0, ox${p}, ok${p}));`, "\n      ")
    }
      let tap = i * u.kw + j;
      for (var o = 0u; o < u.outC; o++) {
        let wo = o * u.inC * khw + tap;
        let wv = vec4<f32>(weight[wo + wc0], weight[wo + wc1], weight[wo + wc2], weight[wo + wc3]);
        let db = dyRow + o * oplane;
        ${each((p) => `acc${p} += select(0.0, dy[db + oc${p}], ok${p}) * wv;`, "\n        ")}
      }
    }
  }
  let hw = u.h * u.w;
  ${
      each((p) =>
        `let ix${p} = r + s * (4u * tb + ${p}u);
  if (ix${p} < u.w) {
    let base = n * u.inC * hw + iy * u.w + ix${p};
    for (var q = 0u; q < 4u; q++) {
      let c = c0 + q;
      if (c >= u.inC) { break; }
      dx[base + c * hw] = acc${p}[q];
    }
  }`
      )
    }
}
`,
  };
}

/**
 * Weight and bias gradient, one chunk of positions per workgroup: bindings `dy, x, partial`;
 * uniforms `extra0 = tilesY` (blocks of 32 along k + 1), `extra1 = chunkLen`. Dispatch
 * `tilesX·tilesY·ceil(batch·P/chunkLen)` workgroups (`tilesX = ceil(outC/32)`); `partial` holds
 * `chunks·outC·(K+1)` floats, chunk-major, column K being the bias.
 */
export function conv2dWeightGradKernel(): Kernel {
  return {
    name: "conv2d_dweight",
    spec: { wg: CONV_WORKGROUP },
    wgsl: () => `
${PARAMS}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${CONV_WORKGROUP}, ${CONV_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${BLOCKS}
  let tilesY = u.extra0;
  let chunkLen = u.extra1;
  let ky = ty % tilesY;
  let chunk = ty / tilesY;
  let o0 = (tx * ${CONV_WORKGROUP}u + lid.x) * 4u;
  let k0 = (ky * ${CONV_WORKGROUP}u + lid.y) * 4u;
  let khw = u.kh * u.kw;
  let kk = u.inC * khw;
  let plane = u.outH * u.outW;
  let rows = u.batch * plane;
  let p0 = chunk * chunkLen;
  if (o0 >= u.outC || k0 > kk || p0 >= rows) { return; }
  let p1 = min(rows, p0 + chunkLen);
  let hw = u.h * u.w;
  let hi = i32(u.h);
  let wi = i32(u.w);
  // Per column k (clamped to the bias column K): input plane and tap offset.
  ${
      each((q) =>
        `let kq${q} = min(k0 + ${q}u, kk);
  let bias${q} = kq${q} == kk;
  let kc${q} = min(kq${q}, kk - 1u);
  let cb${q} = i32((kc${q} / khw) * hw);
  let di${q} = i32((kc${q} / u.kw) % u.kh) - i32(u.pad);
  let dj${q} = i32(kc${q} % u.kw) - i32(u.pad);`
      )
    }
  ${each((q) => `let ob${q} = min(o0 + ${q}u, u.outC - 1u) * plane;`)}
  ${each((q) => `var acc${q} = vec4<f32>();`)}
  var n = p0 / plane;
  var rem = p0 % plane;
  var oy = rem / u.outW;
  var ox = rem % u.outW;
  for (var pos = p0; pos < p1; pos++) {
    let dyi = n * u.outC * plane + rem;
    let dv = vec4<f32>(dy[dyi + ob0], dy[dyi + ob1], dy[dyi + ob2], dy[dyi + ob3]);
    let iy = i32(oy * u.stride);
    let ix = i32(ox * u.stride);
    let xb = i32(n * u.inC * hw);
    ${
      each((q) =>
        `let ry${q} = iy + di${q};
    let cx${q} = ix + dj${q};
    let ok${q} = ry${q} >= 0 && ry${q} < hi && cx${q} >= 0 && cx${q} < wi;
    let xv${q} = select(0.0, x[u32(select(0, xb + cb${q} + ry${q} * wi + cx${q}, ok${q}))], ok${q});
    acc${q} += select(xv${q}, 1.0, bias${q}) * dv;`, "\n    ")
    }
    ox++;
    rem++;
    if (ox == u.outW) {
      ox = 0u;
      oy++;
      if (oy == u.outH) {
        oy = 0u;
        rem = 0u;
        n++;
      }
    }
  }
  let cols = kk + 1u;
  let out = chunk * u.outC * cols;
  ${
      each((q) =>
        `if (k0 + ${q}u <= kk) {
    for (var t = 0u; t < 4u; t++) {
      let o = o0 + t;
      if (o >= u.outC) { break; }
      partial[out + o * cols + kq${q}] = acc${q}[t];
    }
  }`
      )
    }
}
`,
  };
}

/**
 * Sums the chunks of `conv2dWeightGradKernel` into dW `[outC, K]` and db `[outC]`: bindings
 * `partial, dWeight, dBias`; uniforms `outC, kk, chunks, accumulate, gridX`. One invocation per
 * (out channel, column); dispatch `ceil(outC·(K+1)/64)` workgroups on a 2-D grid.
 */
export function conv2dWeightGradSumKernel(): Kernel {
  return {
    name: "conv2d_dweight_sum",
    spec: { wg: CONV_SUM_WORKGROUP },
    wgsl: () => `
struct Params { outC: u32, kk: u32, chunks: u32, accumulate: u32, gridX: u32 }
@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> dWeight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dBias: array<f32>;
@group(0) @binding(3) var<uniform> u: Params;

@compute @workgroup_size(${CONV_SUM_WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let cols = u.kk + 1u;
  let idx = gid.y * u.gridX * ${CONV_SUM_WORKGROUP}u + gid.x;
  let size = u.outC * cols;
  if (idx >= size) { return; }
  var total = 0.0;
  for (var c = 0u; c < u.chunks; c++) { total += partial[c * size + idx]; }
  let o = idx / cols;
  let k = idx % cols;
  if (k < u.kk) {
    let at = o * u.kk + k;
    if (u.accumulate != 0u) { total += dWeight[at]; }
    dWeight[at] = total;
  } else {
    if (u.accumulate != 0u) { total += dBias[o]; }
    dBias[o] = total;
  }
}
`,
  };
}
