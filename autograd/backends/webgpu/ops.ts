/**
 * High-level ops on `GpuArray`s: each checks sizes (errors name the op and shapes), allocates its
 * output unless one is given, and records a dispatch on the backend. Nothing here waits for the
 * GPU; read results back with `backend.read` / `backend.readMany`.
 *
 * @module
 */
import type { GpuArray, GpuBackend, Kernel } from "./device.ts";
import { f32Bits } from "./device.ts";
import {
  MATMUL_TILE,
  matmulKernel,
  matmulSkinnyKernel,
  matmulVec4Ok,
  SKINNY_MAX_ROWS,
} from "./matmul.wgsl.ts";
import {
  type Activation,
  ACTIVATION_SAVES,
  activationBackwardKernel,
  activationKernel,
  binaryKernel,
  type BinaryOp,
  defaultParam,
  ELEMENTWISE_WORKGROUP,
} from "./elementwise.wgsl.ts";
import { SUM_COLS_WORKGROUP, sumAllKernel, sumColsKernel, sumRowsKernel } from "./reduce.wgsl.ts";
import { softmaxKernel } from "./softmax.wgsl.ts";
import {
  conv2dInputGradKernel,
  conv2dKernel,
  conv2dWeightGradKernel,
  conv2dWeightGradSumKernel,
  CONV_SUM_WORKGROUP,
  CONV_TILE,
  CONV_WORKGROUP,
} from "./conv.wgsl.ts";
import { maxPool2dBackwardKernel, maxPool2dKernel, POOL_WORKGROUP } from "./pool.wgsl.ts";
import {
  LSTM_WORKGROUP,
  lstmCellBackwardKernel,
  lstmCellKernel,
  scaleRowsKernel,
} from "./lstm.wgsl.ts";

function need(op: string, what: string, array: GpuArray, length: number, shape: string): void {
  if (array.length < length) {
    throw new Error(`${op}: ${what} holds ${array.length} floats, ${shape} needs ${length}`);
  }
}

/** Options of `gpuMatmul`. */
export interface MatmulOptions {
  /** Output array (m·n floats); allocated when absent. */
  out?: GpuArray;
  /** Add the product to `out` instead of overwriting it. */
  accumulate?: boolean;
  /**
   * Kernel choice. Default: `skinny` for m ≤ 4 on a hardware adapter, `tiled` otherwise; on a
   * fallback (CPU) adapter such as llvmpipe workgroup barriers are slow and the skinny kernel ran
   * ~15× slower than the tiled one at 1×1024×256.
   */
  kernel?: "tiled" | "skinny";
}

/**
 * `C (+)= op(A)·op(B)` with the layouts of the CPU `gemm`: A is m×k (k×m when `transA`), B is k×n
 * (n×k when `transB`); returns C (m×n). A linear layer's forward is `(x, W, batch, out, in, false,
 * true)`, its input gradient `(dY, W, batch, in, out)` and its weight gradient
 * `(dY, x, out, in, batch, true)`. See `MatmulOptions.kernel` for which kernel runs.
 *
 * @example
 * ```ts
 * const y = gpuMatmul(backend, x, w, 20, 1024, 288, false, true); // x·Wᵀ
 * ```
 */
export function gpuMatmul(
  backend: GpuBackend,
  a: GpuArray,
  b: GpuArray,
  m: number,
  n: number,
  k: number,
  transA = false,
  transB = false,
  options: MatmulOptions = {},
): GpuArray {
  const shape = `${m}×${n}×${k} (transA ${transA}, transB ${transB})`;
  need("gpuMatmul", "A", a, m * k, shape);
  need("gpuMatmul", "B", b, k * n, shape);
  const out = options.out ?? backend.allocate(m * n);
  need("gpuMatmul", "out", out, m * n, shape);
  const accumulate = options.accumulate ? 1 : 0;
  if (m === 0 || n === 0) return out;
  const skinny = options.kernel === undefined
    ? m <= SKINNY_MAX_ROWS && !backend.isFallbackAdapter
    : options.kernel === "skinny";
  if (skinny && m > SKINNY_MAX_ROWS) {
    throw new Error(`gpuMatmul: the skinny kernel takes m ≤ ${SKINNY_MAX_ROWS}, got ${shape}`);
  }
  if (skinny) {
    const gridX = Math.min(n, backend.limits.maxComputeWorkgroupsPerDimension);
    backend.dispatch(
      matmulSkinnyKernel(transA, transB),
      [a, b, out],
      [m, n, k, accumulate, gridX],
      [gridX, Math.ceil(n / gridX)],
    );
  } else {
    const vec4 = matmulVec4Ok(transA, transB, m, n, k);
    backend.dispatch(
      matmulKernel(transA, transB, vec4),
      [a, b, out],
      [m, n, k, accumulate, 0],
      [Math.ceil(n / MATMUL_TILE), Math.ceil(m / MATMUL_TILE)],
    );
  }
  return out;
}

/** A 2-D grid of `count` workgroups: `[gridX, gridY]` with gridX within the device limit. */
function grid(backend: GpuBackend, count: number): [number, number] {
  const gridX = Math.max(1, Math.min(count, backend.limits.maxComputeWorkgroupsPerDimension));
  return [gridX, Math.ceil(count / gridX)];
}

/**
 * `y = f(x)` for an activation over `x.length` elements; `param` is α of elu (default 1) or the
 * slope of leakyRelu (default 0.01).
 *
 * @example
 * ```ts
 * const h = gpuActivation(backend, "elu", pre);
 * ```
 */
export function gpuActivation(
  backend: GpuBackend,
  op: Activation,
  x: GpuArray,
  param = defaultParam(op),
  out?: GpuArray,
): GpuArray {
  const n = x.length;
  const y = out ?? backend.allocate(n);
  need(`gpuActivation(${op})`, "out", y, n, `[${n}]`);
  const [gx, gy] = grid(backend, Math.ceil(n / ELEMENTWISE_WORKGROUP));
  backend.dispatch(activationKernel(op, param), [x, y], [n, gx], [gx, gy]);
  return y;
}

/**
 * Gradient of an activation: `dx (+)= grad · f'(·)` from `saved`, the forward input or output as
 * `ACTIVATION_SAVES[op]` says (input for relu, leakyRelu, softplus, softsign; output for elu, tanh,
 * sigmoid).
 */
export function gpuActivationBackward(
  backend: GpuBackend,
  op: Activation,
  grad: GpuArray,
  saved: GpuArray,
  param = defaultParam(op),
  options: { out?: GpuArray; accumulate?: boolean } = {},
): GpuArray {
  const n = grad.length;
  const name = `gpuActivationBackward(${op})`;
  need(name, `saved ${ACTIVATION_SAVES[op]}`, saved, n, `[${n}]`);
  const dx = options.out ?? backend.allocate(n);
  need(name, "out", dx, n, `[${n}]`);
  const [gx, gy] = grid(backend, Math.ceil(n / ELEMENTWISE_WORKGROUP));
  backend.dispatch(
    activationBackwardKernel(op, param),
    [grad, saved, dx],
    [n, gx, options.accumulate ? 1 : 0],
    [gx, gy],
  );
  return dx;
}

/**
 * `out = a ∘ b` elementwise for same-length arrays, or with `b` (length `cols`) broadcast over the
 * rows of `a` (rows×cols, e.g. adding a bias) when `b` is shorter.
 */
export function gpuBinary(
  backend: GpuBackend,
  op: BinaryOp,
  a: GpuArray,
  b: GpuArray,
  out?: GpuArray,
): GpuArray {
  const n = a.length;
  const cols = b.length;
  if (cols === 0 ? n !== 0 : n % cols !== 0) {
    throw new Error(`gpuBinary(${op}): b of length ${cols} does not broadcast over a of ${n}`);
  }
  const y = out ?? backend.allocate(n);
  need(`gpuBinary(${op})`, "out", y, n, `[${n}]`);
  const [gx, gy] = grid(backend, Math.ceil(n / ELEMENTWISE_WORKGROUP));
  backend.dispatch(binaryKernel(op), [a, b, y], [n, gx, cols], [gx, gy]);
  return y;
}

/**
 * Sum (or mean, `mean = true`) of a rows×cols matrix: `axis` undefined → all elements (length 1),
 * `axis` 1 (or -1) → each row (length rows), `axis` 0 → each column (length cols).
 */
export function gpuSum(
  backend: GpuBackend,
  x: GpuArray,
  rows: number,
  cols: number,
  axis?: number,
  mean = false,
): GpuArray {
  const shape = `[${rows},${cols}]`;
  need("gpuSum", "x", x, rows * cols, shape);
  if (axis === undefined) {
    const out = backend.allocate(1);
    const scale = mean ? 1 / (rows * cols) : 1;
    backend.dispatch(sumAllKernel(), [x, out], [rows * cols, f32Bits(scale)], [1]);
    return out;
  }
  if (axis === 1 || axis === -1) {
    const out = backend.allocate(rows);
    const [gx, gy] = grid(backend, rows);
    const scale = mean ? 1 / cols : 1;
    backend.dispatch(sumRowsKernel(), [x, out], [rows, cols, f32Bits(scale), gx], [gx, gy]);
    return out;
  }
  if (axis === 0) {
    const out = backend.allocate(cols);
    const scale = mean ? 1 / rows : 1;
    backend.dispatch(sumColsKernel(), [x, out], [rows, cols, f32Bits(scale)], [
      Math.ceil(cols / SUM_COLS_WORKGROUP),
    ]);
    return out;
  }
  throw new Error(`gpuSum: axis ${axis} is out of range for ${shape}`);
}

/** Softmax (or log-softmax with `log = true`) over each row of a rows×cols matrix. */
export function gpuSoftmax(
  backend: GpuBackend,
  x: GpuArray,
  rows: number,
  cols: number,
  log = false,
  out?: GpuArray,
): GpuArray {
  const name = log ? "gpuLogSoftmax" : "gpuSoftmax";
  need(name, "x", x, rows * cols, `[${rows},${cols}]`);
  const y = out ?? backend.allocate(rows * cols);
  need(name, "out", y, rows * cols, `[${rows},${cols}]`);
  const [gx, gy] = grid(backend, rows);
  backend.dispatch(softmaxKernel(log), [x, y], [rows, cols, gx], [gx, gy]);
  return y;
}

/** Shape of a 2-D convolution (NCHW input, OIHW weight, square stride and symmetric zero padding). */
export interface Conv2dShape {
  /** Samples. */
  batch: number;
  /** Input channels (C). */
  inChannels: number;
  /** Input height (H). */
  height: number;
  /** Input width (W). */
  width: number;
  /** Output channels (O). */
  outChannels: number;
  /** Kernel height (kH). */
  kernelH: number;
  /** Kernel width (kW). */
  kernelW: number;
  /** Step between receptive fields, both directions (≥ 1). */
  stride: number;
  /** Zeros added on each side, both directions (≥ 0). */
  padding: number;
}

/**
 * Output size of a convolution, `⌊(H + 2·padding − kH)/stride⌋ + 1` (likewise W), as the CPU
 * `conv2d`. Throws a RangeError for a shape that is not integral or has no output.
 */
export function conv2dOutputSize(s: Conv2dShape): { outH: number; outW: number } {
  return convOutputSize("conv2dOutputSize", s);
}

function convOutputSize(op: string, s: Conv2dShape): { outH: number; outW: number } {
  const dims = [s.batch, s.inChannels, s.height, s.width, s.outChannels, s.kernelH, s.kernelW];
  if (
    !dims.every((d) => Number.isInteger(d) && d >= 1) || !Number.isInteger(s.stride) ||
    s.stride < 1 || !Number.isInteger(s.padding) || s.padding < 0
  ) {
    throw new RangeError(
      `${op}: bad shape ${JSON.stringify(s)} (sizes and stride ≥ 1 and ` +
        `padding ≥ 0 must be integers)`,
    );
  }
  const outH = Math.floor((s.height + 2 * s.padding - s.kernelH) / s.stride) + 1;
  const outW = Math.floor((s.width + 2 * s.padding - s.kernelW) / s.stride) + 1;
  if (outH < 1 || outW < 1) {
    throw new RangeError(
      `${op}: kernel [${s.kernelH},${s.kernelW}] is larger than the padded input ` +
        `[${s.batch},${s.inChannels},${s.height},${s.width}] (padding ${s.padding})`,
    );
  }
  return { outH, outW };
}

/** Sizes and shape strings of a convolution's arrays, checked. */
function convArrays(op: string, s: Conv2dShape) {
  const { outH, outW } = convOutputSize(op, s);
  const { batch: n, inChannels: c, height: h, width: w, outChannels: o } = s;
  return {
    outH,
    outW,
    x: [n * c * h * w, `[${n},${c},${h},${w}]`] as const,
    weight: [o * c * s.kernelH * s.kernelW, `[${o},${c},${s.kernelH},${s.kernelW}]`] as const,
    bias: [o, `[${o}]`] as const,
    y: [n * o * outH * outW, `[${n},${o},${outH},${outW}]`] as const,
  };
}

/** The shape uniforms the convolution kernels begin with. */
function convUniforms(s: Conv2dShape, outH: number, outW: number): number[] {
  return [
    s.batch,
    s.inChannels,
    s.height,
    s.width,
    s.outChannels,
    s.kernelH,
    s.kernelW,
    s.stride,
    s.padding,
    outH,
    outW,
  ];
}

/** Positions per chunk of the weight-gradient reduction. */
const CONV_DW_CHUNK = 512;
/** Most floats of the weight gradient's per-chunk partial sums (16 MiB). */
const CONV_DW_PARTIAL = 4 << 20;

/**
 * `y = conv2d(x, weight) + bias` (cross-correlation, as the CPU `conv2d`): `x [batch, C, H, W]`,
 * `weight [O, C, kH, kW]`, `bias [O]` → `y [batch, O, outH, outW]` (see `conv2dOutputSize`).
 *
 * @example
 * ```ts
 * const shape = { batch: 16, inChannels: 1, height: 42, width: 42, outChannels: 32,
 *   kernelH: 3, kernelW: 3, stride: 2, padding: 1 };
 * const y = gpuConv2d(backend, obs, w, b, shape); // [16, 32, 21, 21]
 * ```
 */
export function gpuConv2d(
  backend: GpuBackend,
  x: GpuArray,
  weight: GpuArray,
  bias: GpuArray,
  s: Conv2dShape,
  out?: GpuArray,
): GpuArray {
  const op = "gpuConv2d";
  const a = convArrays(op, s);
  need(op, "x", x, ...a.x);
  need(op, "weight", weight, ...a.weight);
  need(op, "bias", bias, ...a.bias);
  const y = out ?? backend.allocate(a.y[0]);
  need(op, "out", y, ...a.y);
  const tilesX = Math.ceil(s.outChannels / CONV_TILE);
  const tilesY = Math.ceil(s.batch * a.outH * a.outW / CONV_TILE);
  const [gx, gy] = grid(backend, tilesX * tilesY);
  backend.dispatch(
    conv2dKernel(),
    [x, weight, bias, y],
    [...convUniforms(s, a.outH, a.outW), gx, tilesX],
    [gx, gy],
  );
  return y;
}

/**
 * Gradients of `gpuConv2d` from the output gradient `dy [batch, O, outH, outW]`: `dWeight`
 * `[O, C, kH, kW]` and `dBias [O]` are overwritten (or added to with `accumulate: true`); returns
 * dx `[batch, C, H, W]` (into `dxOut` when given, overwritten), or null when `dx` is false (a
 * first layer needs no input gradient).
 *
 * @example
 * ```ts
 * gpuConv2dBackward(backend, dy, obs, w, shape, { dWeight: gw, dBias: gb, dx: false });
 * ```
 */
export function gpuConv2dBackward(
  backend: GpuBackend,
  dy: GpuArray,
  x: GpuArray,
  weight: GpuArray,
  s: Conv2dShape,
  options: {
    dWeight: GpuArray;
    dBias: GpuArray;
    accumulate?: boolean;
    dx?: boolean;
    dxOut?: GpuArray;
  },
): GpuArray | null {
  const op = "gpuConv2dBackward";
  const a = convArrays(op, s);
  need(op, "dy", dy, ...a.y);
  need(op, "x", x, ...a.x);
  need(op, "weight", weight, ...a.weight);
  need(op, "dWeight", options.dWeight, ...a.weight);
  need(op, "dBias", options.dBias, ...a.bias);
  const wantDx = options.dx ?? true;
  if (options.dxOut !== undefined && wantDx) need(op, "dxOut", options.dxOut, ...a.x);
  const shape = convUniforms(s, a.outH, a.outW);

  // dW and db: partial sums over chunks of positions, then their sum.
  const kk = s.inChannels * s.kernelH * s.kernelW;
  const size = s.outChannels * (kk + 1);
  const positions = s.batch * a.outH * a.outW;
  const maxChunks = Math.max(1, Math.floor(CONV_DW_PARTIAL / size));
  const chunkLen = Math.max(CONV_DW_CHUNK, Math.ceil(positions / maxChunks));
  const chunks = Math.ceil(positions / chunkLen);
  const partial = backend.allocate(chunks * size);
  const tilesX = Math.ceil(s.outChannels / CONV_TILE);
  const tilesY = Math.ceil((kk + 1) / CONV_TILE);
  const [gx, gy] = grid(backend, tilesX * tilesY * chunks);
  backend.dispatch(
    conv2dWeightGradKernel(),
    [dy, x, partial],
    [...shape, gx, tilesX, tilesY, chunkLen],
    [gx, gy],
  );
  const [sx, sy] = grid(backend, Math.ceil(size / CONV_SUM_WORKGROUP));
  backend.dispatch(
    conv2dWeightGradSumKernel(),
    [partial, options.dWeight, options.dBias],
    [s.outChannels, kk, chunks, options.accumulate ? 1 : 0, sx],
    [sx, sy],
  );
  backend.free(partial);
  if (!wantDx) return null;

  // dx: 4-pixel blocks of one residue class of columns per input row.
  const dx = options.dxOut ?? backend.allocate(a.x[0]);
  const rowBlocks = Math.ceil(Math.ceil(s.width / s.stride) / 4);
  const pixelBlocks = s.batch * s.height * s.stride * rowBlocks;
  const cTiles = Math.ceil(s.inChannels / CONV_TILE);
  const pTiles = Math.ceil(pixelBlocks / CONV_WORKGROUP);
  const [dxX, dxY] = grid(backend, cTiles * pTiles);
  backend.dispatch(
    conv2dInputGradKernel(),
    [dy, weight, dx],
    [...shape, dxX, cTiles, rowBlocks],
    [dxX, dxY],
  );
  return dx;
}

/** Shape of a max pooling without padding (square kernel and stride). */
export interface Pool2dShape {
  /** Samples. */
  batch: number;
  /** Channels. */
  channels: number;
  /** Input height. */
  height: number;
  /** Input width. */
  width: number;
  /** Window side. */
  kernel: number;
  /** Step between windows. */
  stride: number;
}

/** Output size and uniforms of a pooling, checked. */
function poolArrays(op: string, s: Pool2dShape) {
  const dims = [s.batch, s.channels, s.height, s.width, s.kernel, s.stride];
  if (!dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`${op}: bad shape ${JSON.stringify(s)} (integers ≥ 1 expected)`);
  }
  const outH = Math.floor((s.height - s.kernel) / s.stride) + 1;
  const outW = Math.floor((s.width - s.kernel) / s.stride) + 1;
  if (outH < 1 || outW < 1) {
    throw new RangeError(
      `${op}: kernel ${s.kernel} is larger than the input [${s.batch},${s.channels},${s.height},` +
        `${s.width}]`,
    );
  }
  const planes = s.batch * s.channels;
  return {
    planes,
    x: [planes * s.height * s.width, `[${s.batch},${s.channels},${s.height},${s.width}]`] as const,
    y: [planes * outH * outW, `[${s.batch},${s.channels},${outH},${outW}]`] as const,
    // After planeOffset.
    uniforms: [s.height, s.width, s.kernel, s.stride, outH, outW, Math.ceil(s.kernel / s.stride)],
    outH,
    outW,
  };
}

/** Dispatches a pooling kernel over `[gx, gy, planes]`, in several dispatches past the limit. */
function dispatchPlanes(
  backend: GpuBackend,
  kernel: Kernel,
  bindings: GpuArray[],
  uniforms: number[],
  gx: number,
  gy: number,
  planes: number,
): void {
  const max = backend.limits.maxComputeWorkgroupsPerDimension;
  for (let offset = 0; offset < planes; offset += max) {
    backend.dispatch(kernel, bindings, [offset, ...uniforms], [
      gx,
      gy,
      Math.min(max, planes - offset),
    ]);
  }
}

/**
 * Max pooling without padding: `x [batch, C, H, W]` → `[batch, C, outH, outW]` with
 * `outH = ⌊(H − kernel)/stride⌋ + 1` (likewise W), as the CPU `maxPool2d`.
 *
 * @example
 * ```ts
 * const y = gpuMaxPool2d(backend, x, { batch: 16, channels: 32, height: 80, width: 80,
 *   kernel: 2, stride: 2 }); // [16, 32, 40, 40]
 * ```
 */
export function gpuMaxPool2d(
  backend: GpuBackend,
  x: GpuArray,
  s: Pool2dShape,
  out?: GpuArray,
): GpuArray {
  const op = "gpuMaxPool2d";
  const a = poolArrays(op, s);
  need(op, "x", x, ...a.x);
  const y = out ?? backend.allocate(a.y[0]);
  need(op, "out", y, ...a.y);
  const gx = Math.ceil(a.outW / POOL_WORKGROUP), gy = Math.ceil(a.outH / POOL_WORKGROUP);
  dispatchPlanes(backend, maxPool2dKernel(), [x, y], a.uniforms, gx, gy, a.planes);
  return y;
}

/**
 * dx of `gpuMaxPool2d` (overwritten): each window's gradient goes to its first maximum in
 * row-major order (the CPU op's tie rule), recomputed from `x`; overlapping windows add up.
 */
export function gpuMaxPool2dBackward(
  backend: GpuBackend,
  dy: GpuArray,
  x: GpuArray,
  s: Pool2dShape,
  out?: GpuArray,
): GpuArray {
  const op = "gpuMaxPool2dBackward";
  const a = poolArrays(op, s);
  need(op, "dy", dy, ...a.y);
  need(op, "x", x, ...a.x);
  const dx = out ?? backend.allocate(a.x[0]);
  need(op, "out", dx, ...a.x);
  // One invocation per stride×stride cell of the input.
  const gx = Math.ceil(Math.ceil(s.width / s.stride) / POOL_WORKGROUP);
  const gy = Math.ceil(Math.ceil(s.height / s.stride) / POOL_WORKGROUP);
  dispatchPlanes(backend, maxPool2dBackwardKernel(), [dy, x, dx], a.uniforms, gx, gy, a.planes);
  return dx;
}

/** The grid of the row-wise kernels: x along a row, y and z over the rows (`gridY` = y size). */
function rowsGrid(backend: GpuBackend, rows: number, cols: number): [number, number, number] {
  const gy = Math.max(1, Math.min(rows, backend.limits.maxComputeWorkgroupsPerDimension));
  return [Math.ceil(cols / LSTM_WORKGROUP), gy, Math.ceil(rows / gy)];
}

/**
 * Fused LSTM cell on the pre-activation gates `[batch, 4·hidden]` (`x·W_ihᵀ + b_ih + h·W_hhᵀ +
 * b_hh` in the CPU `lstmCell`'s order i, f, g, o): writes `h`, `c` `[batch, hidden]` and the
 * activated gates `act` `[batch, 4·hidden]` that `gpuLstmCellBackward` needs.
 *
 * @example
 * ```ts
 * const pre = gpuMatmul(backend, x, wIh, batch, 4 * hidden, input, false, true);
 * gpuMatmul(backend, h, wHh, batch, 4 * hidden, hidden, false, true, { out: pre, accumulate: true });
 * const gates = gpuBinary(backend, "add", pre, bias); // bias = b_ih + b_hh
 * const next = gpuLstmCell(backend, gates, c, batch, hidden); // { h, c, act }
 * ```
 */
export function gpuLstmCell(
  backend: GpuBackend,
  gates: GpuArray,
  cPrev: GpuArray,
  batch: number,
  hidden: number,
  out: { h?: GpuArray; c?: GpuArray; act?: GpuArray } = {},
): { h: GpuArray; c: GpuArray; act: GpuArray } {
  const op = "gpuLstmCell";
  const n = batch * hidden;
  const state = `[${batch},${hidden}]`, wide = `[${batch},${4 * hidden}]`;
  need(op, "gates", gates, 4 * n, wide);
  need(op, "cPrev", cPrev, n, state);
  const h = out.h ?? backend.allocate(n);
  const c = out.c ?? backend.allocate(n);
  const act = out.act ?? backend.allocate(4 * n);
  need(op, "h", h, n, state);
  need(op, "c", c, n, state);
  need(op, "act", act, 4 * n, wide);
  const [gx, gy, gz] = rowsGrid(backend, batch, hidden);
  backend.dispatch(lstmCellKernel(), [gates, cPrev, h, c, act], [batch, hidden, gy], [gx, gy, gz]);
  return { h, c, act };
}

/**
 * Backward of `gpuLstmCell`: from `dh` and `dc` (the gradients of its `h` and `c`; `dc` null
 * means zero, as at the last step) returns `dGates` (of the pre-activation gates) and `dcPrev`,
 * both overwritten. `act`, `cPrev` and `c` are the forward's.
 */
export function gpuLstmCellBackward(
  backend: GpuBackend,
  dh: GpuArray,
  dc: GpuArray | null,
  act: GpuArray,
  cPrev: GpuArray,
  c: GpuArray,
  batch: number,
  hidden: number,
  out: { dGates?: GpuArray; dcPrev?: GpuArray } = {},
): { dGates: GpuArray; dcPrev: GpuArray } {
  const op = "gpuLstmCellBackward";
  const n = batch * hidden;
  const state = `[${batch},${hidden}]`, wide = `[${batch},${4 * hidden}]`;
  need(op, "dh", dh, n, state);
  if (dc !== null) need(op, "dc", dc, n, state);
  need(op, "act", act, 4 * n, wide);
  need(op, "cPrev", cPrev, n, state);
  need(op, "c", c, n, state);
  const dGates = out.dGates ?? backend.allocate(4 * n);
  const dcPrev = out.dcPrev ?? backend.allocate(n);
  need(op, "dGates", dGates, 4 * n, wide);
  need(op, "dcPrev", dcPrev, n, state);
  const [gx, gy, gz] = rowsGrid(backend, batch, hidden);
  backend.dispatch(
    lstmCellBackwardKernel(),
    // Without dc the kernel ignores its binding; dh stands in (two read-only bindings may alias).
    [dh, dc ?? dh, act, cPrev, c, dGates, dcPrev],
    [batch, hidden, gy, dc === null ? 0 : 1],
    [gx, gy, gz],
  );
  return { dGates, dcPrev };
}

/**
 * `y[r, j] = x[r, j]·scale[r]` for a rows×cols matrix (e.g. zeroing the LSTM state of the rows
 * whose episode ended). `out` may be `x` itself (in place).
 *
 * @example
 * ```ts
 * gpuScaleRows(backend, h, notDone, batch, hidden, h); // in place
 * ```
 */
export function gpuScaleRows(
  backend: GpuBackend,
  x: GpuArray,
  scale: GpuArray,
  rows: number,
  cols: number,
  out?: GpuArray,
): GpuArray {
  const op = "gpuScaleRows";
  const n = rows * cols;
  need(op, "x", x, n, `[${rows},${cols}]`);
  need(op, "scale", scale, rows, `[${rows}]`);
  const y = out ?? backend.allocate(n);
  need(op, "out", y, n, `[${rows},${cols}]`);
  const inPlace = y.buffer === x.buffer;
  const [gx, gy, gz] = rowsGrid(backend, rows, cols);
  backend.dispatch(
    scaleRowsKernel(inPlace),
    inPlace ? [x, scale] : [x, scale, y],
    [rows, cols, gy],
    [gx, gy, gz],
  );
  return y;
}
