/**
 * The WebGPU kernels against the CPU oracle (`gemm` and the autograd ops) on random inputs: values
 * and, for conv2d, maxPool2d, the LSTM cell and row scaling, gradients too (the CPU op's backward
 * of `sum(y ⊙ g)` for a random `g`).
 *
 * Tolerance: `|gpu − cpu| ≤ 1e-4 · max(1, max |cpu|)` per case. The GPU sums in another order
 * (4-wide k steps, per-invocation partial sums, chunked and tree reductions) and uses WGSL's
 * `exp`/`log`, whose accuracy is a few ULP rather than correctly rounded, so results differ from
 * the CPU by rounding; those errors scale with the size of the outputs (and of the sums), hence
 * relative to the largest output. 1e-4 is ~800 float32 ULP at that magnitude: loose enough for
 * k = 1024 sums and the convolutions' weight gradients (sums over up to 6,400 positions), tight
 * enough that an indexing or layout bug (errors of order 1) fails. Max pooling is exact.
 *
 * Without an adapter the first test fails with how to install one. Every case reads back once.
 * Shapes reuse one pipeline per kernel (shapes travel in uniforms), which keeps shader compiles to
 * about forty-five. The default sanitizers pass: the device is destroyed by the last test (and on
 * unload, for filtered runs), and GPU handles are not Deno resources.
 */
import assert from "node:assert/strict";
import {
  type Activation,
  ACTIVATION_SAVES,
  type BinaryOp,
  conv2dOutputSize,
  type Conv2dShape,
  gpuActivation,
  gpuActivationBackward,
  type GpuArray,
  GpuBackend,
  gpuBinary,
  gpuConv2d,
  gpuConv2dBackward,
  gpuLstmCell,
  gpuLstmCellBackward,
  gpuMatmul,
  gpuMaxPool2d,
  gpuMaxPool2dBackward,
  gpuScaleRows,
  gpuSoftmax,
  gpuSum,
  NO_ADAPTER_HELP,
  type Pool2dShape,
  requestGpu,
  SKINNY_MAX_ROWS,
} from "../autograd/backends/webgpu/mod.ts";
import { gemm } from "../autograd/backends/cpu/gemm.ts";
import { Rng } from "../autograd/random.ts";
import { type Tensor, tensor } from "../autograd/tensor.ts";
import {
  add,
  conv2d,
  div,
  elu,
  leakyRelu,
  logSoftmax,
  lstmCell,
  maxPool2d,
  mean,
  mul,
  relu,
  sigmoid,
  softmax,
  softplus,
  softsign,
  sub,
  sum,
  tanh,
} from "../autograd/ops/mod.ts";

const RTOL = 1e-4;

const context = await requestGpu();
const backend = context ? new GpuBackend(context) : null;
// Destroy the device however the run ends (a filtered run may skip the last test).
globalThis.addEventListener("unload", () => backend?.destroy());

const rng = new Rng(7);
function random(n: number, low = -1, high = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(low, high);
  return out;
}

/** Asserts `|actual − expected| ≤ RTOL · max(1, max |expected|)` elementwise. */
function assertClose(actual: Float32Array, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const tol = RTOL * scale;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol)) {
      throw new assert.AssertionError({
        message: `${what}: element ${i} is ${actual[i]}, expected ${expected[i]} ` +
          `(error ${err.toExponential(2)} > tolerance ${tol.toExponential(2)})`,
      });
    }
  }
}

/** A GPU test, ignored (and reported as such) when the adapter test above has already failed. */
function gpuTest(name: string, fn: (backend: GpuBackend) => Promise<void>): void {
  Deno.test({ name: `webgpu: ${name}`, ignore: backend === null, fn: () => fn(backend!) });
}

Deno.test("webgpu: an adapter is available", () => {
  if (backend === null) {
    throw new Error(
      `${NO_ADAPTER_HELP} The WebGPU tests need an adapter (CI installs the Mesa packages).`,
    );
  }
  assert.ok(backend.adapterInfo.description.length > 0 || backend.adapterInfo.vendor.length > 0);
});

gpuTest("buffers: write, pooled reuse, readMany in one submission", async (gpu) => {
  const a = gpu.upload(new Float32Array([1, 2, 3]));
  const first = a.buffer;
  gpu.free(a);
  const b = gpu.allocate(5); // same 256-byte bucket: the pooled buffer comes back
  assert.equal(b.buffer, first);
  gpu.write(b, new Float32Array([4, 5, 6, 7, 8]));
  const c = gpu.upload(new Float32Array([9]));
  const empty = gpu.allocate(0);
  const [rb, rc, re] = await gpu.readMany([b, c, empty]);
  assert.deepEqual([...rb], [4, 5, 6, 7, 8]);
  assert.deepEqual([...rc], [9]);
  assert.equal(re.length, 0);
  assert.throws(() => gpu.write(c, new Float32Array(2)), /write: 2 floats/);
  for (const x of [b, c, empty]) gpu.free(x);
});

// m×n×k; odd sizes cross every edge of the 4×4 blocks and 32×32 tiles; m ≤ 4 takes the skinny
// kernel. k % 4 == 0 (with m or n too, by layout) takes the vec4 kernel, the rest the scalar one.
const MATMUL_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 33],
  [17, 33, 65],
  [65, 3, 17],
  [33, 65, 4],
  [36, 40, 12],
  [1, 1024, 256],
];

gpuTest("matmul: all transpose combinations, odd and model shapes", async (gpu) => {
  for (const [m, n, k] of MATMUL_SHAPES) {
    const a = random(m * k);
    const b = random(k * n);
    const ga = gpu.upload(a);
    const gb = gpu.upload(b);
    const outs = [];
    const expected: Float32Array[] = [];
    const names: string[] = [];
    const kernels = m <= SKINNY_MAX_ROWS ? ["tiled", "skinny"] as const : ["tiled"] as const;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const c = new Float32Array(m * n);
        gemm(transA, transB, m, n, k, a, b, c);
        for (const kernel of kernels) {
          outs.push(gpuMatmul(gpu, ga, gb, m, n, k, transA, transB, { kernel }));
          expected.push(c);
          names.push(`${kernel} matmul ${m}×${n}×${k} transA ${transA} transB ${transB}`);
        }
      }
    }
    const got = await gpu.readMany(outs);
    names.forEach((name, i) => assertClose(got[i], expected[i], name));
    for (const x of [ga, gb, ...outs]) gpu.free(x);
  }
});

gpuTest(
  "matmul: linear layer products at 20×1024×288, accumulate, skinny at m = 3",
  async (gpu) => {
    const [batch, out, inp] = [20, 1024, 288];
    const x = random(batch * inp);
    const w = random(out * inp);
    const dy = random(batch * out);
    const [gx, gw, gdy] = [gpu.upload(x), gpu.upload(w), gpu.upload(dy)];
    const y = gpuMatmul(gpu, gx, gw, batch, out, inp, false, true); // x·Wᵀ
    const dx = gpuMatmul(gpu, gdy, gw, batch, inp, out); // dY·W
    const dw = gpu.upload(new Float32Array(out * inp).fill(0.5));
    gpuMatmul(gpu, gdy, gx, out, inp, batch, true, false, { out: dw, accumulate: true }); // += dYᵀ·X
    const tiny = gpuMatmul(gpu, gx, gw, 3, out, inp, false, true, { kernel: "skinny" });
    const got = await gpu.readMany([y, dx, dw, tiny]);
    const ey = new Float32Array(batch * out);
    gemm(false, true, batch, out, inp, x, w, ey);
    const edx = new Float32Array(batch * inp);
    gemm(false, false, batch, inp, out, dy, w, edx);
    const edw = new Float32Array(out * inp).fill(0.5);
    gemm(true, false, out, inp, batch, dy, x, edw, true);
    assertClose(got[0], ey, "linear forward x·Wᵀ 20×1024×288");
    assertClose(got[1], edx, "linear dX = dY·W 20×288×1024");
    assertClose(got[2], edw, "linear dW += dYᵀ·X 1024×288×20");
    assertClose(got[3], ey.subarray(0, 3 * out), "skinny matmul 3×1024×288");
    assert.throws(
      () => gpuMatmul(gpu, gx, gw, 30, out, inp, false, true),
      /gpuMatmul: A holds 5760 floats, 30×1024×288/,
    );
    for (const a of [gx, gw, gdy, y, dx, dw, tiny]) gpu.free(a);
  },
);

const ACTIVATIONS: [Activation, (x: Tensor) => Tensor, number][] = [
  ["relu", relu, 0],
  ["elu", (x) => elu(x, 0.7), 0.7],
  ["leakyRelu", (x) => leakyRelu(x, 0.05), 0.05],
  ["tanh", tanh, 0],
  ["sigmoid", sigmoid, 0],
  ["softplus", softplus, 0],
  ["softsign", softsign, 0],
];

gpuTest("activations: forward and backward", async (gpu) => {
  for (const n of [1, 17, 65 * 33]) {
    const x = random(n, -4, 4);
    if (n > 2) x.set([30, -30, 0]); // saturation and the kink
    const g = random(n);
    const gx = gpu.upload(x);
    const gg = gpu.upload(g);
    const outs = [];
    const expected: ArrayLike<number>[] = [];
    for (const [name, op, param] of ACTIVATIONS) {
      const y = gpuActivation(gpu, name, gx, param || undefined);
      const saved = ACTIVATION_SAVES[name] === "input" ? gx : y;
      const dx = gpuActivationBackward(gpu, name, gg, saved, param || undefined);
      const xt = tensor(x, [n], { requiresGrad: true });
      const yt = op(xt);
      yt.backward(g);
      outs.push(y, dx);
      expected.push(yt.data, xt.grad!);
    }
    const got = await gpu.readMany(outs);
    ACTIVATIONS.forEach(([name], i) => {
      assertClose(got[2 * i], expected[2 * i], `${name} forward [${n}]`);
      assertClose(got[2 * i + 1], expected[2 * i + 1], `${name} backward [${n}]`);
    });
    // Backward accumulating into an existing gradient.
    const acc = gpu.upload(g);
    gpuActivationBackward(gpu, "tanh", gg, outs[6], undefined, { out: acc, accumulate: true });
    const [accumulated] = await gpu.readMany([acc]);
    assertClose(accumulated, g.map((v, i) => v + expected[7][i]), `tanh backward += [${n}]`);
    for (const a of [gx, gg, acc, ...outs]) gpu.free(a);
  }
});

const BINARY: [BinaryOp, (a: Tensor, b: Tensor) => Tensor][] = [
  ["add", add],
  ["sub", sub],
  ["mul", mul],
  ["div", div],
];

gpuTest("binary ops: same shape and bias broadcast over rows", async (gpu) => {
  for (const [rows, cols] of [[1, 1], [3, 17], [20, 1024], [65, 33]]) {
    const a = random(rows * cols);
    const same = random(rows * cols).map((v) => v + Math.sign(v)); // |b| ≥ 1 for div
    const bias = random(cols).map((v) => v + Math.sign(v));
    const [ga, gs, gb] = [gpu.upload(a), gpu.upload(same), gpu.upload(bias)];
    const outs = [];
    const expected: ArrayLike<number>[] = [];
    for (const [name, op] of BINARY) {
      outs.push(gpuBinary(gpu, name, ga, gs), gpuBinary(gpu, name, ga, gb));
      const at = tensor(a, [rows, cols]);
      expected.push(op(at, tensor(same, [rows, cols])).data, op(at, tensor(bias, [cols])).data);
    }
    const got = await gpu.readMany(outs);
    BINARY.forEach(([name], i) => {
      assertClose(got[2 * i], expected[2 * i], `${name} [${rows},${cols}]`);
      assertClose(got[2 * i + 1], expected[2 * i + 1], `${name} [${rows},${cols}] + bias`);
    });
    for (const x of [ga, gs, gb, ...outs]) gpu.free(x);
  }
  const [a, b] = [gpu.allocate(6), gpu.allocate(4)];
  assert.throws(() => gpuBinary(gpu, "add", a, b), /gpuBinary\(add\): b of length 4/);
  gpu.free(a);
  gpu.free(b);
});

gpuTest("reductions and softmax: rows, columns, all; stable for large logits", async (gpu) => {
  for (const [rows, cols] of [[1, 1], [3, 17], [33, 65], [20, 1024], [1, 256]]) {
    const x = random(rows * cols, -3, 3);
    if (cols > 2) x.set([80, -80]); // exp overflows without the max shift
    const gx = gpu.upload(x);
    const outs = [
      gpuSum(gpu, gx, rows, cols),
      gpuSum(gpu, gx, rows, cols, 1),
      gpuSum(gpu, gx, rows, cols, 0),
      gpuSum(gpu, gx, rows, cols, 0, true),
      gpuSum(gpu, gx, rows, cols, undefined, true),
      gpuSoftmax(gpu, gx, rows, cols),
      gpuSoftmax(gpu, gx, rows, cols, true),
    ];
    const xt = tensor(x, [rows, cols]);
    const expected = [
      sum(xt).data,
      sum(xt, 1).data,
      sum(xt, 0).data,
      mean(xt, 0).data,
      mean(xt).data,
      softmax(xt, -1).data,
      logSoftmax(xt, -1).data,
    ];
    const names = ["sum", "sum rows", "sum cols", "mean cols", "mean", "softmax", "logSoftmax"];
    const got = await gpu.readMany(outs);
    names.forEach((name, i) => assertClose(got[i], expected[i], `${name} [${rows},${cols}]`));
    for (const a of [gx, ...outs]) gpu.free(a);
  }
});

// The small model's four convolutions (batch 2), the large model's (batch 1) and odd shapes:
// 3 input channels, batch 3, non-square inputs and kernels, stride 3, padding 0 and 2, 33 output
// channels (past one 32-wide block). Positions beyond 512 split the weight gradient into chunks.
const CONV_CASES: [string, Conv2dShape][] = [
  ["small conv1", conv(2, 1, 42, 42, 32, 3, 3, 2, 1)],
  ["small conv2", conv(2, 32, 21, 21, 32, 3, 3, 2, 1)],
  ["small conv3", conv(2, 32, 11, 11, 32, 3, 3, 2, 1)],
  ["small conv4", conv(2, 32, 6, 6, 32, 3, 3, 2, 1)],
  ["large conv1", conv(1, 1, 80, 80, 32, 5, 5, 1, 2)],
  ["large conv2", conv(1, 32, 40, 40, 32, 5, 5, 1, 1)],
  ["large conv3", conv(1, 32, 19, 19, 64, 4, 4, 1, 1)],
  ["large conv4", conv(1, 64, 9, 9, 64, 3, 3, 1, 1)],
  ["inC 3, batch 3, 7×10, kernel 3×2, stride 3, padding 0", conv(3, 3, 7, 10, 5, 3, 2, 3, 0)],
  ["inC 3, batch 3, 9×6, kernel 4×3, stride 2, padding 2", conv(3, 3, 9, 6, 6, 4, 3, 2, 2)],
  ["inC 5, 11×8, kernel 5, stride 3, padding 2", conv(2, 5, 11, 8, 7, 5, 5, 3, 2)],
  ["1×1 kernel, 33 output channels", conv(2, 4, 3, 5, 33, 1, 1, 1, 0)],
];

function conv(
  batch: number,
  inChannels: number,
  height: number,
  width: number,
  outChannels: number,
  kernelH: number,
  kernelW: number,
  stride: number,
  padding: number,
): Conv2dShape {
  return { batch, inChannels, height, width, outChannels, kernelH, kernelW, stride, padding };
}

gpuTest("conv2d: forward, dx, dW and db against the CPU op, model and odd shapes", async (gpu) => {
  for (const [name, s] of CONV_CASES) {
    const { outH, outW } = conv2dOutputSize(s);
    const xShape = [s.batch, s.inChannels, s.height, s.width];
    const wShape = [s.outChannels, s.inChannels, s.kernelH, s.kernelW];
    const x = random(xShape.reduce((a, b) => a * b));
    const w = random(wShape.reduce((a, b) => a * b));
    const b = random(s.outChannels);
    const g = random(s.batch * s.outChannels * outH * outW);
    const xt = tensor(x, xShape, { requiresGrad: true });
    const wt = tensor(w, wShape, { requiresGrad: true });
    const bt = tensor(b, [s.outChannels], { requiresGrad: true });
    const yt = conv2d(xt, wt, bt, { stride: s.stride, padding: s.padding });
    sum(mul(yt, tensor(g, yt.shape))).backward();
    assert.deepEqual(yt.shape, [s.batch, s.outChannels, outH, outW]);

    const [gx, gw, gb, gg] = [gpu.upload(x), gpu.upload(w), gpu.upload(b), gpu.upload(g)];
    const y = gpuConv2d(gpu, gx, gw, gb, s);
    const dWeight = gpu.allocate(w.length);
    const dBias = gpu.allocate(b.length);
    const dx = gpuConv2dBackward(gpu, gg, gx, gw, s, { dWeight, dBias })!;
    const got = await gpu.readMany([y, dx, dWeight, dBias]);
    assertClose(got[0], yt.data, `conv2d ${name}: y`);
    assertClose(got[1], xt.grad!, `conv2d ${name}: dx`);
    assertClose(got[2], wt.grad!, `conv2d ${name}: dW`);
    assertClose(got[3], bt.grad!, `conv2d ${name}: db`);
    for (const a of [gx, gw, gb, gg, y, dx, dWeight, dBias]) gpu.free(a);
  }
});

gpuTest("conv2d: accumulated gradients, no dx, given outputs, size errors", async (gpu) => {
  const s = CONV_CASES[9][1];
  const { outH, outW } = conv2dOutputSize(s);
  const xShape = [s.batch, s.inChannels, s.height, s.width];
  const wShape = [s.outChannels, s.inChannels, s.kernelH, s.kernelW];
  const x = random(xShape.reduce((a, b) => a * b));
  const w = random(wShape.reduce((a, b) => a * b));
  const g = random(s.batch * s.outChannels * outH * outW);
  const xt = tensor(x, xShape, { requiresGrad: true });
  const wt = tensor(w, wShape, { requiresGrad: true });
  const bt = tensor(new Float32Array(s.outChannels), [s.outChannels], { requiresGrad: true });
  const yt = conv2d(xt, wt, bt, { stride: s.stride, padding: s.padding });
  sum(mul(yt, tensor(g, yt.shape))).backward();

  const [gx, gw, gg] = [gpu.upload(x), gpu.upload(w), gpu.upload(g)];
  const gb = gpu.upload(new Float32Array(s.outChannels));
  const y = gpu.allocate(g.length);
  assert.equal(gpuConv2d(gpu, gx, gw, gb, s, y), y);
  const dWeight = gpu.upload(new Float32Array(w.length).fill(0.5));
  const dBias = gpu.upload(new Float32Array(s.outChannels).fill(-1));
  const none = gpuConv2dBackward(gpu, gg, gx, gw, s, {
    dWeight,
    dBias,
    accumulate: true,
    dx: false,
  });
  assert.equal(none, null);
  const dxOut = gpu.upload(new Float32Array(x.length).fill(9));
  const scratchW = gpu.allocate(w.length);
  const scratchB = gpu.allocate(s.outChannels);
  const dx = gpuConv2dBackward(gpu, gg, gx, gw, s, {
    dWeight: scratchW,
    dBias: scratchB,
    dxOut,
  });
  assert.equal(dx, dxOut);
  const got = await gpu.readMany([y, dWeight, dBias, dxOut]);
  assertClose(got[0], yt.data, "conv2d into a given output: y");
  assertClose(got[1], wt.grad!.map((v) => v + 0.5), "conv2d dW += (accumulate)");
  assertClose(got[2], bt.grad!.map((v) => v - 1), "conv2d db += (accumulate)");
  assertClose(got[3], xt.grad!, "conv2d dx overwrites dxOut");

  const small = { ...s, batch: s.batch + 1 };
  assert.throws(
    () => gpuConv2d(gpu, gx, gw, gb, small),
    /gpuConv2d: x holds 486 floats, \[4,3,9,6\] needs 648/,
  );
  assert.throws(
    () => gpuConv2dBackward(gpu, gg, gx, gw, s, { dWeight: dBias, dBias, dx: false }),
    /gpuConv2dBackward: dWeight holds 6 floats, \[6,3,4,3\] needs 216/,
  );
  assert.throws(
    () => gpuConv2dBackward(gpu, gg, gx, gb, s, { dWeight, dBias }),
    /gpuConv2dBackward: weight holds 6 floats, \[6,3,4,3\] needs 216/,
  );
  assert.throws(
    () => conv2dOutputSize({ ...s, kernelH: 20 }),
    /conv2dOutputSize: kernel \[20,3\] is larger than the padded input \[3,3,9,6\] \(padding 2\)/,
  );
  assert.throws(() => gpuConv2d(gpu, gx, gw, gb, { ...s, stride: 0 }), /gpuConv2d: bad shape/);
  for (const a of [gx, gw, gb, gg, y, dWeight, dBias, dxOut, scratchW, scratchB]) gpu.free(a);
});

// The large model's pools (batch 1; 9×9 → 4 leaves a row and a column out), overlapping windows
// (kernel 3, stride 2 and 1) and gaps between windows (kernel 2, stride 3), the odd ones on small
// integers so that windows hold ties.
const POOL_CASES: [Pool2dShape, boolean][] = [
  [pool(1, 32, 80, 80, 2, 2), false],
  [pool(1, 32, 38, 38, 2, 2), false],
  [pool(1, 64, 18, 18, 2, 2), false],
  [pool(1, 64, 9, 9, 2, 2), true],
  [pool(2, 3, 7, 9, 3, 2), true],
  [pool(1, 2, 5, 6, 3, 1), true],
  [pool(2, 1, 8, 7, 2, 3), true],
];

function pool(
  batch: number,
  channels: number,
  height: number,
  width: number,
  kernel: number,
  stride: number,
): Pool2dShape {
  return { batch, channels, height, width, kernel, stride };
}

gpuTest("maxPool2d: forward and dx against the CPU op, first maximum on ties", async (gpu) => {
  for (const [s, ties] of POOL_CASES) {
    const shape = [s.batch, s.channels, s.height, s.width];
    const n = shape.reduce((a, b) => a * b);
    const x = ties ? random(n, -2.5, 2.5).map(Math.round) : random(n);
    const xt = tensor(x, shape, { requiresGrad: true });
    const yt = maxPool2d(xt, s.kernel, s.stride);
    const g = random(yt.size);
    sum(mul(yt, tensor(g, yt.shape))).backward();
    const [gx, gg] = [gpu.upload(x), gpu.upload(g)];
    const y = gpuMaxPool2d(gpu, gx, s);
    const dx = gpuMaxPool2dBackward(gpu, gg, gx, s);
    const [gotY, gotDx] = await gpu.readMany([y, dx]);
    const name = `maxPool2d [${shape}] kernel ${s.kernel} stride ${s.stride}`;
    assertClose(gotY, yt.data, `${name}: y`);
    assertClose(gotDx, xt.grad!, `${name}: dx`);
    for (const a of [gx, gg, y, dx]) gpu.free(a);
  }
  const [x, y] = [gpu.allocate(10), gpu.allocate(4)];
  assert.throws(
    () => gpuMaxPool2d(gpu, x, pool(1, 1, 4, 4, 2, 2)),
    /gpuMaxPool2d: x holds 10 floats, \[1,1,4,4\] needs 16/,
  );
  assert.throws(
    () => gpuMaxPool2dBackward(gpu, x, y, pool(1, 1, 4, 4, 2, 2)),
    /gpuMaxPool2dBackward: x holds 4 floats, \[1,1,4,4\] needs 16/,
  );
  assert.throws(() => gpuMaxPool2d(gpu, x, pool(1, 1, 2, 2, 3, 1)), /kernel 3 is larger/);
  gpu.free(x);
  gpu.free(y);
});

gpuTest("LSTM cell: 3 steps forward and backward against lstmCell", async (gpu) => {
  const steps = 3;
  for (const [batch, input, hidden] of [[3, 5, 7], [2, 24, 64]]) {
    const g4 = 4 * hidden;
    const xs = Array.from({ length: steps }, () => random(batch * input, -2, 2));
    const [h0, c0] = [random(batch * hidden), random(batch * hidden)];
    const [wIh, wHh] = [random(g4 * input), random(g4 * hidden)];
    const [bIh, bHh] = [random(g4), random(g4)];
    const gh = Array.from({ length: steps }, () => random(batch * hidden));

    // CPU: loss = Σ_t sum(h_t ⊙ gh_t), so the last step gets no gradient through c.
    const param = (v: Float32Array, shape: number[]) => tensor(v, shape, { requiresGrad: true });
    const xts = xs.map((x) => param(x, [batch, input]));
    const [h0t, c0t] = [param(h0, [batch, hidden]), param(c0, [batch, hidden])];
    const [wIht, wHht] = [param(wIh, [g4, input]), param(wHh, [g4, hidden])];
    const [bIht, bHht] = [param(bIh, [g4]), param(bHh, [g4])];
    let state = { h: h0t, c: c0t };
    const cpuStates = [];
    let loss: Tensor | null = null;
    for (let t = 0; t < steps; t++) {
      state = lstmCell(xts[t], state.h, state.c, wIht, wHht, bIht, bHht);
      cpuStates.push(state);
      const term = sum(mul(state.h, tensor(gh[t], [batch, hidden])));
      loss = loss === null ? term : add(loss, term);
    }
    loss!.backward();

    // GPU forward: gates = x·W_ihᵀ + h·W_hhᵀ + (b_ih + b_hh), then the fused cell.
    const gxs = xs.map((x) => gpu.upload(x));
    const [gWih, gWhh] = [gpu.upload(wIh), gpu.upload(wHh)];
    const [gbIh, gbHh] = [gpu.upload(bIh), gpu.upload(bHh)];
    const bias = gpuBinary(gpu, "add", gbIh, gbHh);
    const hs: GpuArray[] = [gpu.upload(h0)];
    const cs: GpuArray[] = [gpu.upload(c0)];
    const acts: GpuArray[] = [];
    const temps: GpuArray[] = [];
    for (let t = 0; t < steps; t++) {
      const pre = gpuMatmul(gpu, gxs[t], gWih, batch, g4, input, false, true);
      gpuMatmul(gpu, hs[t], gWhh, batch, g4, hidden, false, true, { out: pre, accumulate: true });
      const gates = gpuBinary(gpu, "add", pre, bias);
      const next = gpuLstmCell(gpu, gates, cs[t], batch, hidden);
      hs.push(next.h);
      cs.push(next.c);
      acts.push(next.act);
      temps.push(pre, gates);
    }

    // GPU backward through the 3 steps.
    const dWih = gpu.allocate(g4 * input);
    const dWhh = gpu.allocate(g4 * hidden);
    const dxs: GpuArray[] = [];
    let dh: GpuArray | null = null;
    let dc: GpuArray | null = null;
    let dGatesSum: GpuArray | null = null;
    for (let t = steps - 1; t >= 0; t--) {
      const ght = gpu.upload(gh[t]);
      const dhTotal = dh === null ? ght : gpuBinary(gpu, "add", ght, dh);
      const back = gpuLstmCellBackward(gpu, dhTotal, dc, acts[t], cs[t], cs[t + 1], batch, hidden);
      const accumulate = t < steps - 1;
      dxs[t] = gpuMatmul(gpu, back.dGates, gWih, batch, input, g4);
      gpuMatmul(gpu, back.dGates, gxs[t], g4, input, batch, true, false, { out: dWih, accumulate });
      gpuMatmul(gpu, back.dGates, hs[t], g4, hidden, batch, true, false, {
        out: dWhh,
        accumulate,
      });
      temps.push(ght, dhTotal, back.dGates);
      if (dh !== null) temps.push(dh);
      if (dc !== null) temps.push(dc);
      if (dGatesSum !== null) temps.push(dGatesSum);
      dGatesSum = dGatesSum === null ? back.dGates : gpuBinary(gpu, "add", dGatesSum, back.dGates);
      dh = gpuMatmul(gpu, back.dGates, gWhh, batch, hidden, g4);
      dc = back.dcPrev;
    }
    const db = gpuSum(gpu, dGatesSum!, batch, g4, 0);
    const got = await gpu.readMany([
      ...hs.slice(1),
      ...cs.slice(1),
      ...dxs,
      dh!,
      dc!,
      dWih,
      dWhh,
      db,
    ]);
    const name = `LSTM batch ${batch} input ${input} hidden ${hidden}`;
    for (let t = 0; t < steps; t++) {
      assertClose(got[t], cpuStates[t].h.data, `${name}: h step ${t + 1}`);
      assertClose(got[steps + t], cpuStates[t].c.data, `${name}: c step ${t + 1}`);
      assertClose(got[2 * steps + t], xts[t].grad!, `${name}: dx step ${t + 1}`);
    }
    assertClose(got[3 * steps], h0t.grad!, `${name}: dh0`);
    assertClose(got[3 * steps + 1], c0t.grad!, `${name}: dc0`);
    assertClose(got[3 * steps + 2], wIht.grad!, `${name}: dW_ih`);
    assertClose(got[3 * steps + 3], wHht.grad!, `${name}: dW_hh`);
    assertClose(got[3 * steps + 4], bIht.grad!, `${name}: db_ih`);
    assertClose(got[3 * steps + 4], bHht.grad!, `${name}: db_hh`);
    const all = [...gxs, gWih, gWhh, gbIh, gbHh, bias, ...hs, ...cs, ...acts, ...temps, ...dxs];
    for (const a of [...all, dh!, dc!, dWih, dWhh, db, dGatesSum!]) gpu.free(a);
  }
  const [small, big] = [gpu.allocate(6), gpu.allocate(64)];
  assert.throws(
    () => gpuLstmCell(gpu, small, big, 2, 4),
    /gpuLstmCell: gates holds 6 floats, \[2,16\] needs 32/,
  );
  assert.throws(
    () => gpuLstmCellBackward(gpu, big, small, big, big, big, 2, 4),
    /gpuLstmCellBackward: dc holds 6 floats, \[2,4\] needs 8/,
  );
  gpu.free(small);
  gpu.free(big);
});

gpuTest("scaleRows: out of place and in place, against a broadcast mul", async (gpu) => {
  for (const [rows, cols] of [[5, 7], [3, 300]]) {
    const x = random(rows * cols);
    const scale = random(rows);
    scale[0] = 0; // a reset row
    if (rows > 2) scale[2] = 1;
    const g = random(rows * cols);
    const xt = tensor(x, [rows, cols], { requiresGrad: true });
    const yt = mul(xt, tensor(scale, [rows, 1]));
    sum(mul(yt, tensor(g, [rows, cols]))).backward();
    const [gx, gs, gg] = [gpu.upload(x), gpu.upload(scale), gpu.upload(g)];
    const y = gpuScaleRows(gpu, gx, gs, rows, cols);
    assert.equal(gpuScaleRows(gpu, gg, gs, rows, cols, gg), gg); // dx = g ⊙ scale, in place
    const [gotY, gotDx] = await gpu.readMany([y, gg]);
    assertClose(gotY, yt.data, `scaleRows [${rows},${cols}]`);
    assertClose(gotDx, xt.grad!, `scaleRows in place [${rows},${cols}]`);
    for (const a of [gx, gs, gg, y]) gpu.free(a);
  }
  const [x, s] = [gpu.allocate(12), gpu.allocate(2)];
  assert.throws(
    () => gpuScaleRows(gpu, x, s, 3, 4),
    /gpuScaleRows: scale holds 2 floats, \[3\] needs 3/,
  );
  gpu.free(x);
  gpu.free(s);
});

Deno.test({
  name: "webgpu: destroy the device",
  ignore: backend === null,
  fn: () => {
    backend!.destroy();
    assert.throws(() => backend!.allocate(1), /allocate after destroy/);
  },
});
