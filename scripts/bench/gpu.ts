/**
 * `deno task bench gpu [--json] [--quick] [--envs K] [--workers N] [--env-groups G] [--seconds S]`:
 * WebGPU kernel throughput and A3G training speed.
 *
 * - `adapter`: description, vendor and architecture of the adapter (null without one).
 * - `gemm`: `{m, n, k, transA, transB, kernel, gflops, gflops_cpu}` for 256³, 512³, 1024³ and the
 *   models' products (a 288→1024 linear layer at batch 20: forward x·Wᵀ, dX = dY·W, dW = dYᵀ·X;
 *   and the batch-1 and batch-4 products, timed with both the tiled and the skinny kernel). Each figure records several
 *   dispatches in one submission and reads back once, after a first call that compiles the shader;
 *   the one readback (~10 ms in Deno) is included. `gflops_cpu` is the CPU `gemm` at the same shape.
 *   `--quick` leaves out 1024³.
 * - `conv`: `{model, batch, forward_ms, backward_ms, forward_gflops, backward_gflops}`, the whole
 *   conv stack of the `small` and `large` models (conv, pool, activation; backward with weight,
 *   bias and input gradients) at batch K (acting) and 20·K (a rollout's training pass).
 * - `lstm`: `{batch, hidden, step_ms, backward_step_ms}`, one recurrent step of the LSTM
 *   (h·W_hhᵀ GEMM, bias, fused cell) and its backward (fused cell backward, dh·W_hh).
 * - `a3g`: `{model, env_steps_per_s, frames_per_s, workers, envs_per_worker, env_groups}`: the A3G
 *   trainer on Pong (no evaluation worker) measured over at least S seconds (default 30, 10 with
 *   `--quick`) and at least one update, after a warm-up of a quarter of that and a first update
 *   (shader compiles).
 *
 * @module
 */
import { option, trainingRate } from "./_args.ts";
import { bestTime } from "./machine.ts";
import { resolveConfig } from "../../algorithms/config.ts";
import {
  conv2dOutputSize,
  gpuActivation,
  gpuActivationBackward,
  type GpuArray,
  gpuBinary,
  gpuConv2d,
  gpuConv2dBackward,
  gpuLstmCell,
  gpuLstmCellBackward,
  gpuMaxPool2d,
  gpuMaxPool2dBackward,
} from "../../autograd/backends/webgpu/mod.ts";
import { gemm } from "../../autograd/backends/cpu/gemm.ts";
import { LARGE_CONV, SMALL_CONV } from "../../models/families.ts";
import { gpuConvLayers } from "../../models/gpu_actor_critic.ts";
import { GpuBackend, gpuMatmul, requestGpu } from "../../autograd/backends/webgpu/mod.ts";
import { matmulVec4Ok, SKINNY_MAX_ROWS } from "../../autograd/backends/webgpu/matmul.wgsl.ts";

/** One product to time: m×n×k with the layouts of `gemm`. */
type Shape = [m: number, n: number, k: number, transA: boolean, transB: boolean];

const SHAPES: Shape[] = [
  [256, 256, 256, false, false],
  [512, 512, 512, false, false],
  [1024, 1024, 1024, false, false],
  [20, 1024, 288, false, true],
  [20, 288, 1024, false, false],
  [1024, 288, 20, true, false],
  [1, 1024, 256, false, true],
  [4, 1024, 288, false, true],
];

/** Target floating-point work per timed submission. */
const FLOP_PER_SUBMISSION = 5e8;

/** Runs the suite; prints a table unless `quiet`. */
export async function run(args: string[], quiet: boolean): Promise<Record<string, unknown>> {
  const context = await requestGpu();
  if (context === null) return { adapter: null, gemm: [] };
  const backend = new GpuBackend(context);
  const info = context.adapterInfo;
  const adapter = {
    description: info.description,
    vendor: info.vendor,
    architecture: info.architecture,
    fallback: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? null,
  };
  if (!quiet) {
    console.log(`adapter: ${adapter.description} (vendor ${adapter.vendor || "?"})`);
    console.log("     m      n      k  op  kernel   GFLOP/s  CPU gemm");
  }
  const quick = args.includes("--quick");
  const shapes = quick ? SHAPES.filter(([m, n]) => m !== 1024 || n !== 1024) : SHAPES;
  const results = [];
  try {
    for (const [m, n, k, transA, transB] of shapes) {
      const a = new Float32Array(m * k).map(() => Math.random() - 0.5);
      const b = new Float32Array(k * n).map(() => Math.random() - 0.5);
      const ga = backend.upload(a);
      const gb = backend.upload(b);
      const out = backend.allocate(m * n);
      const flop = 2 * m * n * k;
      const c = new Float32Array(m * n);
      const cpuMs = bestTime(() => gemm(transA, transB, m, n, k, a, b, c), 200, 2);
      const gflopsCpu = flop / (cpuMs / 1000) / 1e9;
      const kernels = m <= SKINNY_MAX_ROWS ? ["tiled", "skinny"] as const : ["tiled"] as const;
      for (const choice of kernels) {
        const mm = () =>
          gpuMatmul(backend, ga, gb, m, n, k, transA, transB, { out, kernel: choice });
        mm();
        await backend.read(out); // shader compile and first run
        const reps = Math.max(1, Math.min(200, Math.round(FLOP_PER_SUBMISSION / flop)));
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) mm();
        await backend.read(out);
        const seconds = (performance.now() - t0) / 1000;
        const gflops = (flop * reps) / seconds / 1e9;
        const kernel = choice === "skinny"
          ? "skinny"
          : matmulVec4Ok(transA, transB, m, n, k)
          ? "vec4"
          : "scalar";
        const row = {
          m,
          n,
          k,
          transA,
          transB,
          kernel,
          gflops: round(gflops),
          gflops_cpu: round(gflopsCpu),
        };
        results.push(row);
        if (!quiet) {
          const op = (transA ? "T" : "N") + (transB ? "T" : "N");
          console.log(
            `${pad(m, 6)} ${pad(n, 6)} ${pad(k, 6)}  ${op}  ${kernel.padEnd(7)}` +
              `${pad(row.gflops, 8)}  ${pad(row.gflops_cpu, 8)}`,
          );
        }
      }
      for (const x of [ga, gb, out]) backend.free(x);
    }
    const K = intOption(args, "--envs", 16);
    const conv = [];
    for (const model of ["small", "large"] as const) {
      for (const batch of [K, 20 * K]) {
        const row = await timeConvStack(backend, model, batch);
        conv.push(row);
        if (!quiet) {
          console.log(
            `conv stack ${model.padEnd(5)} batch ${pad(batch, 4)}: forward ${row.forward_ms} ms ` +
              `(${row.forward_gflops} GFLOP/s), backward ${row.backward_ms} ms ` +
              `(${row.backward_gflops} GFLOP/s)`,
          );
        }
      }
    }
    const lstm = await timeLstm(backend, K, 256);
    if (!quiet) {
      console.log(
        `lstm step batch ${K} hidden 256: forward ${lstm.step_ms} ms, backward ${lstm.backward_step_ms} ms`,
      );
    }
    backend.destroy();

    const seconds = Number(option(args, "--seconds", quick ? "10" : "30"));
    const workers = intOption(args, "--workers", 1);
    const groups = intOption(args, "--env-groups", 2);
    const a3g = [];
    for (const model of ["small", "large"] as const) {
      const frames = await measureA3G(model, workers, K, groups, seconds);
      const row = {
        model,
        env_steps_per_s: round(frames / 4),
        frames_per_s: round(frames),
        workers,
        envs_per_worker: K,
        env_groups: groups,
      };
      a3g.push(row);
      if (!quiet) {
        console.log(
          `a3g ${
            model.padEnd(5)
          }: ${row.env_steps_per_s} env steps/s (${row.frames_per_s} frames/s), ` +
            `${workers} worker(s) × ${groups} group(s) × ${K} envs`,
        );
      }
    }
    return { adapter, gemm: results, conv, lstm, a3g };
  } finally {
    backend.destroy();
  }
}

function intOption(args: string[], name: string, fallback: number): number {
  const value = Number(option(args, name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`bench gpu: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** Times the conv stack's forward and backward at `batch` (best of a few submissions). */
async function timeConvStack(backend: GpuBackend, model: "small" | "large", batch: number) {
  const stack = model === "small" ? SMALL_CONV : LARGE_CONV;
  const gpuLayers = gpuConvLayers(stack, model === "small" ? [1, 42, 42] : [1, 80, 80]);
  const layers = gpuLayers.map(({ shape, pool }) => ({
    conv: { ...shape, batch },
    pool: pool && { ...pool, batch },
  }));
  const act = gpuLayers[0].activation;
  let flop = 0;
  const weights = layers.map(({ conv: s }) => {
    const { outH, outW } = conv2dOutputSize(s);
    flop += 2 * batch * s.outChannels * outH * outW * s.inChannels * s.kernelH * s.kernelW;
    const size = s.outChannels * s.inChannels * s.kernelH * s.kernelW;
    return {
      w: backend.upload(new Float32Array(size).map(() => (Math.random() - 0.5) * 0.2)),
      b: backend.upload(new Float32Array(s.outChannels)),
      dw: backend.allocate(size),
      db: backend.allocate(s.outChannels),
    };
  });
  const first = layers[0].conv;
  const x = backend.upload(
    new Float32Array(batch * first.inChannels * first.height * first.width).map(Math.random),
  );
  const temps: GpuArray[] = [];
  const forward = () => {
    const saved = [];
    let input = x;
    for (let i = 0; i < layers.length; i++) {
      const y = gpuConv2d(backend, input, weights[i].w, weights[i].b, layers[i].conv);
      const p = layers[i].pool ? gpuMaxPool2d(backend, y, layers[i].pool!) : null;
      const a = gpuActivation(backend, act, p ?? y);
      temps.push(y, a);
      if (p) temps.push(p);
      saved.push({ input, y, p, a });
      input = a;
    }
    return saved;
  };
  const backward = (saved: ReturnType<typeof forward>) => {
    let d = backend.upload(new Float32Array(saved[saved.length - 1].a.length).fill(0.01));
    temps.push(d);
    for (let i = layers.length - 1; i >= 0; i--) {
      const s = saved[i];
      const dAct = gpuActivationBackward(backend, act, d, act === "elu" ? s.a : (s.p ?? s.y));
      const dConv = s.p ? gpuMaxPool2dBackward(backend, dAct, s.y, layers[i].pool!) : dAct;
      temps.push(dAct, dConv);
      const dx = gpuConv2dBackward(backend, dConv, s.input, weights[i].w, layers[i].conv, {
        dWeight: weights[i].dw,
        dBias: weights[i].db,
        dx: i > 0,
      });
      if (dx !== null) {
        temps.push(dx);
        d = dx;
      }
    }
  };
  const release = () => {
    for (const t of temps.splice(0)) if (t !== x) backend.free(t);
  };
  // compile and first run
  backward(forward());
  await backend.read(weights[0].db);
  release();
  let forwardMs = Infinity, backwardMs = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    let t0 = performance.now();
    const saved = forward();
    await backend.read(saved[saved.length - 1].a);
    forwardMs = Math.min(forwardMs, performance.now() - t0);
    t0 = performance.now();
    backward(saved);
    await backend.read(weights[0].db);
    backwardMs = Math.min(backwardMs, performance.now() - t0);
    release();
  }
  for (const wt of weights) for (const a of [wt.w, wt.b, wt.dw, wt.db]) backend.free(a);
  backend.free(x);
  return {
    model,
    batch,
    forward_ms: round(forwardMs),
    backward_ms: round(backwardMs),
    forward_gflops: round(flop / forwardMs / 1e6),
    // input and weight gradients: about twice the forward's work
    backward_gflops: round(2 * flop / backwardMs / 1e6),
  };
}

/** Times 20 recurrent LSTM steps forward, then their backward, in one submission each. */
async function timeLstm(backend: GpuBackend, batch: number, hidden: number) {
  const steps = 20;
  const H = hidden;
  const rand = (n: number) => new Float32Array(n).map(() => (Math.random() - 0.5) * 0.2);
  const wHh = backend.upload(rand(4 * H * H));
  const bHh = backend.upload(rand(4 * H));
  const proj = backend.upload(rand(batch * 4 * H));
  const temps: GpuArray[] = [];
  const run = () => {
    let h = backend.upload(new Float32Array(batch * H));
    let c = backend.upload(new Float32Array(batch * H));
    temps.push(h, c);
    const saved = [];
    for (let t = 0; t < steps; t++) {
      const gates = gpuMatmul(backend, h, wHh, batch, 4 * H, H, false, true);
      const g = gpuBinary(backend, "add", gates, bHh);
      const gp = gpuBinary(backend, "add", g, proj);
      const cell = gpuLstmCell(backend, gp, c, batch, H);
      temps.push(gates, g, gp, cell.h, cell.c, cell.act);
      saved.push({ cPrev: c, act: cell.act, c: cell.c });
      h = cell.h;
      c = cell.c;
    }
    return { saved, h };
  };
  const back = (saved: { cPrev: GpuArray; act: GpuArray; c: GpuArray }[]) => {
    let dh = backend.upload(new Float32Array(batch * H).fill(0.01));
    let dc: GpuArray | null = null;
    temps.push(dh);
    for (let t = steps - 1; t >= 0; t--) {
      const s = saved[t];
      const r = gpuLstmCellBackward(backend, dh, dc, s.act, s.cPrev, s.c, batch, H);
      dh = gpuMatmul(backend, r.dGates, wHh, batch, H, 4 * H);
      dc = r.dcPrev;
      temps.push(r.dGates, r.dcPrev, dh);
    }
    return dh;
  };
  const release = () => {
    for (const t of temps.splice(0)) backend.free(t);
  };
  let first = run();
  await backend.read(back(first.saved));
  release();
  let stepMs = Infinity, backMs = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    let t0 = performance.now();
    first = run();
    await backend.read(first.h);
    stepMs = Math.min(stepMs, (performance.now() - t0) / steps);
    t0 = performance.now();
    await backend.read(back(first.saved));
    backMs = Math.min(backMs, (performance.now() - t0) / steps);
    release();
  }
  for (const a of [wHh, bHh, proj]) backend.free(a);
  return { batch, hidden, step_ms: round(stepMs), backward_step_ms: round(backMs) };
}

/** Training frames per second of the A3G trainer on Pong over `seconds` after a warm-up. */
function measureA3G(
  model: "small" | "large",
  workers: number,
  envsPerWorker: number,
  envGroups: number,
  seconds: number,
): Promise<number> {
  return trainingRate(
    resolveConfig("pong", { model, a3g: true, workers, envsPerWorker, envGroups, evaluate: false }),
    seconds,
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function pad(x: number | string, width: number): string {
  return String(x).padStart(width);
}
