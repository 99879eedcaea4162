import assert from "node:assert/strict";
import { Rng } from "../autograd/random.ts";
import { noGrad, Tensor, tensor } from "../autograd/tensor.ts";
import { sum } from "../autograd/ops/mod.ts";
import { checkOp, testValues } from "../autograd/check.ts";
import { box, discrete } from "../envs/core.ts";
import {
  argmax,
  categoricalLogProbEntropy,
  gaussianLogProbEntropy,
  makeModel,
  MIN_VARIANCE,
  sampleCategorical,
} from "../models/mod.ts";

const atari42 = box([1, 42, 42], -10, 10);
const atari80 = box([1, 80, 80], -10, 10);

Deno.test("models: parameter counts match the seed networks", () => {
  // as PyTorch counts them: pytorch-a3c's model has 588,967 parameters and rl_a3c_pytorch's
  // A3Clstm 3,249,639, both with 6 actions
  assert.equal(makeModel("small", atari42, discrete(6), 256).parameters.numel, 588_967);
  assert.equal(makeModel("large", atari80, discrete(6), 512).parameters.numel, 3_249_639);
  const walker = makeModel("mlp-lstm", box([24], -Infinity, Infinity), box([4], -1, 1), 160);
  assert.deepEqual(walker.parameters.names.slice(0, 2), ["fc1.weight", "fc1.bias"]);
  // a3c_continuous §2.5: ≈0.29 M parameters
  assert.ok(Math.abs(walker.parameters.numel - 290_000) < 10_000, `${walker.parameters.numel}`);
});

function randomObs(rows: number, shape: number[], seed: number): Tensor {
  const n = rows * shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from(testValues(n, seed)), [rows, ...shape]);
}

for (
  const [family, obsSpace, actSpace, hidden] of [
    ["small", atari42, discrete(6), 32],
    ["large", atari80, discrete(4), 16],
    ["small-ff", atari42, discrete(6), 16],
    ["small-80", atari80, discrete(6), 16],
    ["mlp-lstm", box([24], -1, 1), box([4], -1, 1), 16],
    ["conv1d-lstm", box([4, 24], -1, 1), box([4], -1, 1), 16],
    ["mlp", box([4], -1, 1), discrete(2), 16],
  ] as const
) {
  Deno.test(`models: ${family} sequence over T steps equals T single steps`, () => {
    const model = makeModel(family, obsSpace, actSpace, hidden);
    model.parameters.initialize(new Rng(3));
    const steps = 5, shape = [...(obsSpace as { shape: readonly number[] }).shape];
    const obs = randomObs(steps, shape, 11);
    const batched = noGrad(() => model.sequence(obs, steps, model.initialState(1)));
    let state = model.initialState(1);
    const size = obs.size / steps;
    for (let t = 0; t < steps; t++) {
      const one = new Tensor(obs.data.slice(t * size, (t + 1) * size), [1, ...shape]);
      const r = noGrad(() => model.sequence(one, 1, state));
      state = r.state;
      assert.ok(Math.abs(r.outputs.value.data[0] - batched.outputs.value.data[t]) < 1e-5);
      const head = r.outputs.logits ?? r.outputs.mean!;
      const all = batched.outputs.logits ?? batched.outputs.mean!;
      const width = head.shape[1];
      for (let j = 0; j < width; j++) {
        assert.ok(Math.abs(head.data[j] - all.data[t * width + j]) < 1e-5, `${family} t=${t}`);
      }
    }
    if (batched.outputs.variance) {
      for (const v of batched.outputs.variance.data) {
        assert.ok(v > MIN_VARIANCE && v < 1 + MIN_VARIANCE);
      }
    }
  });
}

Deno.test("models: a reset mask restarts one environment's LSTM state mid-sequence", () => {
  const model = makeModel("mlp-lstm", box([3], -1, 1), box([2], -1, 1), 8);
  model.parameters.initialize(new Rng(5));
  const obs = randomObs(4, [3], 2); // 2 steps × 2 envs, t-major
  const s0 = noGrad(() => model.sequence(randomObs(2, [3], 9), 1, null)).state;
  const resets = Float32Array.of(1, 1, 0, 1); // env 0 starts a new episode at step 1
  const r = noGrad(() => model.sequence(obs, 2, s0, resets));
  const fresh = noGrad(() =>
    model.sequence(new Tensor(obs.data.slice(6, 9), [1, 3]), 1, model.initialState(1))
  );
  assert.ok(Math.abs(r.outputs.value.data[2] - fresh.outputs.value.data[0]) < 1e-6);
});

Deno.test("models: gradients reach every parameter of the small model through a rollout", () => {
  const model = makeModel("small", atari42, discrete(6), 32);
  model.parameters.initialize(new Rng(1));
  const { outputs } = model.sequence(randomObs(3, [1, 42, 42], 4), 3, null);
  const { logProb, entropy } = categoricalLogProbEntropy(outputs.logits!, Int32Array.of(0, 5, 2));
  sum(logProb).backward();
  sum(entropy).backward();
  sum(outputs.value).backward();
  for (const [name, t] of model.parameters.entries()) {
    assert.ok(t.grad!.some((g) => g !== 0), `${name} received no gradient`);
  }
});

Deno.test("models: a family refuses the wrong kind of action space", () => {
  assert.throws(
    () => makeModel("small", atari42, box([2], -1, 1), 8),
    /needs a discrete action space/,
  );
  assert.throws(() => makeModel("mlp-lstm", box([3], -1, 1), discrete(2), 8), /needs a continuous/);
  assert.throws(() => makeModel("huge", atari42, discrete(2), 8), /unknown family 'huge'/);
});

Deno.test("heads: categorical sampling follows the softmax; argmax takes the first maximum", () => {
  const logits = Float32Array.of(0, Math.log(3), 0, 5, 5, 1);
  const rng = new Rng(2);
  const counts = [0, 0, 0];
  for (let i = 0; i < 50_000; i++) counts[sampleCategorical(logits, 0, 3, rng)]++;
  assert.ok(Math.abs(counts[1] / 50_000 - 0.6) < 0.01, `${counts}`);
  assert.equal(argmax(logits, 1, 3), 0);
});

Deno.test("heads: Gaussian log-prob and entropy against the formulas, gradients checked", () => {
  const mean = tensor([0.5, -0.2], [1, 2]), variance = tensor([0.25, 1], [1, 2]);
  const { logProb, entropy } = gaussianLogProbEntropy(mean, variance, Float32Array.of(1, 0));
  const want = -(0.25 / 0.5) - 0.5 * Math.log(2 * Math.PI * 0.25) - (0.04 / 2) -
    0.5 * Math.log(2 * Math.PI);
  assert.ok(Math.abs(logProb.data[0] - want) < 1e-5);
  const h = 0.5 * (Math.log(2 * Math.PI * 0.25) + 1) + 0.5 * (Math.log(2 * Math.PI) + 1);
  assert.ok(Math.abs(entropy.data[0] - h) < 1e-5);
  const actions = Float32Array.of(0.3, -0.4, 0.9, 0.1);
  checkOp("gaussian log-prob", (m, v) => gaussianLogProbEntropy(m, v, actions).logProb, [
    { shape: [2, 2], values: [0.1, -0.3, 0.5, 0.2] },
    { shape: [2, 2], values: [0.3, 0.8, 0.5, 1.2] },
  ]);
});

Deno.test("architecture: one layer list gives specs and feature size; the GPU program takes only what it runs", async () => {
  const { encoderSpecs, GPU_MODEL_NAMES, SMALL_CONV, LARGE_CONV, modelDefinition: define } =
    await import("../models/mod.ts");
  const { gpuUnsupported } = await import("../models/gpu_actor_critic.ts");
  // 42 → 21 → 11 → 6 → 3 with 32 channels; 80 → (80 conv, 40 pool) → 19 → 9 → 4 with 64
  assert.equal(encoderSpecs(SMALL_CONV, [1, 42, 42]).features, 32 * 3 * 3);
  assert.equal(encoderSpecs(LARGE_CONV, [1, 80, 80]).features, 64 * 4 * 4);
  assert.deepEqual(
    encoderSpecs(SMALL_CONV, [4, 42, 42]).specs.map((s) => `${s.name}:${s.shape}`).slice(0, 2),
    ["conv1.weight:32,4,3,3", "conv1.bias:32"],
  );
  assert.throws(() => encoderSpecs(LARGE_CONV, [1, 8, 8]), /conv\d: input \[.*\] is too small/);
  assert.deepEqual([...GPU_MODEL_NAMES].sort(), [
    "large",
    "large-ff",
    "small",
    "small-80",
    "small-ff",
  ]);
  const small = define("small", box([1, 42, 42], 0, 255), discrete(6), 16);
  assert.equal(gpuUnsupported(small), null);
  const leaky = {
    ...small,
    encoder: small.encoder.map((l, i) => i === 2 ? { ...l, activation: { leakyRelu: 0.1 } } : l),
  };
  assert.match(gpuUnsupported(leaky)!, /conv layer conv3 uses leaky_relu\(0\.1\)/);
  assert.match(gpuUnsupported(define("mlp", box([4], 0, 1), discrete(2), 8))!, /\[C, H, W\]/);
});
