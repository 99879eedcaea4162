/**
 * A3G, one learner's view: K environments stepped together on a GPU copy of the model.
 *
 * Each rollout loads the shared parameters into the learner's GPU weights, then plays T steps of
 * its K environments with one batched forward per step (one readback of the logits and values per
 * step), and one more forward for the bootstrap values. The loss gradient with respect to the
 * logits and values is computed on the CPU from what was read back (GAE per environment, cut at
 * episode ends); the GPU re-runs the forward over all T·K rows with a tape and backpropagates; the
 * parameter gradient comes back in one readback and the shared optimizer applies it lock-free, as
 * in A3C. With K = 1 this is rl_a3c_pytorch's A3G; with K > 1 the update is the sum of the K
 * environments' A3C gradients (tf-a3c-gpu's batched agents).
 *
 * Loss gradients (categorical policy, per row, p = softmax(z), H = −Σ p log p):
 *
 * ```text
 * ∂L/∂z_j = −A·(1[j = a] − p_j) + β·p_j·(log p_j + H)
 * ∂L/∂V   = valueCoef·(V − R)
 * ```
 *
 * @module
 */
import type { GpuArray, GpuBackend } from "../autograd/backends/webgpu/mod.ts";
import { Parameters } from "../autograd/parameters.ts";
import { Rng } from "../autograd/random.ts";
import type { Env } from "../envs/core.ts";
import type { GpuActorCritic, GpuLstmState } from "../models/gpu_actor_critic.ts";
import { sampleCategorical } from "../models/heads.ts";
import type { A3CHyperParameters, EpisodeRecord, UpdateStats } from "./a3c.ts";
import type { Optimizer } from "./optimizers.ts";
import { clipReward, gae, nStepReturns } from "./returns.ts";

/** What a rollout recorded, enough to compute the loss gradient on the CPU. */
export interface A3GRollout {
  /** Steps T (rows are t-major: row t·K + b). */
  steps: number;
  /** Environments K. */
  batch: number;
  /** Logits read back while acting, `[T·K, actions]`. */
  logits: Float32Array;
  /** Values read back while acting, `[T·K]`. */
  values: Float32Array;
  /** Actions taken, `[T·K]`. */
  actions: Int32Array;
  /** Training rewards (clipped), `[T·K]`. */
  rewards: Float32Array;
  /** 1 where the episode ended at that step, `[T·K]`. */
  dones: Uint8Array;
  /** V(s_T) of each environment, `[K]` (ignored where the last step is done). */
  bootstrap: Float32Array;
}

/** The loss gradient of a rollout and its statistics. */
export interface A3GLossGradient {
  /** ∂L/∂logits, `[T·K, actions]`. */
  dLogits: Float32Array;
  /** ∂L/∂values, `[T·K]`. */
  dValues: Float32Array;
  policyLoss: number;
  valueLoss: number;
  /** Mean entropy over the rows. */
  entropy: number;
}

/**
 * The A3C loss gradient with respect to the logits and values of a K-environment rollout: per
 * environment, n-step value targets and GAE advantages that stop at episode ends (bootstrapping from
 * `bootstrap` where the rollout was cut), summed over environments.
 */
export function a3gLossGradient(
  rollout: A3GRollout,
  actionsCount: number,
  hp: Pick<A3CHyperParameters, "gamma" | "tau" | "entropyCoef" | "valueCoef">,
): A3GLossGradient {
  const { steps: T, batch: K, logits, values, actions, rewards, dones, bootstrap } = rollout;
  const A = actionsCount;
  const dLogits = new Float32Array(T * K * A);
  const dValues = new Float32Array(T * K);
  const r = new Float64Array(T), v = new Float64Array(T);
  const d = new Uint8Array(T);
  const p = new Float64Array(A);
  let policyLoss = 0, valueLoss = 0, entropySum = 0;
  for (let b = 0; b < K; b++) {
    for (let t = 0; t < T; t++) {
      r[t] = rewards[t * K + b];
      v[t] = values[t * K + b];
      d[t] = dones[t * K + b];
    }
    const targets = nStepReturns(r, v, bootstrap[b], hp.gamma, d).returns;
    const advantages = gae(r, v, bootstrap[b], hp.gamma, hp.tau, d).advantages;
    for (let t = 0; t < T; t++) {
      const row = t * K + b;
      // log-softmax in float64
      let max = -Infinity;
      for (let j = 0; j < A; j++) max = Math.max(max, logits[row * A + j]);
      let z = 0;
      for (let j = 0; j < A; j++) z += Math.exp(logits[row * A + j] - max);
      const logZ = max + Math.log(z);
      let H = 0;
      for (let j = 0; j < A; j++) {
        p[j] = Math.exp(logits[row * A + j] - logZ);
        H -= p[j] * (logits[row * A + j] - logZ);
      }
      const adv = advantages[t];
      const a = actions[row];
      for (let j = 0; j < A; j++) {
        const logp = logits[row * A + j] - logZ;
        dLogits[row * A + j] = -adv * ((j === a ? 1 : 0) - p[j]) +
          hp.entropyCoef * p[j] * (logp + H);
      }
      const error = targets[t] - v[t];
      dValues[row] = hp.valueCoef * -error;
      policyLoss += -(logits[row * A + a] - logZ) * adv - hp.entropyCoef * H;
      valueLoss += 0.5 * error * error;
      entropySum += H;
    }
  }
  return { dLogits, dValues, policyLoss, valueLoss, entropy: entropySum / (T * K) };
}

/** One A3G learner: K environments, a GPU model, their LSTM states and episode bookkeeping. */
export class A3GLearner {
  readonly rng: Rng;
  readonly batch: number;
  readonly #gpu: GpuBackend;
  readonly #obs: Float32Array;
  #state: GpuLstmState | null;
  /** Per env: 0 where an episode began since the last step (the LSTM state must be zeroed). */
  readonly #mask: Float32Array;
  #maskPending = false;
  readonly #episodeReward: Float64Array;
  readonly #episodeLength: Int32Array;
  /** Where the gradient is read back to: a store of the model's layout, for its norm and clip. */
  readonly #gradients: Parameters;

  /**
   * @param envs the K training envs (Atari pipelines)
   * @param model the learner's GPU model (weights reloaded before each rollout)
   * @param hp hyper-parameters
   * @param seed seeds env b's first reset with seed + b, and the action sampler
   */
  constructor(
    readonly envs: Env[],
    readonly model: GpuActorCritic,
    readonly hp: A3CHyperParameters,
    seed: number,
  ) {
    this.rng = new Rng(seed);
    this.batch = envs.length;
    this.#gpu = model.backend;
    const size = model.observationSize;
    this.#obs = new Float32Array(this.batch * size);
    envs.forEach((env, b) => this.#setObservation(b, env.reset({ seed: seed + b }).observation));
    this.#state = model.initialState(this.batch);
    this.#mask = new Float32Array(this.batch).fill(1);
    this.#episodeReward = new Float64Array(this.batch);
    this.#episodeLength = new Int32Array(this.batch);
    this.#gradients = Parameters.fromLayout(model.layout);
  }

  #setObservation(b: number, obs: ArrayLike<number>): void {
    const size = this.model.observationSize;
    if (obs.length !== size) {
      throw new RangeError(
        `${this.envs[b].id}: observation has ${obs.length} values, the model expects ${size}`,
      );
    }
    this.#obs.set(obs, b * size);
  }

  /** Uploads the pending reset mask, or returns null when no env restarted. */
  #takeMask(): GpuArray | null {
    if (!this.#maskPending) return null;
    const mask = this.#gpu.upload(this.#mask);
    this.#mask.fill(1);
    this.#maskPending = false;
    return mask;
  }

  /**
   * Plays `numSteps` steps of every env, computes the loss gradient, backpropagates on the GPU
   * and applies the gradient with `optimizer` to `shared`.
   */
  async update(numSteps: number, optimizer: Optimizer, shared: Float32Array): Promise<UpdateStats> {
    const { model, envs, hp, rng, batch: K } = this;
    const gpu = this.#gpu;
    const T = numSteps, A = model.actions, size = model.observationSize;

    model.load(shared);
    const obsAll = gpu.allocate(T * K * size);
    const obsStep = gpu.allocate(K * size);
    const masks: (GpuArray | null)[] = [];
    const state0 = this.#state === null ? null : {
      h: gpu.allocate(this.#state.h.length),
      c: gpu.allocate(this.#state.c.length),
    };
    if (state0 !== null) {
      gpu.copy(this.#state!.h, state0.h);
      gpu.copy(this.#state!.c, state0.c);
    }
    const rollout: A3GRollout = {
      steps: T,
      batch: K,
      logits: new Float32Array(T * K * A),
      values: new Float32Array(T * K),
      actions: new Int32Array(T * K),
      rewards: new Float32Array(T * K),
      dones: new Uint8Array(T * K),
      bootstrap: new Float32Array(K),
    };
    const episodes: EpisodeRecord[] = [];

    // ---- acting: one batched forward and one readback per step ----
    for (let t = 0; t <= T; t++) {
      // The bootstrap forward (t = T) needs no reset mask: a done env's bootstrap is unused, and
      // the pending mask must stay for the next rollout's first step.
      const mask = t < T ? this.#takeMask() : null;
      gpu.write(obsStep, this.#obs);
      if (t < T) {
        gpu.write(obsAll, this.#obs, t * K * size);
        masks.push(mask);
      }
      const out = model.forward(obsStep, 1, K, this.#state, [mask]);
      const [logits, values] = await gpu.readMany([out.logits, out.value]);
      gpu.free(out.logits);
      gpu.free(out.value);
      if (t === T) {
        // The bootstrap forward: the state stays where the rollout left it.
        rollout.bootstrap.set(values);
        model.freeState(out.state);
        break;
      }
      model.freeState(this.#state);
      this.#state = out.state;
      rollout.logits.set(logits, t * K * A);
      rollout.values.set(values, t * K);
      for (let b = 0; b < K; b++) {
        const row = t * K + b;
        const action = sampleCategorical(logits, b, A, rng);
        rollout.actions[row] = action;
        const result = envs[b].step(action);
        this.#episodeReward[b] += result.reward;
        this.#episodeLength[b]++;
        rollout.rewards[row] = hp.clipRewards ? clipReward(result.reward) : result.reward;
        if (result.terminated || result.truncated) {
          rollout.dones[row] = 1;
          if (result.info.wasRealDone !== false) {
            episodes.push({ reward: this.#episodeReward[b], length: this.#episodeLength[b] });
            this.#episodeReward[b] = 0;
            this.#episodeLength[b] = 0;
          }
          this.#setObservation(b, envs[b].reset().observation);
          this.#mask[b] = 0;
          this.#maskPending = true;
        } else {
          this.#setObservation(b, result.observation);
        }
      }
    }

    // ---- loss gradient on the CPU, backward on the GPU ----
    const loss = a3gLossGradient(rollout, A, hp);
    const dLogits = gpu.upload(loss.dLogits);
    const dValues = gpu.upload(loss.dValues);
    const train = model.forward(obsAll, T, K, state0, masks, true);
    model.backward(train.tape!, dLogits, dValues);
    const grads = this.#gradients;
    await model.readGradients(grads.grad);
    model.release(train.tape!);
    for (const a of [train.logits, train.value, dLogits, dValues, obsAll, obsStep]) gpu.free(a);
    for (const m of masks) if (m !== null) gpu.free(m);
    model.freeState(state0);

    // ---- the lock-free update of the shared parameters ----
    const gradNorm = hp.maxGradNorm === null
      ? grads.gradNorm()
      : grads.clipGradNorm(hp.maxGradNorm);
    if (Number.isFinite(gradNorm)) optimizer.step(shared, grads.grad);
    return {
      steps: T * K,
      policyLoss: loss.policyLoss,
      valueLoss: loss.valueLoss,
      entropy: loss.entropy,
      gradNorm,
      episodes,
    };
  }

  /** Frees the learner's GPU state (not the model). */
  dispose(): void {
    this.model.freeState(this.#state);
    this.#state = null;
  }
}
