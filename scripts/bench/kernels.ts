/**
 * `deno task bench kernels [--json] [--quick] [--no-peers] [--all-peers]`: CPU kernel throughput,
 * one thread.
 *
 * - `gemm`: GFLOP/s of `gemm` at the models' shapes (batch-1 and batch-20 LSTM products, the
 *   weight-gradient product) plus 256³ and 512³, with the default kernels (WebAssembly SIMD where
 *   available), with the plain TypeScript kernels (`gflops_ts`) and with the wasm kernels on operands
 *   already in wasm memory (`gflops_wasm_resident`: what keeping weights there would give).
 * - `conv`: conv2d forward and backward GFLOP/s for every layer of both Atari models at batch 20.
 * - `rollout`: agent steps/s of a full A3C-LSTM rollout (act 20 steps at batch 1 without grad, then
 *   the training forward batched over the 20 steps, loss, backward, global-norm clip) for the small
 *   (42×42) and large (80×80) models, built here directly from the ops.
 * - `peers`: the same GEMM and rollout figures with TensorFlow.js 4.22 (`@tensorflow/tfjs`: tfjs-core
 *   with its gradients) on its `cpu` backend and on `@tensorflow/tfjs-backend-wasm` (one thread,
 *   XNNPACK), and our ratio to each. tfjs-cpu's large-model rollout takes
 *   minutes, so it runs (once) only with `--all-peers`.
 *
 * Figures are the best of several runs; on a shared machine they still move by tens of percent.
 *
 * @module
 */
import { bestTime } from "./machine.ts";
import { wasmGemm } from "../../autograd/backends/cpu/wasm_gemm.ts";
import { Parameters } from "../../autograd/parameters.ts";
import { Rng } from "../../autograd/random.ts";
import { ActorCritic } from "../../models/actor_critic.ts";
import {
  LARGE_CONV,
  LARGE_FRAME,
  SMALL_CONV,
  SMALL_FRAME,
  smallAtari,
} from "../../models/families.ts";
import {
  type ConvLayer as ArchitectureConv,
  convOutputShape,
  encoderSpecs,
} from "../../models/architecture.ts";
import { gemm, setGemmKernels } from "../../autograd/backends/cpu/gemm.ts";
import {
  relaxedSimdSupported,
  simdSupported,
  WasmGemm,
} from "../../autograd/backends/cpu/wasm_gemm.ts";
import { noGrad, Tensor, tensor } from "../../autograd/tensor.ts";
import { conv2d } from "../../autograd/ops/conv.ts";
import { maxPool2d } from "../../autograd/ops/pool.ts";
import { lstmCell, lstmCellProjected, lstmInputProjection } from "../../autograd/ops/lstm.ts";
import {
  add,
  concat,
  elu,
  gather,
  linear,
  logSoftmax,
  mul,
  mulScalar,
  relu,
  reshape,
  slice,
  softmax,
  sub,
  sum,
} from "../../autograd/ops/mod.ts";

// ---------------------------------------------------------------------------------------------
// Shapes

/** An Atari actor-critic: conv stack → LSTMCell → actor and critic heads. */
interface ModelSpec {
  name: "small" | "large";
  size: number;
  /** The conv stack as `models/families.ts` describes it. */
  convs: readonly ArchitectureConv[];
  act: "elu" | "relu";
  features: number;
  hidden: number;
  actions: number;
}

/** The bench's view of a model's conv stack as `models/families.ts` describes it. */
function atariSpec(
  name: ModelSpec["name"],
  size: number,
  layers: readonly ArchitectureConv[],
  hidden: number,
): ModelSpec {
  const act = layers[0].activation;
  if ((act !== "elu" && act !== "relu") || layers.some((l) => l.activation !== act)) {
    throw new TypeError(`bench: ${name} is not a stack of ELU or of ReLU layers`);
  }
  return {
    name,
    size,
    convs: layers,
    act,
    features: encoderSpecs(layers, [1, size, size]).features,
    hidden,
    actions: 6,
  };
}

/** Input channels of conv layer `i` (the frames are single-channel). */
const inChannels = (spec: ModelSpec, i: number) => i === 0 ? 1 : spec.convs[i - 1].channels;

const SMALL = atariSpec("small", SMALL_FRAME, SMALL_CONV, 256);
const LARGE = atariSpec("large", LARGE_FRAME, LARGE_CONV, 512);

const STEPS = 20;

/** A product C = op(A)·op(B): m×n with inner size k, the transposes, and what it is. */
type GemmShape = [m: number, n: number, k: number, transA: boolean, transB: boolean, what: string];

/** The LSTM products of a model: gates G = 4·hidden, over x (features), h, or both joined. */
type LstmProduct = "act x" | "act h" | "act [x,h]" | "project" | "[x,h]" | "dW" | "dX";

/** `products` of `spec`'s LSTM: acting at batch 1, a rollout's forward at batch T, its backward. */
function lstmShapes(spec: ModelSpec, products: readonly LstmProduct[]): GemmShape[] {
  const g = 4 * spec.hidden, x = spec.features, xh = x + spec.hidden;
  const shapes: Record<LstmProduct, GemmShape> = {
    "act x": [1, g, x, false, true, "x·W_ihᵀ, act"],
    "act h": [1, g, spec.hidden, false, true, "h·W_hhᵀ, act"],
    "act [x,h]": [1, g, xh, false, true, "[x,h]·Wᵀ, act"],
    "project": [STEPS, g, x, false, true, `input projection, ${STEPS} steps`],
    "[x,h]": [STEPS, g, xh, false, true, `[x,h]·Wᵀ, batch ${STEPS}`],
    "dW": [g, x, STEPS, true, false, "dW_ih = dGᵀ·X"],
    "dX": [STEPS, x, g, false, false, "dX = dG·W"],
  };
  return products.map((p) => {
    const [m, n, k, tA, tB, what] = shapes[p];
    return [m, n, k, tA, tB, `${spec.name} LSTM ${what}`];
  });
}

/** Conv layer `i` of `spec` as the im2col product of one sample: C_out × (H·W) over C_in·k². */
function im2colShape(spec: ModelSpec, i: number): GemmShape {
  let input = [1, spec.size, spec.size];
  for (const l of spec.convs.slice(0, i)) input = convOutputShape(l, input);
  const l = spec.convs[i];
  const [, h, w] = convOutputShape({ ...l, pool: null }, input);
  const what = `${spec.name} conv${i + 1} im2col forward, one sample`;
  return [l.channels, h * w, input[0] * l.kernel * l.kernel, false, false, what];
}

/** GEMM shapes, by the model whose products they are, and two squares for scale. */
const GEMM_SHAPES: GemmShape[] = [
  ...lstmShapes(SMALL, ["act x", "act h", "project", "dW"]),
  ...lstmShapes(LARGE, ["act x", "act [x,h]", "project", "[x,h]", "dW", "dX"]),
  im2colShape(LARGE, 1),
  [256, 256, 256, false, false, "256³"],
  [512, 512, 512, false, false, "512³"],
];

// ---------------------------------------------------------------------------------------------
// Helpers

function filled(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function param(shape: number[], seed: number): Tensor {
  const fan = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b) : shape[0];
  return tensor(filled(shape.reduce((a, b) => a * b), seed, 1 / Math.sqrt(fan)), shape, {
    requiresGrad: true,
  });
}

function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function gemmGflops(m: number, n: number, k: number, tA: boolean, tB: boolean, ms: number) {
  const a = filled(m * k, 1, 1), b = filled(k * n, 2, 1), c = new Float32Array(m * n);
  const t = bestTime(() => gemm(tA, tB, m, n, k, a, b, c), ms);
  return (2 * m * n * k) / (t * 1e6);
}

/** The wasm kernels with A, B and C allocated in wasm memory (no copies where layouts fit). */
function residentGflops(m: number, n: number, k: number, tA: boolean, tB: boolean, ms: number) {
  // Room for the operands and any scratch, so that no growth detaches the views below.
  const room = (m + 4) * (k + 4) + (k + 8) * (n + 8) + (m + 4) * (n + 8);
  const w = new WasmGemm({ initialBytes: 8 * room + (1 << 20) });
  const a = w.alloc(m * k), b = w.alloc(k * n), c = w.alloc(m * n);
  a.set(filled(m * k, 1, 1));
  b.set(filled(k * n, 2, 1));
  const t = bestTime(() => w.gemm(tA, tB, m, n, k, a, b, c), ms);
  return (2 * m * n * k) / (t * 1e6);
}

// ---------------------------------------------------------------------------------------------
// The rollout on our ops

interface Model {
  spec: ModelSpec;
  convs: { w: Tensor; b: Tensor }[];
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor;
  bHh: Tensor;
  actorW: Tensor;
  actorB: Tensor;
  criticW: Tensor;
  criticB: Tensor;
  params: Tensor[];
}

function buildModel(spec: ModelSpec): Model {
  let seed = 10;
  const convs = spec.convs.map((l, i) => ({
    w: param([l.channels, inChannels(spec, i), l.kernel, l.kernel], seed++),
    b: param([l.channels], seed++),
  }));
  const h4 = 4 * spec.hidden;
  const m: Omit<Model, "params"> = {
    spec,
    convs,
    wIh: param([h4, spec.features], seed++),
    wHh: param([h4, spec.hidden], seed++),
    bIh: param([h4], seed++),
    bHh: param([h4], seed++),
    actorW: param([spec.actions, spec.hidden], seed++),
    actorB: param([spec.actions], seed++),
    criticW: param([1, spec.hidden], seed++),
    criticB: param([1], seed++),
  };
  const params = [
    ...convs.flatMap((c) => [c.w, c.b]),
    m.wIh,
    m.wHh,
    m.bIh,
    m.bHh,
    m.actorW,
    m.actorB,
    m.criticW,
    m.criticB,
  ];
  return { ...m, params };
}

function features(model: Model, obs: Tensor): Tensor {
  let x = obs;
  model.spec.convs.forEach((l, i) => {
    x = conv2d(x, model.convs[i].w, model.convs[i].b, { stride: l.stride, padding: l.padding });
    if (l.pool !== null) x = maxPool2d(x, l.pool);
    x = model.spec.act === "elu" ? elu(x) : relu(x);
  });
  return reshape(x, [x.shape[0], model.spec.features]);
}

/** Sampled action from probabilities (a fixed uniform draw keeps runs comparable). */
function sample(p: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    acc += p[i];
    if (u < acc) return i;
  }
  return p.length - 1;
}

/** Returns and GAE advantages for fixed rewards (γ = 0.99, τ = 1). */
function targets(values: ArrayLike<number>, bootstrap: number) {
  const rewards = Array.from({ length: STEPS }, (_, t) => (t % 7 === 3 ? 1 : 0));
  const ret = new Float32Array(STEPS), gae = new Float32Array(STEPS);
  let r = bootstrap, g = 0;
  for (let t = STEPS - 1; t >= 0; t--) {
    r = rewards[t] + 0.99 * r;
    ret[t] = r;
    const next = t + 1 < STEPS ? values[t + 1] : bootstrap;
    g = g * 0.99 + rewards[t] + 0.99 * next - values[t];
    gae[t] = g;
  }
  return { ret, gae };
}

/** One rollout; with `actOnly`, just the 20 acting steps. */
function rollout(model: Model, frames: Float32Array[], actOnly = false): void {
  const { spec } = model;
  const h0 = tensor(new Float32Array(spec.hidden), [1, spec.hidden]);
  const c0 = tensor(new Float32Array(spec.hidden), [1, spec.hidden]);
  // Act: one step at a time, batch 1, no graph.
  const actions: number[] = [];
  noGrad(() => {
    let h = h0, c = c0;
    for (let t = 0; t < STEPS; t++) {
      const obs = tensor(frames[t], [1, 1, spec.size, spec.size]);
      ({ h, c } = lstmCell(features(model, obs), h, c, model.wIh, model.wHh, model.bIh, model.bHh));
      const p = softmax(linear(h, model.actorW, model.actorB));
      linear(h, model.criticW, model.criticB);
      actions.push(sample(p.data, (t * 0.37) % 1));
    }
  });
  if (actOnly) return;
  // Train: conv stack on all 20 frames, one input-projection GEMM, the recurrence per step.
  const batch = new Float32Array(STEPS * spec.size * spec.size);
  frames.forEach((f, t) => batch.set(f, t * f.length));
  const feats = features(model, tensor(batch, [STEPS, 1, spec.size, spec.size]));
  const proj = lstmInputProjection(feats, model.wIh, model.bIh);
  let h = h0, c = c0;
  const hs: Tensor[] = [];
  for (let t = 0; t < STEPS; t++) {
    ({ h, c } = lstmCellProjected(slice(proj, 0, t, t + 1), h, c, model.wHh, model.bHh));
    hs.push(h);
  }
  const hAll = concat(hs, 0);
  const logits = linear(hAll, model.actorW, model.actorB);
  const values = reshape(linear(hAll, model.criticW, model.criticB), [STEPS]);
  const logp = logSoftmax(logits);
  const entropy = mulScalar(sum(mul(softmax(logits), logp)), -1);
  const { ret, gae } = targets(values.data, 0.5);
  const policyLoss = sub(
    mulScalar(sum(mul(gather(logp, actions), tensor(gae, [STEPS]))), -1),
    mulScalar(entropy, 0.01),
  );
  const diff = sub(tensor(ret, [STEPS]), values);
  const loss = add(policyLoss, mulScalar(sum(mul(diff, diff)), 0.25));
  for (const p of model.params) p.grad?.fill(0);
  loss.backward();
  // Global-norm clip at 40.
  let sq = 0;
  for (const p of model.params) for (const g of p.grad!) sq += g * g;
  const norm = Math.sqrt(sq);
  if (norm > 40) {
    const s = 40 / norm;
    for (const p of model.params) {
      const g = p.grad!;
      for (let i = 0; i < g.length; i++) g[i] *= s;
    }
  }
}

function framesFor(spec: ModelSpec): Float32Array[] {
  return Array.from({ length: STEPS }, (_, t) => filled(spec.size * spec.size, 100 + t, 0.5));
}

/** Steps/s of whole rollouts and of the acting steps alone. */
function rolloutStepsPerSec(spec: ModelSpec, ms: number): { full: number; act: number } {
  const model = buildModel(spec);
  const frames = framesFor(spec);
  const full = bestTime(() => rollout(model, frames), ms, 3);
  const act = bestTime(() => rollout(model, frames, true), ms / 2, 3);
  return { full: (STEPS * 1000) / full, act: (STEPS * 1000) / act };
}

/**
 * Env steps/s of acting as a training worker acts: the `small` model of `models/` with its
 * parameters in the wasm GEMM's memory (as workers keep them), `batch` observations per forward,
 * no graph, the LSTM state carried from step to step.
 */
function learnerActingStepsPerSec(batch: number, ms: number): number {
  const definition = smallAtari({
    observationShape: [1, 42, 42],
    policy: { kind: "categorical", actions: 6 },
    hiddenSize: 256,
  });
  const init = new Parameters(definition.specs);
  init.initialize(new Rng(1));
  const wasm = wasmGemm();
  const params = wasm === null ? init : Parameters.fromLayout(init.layout(), {
    data: wasm.alloc(init.size),
    grad: wasm.alloc(init.size),
  });
  params.copyFrom(init.data);
  const model = new ActorCritic(definition, params);
  const frames = Array.from({ length: STEPS }, (_, t) => filled(batch * 42 * 42, 100 + t, 0.5));
  const time = bestTime(
    () => {
      let state = model.initialState(batch);
      noGrad(() => {
        for (let t = 0; t < STEPS; t++) {
          state = model.sequence(tensor(frames[t], [batch, 1, 42, 42]), 1, state).state;
        }
      });
    },
    ms,
    3,
  );
  return (STEPS * batch * 1000) / time;
}

// ---------------------------------------------------------------------------------------------
// conv layers

interface ConvFigure {
  model: string;
  layer: number;
  input: number[];
  weight: number[];
  forward_gflops: number;
  backward_gflops: number;
}

function convFigures(ms: number): ConvFigure[] {
  const out: ConvFigure[] = [];
  for (const spec of [SMALL, LARGE]) {
    let size = spec.size;
    spec.convs.forEach((l, i) => {
      const cin = inChannels(spec, i), k = l.kernel;
      const xShape = [STEPS, cin, size, size];
      const wShape = [l.channels, cin, k, k];
      const x = tensor(filled(xShape.reduce((a, b) => a * b), 3, 1), xShape, {
        requiresGrad: i > 0,
      });
      const w = param(wShape, 4), b = param([l.channels], 5);
      const y = conv2d(x, w, b, { stride: l.stride, padding: l.padding });
      const [, , oh, ow] = y.shape;
      const flops = 2 * STEPS * l.channels * oh * ow * cin * k * k;
      const fwd = bestTime(() => conv2d(x, w, b, { stride: l.stride, padding: l.padding }), ms);
      const g = filled(y.size, 6, 1);
      const bwd = bestTime(() => y.backwardFn!(g), ms);
      // Backward: dW always, dX after the first layer.
      out.push({
        model: spec.name,
        layer: i + 1,
        input: xShape,
        weight: wShape,
        forward_gflops: round(flops / (fwd * 1e6)),
        backward_gflops: round(((i > 0 ? 2 : 1) * flops) / (bwd * 1e6)),
      });
      size = l.pool === null ? oh : Math.floor(oh / l.pool);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Peers: tfjs-core on its cpu and wasm backends

// deno-lint-ignore no-explicit-any
type Tf = any;

async function loadTf(): Promise<Tf> {
  // The umbrella package: tfjs-core's own bundle leaves out the gradient registrations (they only
  // ship as extensionless ESM files that Deno does not resolve), the umbrella's bundle has them.
  const tf = await import("npm:@tensorflow/tfjs@4.22.0");
  const wasm = await import("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
  // The wasm binaries ship in the npm package's dist/ folder, next to its entry point.
  const { createRequire } = await import("node:module");
  const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
  wasm.setWasmPaths(entry.slice(0, entry.lastIndexOf("/dist/") + "/dist/".length));
  wasm.setThreadsCount(1);
  tf.env().set("PROD", true);
  return tf;
}

function tfModel(tf: Tf, spec: ModelSpec) {
  let seed = 10;
  const v = (shape: number[], fan: number) =>
    tf.variable(
      tf.tensor(filled(shape.reduce((a, b) => a * b), seed++, 1 / Math.sqrt(fan)), shape),
    );
  const convs = spec.convs.map((l, i) => {
    const cin = inChannels(spec, i), k = l.kernel;
    return { w: v([k, k, cin, l.channels], k * k * cin), b: v([l.channels], l.channels) };
  });
  const h4 = 4 * spec.hidden;
  return {
    convs,
    wIh: v([spec.features, h4], spec.features),
    wHh: v([spec.hidden, h4], spec.hidden),
    b: v([h4], h4),
    actorW: v([spec.hidden, spec.actions], spec.hidden),
    actorB: v([spec.actions], spec.actions),
    criticW: v([spec.hidden, 1], spec.hidden),
    criticB: v([1], 1),
  };
}

/**
 * tfjs rollout steps/s; ``single` times one run without warm-up (tfjs-cpu's large model takes
 * minutes per rollout).
 */
function tfRolloutStepsPerSec(
  tf: Tf,
  spec: ModelSpec,
  ms: number,
  single: boolean,
): { full: number | null; act: number; note?: string } {
  const m = tfModel(tf, spec);
  const frames = framesFor(spec);
  const H = spec.hidden;
  const feats = (x: Tf) => {
    spec.convs.forEach((l, i) => {
      x = tf.add(tf.conv2d(x, m.convs[i].w, l.stride, l.padding), m.convs[i].b);
      if (l.pool !== null) x = tf.maxPool(x, l.pool, l.pool, "valid");
      x = spec.act === "elu" ? tf.elu(x) : tf.relu(x);
    });
    // NHWC flatten (the order differs from NCHW; the cost does not).
    return tf.reshape(x, [x.shape[0], spec.features]);
  };
  const cell = (gates: Tf, c: Tf) => {
    const [i, f, g, o] = tf.split(gates, 4, 1);
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    return { h: tf.mul(tf.sigmoid(o), tf.tanh(c2)), c: c2 };
  };
  const once = (actOnly: boolean) => {
    const actions: number[] = [];
    tf.tidy(() => {
      let h = tf.zeros([1, H]), c = tf.zeros([1, H]);
      for (let t = 0; t < STEPS; t++) {
        const x = feats(tf.tensor(frames[t], [1, spec.size, spec.size, 1]));
        const gates = tf.add(tf.add(tf.matMul(x, m.wIh), tf.matMul(h, m.wHh)), m.b);
        ({ h, c } = cell(gates, c));
        const p = tf.softmax(tf.add(tf.matMul(h, m.actorW), m.actorB));
        tf.add(tf.matMul(h, m.criticW), m.criticB).dataSync();
        actions.push(sample(p.dataSync(), (t * 0.37) % 1));
      }
    });
    if (actOnly) return;
    const batch = new Float32Array(STEPS * spec.size * spec.size);
    frames.forEach((f, t) => batch.set(f, t * f.length));
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const fs = feats(tf.tensor(batch, [STEPS, spec.size, spec.size, 1]));
        const proj = tf.add(tf.matMul(fs, m.wIh), m.b);
        let h = tf.zeros([1, H]), c = tf.zeros([1, H]);
        const hs = [];
        for (let t = 0; t < STEPS; t++) {
          const gates = tf.add(tf.slice(proj, [t, 0], [1, 4 * H]), tf.matMul(h, m.wHh));
          ({ h, c } = cell(gates, c));
          hs.push(h);
        }
        const hAll = tf.concat(hs, 0);
        const logits = tf.add(tf.matMul(hAll, m.actorW), m.actorB);
        const values = tf.reshape(tf.add(tf.matMul(hAll, m.criticW), m.criticB), [STEPS]);
        const logp = tf.logSoftmax(logits);
        const entropy = tf.neg(tf.sum(tf.mul(tf.softmax(logits), logp)));
        const { ret, gae } = targets(values.dataSync(), 0.5);
        const taken = tf.sum(
          tf.mul(logp, tf.oneHot(tf.tensor1d(actions, "int32"), spec.actions)),
          1,
        );
        const policy = tf.sub(
          tf.neg(tf.sum(tf.mul(taken, tf.tensor1d(gae)))),
          tf.mul(entropy, 0.01),
        );
        const diff = tf.sub(tf.tensor1d(ret), values);
        return tf.add(policy, tf.mul(tf.sum(tf.mul(diff, diff)), 0.25));
      });
      const list = Object.values(grads) as Tf[];
      const norm = tf.sqrt(tf.addN(list.map((g: Tf) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(40, norm));
      for (const g of list) tf.mul(g, scale).dataSync();
    });
  };
  const act = bestTime(() => once(true), single ? 0 : ms / 2, 1);
  let full: number | null = null, note: string | undefined;
  try {
    if (single) {
      const t0 = performance.now();
      once(false);
      full = performance.now() - t0;
    } else {
      full = bestTime(() => once(false), ms, 1);
    }
  } catch (e) {
    // tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel: it cannot train convs.
    note = `training step failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  for (const key of Object.keys(m)) {
    const val = (m as Record<string, unknown>)[key];
    if (Array.isArray(val)) { for (const l of val) (l.w.dispose(), l.b.dispose()); }
    else (val as Tf).dispose();
  }
  return { full: full === null ? null : (STEPS * 1000) / full, act: (STEPS * 1000) / act, note };
}

function tfGemmGflops(
  tf: Tf,
  m: number,
  n: number,
  k: number,
  tA: boolean,
  tB: boolean,
  ms: number,
) {
  const a = tf.tensor(filled(m * k, 1, 1), tA ? [k, m] : [m, k]);
  const b = tf.tensor(filled(k * n, 2, 1), tB ? [n, k] : [k, n]);
  const t = bestTime(() => {
    const c = tf.matMul(a, b, tA, tB);
    c.dataSync();
    c.dispose();
  }, ms);
  a.dispose();
  b.dispose();
  return (2 * m * n * k) / (t * 1e6);
}

// ---------------------------------------------------------------------------------------------

/** Runs the suite; prints a table unless `quiet`. */
export async function run(args: string[], quiet: boolean): Promise<Record<string, unknown>> {
  const quick = args.includes("--quick");
  const peersWanted = !args.includes("--no-peers");
  const allPeers = args.includes("--all-peers");
  const ms = quick ? 150 : 600;
  const log = (s: string) => {
    if (!quiet) console.log(s);
  };
  log(
    `wasm SIMD: ${simdSupported() ? "yes" : "no"}, relaxed SIMD FMA: ${
      relaxedSimdSupported() ? "yes" : "no"
    }; best of several runs on one thread`,
  );

  log(
    "\ngemm (GFLOP/s)                               m     n     k   default   plain TS" +
      (simdSupported() ? "   wasm resident" : ""),
  );
  const gemmRows = [];
  for (const [m, n, k, tA, tB, what] of GEMM_SHAPES) {
    const gflops = gemmGflops(m, n, k, tA, tB, ms);
    const previous = setGemmKernels("ts");
    const ts = gemmGflops(m, n, k, tA, tB, ms);
    setGemmKernels(previous);
    const resident = simdSupported() ? residentGflops(m, n, k, tA, tB, ms) : null;
    gemmRows.push({
      m,
      n,
      k,
      transA: tA,
      transB: tB,
      what,
      gflops: round(gflops),
      gflops_ts: round(ts),
      gflops_wasm_resident: resident === null ? null : round(resident),
    });
    log(
      `  ${what.padEnd(40)} ${String(m).padStart(5)} ${String(n).padStart(5)} ${
        String(k).padStart(5)
      } ${gflops.toFixed(2).padStart(9)} ${ts.toFixed(2).padStart(10)}${
        resident === null ? "" : resident.toFixed(2).padStart(16)
      }`,
    );
  }

  log("\nconv2d at batch 20 (GFLOP/s)          input              forward  backward");
  const conv = convFigures(ms);
  for (const c of conv) {
    log(
      `  ${c.model} conv${c.layer} ${`[${c.weight.join(",")}]`.padEnd(16)} ${
        `[${c.input.join(",")}]`.padEnd(18)
      } ${c.forward_gflops.toFixed(2).padStart(8)} ${c.backward_gflops.toFixed(2).padStart(9)}`,
    );
  }

  log("\nrollout: act 20 steps + batched train forward/backward + clip (agent steps/s)");
  const rollout: Record<string, { steps_per_s: number; act_steps_per_s: number }> = {};
  for (const spec of [SMALL, LARGE]) {
    const { full, act } = rolloutStepsPerSec(spec, quick ? 300 : 2000);
    rollout[spec.name] = { steps_per_s: round(full, 1), act_steps_per_s: round(act, 1) };
    log(
      `  ${spec.name.padEnd(6)} ${full.toFixed(1).padStart(8)}   (acting alone: ${act.toFixed(1)})`,
    );
  }

  log("\nacting as a worker acts (small model, weights in wasm memory; env steps/s)");
  const acting: Record<string, number> = {};
  for (const batch of [1, 16]) {
    acting[String(batch)] = round(learnerActingStepsPerSec(batch, quick ? 300 : 2000), 1);
  }
  const perEnv = acting["16"] / acting["1"];
  log(`  batch 1  ${acting["1"].toFixed(1).padStart(8)}`);
  log(
    `  batch 16 ${acting["16"].toFixed(1).padStart(8)}   (${
      perEnv.toFixed(2)
    }× batch 1 per env step)`,
  );

  const peers: Record<string, unknown> = {};
  if (peersWanted) {
    const tf = await loadTf();
    for (const backend of ["cpu", "wasm"]) {
      const key = `tfjs-${backend}`;
      // tfjs greets Node.js users on stdout when a backend starts; keep `--json` output clean.
      const { log: keepLog, warn: keepWarn } = console;
      console.log = console.warn = () => {};
      let ok = false;
      try {
        ok = await tf.setBackend(backend);
        await tf.ready();
      } finally {
        console.log = keepLog;
        console.warn = keepWarn;
      }
      if (!ok) {
        peers[key] = { error: `backend ${backend} did not initialise` };
        continue;
      }
      log(`\n${key} (our ratio in parentheses)`);
      const g = [];
      for (const [m, n, k, tA, tB] of GEMM_SHAPES) {
        if (backend === "cpu" && m * n * k > 64 * 2 ** 20) continue; // minutes on plain JS
        const gf = tfGemmGflops(tf, m, n, k, tA, tB, ms);
        const ours = gemmRows.find((r) => r.m === m && r.n === n && r.k === k)!.gflops;
        g.push({ m, n, k, gflops: round(gf), ratio: round(ours / gf) });
        log(`  gemm ${m}×${n}×${k}: ${gf.toFixed(2)} GFLOP/s (${(ours / gf).toFixed(2)}×)`);
      }
      const r: Record<string, Record<string, number | string | null>> = {};
      for (const spec of [SMALL, LARGE]) {
        // tfjs-cpu needs minutes for one rollout of the large model: only on request, once.
        const single = backend === "cpu" && spec.name === "large";
        if (single && !allPeers) {
          r[spec.name] = { steps_per_s: null, ratio: null, note: "skipped: pass --all-peers" };
          log(`  rollout ${spec.name}: skipped (minutes per rollout; pass --all-peers)`);
          continue;
        }
        const { full, act, note } = tfRolloutStepsPerSec(tf, spec, quick ? 300 : 2000, single);
        const ours = rollout[spec.name];
        const ratio = full === null ? null : ours.steps_per_s / full;
        r[spec.name] = {
          steps_per_s: full === null ? null : round(full, 1),
          ratio: ratio === null ? null : round(ratio),
          act_steps_per_s: round(act, 1),
          act_ratio: round(ours.act_steps_per_s / act),
          ...(note === undefined ? {} : { note }),
        };
        const fullText = full === null
          ? `no training step (${note})`
          : `${full.toFixed(1)} steps/s (${ratio!.toFixed(2)}×)${single ? " [one run]" : ""}`;
        log(
          `  rollout ${spec.name}: ${fullText}; acting alone ${act.toFixed(1)} steps/s (${
            (ours.act_steps_per_s / act).toFixed(2)
          }×)`,
        );
        if (spec.name === "small") {
          r[spec.name].worker_act_ratio = round(acting["1"] / act);
          log(`  acting as a worker acts, batch 1: ${(acting["1"] / act).toFixed(2)}× ${key}`);
        }
      }
      peers[key] = { gemm: g, rollout: r };
    }
  }
  return { gemm: gemmRows, conv, rollout, acting, peers };
}
