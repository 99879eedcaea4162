/**
 * The actor-critic every model family shares: an encoder (conv or MLP) → an optional LSTM cell →
 * value and policy heads, over one flat `Parameters` store.
 *
 * `sequence` runs T steps of B environments at once (rows t-major): the encoder and the LSTM's
 * input projection see all T·B rows in one batch, only the hidden-to-hidden recurrence runs step
 * by step, and the heads see all rows again. So the rollout's backward computes the conv and
 * input-to-hidden weight gradients as one GEMM over every step. Acting is `sequence` with T = 1.
 *
 * @module
 */
import { lstmCellProjected, lstmInputProjection, type LstmState } from "../autograd/ops/lstm.ts";
import { concat, mul, slice } from "../autograd/ops/mod.ts";
import { Parameters, type ParameterSpec } from "../autograd/parameters.ts";
import { formatShape, Tensor, zeros } from "../autograd/tensor.ts";
import { encode, type Layer } from "./architecture.ts";
import type { PolicyKind, PolicyOutputs } from "./heads.ts";

/** What a model family declares. */
export interface ModelDefinition {
  /** Family name (`small`, `large`, `mlp-lstm`, ...). */
  readonly name: string;
  /** Shape of one observation, e.g. `[1, 42, 42]`. */
  readonly observationShape: readonly number[];
  /** The actor's distribution. */
  readonly policy: PolicyKind;
  /** Every parameter, in checkpoint order. */
  readonly specs: readonly ParameterSpec[];
  /** Encoder layers: `[N, ...observationShape]` → features `[N, featureSize]` (see `architecture.ts`). */
  readonly encoder: readonly Layer[];
  /** The LSTM cell's parameter prefix and width, or null for a feed-forward model. */
  readonly lstm: { readonly prefix: string; readonly hiddenSize: number } | null;
  /** Heads: hidden `[N, H]` (the features when there is no LSTM) → value and policy. */
  heads(p: Parameters, h: Tensor): PolicyOutputs;
}

/** An actor-critic network over a flat parameter store. */
export class ActorCritic {
  /** The model's parameters (views into one flat array). */
  readonly parameters: Parameters;

  /**
   * Builds the model. Without `parameters`, a fresh store is allocated (uninitialised: call
   * `parameters.initialize(rng)`); pass a store rebuilt from a layout to share memory.
   */
  constructor(readonly definition: ModelDefinition, parameters?: Parameters) {
    this.parameters = parameters ?? new Parameters(definition.specs);
    const have = this.parameters.layout().slots;
    const want = definition.specs;
    if (
      have.length !== want.length ||
      have.some((s, i) => s.name !== want[i].name || s.shape.join() !== want[i].shape.join())
    ) {
      throw new RangeError(
        `ActorCritic(${definition.name}): the parameter store does not match the model's layout`,
      );
    }
  }

  /** Family name. */
  get name(): string {
    return this.definition.name;
  }

  /** The actor's distribution. */
  get policy(): PolicyKind {
    return this.definition.policy;
  }

  /** Whether the model carries an LSTM state between steps. */
  get recurrent(): boolean {
    return this.definition.lstm !== null;
  }

  /** Zero LSTM state for `batch` environments (null for feed-forward models). */
  initialState(batch = 1): LstmState | null {
    const lstm = this.definition.lstm;
    if (lstm === null) return null;
    return { h: zeros([batch, lstm.hiddenSize]), c: zeros([batch, lstm.hiddenSize]) };
  }

  /**
   * Runs `steps` consecutive steps of B = rows/steps environments. `obs` is
   * `[steps·B, ...observationShape]`, t-major. `resets[t·B + b]` = 0 zeroes env b's LSTM state
   * before step t (an episode began there); omit it when no episode starts inside the sequence.
   * Returns the outputs for every row and the state after the last step.
   */
  sequence(
    obs: Tensor,
    steps: number,
    state: LstmState | null,
    resets?: Float32Array,
  ): { outputs: PolicyOutputs; state: LstmState | null } {
    const def = this.definition;
    const p = this.parameters;
    const shape = def.observationShape;
    const rows = obs.shape[0];
    if (
      obs.rank !== shape.length + 1 || shape.some((d, i) => obs.shape[i + 1] !== d) ||
      rows % steps !== 0
    ) {
      throw new RangeError(
        `${def.name}: observations have shape ${formatShape(obs.shape)}, expected [${steps}·B,${
          shape.join(",")
        }]`,
      );
    }
    const features = encode(def.encoder, p, obs);
    if (def.lstm === null) return { outputs: def.heads(p, features), state: null };

    const batch = rows / steps;
    const prefix = def.lstm.prefix;
    let s = state ?? this.initialState(batch)!;
    if (s.h.shape[0] !== batch) {
      throw new RangeError(
        `${def.name}: LSTM state has batch ${s.h.shape[0]}, observations have ${batch}`,
      );
    }
    const proj = lstmInputProjection(
      features,
      p.get(`${prefix}.weight_ih`),
      p.get(`${prefix}.bias_ih`),
    );
    const wHh = p.get(`${prefix}.weight_hh`), bHh = p.get(`${prefix}.bias_hh`);
    const hs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      if (resets !== undefined) {
        const mask = new Tensor(resets.subarray(t * batch, (t + 1) * batch), [batch, 1]);
        s = { h: mul(s.h, mask), c: mul(s.c, mask) };
      }
      const x = steps === 1 ? proj : slice(proj, 0, t * batch, (t + 1) * batch);
      s = lstmCellProjected(x, s.h, s.c, wHh, bHh);
      hs.push(s.h);
    }
    const hidden = steps === 1 ? hs[0] : concat(hs, 0);
    return { outputs: def.heads(p, hidden), state: s };
  }
}
