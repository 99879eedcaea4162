/**
 * The Atari actor-critics (`small`, `large`, `small-ff`, `large-ff`) as a WebGPU program: the same
 * layers, parameter names and layout as `ActorCritic`, run with the WGSL kernels of
 * `autograd/backends/webgpu`.
 *
 * `forward` runs `steps` consecutive steps of `batch` environments (rows t-major, as
 * `ActorCritic.sequence`): the conv stack and the LSTM's input projection see all rows in one batch,
 * the recurrence runs step by step. With `train` it keeps what the backward needs (a `GpuTape`);
 * `backward` takes the loss gradient with respect to the logits and the values (computed on the CPU
 * from the outputs read back while acting) and writes the gradient of every parameter on the GPU,
 * which `readGradients` brings back with one submission. Nothing here waits for the GPU except
 * `readGradients`.
 *
 * @module
 */
import {
  conv2dOutputSize,
  type Conv2dShape,
  gpuActivation,
  gpuActivationBackward,
  GpuArray,
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
  type Pool2dShape,
} from "../autograd/backends/webgpu/mod.ts";
import type { ParameterLayout, ParameterSlot } from "../autograd/parameters.ts";
import type { ModelDefinition } from "./actor_critic.ts";
import { activationName, type ConvLayer as ConvSpec, type Layer } from "./architecture.ts";

/**
 * Why the GPU program cannot run `definition`, or null when it can: it runs a categorical policy
 * over `[C, H, W]` frames through 2-D conv layers (ELU or ReLU, optional max-pool), then an LSTM,
 * or one dense ReLU layer `fc`.
 */
export function gpuUnsupported(definition: ModelDefinition): string | null {
  if (definition.policy.kind !== "categorical") return "it needs a discrete action space";
  if (definition.observationShape.length !== 3) return "it needs [C, H, W] frames";
  const layers = definition.encoder;
  const convs = layers.filter((l) => l.op === "conv");
  const rest = layers.slice(convs.length);
  if (convs.length === 0) return "it needs a conv stack";
  if (rest.some((l) => l.op === "conv")) return "its conv layers must come first";
  for (const l of convs) {
    if (l.activation !== "elu" && l.activation !== "relu") {
      return `conv layer ${l.name} uses ${activationName(l.activation)}; it runs ELU or ReLU`;
    }
  }
  const fc = definition.lstm === null && rest.length === 1 && rest[0].name === "fc" &&
    rest[0].activation === "relu";
  if (!(definition.lstm !== null ? rest.length === 0 : fc)) {
    return "after the conv stack it runs an LSTM or one dense ReLU layer fc";
  }
  return null;
}

/** One conv layer: conv2d, then (if any) max-pool, then the activation. */
export interface GpuConvLayer {
  name: string;
  /** The conv's shape with batch 1 (the batch is set per call). */
  shape: Conv2dShape;
  /** Max-pool after the conv (kernel = stride = 2), or null. */
  pool: Pool2dShape | null;
  activation: "elu" | "relu";
  /** Floats per row of this layer's output (after pool and activation). */
  outSize: number;
}

/** One conv layer's saved arrays: its input, conv output (pooled layers), pooled output, output. */
interface ConvSaved {
  input: GpuArray;
  conv: GpuArray | null;
  pooled: GpuArray | null;
  output: GpuArray;
}

/** The GPU shapes (batch 1) of the conv layers of `layers` over `[C, H, W]` frames. */
export function gpuConvLayers(
  layers: readonly Layer[],
  frame: readonly number[],
): GpuConvLayer[] {
  let [c, h, w] = frame;
  return layers.filter((l): l is ConvSpec => l.op === "conv").map((layer) => {
    const shape: Conv2dShape = {
      batch: 1,
      inChannels: c,
      height: h,
      width: w,
      outChannels: layer.channels,
      kernelH: layer.kernel,
      kernelW: layer.kernel,
      stride: layer.stride,
      padding: layer.padding,
    };
    let { outH, outW } = conv2dOutputSize(shape);
    let pool: Pool2dShape | null = null;
    if (layer.pool !== null) {
      const k = layer.pool;
      pool = {
        batch: 1,
        channels: layer.channels,
        height: outH,
        width: outW,
        kernel: k,
        stride: k,
      };
      outH = Math.floor((outH - k) / k) + 1;
      outW = Math.floor((outW - k) / k) + 1;
    }
    [c, h, w] = [layer.channels, outH, outW];
    const activation = layer.activation as "elu" | "relu";
    return { name: layer.name, shape, pool, activation, outSize: c * h * w };
  });
}

/** The LSTM state of `batch` environments on the GPU (`[batch, hidden]` each). */
export interface GpuLstmState {
  h: GpuArray;
  c: GpuArray;
}

/** What `forward` returns. */
export interface GpuForward {
  /** `[rows, actions]`. */
  logits: GpuArray;
  /** `[rows]`. */
  value: GpuArray;
  /** The state after the last step (null for feed-forward models). */
  state: GpuLstmState | null;
  /** What the backward needs (train only). */
  tape: GpuTape | null;
}

/** Saved activations of a training forward. */
export interface GpuTape {
  steps: number;
  batch: number;
  /** Per chunk of rows (`start`, `count`), per conv layer: what its backward needs. */
  conv: { start: number; count: number; layers: ConvSaved[] }[];
  /** The encoder's output `[rows, features]`. */
  features: GpuArray;
  /** Feed-forward models: the fc pre-activation `[rows, hidden]`. */
  fcPre: GpuArray | null;
  /** LSTM models, per step: masked previous h and c, activated gates, new c. */
  lstm: { hPrev: GpuArray; cPrev: GpuArray; act: GpuArray; c: GpuArray }[];
  /** LSTM models: the masked previous h of every step, stacked `[rows, hidden]`. */
  hPrevAll: GpuArray | null;
  /** Per step reset masks `[batch]` (null: no reset inside the sequence). */
  masks: (GpuArray | null)[];
  /** The heads' input `[rows, hidden]`. */
  hidden: GpuArray;
  /** Every array the tape owns, freed by `release`. */
  owned: GpuArray[];
}

/** The GPU copy of an Atari actor-critic: weights, gradients and the forward/backward program. */
export class GpuActorCritic {
  /** Floats per observation. */
  readonly observationSize: number;
  /** Number of discrete actions. */
  readonly actions: number;
  /** LSTM width, or the fc width of a feed-forward model. */
  readonly hiddenSize: number;
  /** Whether the model has an LSTM. */
  readonly recurrent: boolean;
  readonly #layers: GpuConvLayer[];
  readonly #features: number;
  /** Rows the conv stack takes per dispatch (the adapter's storage-buffer limit). */
  readonly #chunkRows: number;
  readonly #slots = new Map<string, ParameterSlot>();
  readonly #weights = new Map<string, GpuArray>();
  readonly #grads = new Map<string, GpuArray>();
  readonly #ones = new Map<number, GpuArray>();

  /**
   * Allocates the weights and gradients of `definition` (one `gpuUnsupported` accepts) laid out as
   * `layout`; call `load` before the first forward. The conv stack runs on at most as many rows at
   * once as fit the adapter's storage-buffer limit, or `options.chunkRows`.
   */
  constructor(
    readonly backend: GpuBackend,
    readonly definition: ModelDefinition,
    readonly layout: ParameterLayout,
    options: { chunkRows?: number } = {},
  ) {
    const name = definition.name;
    const unsupported = gpuUnsupported(definition);
    if (unsupported !== null) {
      throw new RangeError(`GpuActorCritic: model ${name} has no GPU program: ${unsupported}`);
    }
    for (const slot of layout.slots) this.#slots.set(slot.name, slot);
    this.actions = (definition.policy as { actions: number }).actions;
    this.recurrent = definition.lstm !== null;
    const [channels, height, width] = definition.observationShape;
    this.observationSize = channels * height * width;
    this.#layers = gpuConvLayers(definition.encoder, definition.observationShape);
    for (const { name, shape } of this.#layers) {
      const want = [shape.outChannels, shape.inChannels, shape.kernelH, shape.kernelW];
      const have = this.#slot(`${name}.weight`).shape;
      if (have.join() !== want.join()) {
        throw new RangeError(
          `GpuActorCritic: ${name}.weight is [${have}] in the layout, the model needs [${want}]`,
        );
      }
    }
    this.#features = this.#layers[this.#layers.length - 1].outSize;
    // The largest per-row array of the conv stack decides how many rows one dispatch may take.
    let perRow = this.observationSize;
    for (const l of this.#layers) {
      const { outH, outW } = conv2dOutputSize(l.shape);
      perRow = Math.max(perRow, l.shape.outChannels * outH * outW);
    }
    const fit = Math.floor(backend.limits.maxStorageBufferBindingSize / (4 * perRow));
    this.#chunkRows = Math.max(1, Math.min(fit, options.chunkRows ?? Infinity));
    const body = this.recurrent ? this.#slot("lstm.weight_hh") : this.#slot("fc.weight");
    this.hiddenSize = body.shape[1];
    for (const slot of layout.slots) {
      this.#weights.set(slot.name, backend.allocate(slot.size));
      this.#grads.set(slot.name, backend.allocate(slot.size));
    }
  }

  #slot(name: string): ParameterSlot {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw new RangeError(`GpuActorCritic: the layout has no ${name}`);
    return slot;
  }

  #w(name: string): GpuArray {
    return this.#weights.get(name)!;
  }

  #g(name: string): GpuArray {
    return this.#grads.get(name)!;
  }

  /** A `[rows]` array of ones (sums over rows as a GEMM), cached per length. */
  #onesOf(rows: number): GpuArray {
    let ones = this.#ones.get(rows);
    if (ones === undefined) {
      ones = this.backend.upload(new Float32Array(rows).fill(1));
      this.#ones.set(rows, ones);
    }
    return ones;
  }

  /** Copies the flat parameters (layout order, e.g. the shared store) into the GPU weights. */
  load(flat: Float32Array): void {
    if (flat.length < this.layout.size) {
      throw new RangeError(
        `GpuActorCritic.load: ${flat.length} floats, the layout needs ${this.layout.size}`,
      );
    }
    for (const slot of this.layout.slots) {
      this.backend.write(this.#w(slot.name), flat.subarray(slot.offset, slot.offset + slot.size));
    }
  }

  /** Zero LSTM state for `batch` environments (null for feed-forward models). */
  initialState(batch: number): GpuLstmState | null {
    if (!this.recurrent) return null;
    const zero = new Float32Array(batch * this.hiddenSize);
    return { h: this.backend.upload(zero), c: this.backend.upload(zero) };
  }

  /** Returns a state's arrays to the pool. */
  freeState(state: GpuLstmState | null): void {
    if (state === null) return;
    this.backend.free(state.h);
    this.backend.free(state.c);
  }

  /** `y = x·Wᵀ + b` for `rows` rows of a linear layer `prefix`. */
  #linear(prefix: string, x: GpuArray, rows: number): GpuArray {
    const [out, inp] = this.#slot(`${prefix}.weight`).shape;
    const y = gpuMatmul(this.backend, x, this.#w(`${prefix}.weight`), rows, out, inp, false, true);
    const yb = gpuBinary(this.backend, "add", y, this.#w(`${prefix}.bias`));
    this.backend.free(y);
    return yb;
  }

  /**
   * Runs `steps` steps of `batch` environments on `obs` (`[steps·batch, ...observationShape]`,
   * t-major). `masks[t]` (`[batch]`, 0 or 1) scales the LSTM state before step t (0 where an
   * episode began); null or a missing entry means no reset. `state` is not modified (null: zeros).
   * With `train` the result carries the tape for `backward` (and no state); without it, only the
   * outputs and the new state stay allocated (the caller frees them).
   */
  forward(
    obs: GpuArray,
    steps: number,
    batch: number,
    state: GpuLstmState | null,
    masks: readonly (GpuArray | null)[] = [],
    train = false,
  ): GpuForward {
    const gpu = this.backend;
    const rows = steps * batch;
    if (obs.length < rows * this.observationSize) {
      throw new RangeError(
        `GpuActorCritic.forward: observations hold ${obs.length} floats, ${steps} steps of ` +
          `${batch} need ${rows * this.observationSize}`,
      );
    }
    const owned: GpuArray[] = [];
    const temp: GpuArray[] = [];
    const keep = (a: GpuArray) => {
      (train ? owned : temp).push(a);
      return a;
    };

    // ---- conv stack: all rows at once, or in chunks that fit the adapter's buffer limit ----
    const conv: GpuTape["conv"] = [];
    const chunk = this.#chunkRows;
    const F = this.#features;
    const features = rows <= chunk ? null : keep(gpu.allocate(rows * F));
    for (let start = 0; start < rows; start += chunk) {
      const count = Math.min(chunk, rows - start);
      let x = obs;
      if (features !== null) {
        x = keep(gpu.allocate(count * this.observationSize));
        gpu.copy(obs, x, count * this.observationSize, start * this.observationSize, 0);
      }
      const layers: ConvSaved[] = [];
      for (const layer of this.#layers) {
        const shape = { ...layer.shape, batch: count };
        const y = keep(
          gpuConv2d(gpu, x, this.#w(`${layer.name}.weight`), this.#w(`${layer.name}.bias`), shape),
        );
        let pooled: GpuArray | null = null;
        if (layer.pool !== null) {
          pooled = keep(gpuMaxPool2d(gpu, y, { ...layer.pool, batch: count }));
        }
        const output = keep(gpuActivation(gpu, layer.activation, pooled ?? y));
        layers.push({ input: x, conv: layer.pool ? y : null, pooled, output });
        x = output;
      }
      if (features !== null) gpu.copy(x, features, count * F, 0, start * F);
      conv.push({ start, count, layers });
    }
    const featuresAll = features ?? conv[0].layers[this.#layers.length - 1].output;

    // ---- body: fc + ReLU, or the LSTM ----
    const H = this.hiddenSize;
    let hidden: GpuArray;
    let fcPre: GpuArray | null = null;
    let next: GpuLstmState | null = null;
    const lstm: GpuTape["lstm"] = [];
    let hPrevAll: GpuArray | null = null;
    if (!this.recurrent) {
      fcPre = keep(this.#linear("fc", featuresAll, rows));
      hidden = keep(gpuActivation(gpu, "relu", fcPre));
    } else {
      // The input half of every step's gates in one GEMM: x·W_ihᵀ + b_ih.
      const projNoBias = gpuMatmul(
        gpu,
        featuresAll,
        this.#w("lstm.weight_ih"),
        rows,
        4 * H,
        this.#features,
        false,
        true,
      );
      const proj = gpuBinary(gpu, "add", projNoBias, this.#w("lstm.bias_ih"));
      temp.push(projNoBias, proj);
      hidden = keep(gpu.allocate(rows * H));
      if (train) hPrevAll = keep(gpu.allocate(rows * H));
      let h: GpuArray, c: GpuArray;
      if (state === null) {
        const zero = new Float32Array(batch * H);
        h = keep(gpu.upload(zero));
        c = keep(gpu.upload(zero));
      } else {
        ({ h, c } = state);
      }
      for (let t = 0; t < steps; t++) {
        const mask = masks[t] ?? null;
        if (mask !== null) {
          h = keep(gpuScaleRows(gpu, h, mask, batch, H));
          c = keep(gpuScaleRows(gpu, c, mask, batch, H));
        }
        // gates = proj_t + h·W_hhᵀ + b_hh
        const gates = gpu.allocate(batch * 4 * H);
        gpu.copy(proj, gates, batch * 4 * H, t * batch * 4 * H, 0);
        gpuMatmul(gpu, h, this.#w("lstm.weight_hh"), batch, 4 * H, H, false, true, {
          out: gates,
          accumulate: true,
        });
        const gatesB = gpuBinary(gpu, "add", gates, this.#w("lstm.bias_hh"));
        temp.push(gates, gatesB);
        const cell = gpuLstmCell(gpu, gatesB, c, batch, H);
        if (train) {
          lstm.push({ hPrev: h, cPrev: c, act: cell.act, c: cell.c });
          owned.push(cell.act, cell.c, cell.h);
          gpu.copy(h, hPrevAll!, batch * H, 0, t * batch * H);
        } else {
          temp.push(cell.act);
          if (t < steps - 1) temp.push(cell.h, cell.c);
        }
        gpu.copy(cell.h, hidden, batch * H, 0, t * batch * H);
        h = cell.h;
        c = cell.c;
      }
      // The caller owns the new state of an acting forward; a training forward returns none.
      next = train ? null : { h, c };
    }

    // ---- heads ----
    const logits = this.#linear("actor_linear", hidden, rows);
    const value = this.#linear("critic_linear", hidden, rows);
    for (const a of temp) gpu.free(a);
    if (!train) return { logits, value, state: next, tape: null };
    return {
      logits,
      value,
      state: null,
      tape: {
        steps,
        batch,
        conv,
        features: featuresAll,
        fcPre,
        lstm,
        hPrevAll,
        masks: Array.from({ length: steps }, (_, t) => masks[t] ?? null),
        hidden,
        owned,
      },
    };
  }

  /**
   * Writes the gradient of every parameter for the loss whose gradient with respect to the
   * forward's logits is `dLogits` (`[rows, actions]`) and to its values is `dValue` (`[rows]`).
   * Truncated BPTT: no gradient flows into the state the forward started from.
   */
  backward(tape: GpuTape, dLogits: GpuArray, dValue: GpuArray): void {
    const gpu = this.backend;
    const { steps, batch } = tape;
    const rows = steps * batch;
    const A = this.actions, H = this.hiddenSize;
    const temp: GpuArray[] = [];
    const tmp = (a: GpuArray) => {
      temp.push(a);
      return a;
    };
    const ones = this.#onesOf(rows);
    const linearGrads = (prefix: string, dy: GpuArray, x: GpuArray, out: number, inp: number) => {
      gpuMatmul(gpu, dy, x, out, inp, rows, true, false, { out: this.#g(`${prefix}.weight`) });
      gpuMatmul(gpu, ones, dy, 1, out, rows, false, false, { out: this.#g(`${prefix}.bias`) });
    };

    // ---- heads ----
    linearGrads("actor_linear", dLogits, tape.hidden, A, H);
    linearGrads("critic_linear", dValue, tape.hidden, 1, H);
    const dHidden = tmp(gpuMatmul(gpu, dLogits, this.#w("actor_linear.weight"), rows, H, A));
    gpuMatmul(gpu, dValue, this.#w("critic_linear.weight"), rows, H, 1, false, false, {
      out: dHidden,
      accumulate: true,
    });

    // ---- body ----
    const F = this.#features;
    let dFeatures: GpuArray;
    if (!this.recurrent) {
      const dPre = tmp(gpuActivationBackward(gpu, "relu", dHidden, tape.fcPre!));
      linearGrads("fc", dPre, tape.features, H, F);
      dFeatures = tmp(gpuMatmul(gpu, dPre, this.#w("fc.weight"), rows, F, H));
    } else {
      const dProj = tmp(gpu.allocate(rows * 4 * H));
      const dh = tmp(gpu.allocate(batch * H));
      let dhRec: GpuArray | null = null; // gradient w.r.t. h_t from step t+1 (already masked)
      let dc: GpuArray | null = null; // gradient w.r.t. c_t from step t+1 (already masked)
      for (let t = steps - 1; t >= 0; t--) {
        gpu.copy(dHidden, dh, batch * H, t * batch * H, 0);
        const dhT = dhRec === null ? dh : tmp(gpuBinary(gpu, "add", dh, dhRec));
        const s = tape.lstm[t];
        const cell = gpuLstmCellBackward(gpu, dhT, dc, s.act, s.cPrev, s.c, batch, H);
        temp.push(cell.dGates, cell.dcPrev);
        gpu.copy(cell.dGates, dProj, batch * 4 * H, 0, t * batch * 4 * H);
        if (t > 0) {
          const dhPrev = tmp(
            gpuMatmul(gpu, cell.dGates, this.#w("lstm.weight_hh"), batch, H, 4 * H),
          );
          const mask = tape.masks[t];
          dhRec = mask === null ? dhPrev : tmp(gpuScaleRows(gpu, dhPrev, mask, batch, H));
          dc = mask === null ? cell.dcPrev : tmp(gpuScaleRows(gpu, cell.dcPrev, mask, batch, H));
        }
      }
      // Weight gradients over every step at once.
      gpuMatmul(gpu, dProj, tape.hPrevAll!, 4 * H, H, rows, true, false, {
        out: this.#g("lstm.weight_hh"),
      });
      gpuMatmul(gpu, dProj, tape.features, 4 * H, F, rows, true, false, {
        out: this.#g("lstm.weight_ih"),
      });
      gpuMatmul(gpu, ones, dProj, 1, 4 * H, rows, false, false, { out: this.#g("lstm.bias_ih") });
      gpu.copy(this.#g("lstm.bias_ih"), this.#g("lstm.bias_hh"), 4 * H);
      dFeatures = tmp(gpuMatmul(gpu, dProj, this.#w("lstm.weight_ih"), rows, F, 4 * H));
    }

    // ---- conv stack, last layer first, chunk by chunk (weight gradients add up) ----
    const chunked = tape.conv.length > 1;
    for (const [c, { start, count, layers }] of tape.conv.entries()) {
      let dOut = dFeatures;
      if (chunked) {
        dOut = tmp(gpu.allocate(count * F));
        gpu.copy(dFeatures, dOut, count * F, start * F, 0);
      }
      for (let i = this.#layers.length - 1; i >= 0; i--) {
        const layer = this.#layers[i];
        const saved = layers[i];
        const dAct = tmp(gpuActivationBackward(
          gpu,
          layer.activation,
          dOut,
          layer.activation === "elu" ? saved.output : (saved.pooled ?? saved.conv!),
        ));
        const dConv = layer.pool === null
          ? dAct
          : tmp(gpuMaxPool2dBackward(gpu, dAct, saved.conv!, { ...layer.pool, batch: count }));
        const dx = gpuConv2dBackward(gpu, dConv, saved.input, this.#w(`${layer.name}.weight`), {
          ...layer.shape,
          batch: count,
        }, {
          dWeight: this.#g(`${layer.name}.weight`),
          dBias: this.#g(`${layer.name}.bias`),
          accumulate: c > 0,
          dx: i > 0,
        });
        if (dx !== null) dOut = tmp(dx);
      }
    }
    for (const a of temp) gpu.free(a);
  }

  /** Frees what a training forward kept. */
  release(tape: GpuTape): void {
    for (const a of tape.owned) this.backend.free(a);
    tape.owned.length = 0;
  }

  /** Reads every parameter's gradient back (one submission) into `out` (layout order). */
  async readGradients(
    out: Float32Array = new Float32Array(this.layout.size),
  ): Promise<Float32Array> {
    const slots = this.layout.slots;
    const parts = await this.backend.readMany(slots.map((s) => this.#g(s.name)));
    slots.forEach((s, i) => out.set(parts[i], s.offset));
    return out;
  }

  /** Frees every weight and gradient array. */
  destroy(): void {
    for (const a of [...this.#weights.values(), ...this.#grads.values(), ...this.#ones.values()]) {
      this.backend.free(a);
    }
    this.#weights.clear();
    this.#grads.clear();
    this.#ones.clear();
  }
}
