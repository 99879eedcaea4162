/**
 * Encoders described as data: a list of layers (conv with kernel, stride, padding, pool and
 * activation; dense with width and activation) that the CPU model ({@link encode}), the GPU
 * program (`gpu_actor_critic.ts`) and the ONNX exporter (`io/onnx.ts`) all read, and from which
 * the parameter specs and the feature size follow ({@link encoderSpecs}).
 *
 * Conv layers work on `[N, C, ...spatial]` (1-D or 2-D from the observation's rank); the first
 * dense layer, and the end of the encoder, flatten to `[N, features]`.
 *
 * @module
 */
import {
  conv1d,
  conv2d,
  elu,
  flatten,
  leakyRelu,
  linear,
  maxPool2d,
  relu,
  tanh,
} from "../autograd/ops/mod.ts";
import {
  convSpecs,
  type LayerInits,
  linearSpecs,
  type Parameters,
  type ParameterSpec,
} from "../autograd/parameters.ts";
import type { Tensor } from "../autograd/tensor.ts";

/** An activation: ELU (α = 1), ReLU, tanh, or leaky ReLU with its negative slope. */
export type Activation = "elu" | "relu" | "tanh" | { readonly leakyRelu: number };

/** A convolution (square kernel, same stride and padding on every axis), then pool, then activation. */
export interface ConvLayer {
  readonly op: "conv";
  /** Parameter prefix (`conv1` → `conv1.weight`, `conv1.bias`). */
  readonly name: string;
  /** Output channels. */
  readonly channels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  /** Max-pool kernel (= stride) after the conv, or null. */
  readonly pool: number | null;
  readonly activation: Activation;
  readonly init: LayerInits;
}

/** A linear layer (`x·Wᵀ + b`), then its activation. */
export interface DenseLayer {
  readonly op: "dense";
  /** Parameter prefix. */
  readonly name: string;
  /** Output features. */
  readonly features: number;
  readonly activation: Activation;
  readonly init: LayerInits;
}

/** One layer of an encoder. */
export type Layer = ConvLayer | DenseLayer;

/** `x` after `activation`. */
export function activate(x: Tensor, activation: Activation): Tensor {
  if (typeof activation === "object") return leakyRelu(x, activation.leakyRelu);
  return activation === "elu" ? elu(x) : activation === "relu" ? relu(x) : tanh(x);
}

/** A readable name of an activation (`leaky_relu(0.25)`). */
export function activationName(activation: Activation): string {
  return typeof activation === "object" ? `leaky_relu(${activation.leakyRelu})` : activation;
}

/** The shape of one row after a conv layer (`[C, ...spatial]` in, the same rank out). */
export function convOutputShape(layer: ConvLayer, input: readonly number[]): number[] {
  const spatial = input.slice(1).map((d) => {
    const out = Math.floor((d + 2 * layer.padding - layer.kernel) / layer.stride) + 1;
    return layer.pool === null ? out : Math.floor((out - layer.pool) / layer.pool) + 1;
  });
  if (spatial.some((d) => d < 1)) {
    throw new RangeError(
      `encoder layer ${layer.name}: input [${input}] is too small for kernel ${layer.kernel}`,
    );
  }
  return [layer.channels, ...spatial];
}

/** The parameter specs of `layers` over observations of `observationShape`, and the feature size. */
export function encoderSpecs(
  layers: readonly Layer[],
  observationShape: readonly number[],
): { specs: ParameterSpec[]; features: number } {
  const specs: ParameterSpec[] = [];
  let shape = [...observationShape];
  for (const layer of layers) {
    if (layer.op === "conv") {
      if (shape.length < 2 || shape.length > 3) {
        throw new RangeError(
          `encoder layer ${layer.name}: a conv needs [C, L] or [C, H, W] rows, got [${shape}]`,
        );
      }
      if (layer.pool !== null && shape.length !== 3) {
        throw new RangeError(`encoder layer ${layer.name}: pooling needs [C, H, W] rows`);
      }
      const kernel = new Array(shape.length - 1).fill(layer.kernel);
      specs.push(...convSpecs(layer.name, shape[0], layer.channels, kernel, layer.init));
      shape = convOutputShape(layer, shape);
    } else {
      const inputs = shape.reduce((a, b) => a * b, 1);
      specs.push(...linearSpecs(layer.name, inputs, layer.features, layer.init));
      shape = [layer.features];
    }
  }
  return { specs, features: shape.reduce((a, b) => a * b, 1) };
}

/** Runs `layers` on `x` (`[N, ...observationShape]`) with the parameters `p`: `[N, features]`. */
export function encode(layers: readonly Layer[], p: Parameters, x: Tensor): Tensor {
  for (const layer of layers) {
    const weight = p.get(`${layer.name}.weight`), bias = p.get(`${layer.name}.bias`);
    if (layer.op === "conv") {
      const options = { stride: layer.stride, padding: layer.padding };
      let y = x.rank === 3 ? conv1d(x, weight, bias, options) : conv2d(x, weight, bias, options);
      if (layer.pool !== null) y = maxPool2d(y, layer.pool);
      x = activate(y, layer.activation);
    } else {
      x = activate(linear(x.rank > 2 ? flatten(x, 1) : x, weight, bias), layer.activation);
    }
  }
  return x.rank > 2 ? flatten(x, 1) : x;
}
