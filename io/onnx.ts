/**
 * ONNX export of the actor-critic model families: one standalone opset-17 graph per model, with
 * the weights as initializers, that any ONNX runtime can run.
 *
 * The graph's interface:
 *
 * | name | shape | when |
 * | --- | --- | --- |
 * | input `obs` | `[N, ...observationShape]` | always |
 * | inputs `h`, `c` | `[N, H]` | LSTM models: the state before the step (zeros at an episode's start) |
 * | output `value` | `[N]` | always |
 * | output `logits` | `[N, A]` | discrete actions (unnormalised log-probabilities) |
 * | outputs `mean`, `variance` | `[N, D]` | continuous actions (diagonal Gaussian) |
 * | outputs `h_out`, `c_out` | `[N, H]` | LSTM models: the state after the step |
 *
 * The encoder's nodes are made from the model's layer description (`models/architecture.ts`), the
 * one the CPU model and the GPU program read. `N` is symbolic, so one file serves any batch. A graph computes one step of the model (what
 * `ActorCritic.sequence(obs, 1, state)` does); the caller feeds `h_out`, `c_out` back as the next
 * `h`, `c`. The LSTM cell is built from Gemm, Split, Sigmoid, Tanh, Mul and Add in PyTorch's gate
 * order (i, f, g, o), so its weights are the model's own, unreordered.
 *
 * The model file carries metadata (`metadata_props`): `a3g.family`, `a3g.policy` (JSON),
 * `a3g.observation_shape` (JSON), `a3g.hidden_size` (LSTM models) and whatever the caller adds,
 * e.g. the run configuration. {@link readOnnxMetadata} reads them back.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(model, { metadata: { "a3g.config": JSON.stringify(config) } });
 * await Deno.writeFile("policy.onnx", bytes);
 * ```
 *
 * @module
 */
import protobuf from "npm:protobufjs@7.6.6";
import type { ActorCritic } from "../models/actor_critic.ts";
import type { Activation, Layer } from "../models/architecture.ts";
import { MIN_VARIANCE, type PolicyKind } from "../models/heads.ts";

/** The ONNX operator set version the exported graphs use (default domain). */
export const ONNX_OPSET = 17;
/** The ONNX IR version written into exported models (the one that goes with opset 17). */
export const ONNX_IR_VERSION = 8;
/** A model that cannot be exported, or an ONNX file that cannot be read; the message says why. */
export class OnnxError extends Error {
  /** @param message what is wrong; @param cause the underlying error. */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "OnnxError";
  }
}

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Extra `metadata_props` entries (key → value), e.g. `a3g.config`. */
  metadata?: Record<string, string>;
  /** The graph's name; the model family by default. */
  graphName?: string;
}

/** What {@link readOnnxMetadata} returns. */
export interface OnnxModelInfo {
  /** Every `metadata_props` entry. */
  metadata: Record<string, string>;
  /** The model family (`a3g.family`). */
  family: string;
  /** The actor's distribution (`a3g.policy`). */
  policy: PolicyKind;
  /** The shape of one observation (`a3g.observation_shape`). */
  observationShape: number[];
  /** The LSTM width (`a3g.hidden_size`), or null for a feed-forward model. */
  hiddenSize: number | null;
  /** The graph's input names. */
  inputs: string[];
  /** The graph's output names. */
  outputs: string[];
}

// The subset of onnx.proto (field numbers as in the ONNX specification) the exporter writes.
const ONNX_PROTO = `syntax = "proto3"; package onnx;
message StringStringEntryProto { string key = 1; string value = 2; }
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message AttributeProto { string name = 1; float f = 2; int64 i = 3; bytes s = 4;
  repeated float floats = 7; repeated int64 ints = 8; int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; string name = 3;
  string op_type = 4; repeated AttributeProto attribute = 5; string domain = 7; }
message TensorProto { repeated int64 dims = 1; int32 data_type = 2; string name = 8;
  bytes raw_data = 9; }
message TensorShapeProto { message Dimension { oneof value { int64 dim_value = 1;
  string dim_param = 2; } } repeated Dimension dim = 1; }
message TypeProto { message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; } }
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message GraphProto { repeated NodeProto node = 1; string name = 2;
  repeated TensorProto initializer = 5; string doc_string = 10;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12; }
message ModelProto { int64 ir_version = 1; string producer_name = 2; string producer_version = 3;
  string doc_string = 6; GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14; }`;

let modelProto: protobuf.Type | undefined;
function modelType(): protobuf.Type {
  modelProto ??= protobuf.parse(ONNX_PROTO).root.lookupType("onnx.ModelProto");
  return modelProto;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS = 7; // AttributeProto.AttributeType

type Attribute = { name: string; type: number; f?: number; i?: number; ints?: number[] };
/** An integer attribute. */
const int = (name: string, i: number): Attribute => ({ name, type: ATTR_INT, i });
/** A float attribute. */
const float = (name: string, f: number): Attribute => ({ name, type: ATTR_FLOAT, f });
/** A list-of-integers attribute. */
const ints = (name: string, v: number[]): Attribute => ({ name, type: ATTR_INTS, ints: v });

type Dim = number | string;
function valueInfo(name: string, dims: readonly Dim[], doc: string) {
  return {
    name,
    docString: doc,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: {
          dim: dims.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }),
        },
      },
    },
  };
}

/** Accumulates the nodes and initializers of one graph. */
class GraphBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  readonly #names = new Set<string>();

  constructor(readonly model: ActorCritic) {}

  /** A fresh value name based on `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.#names.has(name); k++) name = `${base}_${k}`;
    this.#names.add(name);
    return name;
  }

  /** The model's parameter `name` as an initializer of the same name and shape. */
  param(name: string): string {
    if (this.#names.has(name)) return name;
    let tensor;
    try {
      tensor = this.model.parameters.get(name);
    } catch (error) {
      throw new OnnxError(
        `onnx export: model ${this.model.name} has no parameter ${name}, which its graph needs`,
        error,
      );
    }
    this.#names.add(name);
    const data = Float32Array.from(tensor.data);
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    for (let k = 0; k < data.length; k++) view.setFloat32(4 * k, data[k], true);
    this.initializers.push({ name, dims: [...tensor.shape], dataType: FLOAT, rawData: raw });
    return name;
  }

  /** The shape of the model's parameter `name`. */
  shape(name: string): readonly number[] {
    return this.model.parameters.get(name).shape;
  }

  /** A float scalar constant. */
  scalar(base: string, value: number): string {
    const name = this.fresh(base);
    const raw = new Uint8Array(4);
    new DataView(raw.buffer).setFloat32(0, value, true);
    this.initializers.push({ name, dims: [], dataType: FLOAT, rawData: raw });
    return name;
  }

  /** A 1-D int64 constant. */
  int64s(base: string, values: number[]): string {
    const name = this.fresh(base);
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, k) => view.setBigInt64(8 * k, BigInt(v), true));
    this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: raw });
    return name;
  }

  /** Adds one node; returns its output names (`outputs` fixed names or a count of fresh ones). */
  node(
    opType: string,
    inputs: string[],
    attributes: Attribute[] = [],
    outputs: string[] | number = 1,
    base = opType.toLowerCase(),
  ): string[] {
    const names = typeof outputs === "number"
      ? Array.from({ length: outputs }, () => this.fresh(base))
      : outputs.map((o) => {
        if (this.#names.has(o)) throw new OnnxError(`onnx export: value ${o} is defined twice`);
        this.#names.add(o);
        return o;
      });
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: names,
      attribute: attributes,
    });
    return names;
  }

  /** Adds one single-output node; returns the output's name. */
  op(opType: string, inputs: string[], attributes: Attribute[] = [], output?: string): string {
    return this.node(opType, inputs, attributes, output === undefined ? 1 : [output])[0];
  }

  /** `Linear` layer `prefix`: `x·Wᵀ + b` (Gemm with transB). */
  dense(prefix: string, x: string, output?: string): string {
    return this.op(
      "Gemm",
      [x, this.param(`${prefix}.weight`), this.param(`${prefix}.bias`)],
      [int("transB", 1)],
      output,
    );
  }

  /** Convolution layer `prefix` (1-D or 2-D, from its weight's rank). */
  conv(prefix: string, x: string, stride: number, padding: number): string {
    const weight = this.param(`${prefix}.weight`);
    const spatial = this.shape(weight).length - 2;
    return this.op("Conv", [x, weight, this.param(`${prefix}.bias`)], [
      ints("kernel_shape", this.shape(weight).slice(2) as number[]),
      ints("strides", new Array(spatial).fill(stride)),
      ints("pads", new Array(2 * spatial).fill(padding)),
      ints("dilations", new Array(spatial).fill(1)),
      int("group", 1),
    ]);
  }

  /** Leaky ReLU with slope `alpha`. */
  leakyRelu(x: string, alpha: number): string {
    return this.op("LeakyRelu", [x], [float("alpha", alpha)]);
  }
}

/** Flattens `[N, ...]` to `[N, rest]`. */
function flatten(g: GraphBuilder, x: string): string {
  return g.op("Flatten", [x], [int("axis", 1)]);
}

/** `x` after `activation`. */
function activate(g: GraphBuilder, x: string, activation: Activation, layer: string): string {
  if (typeof activation === "object") return g.leakyRelu(x, activation.leakyRelu);
  if (activation === "elu") return g.op("Elu", [x], [float("alpha", 1)]);
  if (activation === "relu" || activation === "tanh") {
    return g.op(activation === "relu" ? "Relu" : "Tanh", [x]);
  }
  throw new OnnxError(
    `onnx export: layer '${layer}' has activation '${activation}', expected elu, relu, tanh or ` +
      "leaky ReLU",
  );
}

/** The encoder's layers as nodes: `[N, ...observationShape]` → `[N, features]`. */
function encoder(g: GraphBuilder, layers: readonly Layer[], x: string, rank: number): string {
  for (const layer of layers) {
    if (layer.op === "conv") {
      let y = g.conv(layer.name, x, layer.stride, layer.padding);
      if (layer.pool !== null) {
        y = g.op("MaxPool", [y], [
          ints("kernel_shape", [layer.pool, layer.pool]),
          ints("strides", [layer.pool, layer.pool]),
        ]);
      }
      x = activate(g, y, layer.activation, layer.name);
    } else if (layer.op === "dense") {
      if (rank > 2) x = flatten(g, x);
      rank = 2;
      x = activate(g, g.dense(layer.name, x), layer.activation, layer.name);
    } else {
      const { op, name } = layer as { op: string; name: string };
      throw new OnnxError(`onnx export: layer '${name}' is a '${op}', expected conv or dense`);
    }
  }
  return rank > 2 ? flatten(g, x) : x;
}

/** `[N, 1]` → `[N]`. */
function squeezeValue(g: GraphBuilder, x: string): string {
  return g.op("Reshape", [x, g.int64s("value_shape", [-1])], [], "value");
}

/** Actor and critic linear layers: `value`, `logits`. */
function categoricalHeads(g: GraphBuilder, h: string): void {
  squeezeValue(g, g.dense("critic_linear", h));
  g.dense("actor_linear", h, "logits");
}

/** a3c_continuous's heads: `value`, `mean` = tanh(·), `variance` = ½softsign(·) + ½ + σ²_min. */
function gaussianHeads(g: GraphBuilder, h: string): void {
  const critic = g.leakyRelu(g.dense("critic_linear", h), 0.25);
  squeezeValue(g, g.dense("critic_out", critic));
  g.op("Tanh", [g.dense("actor_mean", h)], [], "mean");
  const soft = g.op("Softsign", [g.dense("actor_variance", h)]);
  const half = g.op("Mul", [soft, g.scalar("half", 0.5)]);
  g.op("Add", [half, g.scalar("variance_offset", 0.5 + MIN_VARIANCE)], [], "variance");
}

/** One `torch.nn.LSTMCell` step from features `x` and state `h`, `c` to `h_out`, `c_out`. */
function lstmCell(g: GraphBuilder, prefix: string, x: string, h: string, c: string): string {
  const p = (n: string) => g.param(`${prefix}.${n}`);
  const fromInput = g.op("Gemm", [x, p("weight_ih"), p("bias_ih")], [int("transB", 1)]);
  const fromHidden = g.op("Gemm", [h, p("weight_hh"), p("bias_hh")], [int("transB", 1)]);
  const gates = g.op("Add", [fromInput, fromHidden], [], "gates");
  const [i, f, cell, o] = g.node("Split", [gates], [int("axis", 1)], 4, "gate");
  const keep = g.op("Mul", [g.op("Sigmoid", [f]), c]);
  const write = g.op("Mul", [g.op("Sigmoid", [i]), g.op("Tanh", [cell])]);
  const cOut = g.op("Add", [keep, write], [], "c_out");
  return g.op("Mul", [g.op("Sigmoid", [o]), g.op("Tanh", [cOut])], [], "h_out");
}

/**
 * The model as a serialized ONNX `ModelProto` (opset {@link ONNX_OPSET}): one step of the model,
 * weights included. See the module documentation for the graph's inputs and outputs.
 */
export function exportOnnx(model: ActorCritic, options: OnnxExportOptions = {}): Uint8Array {
  const def = model.definition;
  const g = new GraphBuilder(model);
  const obs = g.fresh("obs");
  const inputs = [
    valueInfo("obs", ["N", ...def.observationShape], "observations, one row per environment"),
  ];
  let hidden = encoder(g, def.encoder, obs, def.observationShape.length + 1);
  if (def.lstm !== null) {
    const size = def.lstm.hiddenSize;
    const h = g.fresh("h"), c = g.fresh("c");
    inputs.push(
      valueInfo(h, ["N", size], "LSTM hidden state before the step (zeros to start)"),
      valueInfo(c, ["N", size], "LSTM cell state before the step (zeros to start)"),
    );
    hidden = lstmCell(g, def.lstm.prefix, hidden, h, c);
  }
  const outputs = [valueInfo("value", ["N"], "state value")];
  const policy = def.policy;
  if (policy.kind === "categorical") {
    categoricalHeads(g, hidden);
    outputs.push(
      valueInfo("logits", ["N", policy.actions], "unnormalised action log-probabilities"),
    );
  } else {
    gaussianHeads(g, hidden);
    outputs.push(
      valueInfo("mean", ["N", policy.dims], "action means"),
      valueInfo("variance", ["N", policy.dims], "action variances"),
    );
  }
  if (def.lstm !== null) {
    const size = def.lstm.hiddenSize;
    outputs.push(
      valueInfo("h_out", ["N", size], "LSTM hidden state after the step"),
      valueInfo("c_out", ["N", size], "LSTM cell state after the step"),
    );
  }
  const metadata: Record<string, string> = {
    "a3g.family": def.name,
    "a3g.policy": JSON.stringify(policy),
    "a3g.observation_shape": JSON.stringify(def.observationShape),
    ...(def.lstm === null ? {} : { "a3g.hidden_size": String(def.lstm.hiddenSize) }),
    ...options.metadata,
  };
  const Model = modelType();
  const message = Model.fromObject({
    irVersion: ONNX_IR_VERSION,
    producerName: "a3g",
    docString: `a3g actor-critic, family ${def.name}: one step of the model`,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? def.name,
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: outputs,
    },
  });
  return Model.encode(message).finish();
}

/**
 * Reads the interface and a3g metadata of an ONNX model written by {@link exportOnnx}. `source`
 * names the file in error messages.
 */
export function readOnnxMetadata(bytes: Uint8Array, source = "ONNX model"): OnnxModelInfo {
  const Model = modelType();
  let decoded: Record<string, unknown>;
  try {
    decoded = Model.toObject(Model.decode(bytes), { longs: Number, defaults: true });
  } catch (error) {
    throw new OnnxError(
      `${source}: is not an ONNX model (${(error as Error).message})`,
      error,
    );
  }
  const metadata: Record<string, string> = {};
  for (const { key, value } of decoded.metadataProps as { key: string; value: string }[]) {
    metadata[key] = value;
  }
  const graph = (decoded.graph ?? { input: [], output: [] }) as {
    input: { name: string }[];
    output: { name: string }[];
  };
  const need = (key: string) => {
    const value = metadata[key];
    if (value === undefined) {
      throw new OnnxError(`${source}: has no ${key} metadata (expected a model a3g exported)`);
    }
    return value;
  };
  const parse = (key: string) => {
    try {
      return JSON.parse(need(key));
    } catch (error) {
      if (error instanceof OnnxError) throw error;
      throw new OnnxError(`${source}: ${key} metadata is not JSON`, error);
    }
  };
  const policy = parse("a3g.policy") as PolicyKind;
  if (
    policy === null || typeof policy !== "object" ||
    !(policy.kind === "categorical" && Number.isInteger(policy.actions) ||
      policy.kind === "gaussian" && Number.isInteger(policy.dims))
  ) {
    throw new OnnxError(
      `${source}: a3g.policy metadata is ${metadata["a3g.policy"]}, expected ` +
        `{"kind":"categorical","actions":n} or {"kind":"gaussian","dims":n}`,
    );
  }
  const observationShape = parse("a3g.observation_shape");
  if (!Array.isArray(observationShape) || !observationShape.every(Number.isInteger)) {
    throw new OnnxError(
      `${source}: a3g.observation_shape metadata is ${
        metadata["a3g.observation_shape"]
      }, expected a list of integers`,
    );
  }
  const hidden = metadata["a3g.hidden_size"];
  const hiddenSize = hidden === undefined ? null : Number(hidden);
  if (hiddenSize !== null && !(Number.isInteger(hiddenSize) && hiddenSize > 0)) {
    throw new OnnxError(
      `${source}: a3g.hidden_size metadata is ${hidden}, expected a positive integer`,
    );
  }
  return {
    metadata,
    family: need("a3g.family"),
    policy,
    observationShape,
    hiddenSize,
    inputs: graph.input.map((v) => v.name),
    outputs: graph.output.map((v) => v.name),
  };
}
