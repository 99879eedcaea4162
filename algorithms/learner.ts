/**
 * The one actor-learner of A3C and A3G: K environments stepped together, one batched forward per
 * step, and one backward over the rollout's T·K rows. Only the model's backend differs:
 *
 * - {@link CpuPolicy}: the CPU `ActorCritic` and autograd (A3C; K = 1 is the seeds' A3C, K > 1 the
 *   batched agents of tf-a3c-gpu and PAAC on the CPU);
 * - `GpuPolicy` (`a3g.ts`): a WebGPU copy of the model (A3G).
 *
 * The rollout, the per-environment n-step returns and GAE (cut at episode ends), the loss
 * ({@link rolloutLoss}), the gradient clip and the lock-free optimizer step are written once, here.
 * With K = 1 a rollout stops at an episode end as in rl_a3c_pytorch; with K > 1 every environment
 * plays exactly T steps and an episode that ends inside the rollout zeroes that environment's LSTM
 * state before its next step.
 *
 * @module
 */
import type { LstmState } from "../autograd/ops/lstm.ts";
import { concat } from "../autograd/ops/mod.ts";
import type { Parameters } from "../autograd/parameters.ts";
import { Rng } from "../autograd/random.ts";
import { type FloatArray, noGrad, Tensor } from "../autograd/tensor.ts";
import type { Env } from "../envs/core.ts";
import { findWrapper } from "../envs/wrappers/wrapper.ts";
import {
  type EpisodeStatistics,
  RecordEpisodeStatistics,
} from "../envs/wrappers/record_episode_statistics.ts";
import type { ActorCritic } from "../models/actor_critic.ts";
import {
  categoricalLogProbEntropy,
  gaussianLogProbEntropy,
  type PolicyKind,
  type PolicyOutputs,
  sampleCategorical,
  sampleGaussian,
} from "../models/heads.ts";
import { type A3CHyperParameters, type EpisodeRecord, lossFromTargets } from "./a3c.ts";
import type { UpdateStats } from "./a3c.ts";
import type { Optimizer } from "./optimizers.ts";
import { clipReward, gae, nStepReturns, shapeContinuousReward } from "./returns.ts";

/** What a rollout of T steps of K environments recorded; rows are t-major (row t·K + b). */
export interface Rollout {
  /** Steps played, T (≤ the rollout length; K = 1 stops at an episode end). */
  steps: number;
  /** Environments, K. */
  batch: number;
  /** Categorical actions, `[T·K]` (unused for Gaussian policies). */
  discrete: Int32Array;
  /** Gaussian actions as sampled (before the env's clip), `[T·K·D]`. */
  continuous: Float32Array;
  /** Training rewards (clipped or shaped), `[T·K]`. */
  rewards: Float32Array;
  /** 1 where the environment's episode ended at that step, `[T·K]`. */
  dones: Uint8Array;
  /**
   * 1 where an episode ended in a3c_continuous's "success" (a positive terminal reward): that last
   * transition is dropped and the step before bootstraps from its value. Null when unused.
   */
  successes: Uint8Array | null;
  /** V(s_T) of each environment, `[K]` (unused where the last step is done). */
  bootstrap: Float32Array;
}

/**
 * Value targets, advantages and loss mask of a rollout, per environment: n-step returns
 * ({@link nStepReturns}) for the value loss and GAE ({@link gae}) for the policy loss, cut at
 * episode ends; a "success" ending drops its transition (mask 0) and the step before bootstraps
 * from its value. `values` are V(s_t) of every row, `[T·K]`.
 */
export function rolloutTargets(
  rollout: Rollout,
  values: ArrayLike<number>,
  hp: Pick<A3CHyperParameters, "gamma" | "tau">,
): { targets: Float32Array; advantages: Float32Array; mask: Float32Array } {
  const { steps: T, batch: K, rewards, dones, successes, bootstrap } = rollout;
  const targets = new Float32Array(T * K);
  const advantages = new Float32Array(T * K);
  const mask = new Float32Array(T * K).fill(1);
  const r = new Float64Array(T), v = new Float64Array(T);
  for (let b = 0; b < K; b++) {
    // One segment per episode piece: rows [start, end) with the value that follows them.
    const segment = (start: number, end: number, next: number) => {
      if (end <= start) return;
      for (let t = start; t < end; t++) {
        [r[t - start], v[t - start]] = [rewards[t * K + b], values[t * K + b]];
      }
      const n = end - start;
      const R = nStepReturns(r.subarray(0, n), v.subarray(0, n), next, hp.gamma).returns;
      const A = gae(r.subarray(0, n), v.subarray(0, n), next, hp.gamma, hp.tau).advantages;
      for (let t = start; t < end; t++) {
        targets[t * K + b] = R[t - start];
        advantages[t * K + b] = A[t - start];
      }
    };
    let start = 0;
    for (let t = 0; t < T; t++) {
      const row = t * K + b;
      if (!dones[row]) continue;
      if (successes !== null && successes[row]) {
        segment(start, t, values[row]);
        mask[row] = 0;
      } else {
        segment(start, t + 1, 0);
      }
      start = t + 1;
    }
    segment(start, T, bootstrap[b]);
  }
  return { targets, advantages, mask };
}

/** The losses of a rollout (one-element tensors) and the mean entropy over its rows. */
export interface RolloutLoss {
  loss: Tensor;
  policyLoss: Tensor;
  valueLoss: Tensor;
  /** Mean policy entropy over the rows in the loss. */
  entropy: number;
}

/**
 * The A3C loss of a K-environment rollout from the model's outputs over its T·K rows (the sum of
 * every environment's A3C loss; see `a3c.ts` for the formula).
 */
export function rolloutLoss(
  outputs: PolicyOutputs,
  rollout: Rollout,
  policy: PolicyKind,
  hp: Pick<A3CHyperParameters, "gamma" | "tau" | "entropyCoef" | "valueCoef">,
): RolloutLoss {
  const rows = rollout.steps * rollout.batch;
  const { logProb, entropy } = policy.kind === "categorical"
    ? categoricalLogProbEntropy(outputs.logits!, rollout.discrete.subarray(0, rows))
    : gaussianLogProbEntropy(
      outputs.mean!,
      outputs.variance!,
      rollout.continuous.subarray(0, rows * policy.dims),
    );
  const { targets, advantages, mask } = rolloutTargets(rollout, outputs.value.data, hp);
  const losses = lossFromTargets(
    { logProb, entropy, values: outputs.value },
    targets,
    advantages,
    mask,
    hp,
  );
  let sum = 0, count = 0;
  for (let i = 0; i < rows; i++) {
    if (mask[i] !== 0) [sum, count] = [sum + entropy.data[i], count + 1];
  }
  return { ...losses, entropy: count === 0 ? 0 : sum / count };
}

/** What one acting forward returns for the K environments. */
export interface ActOutputs {
  /** Logits `[K, A]` (categorical). */
  logits?: FloatArray;
  /** Means and variances `[K, D]` (Gaussian). */
  mean?: FloatArray;
  variance?: FloatArray;
  /** Values `[K]`. */
  values: FloatArray;
}

/**
 * A model backend of the learner: acts on K observations at a time, remembers what the rollout's
 * backward needs, and computes the gradient of a loss over the rollout's rows.
 */
export interface PolicyBackend {
  /** The actor's distribution. */
  readonly policy: PolicyKind;
  /** Floats in one observation. */
  readonly observationSize: number;
  /** Starts a rollout of at most `steps` steps with the shared parameters `shared`. */
  begin(shared: Float32Array, steps: number): void;
  /**
   * One forward of the K current observations (`[K·size]`). `resets` (per env, 0 = an episode
   * began: zero the LSTM state first) or null. `record`: a rollout step (the state advances and
   * the step enters the backward), else the bootstrap forward (nothing changes).
   */
  act(
    observations: Float32Array,
    resets: Float32Array | null,
    record: boolean,
  ): ActOutputs | Promise<ActOutputs>;
  /**
   * The gradient of `loss(outputs over the recorded rows)` with respect to the parameters,
   * in the returned store's `grad` (which the learner may clip in place).
   */
  gradient(
    rollout: Rollout,
    loss: (outputs: PolicyOutputs) => Tensor,
  ): Parameters | Promise<Parameters>;
}

/**
 * The CPU backend: an `ActorCritic` whose local parameters are reloaded before each rollout. Its
 * acting forwards keep their graph (the weights do not change during a rollout), so the backward
 * runs through them directly and the rollout is never computed twice.
 */
export class CpuPolicy implements PolicyBackend {
  readonly policy: PolicyKind;
  readonly observationSize: number;
  #state: LstmState | null;
  #observations = new Float32Array(0);
  #outputs: PolicyOutputs[] = [];

  /** @param batch the environments K acted for at once */
  constructor(readonly model: ActorCritic, readonly batch: number) {
    this.policy = model.policy;
    this.observationSize = model.definition.observationShape.reduce((a, b) => a * b, 1);
    this.#state = model.initialState(batch);
  }

  begin(shared: Float32Array, steps: number): void {
    this.model.parameters.copyFrom(shared);
    const size = steps * this.batch * this.observationSize;
    if (this.#observations.length !== size) this.#observations = new Float32Array(size);
    this.#outputs = [];
    // Truncated BPTT: the rollout starts from a state with no graph behind it.
    if (this.#state !== null) {
      this.#state = { h: this.#state.h.detach(), c: this.#state.c.detach() };
    }
  }

  act(observations: Float32Array, resets: Float32Array | null, record: boolean): ActOutputs {
    const K = this.batch, size = this.observationSize;
    const shape = this.model.definition.observationShape;
    let outputs: PolicyOutputs;
    if (record) {
      // The graph keeps the observation: a view of the rollout's own buffer, not the caller's.
      const t = this.#outputs.length;
      const obs = this.#observations.subarray(t * K * size, (t + 1) * K * size);
      obs.set(observations);
      const step = this.model.sequence(
        new Tensor(obs, [K, ...shape]),
        1,
        this.#state,
        resets ?? undefined,
      );
      outputs = step.outputs;
      this.#state = step.state;
      this.#outputs.push(outputs);
    } else {
      const x = new Tensor(observations, [K, ...shape]);
      outputs = noGrad(() => this.model.sequence(x, 1, this.#state)).outputs;
    }
    return {
      logits: outputs.logits?.data,
      mean: outputs.mean?.data,
      variance: outputs.variance?.data,
      values: outputs.value.data,
    };
  }

  gradient(_rollout: Rollout, loss: (outputs: PolicyOutputs) => Tensor): Parameters {
    const steps = this.#outputs;
    const join = (pick: (o: PolicyOutputs) => Tensor | undefined) =>
      steps[0] === undefined || pick(steps[0]) === undefined
        ? undefined
        : steps.length === 1
        ? pick(steps[0])
        : concat(steps.map((o) => pick(o)!), 0);
    const outputs: PolicyOutputs = {
      value: join((o) => o.value)!,
      logits: join((o) => o.logits),
      mean: join((o) => o.mean),
      variance: join((o) => o.variance),
    };
    const params = this.model.parameters;
    params.zeroGrad();
    loss(outputs).backward();
    this.#outputs = [];
    return params;
  }
}

/**
 * One actor-learner: K environments, a model backend, and the episode bookkeeping. `update` plays
 * one rollout, computes the loss and its gradient, clips it and applies it lock-free with the
 * optimizer to the shared parameters.
 */
export class Learner {
  readonly rng: Rng;
  /** Environments, K. */
  readonly batch: number;
  readonly #observations: Float32Array;
  /** Per env: 0 where an episode began since the last step (its LSTM state must be zeroed). */
  readonly #resets: Float32Array;
  #resetPending = false;
  readonly #actionSize: number;
  #rollout: Rollout | null = null;

  /**
   * @param envs the K training envs (observations as float32)
   * @param backend the model backend (its weights are reloaded before each rollout)
   * @param hp hyper-parameters
   * @param seed env b's first reset is seeded with seed + b; the action sampler with seed
   */
  /** The K training envs, each reporting its finished games (`RecordEpisodeStatistics`). */
  readonly envs: Env[];

  constructor(
    envs: Env[],
    readonly backend: PolicyBackend,
    readonly hp: A3CHyperParameters,
    seed: number,
  ) {
    if (envs.length === 0) throw new RangeError("Learner: needs at least one env");
    this.envs = envs.map((env) =>
      findWrapper(env, RecordEpisodeStatistics) ? env : new RecordEpisodeStatistics(env)
    );
    envs = this.envs;
    this.rng = new Rng(seed);
    this.batch = envs.length;
    const policy = backend.policy;
    this.#actionSize = policy.kind === "categorical" ? 1 : policy.dims;
    this.#observations = new Float32Array(this.batch * backend.observationSize);
    envs.forEach((env, b) => this.#setObservation(b, env.reset({ seed: seed + b }).observation));
    this.#resets = new Float32Array(this.batch).fill(1);
  }

  /**
   * Plays `envs` from now on instead of the current ones (the same number; the old ones are
   * closed): each starts a new episode, seeded with seed + b, with a zeroed LSTM state. Games in
   * progress end unrecorded. Call it between updates (a frame-skip switch rebuilds the envs).
   */
  replaceEnvs(envs: Env[], seed: number): void {
    if (envs.length !== this.batch) {
      throw new RangeError(`Learner: replaceEnvs got ${envs.length} envs, expected ${this.batch}`);
    }
    envs.forEach((env, b) => {
      this.envs[b].close();
      this.envs[b] = findWrapper(env, RecordEpisodeStatistics)
        ? env
        : new RecordEpisodeStatistics(env);
      this.#setObservation(b, this.envs[b].reset({ seed: seed + b }).observation);
    });
    this.#resets.fill(0);
    this.#resetPending = true;
  }

  #setObservation(b: number, obs: ArrayLike<number>): void {
    const size = this.backend.observationSize;
    if (obs.length !== size) {
      throw new RangeError(
        `${this.envs[b].id}: observation has ${obs.length} values, the model expects ${size}`,
      );
    }
    this.#observations.set(obs, b * size);
  }

  /** The pending reset mask (and clears it), or null when no env restarted. */
  #takeResets(): Float32Array | null {
    if (!this.#resetPending) return null;
    const resets = Float32Array.from(this.#resets);
    this.#resets.fill(1);
    this.#resetPending = false;
    return resets;
  }

  #rolloutBuffers(T: number): Rollout {
    const K = this.batch;
    const r = this.#rollout;
    if (r !== null && r.rewards.length === T * K) {
      r.dones.fill(0);
      r.successes?.fill(0);
      return r;
    }
    return this.#rollout = {
      steps: 0,
      batch: K,
      discrete: new Int32Array(T * K),
      continuous: new Float32Array(
        this.backend.policy.kind === "gaussian" ? T * K * this.#actionSize : 0,
      ),
      rewards: new Float32Array(T * K),
      dones: new Uint8Array(T * K),
      successes: this.hp.shapeRewards ? new Uint8Array(T * K) : null,
      bootstrap: new Float32Array(K),
    };
  }

  /**
   * Plays up to `numSteps` steps of every env from where the last rollout stopped, computes the
   * loss and its gradient, and applies it with `optimizer` to `shared`.
   */
  async update(numSteps: number, optimizer: Optimizer, shared: Float32Array): Promise<UpdateStats> {
    const { envs, hp, rng, backend, batch: K } = this;
    const policy = backend.policy;
    const D = this.#actionSize;
    const rollout = this.#rolloutBuffers(numSteps);
    const episodes: EpisodeRecord[] = [];
    const action = new Float32Array(D);
    const clipped = new Float32Array(D);
    const time = { act: 0, env: 0, learn: 0, optimizer: 0 };
    let clock = performance.now();
    const lap = (phase: keyof typeof time) => {
      const now = performance.now();
      time[phase] += now - clock;
      clock = now;
    };
    backend.begin(shared, numSteps);

    let steps = 0;
    while (steps < numSteps) {
      const out = await backend.act(this.#observations, this.#takeResets(), true);
      lap("act");
      const t = steps++;
      for (let b = 0; b < K; b++) {
        const row = t * K + b;
        let envAction: number | Float32Array;
        if (policy.kind === "categorical") {
          envAction = rollout.discrete[row] = sampleCategorical(
            out.logits!,
            b,
            policy.actions,
            rng,
          );
        } else {
          sampleGaussian(out.mean!, out.variance!, b, action, rng);
          rollout.continuous.set(action, row * D);
          for (let j = 0; j < D; j++) clipped[j] = Math.max(-1, Math.min(1, action[j]));
          envAction = clipped;
        }
        const result = envs[b].step(envAction);
        const done = result.terminated || result.truncated;
        let reward = result.reward;
        if (hp.shapeRewards) {
          const shaped = shapeContinuousReward(reward, result.terminated, result.truncated);
          reward = shaped.reward;
          if (shaped.outcome === "success") rollout.successes![row] = 1;
        } else if (hp.clipRewards) {
          reward = clipReward(reward);
        }
        rollout.rewards[row] = reward;
        if (done) {
          rollout.dones[row] = 1;
          // With EpisodicLife a lost life ends the learner's episode but not the game: only a
          // game's last step carries its statistics.
          const game = result.info.episode as EpisodeStatistics | undefined;
          if (game !== undefined) episodes.push(game);
          this.#setObservation(b, envs[b].reset().observation);
          this.#resets[b] = 0;
          this.#resetPending = true;
        } else {
          this.#setObservation(b, result.observation);
        }
      }
      lap("env");
      // The seeds' single-env A3C ends a rollout at the episode's end.
      if (K === 1 && rollout.dones[t] === 1) break;
    }
    rollout.steps = steps;

    // V(s_T) of every env whose last step did not end its episode.
    const last = (steps - 1) * K;
    let needBootstrap = false;
    for (let b = 0; b < K; b++) needBootstrap ||= rollout.dones[last + b] === 0;
    if (needBootstrap) {
      rollout.bootstrap.set((await backend.act(this.#observations, null, false)).values);
    } else {
      rollout.bootstrap.fill(0);
    }
    lap("act");

    let losses = null as RolloutLoss | null;
    const params = await backend.gradient(rollout, (outputs) => {
      losses = rolloutLoss(outputs, rollout, policy, hp);
      return losses.loss;
    });
    lap("learn");
    const { policyLoss, valueLoss, entropy } = losses!;
    const gradNorm = hp.maxGradNorm === null
      ? params.gradNorm()
      : params.clipGradNorm(hp.maxGradNorm);
    // A non-finite loss or gradient (a NaN reward, an overflow) never reaches the shared
    // parameters or the optimizer's statistics: the update is skipped and counted.
    const skipped = !Number.isFinite(gradNorm) || !Number.isFinite(losses!.loss.item());
    if (!skipped) optimizer.step(shared, params.grad);
    lap("optimizer");
    return {
      steps: steps * K,
      policyLoss: policyLoss.item(),
      valueLoss: valueLoss.item(),
      entropy,
      gradNorm,
      episodes,
      time,
      skipped,
    };
  }
}
