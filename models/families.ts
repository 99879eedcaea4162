/**
 * The model families of the seed projects, with their initialisations:
 *
 * | name | input | body | source |
 * | --- | --- | --- | --- |
 * | `small` | 1×42×42 | 4× conv 32@3×3 s2 p1 + ELU → LSTM 288→H | pytorch-a3c |
 * | `large` | 1×80×80 | 4× conv + maxpool 2 + ReLU → LSTM 1024→H | rl_a3c_pytorch |
 * | `small-ff`, `large-ff` | as above | the conv stack → Linear → ReLU, no LSTM | |
 * | `mlp-lstm` | D | 2·H → H LeakyReLU(.25) → LSTM H | a3c_continuous |
 * | `conv1d-lstm` | S×D | Conv1d over stacked frames → LSTM H | a3c_continuous (fixed) |
 * | `mlp` | D | 2× Linear H + tanh | classic control |
 *
 * @module
 */
import {
  gain,
  kaimingUniform,
  normalizedColumns,
  orthogonal,
  pytorchConvWeight,
  scaled,
  xavierUniform,
  zeros,
} from "../autograd/init.ts";
import { leakyRelu, linear, reshape, tanh } from "../autograd/ops/mod.ts";
import {
  type LayerInits,
  linearSpecs,
  lstmCellSpecs,
  type LstmInits,
  type Parameters,
  type ParameterSpec,
} from "../autograd/parameters.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { ModelDefinition } from "./actor_critic.ts";
import { type ConvLayer, type DenseLayer, encoderSpecs, type Layer } from "./architecture.ts";
import { type PolicyKind, type PolicyOutputs, squashedVariance } from "./heads.ts";

const ZERO = zeros();

/** Linear layer `prefix` applied to x. */
function dense(p: Parameters, prefix: string, x: Tensor): Tensor {
  return linear(x, p.get(`${prefix}.weight`), p.get(`${prefix}.bias`));
}

/** rl_a3c_pytorch's heads: actor and critic linear layers, normalized-columns 0.01 and 1.0. */
function atariHeads(hidden: number, actions: number): ParameterSpec[] {
  return [
    ...linearSpecs("critic_linear", hidden, 1, { weight: normalizedColumns(1), bias: ZERO }),
    ...linearSpecs("actor_linear", hidden, actions, {
      weight: normalizedColumns(0.01),
      bias: ZERO,
    }),
  ];
}

function categoricalHeads(p: Parameters, h: Tensor): PolicyOutputs {
  const value = dense(p, "critic_linear", h);
  return {
    value: reshape(value, [value.shape[0]]),
    logits: dense(p, "actor_linear", h),
  };
}

function requireCategorical(family: string, policy: PolicyKind): number {
  if (policy.kind !== "categorical") {
    throw new RangeError(`model ${family}: needs a discrete action space, got a continuous one`);
  }
  return policy.actions;
}

/** Four conv layers `conv1`..`conv4` sharing stride, pool, activation and init. */
function convStack(
  layers: readonly { channels: number; kernel: number; padding: number }[],
  shared: Pick<ConvLayer, "stride" | "pool" | "activation" | "init">,
): ConvLayer[] {
  return layers.map((l, i) => ({ op: "conv", name: `conv${i + 1}`, ...l, ...shared }));
}

/** The frame side pytorch-a3c's network takes (1×42×42). */
export const SMALL_FRAME = 42;
/** The frame side rl_a3c_pytorch's network takes (1×80×80). */
export const LARGE_FRAME = 80;

/** pytorch-a3c's conv stack: 4× conv 32@3×3 stride 2 pad 1 + ELU (1×42×42 → 32×3×3 = 288). */
export const SMALL_CONV: readonly ConvLayer[] = convStack(
  new Array(4).fill({ channels: 32, kernel: 3, padding: 1 }),
  { stride: 2, pool: null, activation: "elu", init: { weight: xavierUniform(), bias: ZERO } },
);

const RELU_INIT: LayerInits = { weight: scaled(pytorchConvWeight(), gain("relu")), bias: ZERO };

/**
 * rl_a3c_pytorch's conv stack: conv (paddings 2, 1, 1, 1) → max-pool 2 → ReLU, four times
 * (1×80×80 → 64×4×4 = 1024); weights PyTorch's default × √2.
 */
export const LARGE_CONV: readonly ConvLayer[] = convStack([
  { channels: 32, kernel: 5, padding: 2 },
  { channels: 32, kernel: 5, padding: 1 },
  { channels: 64, kernel: 4, padding: 1 },
  { channels: 64, kernel: 3, padding: 1 },
], { stride: 1, pool: 2, activation: "relu", init: RELU_INIT });

const CONV1D_LEAK = 0.1;

/** The Conv1d stack over stacked frames: paddings 1, 1, 1, 0, LeakyReLU(0.1). */
export const CONV1D_STACK: readonly ConvLayer[] = convStack([
  { channels: 32, kernel: 3, padding: 1 },
  { channels: 32, kernel: 3, padding: 1 },
  { channels: 64, kernel: 2, padding: 1 },
  { channels: 64, kernel: 1, padding: 0 },
], {
  stride: 1,
  pool: null,
  activation: { leakyRelu: CONV1D_LEAK },
  init: { weight: scaled(xavierUniform(), gain("leaky_relu", CONV1D_LEAK)), bias: ZERO },
});

/** A dense layer. */
function denseLayer(
  name: string,
  features: number,
  activation: DenseLayer["activation"],
  init: LayerInits,
): DenseLayer {
  return { op: "dense", name, features, activation, init };
}

/** Options every family accepts. */
export interface FamilyOptions {
  /** Shape of one observation. */
  observationShape: readonly number[];
  /** The actor's distribution. */
  policy: PolicyKind;
  /** LSTM / hidden width. */
  hiddenSize: number;
}

/** An Atari family: a conv stack, then an LSTM (`recurrent`) or a dense ReLU layer `fc`, then heads. */
function atariFamily(
  name: string,
  conv: readonly ConvLayer[],
  o: FamilyOptions,
  recurrent: boolean,
  fcInit: LayerInits,
  lstmInit: LstmInits | "rl_a3c",
): ModelDefinition {
  const actions = requireCategorical(name, o.policy);
  const h = o.hiddenSize;
  const encoder: Layer[] = recurrent ? [...conv] : [...conv, denseLayer("fc", h, "relu", fcInit)];
  const { specs, features } = encoderSpecs(encoder, o.observationShape);
  return {
    name: recurrent ? name : `${name}-ff`,
    observationShape: o.observationShape,
    policy: o.policy,
    specs: [
      ...specs,
      ...(recurrent ? lstmCellSpecs("lstm", features, h, lstmInit) : []),
      ...atariHeads(h, actions),
    ],
    encoder,
    lstm: recurrent ? { prefix: "lstm", hiddenSize: h } : null,
    heads: categoricalHeads,
  };
}

/**
 * `small` (LSTM) or `small-ff`: pytorch-a3c's network on 1×42×42 (or C×42×42) frames; `name`
 * labels the same stack on other frames (`small-80`).
 */
export function smallAtari(o: FamilyOptions, recurrent = true, name = "small"): ModelDefinition {
  const fcInit = { weight: xavierUniform(), bias: ZERO };
  return atariFamily(name, SMALL_CONV, o, recurrent, fcInit, { biasIh: ZERO, biasHh: ZERO });
}

/** `large` (LSTM) or `large-ff`: rl_a3c_pytorch's network on 1×80×80 frames. */
export function largeAtari(o: FamilyOptions, recurrent = true): ModelDefinition {
  return atariFamily("large", LARGE_CONV, o, recurrent, RELU_INIT, "rl_a3c");
}

const LEAK = 0.25;

/** a3c_continuous's critic (H → H LeakyReLU → 1) and Gaussian actor (tanh mean, squashed variance). */
function continuousHeadSpecs(hidden: number, dims: number): ParameterSpec[] {
  return [
    ...linearSpecs("critic_linear", hidden, hidden, { weight: kaimingUniform(LEAK, "fan_out") }),
    ...linearSpecs("critic_out", hidden, 1, { weight: xavierUniform() }),
    ...linearSpecs("actor_mean", hidden, dims, { weight: orthogonal(gain("tanh")) }),
    ...linearSpecs("actor_variance", hidden, dims, { weight: orthogonal(Math.sqrt(3)) }),
  ];
}

function continuousHeads(p: Parameters, h: Tensor): PolicyOutputs {
  const v = dense(p, "critic_out", leakyRelu(dense(p, "critic_linear", h), LEAK));
  return {
    value: reshape(v, [v.shape[0]]),
    mean: tanh(dense(p, "actor_mean", h)),
    variance: squashedVariance(dense(p, "actor_variance", h)),
  };
}

function requireGaussian(family: string, policy: PolicyKind): number {
  if (policy.kind !== "gaussian") {
    throw new RangeError(`model ${family}: needs a continuous action space, got a discrete one`);
  }
  return policy.dims;
}

/** A Gaussian family: `encoder`, then an LSTM of width H, then a3c_continuous's heads. */
function continuousFamily(
  name: string,
  o: FamilyOptions,
  encoder: Layer[],
  lstmInit: LstmInits | "rl_a3c",
): ModelDefinition {
  const dims = requireGaussian(name, o.policy);
  const h = o.hiddenSize;
  const { specs, features } = encoderSpecs(encoder, o.observationShape);
  return {
    name,
    observationShape: o.observationShape,
    policy: o.policy,
    specs: [
      ...specs,
      ...lstmCellSpecs("lstm", features, h, lstmInit),
      ...continuousHeadSpecs(h, dims),
    ],
    encoder,
    lstm: { prefix: "lstm", hiddenSize: h },
    heads: continuousHeads,
  };
}

/** `mlp-lstm`: a3c_continuous's walker network (D → 2H → H LeakyReLU(0.25) → LSTM H → heads). */
export function mlpLstm(o: FamilyOptions): ModelDefinition {
  const h = o.hiddenSize, leaky = { leakyRelu: LEAK };
  return continuousFamily("mlp-lstm", o, [
    denseLayer("fc1", 2 * h, leaky, { weight: kaimingUniform(LEAK, "fan_in") }),
    denseLayer("fc2", h, leaky, { weight: kaimingUniform(LEAK, "fan_out") }),
  ], {});
}

/**
 * `conv1d-lstm`: Conv1d over S stacked frames of D values (channels = frames), as a3c_continuous's
 * CONV model, with the Gaussian variance head its current code lacks.
 */
export function conv1dLstm(o: FamilyOptions): ModelDefinition {
  if (o.observationShape.length !== 2) {
    throw new RangeError(
      `model conv1d-lstm: observations must be [frames, values], got [${o.observationShape}]`,
    );
  }
  return continuousFamily("conv1d-lstm", o, [...CONV1D_STACK], "rl_a3c");
}

/** `mlp`: a feed-forward actor-critic for classic control (2× Linear H + tanh, shared trunk). */
export function mlp(o: FamilyOptions): ModelDefinition {
  const h = o.hiddenSize;
  const init = { weight: orthogonal(Math.SQRT2), bias: ZERO };
  const encoder = [denseLayer("fc1", h, "tanh", init), denseLayer("fc2", h, "tanh", init)];
  const { specs } = encoderSpecs(encoder, o.observationShape);
  const categorical = o.policy.kind === "categorical";
  return {
    name: "mlp",
    observationShape: o.observationShape,
    policy: o.policy,
    specs: [
      ...specs,
      ...(o.policy.kind === "categorical"
        ? atariHeads(h, o.policy.actions)
        : continuousHeadSpecs(h, o.policy.dims)),
    ],
    encoder,
    lstm: null,
    heads: categorical ? categoricalHeads : continuousHeads,
  };
}
