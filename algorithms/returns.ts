/**
 * Returns and advantages for one rollout, and the reward transforms applied before them.
 *
 * A rollout of T steps gives rewards r_0..r_{T-1}, the critic's values V_0..V_{T-1} (of the states
 * the actions were taken in) and a bootstrap value V_T for the state after the last step (0 when the
 * episode ended there). Both functions below walk the rollout backwards, t = T-1 .. 0, accumulating
 * in float64, exactly as the worker loop of rl_a3c_pytorch (`train.py`) and a3c_continuous
 * (§2.6) do:
 *
 * - n-step return: R_t = r_t + γ R_{t+1} (1 − done_t), with R_T = V_T; advantage R_t − V_t.
 * - GAE (Schulman et al. 2016, "τ" in the seeds, "λ" in the paper):
 *   δ_t = r_t + γ V_{t+1} (1 − done_t) − V_t;  A_t = δ_t + γτ (1 − done_t) A_{t+1}.
 *
 * `dones[t]` marks that the episode ended with step t, so nothing after it is discounted back into
 * it. A rollout that stops at an episode end may either pass `bootstrap = 0` or mark its last step
 * done; rollouts that run across episode ends (gianluca-maselli/A3C) mark each end.
 *
 * @module
 */

/** Per-step targets of one rollout, index t = 0..T-1, in float64. */
export interface Returns {
  /** Value targets: the n-step return R_t, or for {@link gae} the λ-return A_t + V_t. */
  returns: Float64Array;
  /** Advantages: R_t − V_t for {@link nStepReturns}, the GAE estimate A_t for {@link gae}. */
  advantages: Float64Array;
}

/** A per-step episode-end flag: `true`/`1` when the episode ended with that step. */
export type Dones = ArrayLike<boolean | number>;

/**
 * n-step returns R_t = r_t + γ R_{t+1} (1 − done_t), R_T = `bootstrap`, and advantages R_t − V_t.
 *
 * In rl_a3c_pytorch these are the value-loss targets (value loss = Σ ½ (R_t − V_t)²).
 *
 * @param rewards r_0..r_{T-1}, already transformed (e.g. {@link clipReward}).
 * @param values V_0..V_{T-1}, the critic's (detached) values of the states acted in.
 * @param bootstrap V_T, the value of the state after the last step; ignored if that step is done.
 * @param gamma discount factor γ in [0, 1].
 * @param dones optional episode-end flags per step.
 *
 * @example
 * ```ts
 * const { returns } = nStepReturns([1, 0, 1], [0.5, 0.4, 0.3], 2, 0.9);
 * // returns[2] = 1 + 0.9·2, returns[1] = 0 + 0.9·returns[2], returns[0] = 1 + 0.9·returns[1]
 * ```
 */
export function nStepReturns(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  bootstrap: number,
  gamma: number,
  dones?: Dones,
): Returns {
  const { T, returns, advantages } = startRollout("nStepReturns", rewards, values, bootstrap, {
    gamma,
  }, dones);
  let R = bootstrap;
  for (let t = T - 1; t >= 0; t--) {
    const notDone = isDone(dones, t) ? 0 : 1;
    R = rewards[t] + gamma * R * notDone;
    returns[t] = R;
    advantages[t] = R - values[t];
  }
  return { returns, advantages };
}

/**
 * Generalized advantage estimation: δ_t = r_t + γ V_{t+1} (1 − done_t) − V_t and
 * A_t = δ_t + γτ (1 − done_t) A_{t+1}, with V_T = `bootstrapValue` and A_T = 0.
 *
 * `returns` holds the λ-returns A_t + V_t. rl_a3c_pytorch and a3c_continuous use the GAE advantages
 * for the policy loss but the n-step returns ({@link nStepReturns}) for the value loss; with τ = 1
 * the two agree (A_t = R_t − V_t).
 *
 * @param rewards r_0..r_{T-1}, already transformed.
 * @param values V_0..V_{T-1} (detached).
 * @param bootstrapValue V_T; ignored if the last step is done.
 * @param gamma discount factor γ in [0, 1] (rl_a3c_pytorch 0.99, a3c_continuous 0.98).
 * @param tau GAE τ (λ) in [0, 1] (rl_a3c_pytorch 1.0, a3c_continuous 0.8).
 * @param dones optional episode-end flags per step.
 */
export function gae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  bootstrapValue: number,
  gamma: number,
  tau: number,
  dones?: Dones,
): Returns {
  const { T, returns, advantages } = startRollout("gae", rewards, values, bootstrapValue, {
    gamma,
    tau,
  }, dones);
  let nextValue = bootstrapValue; // V_{t+1}
  let nextAdvantage = 0; // A_{t+1}
  for (let t = T - 1; t >= 0; t--) {
    const notDone = isDone(dones, t) ? 0 : 1;
    const delta = rewards[t] + gamma * nextValue * notDone - values[t];
    const A = delta + gamma * tau * notDone * nextAdvantage;
    advantages[t] = A;
    returns[t] = A + values[t];
    nextValue = values[t];
    nextAdvantage = A;
  }
  return { returns, advantages };
}

/**
 * Clips a reward to [−limit, limit]; limit 1 as in rl_a3c_pytorch, pytorch-a3c and tf-a3c-gpu
 * (training only: logged episode scores stay unclipped).
 */
export function clipReward(reward: number, limit = 1): number {
  if (!(limit > 0)) throw new RangeError(`clipReward: limit is ${limit}, expected > 0`);
  return reward > limit ? limit : reward < -limit ? -limit : reward;
}

/** The sign of a reward (−1, 0 or 1), gianluca-maselli/A3C's training reward. */
export function signReward(reward: number): number {
  return Math.sign(reward);
}

/** Constants of a3c_continuous's reward shaping; every default is a3c_continuous's (`main.py`, `player_util.py`). */
export interface ContinuousRewardOptions {
  /** Factor applied to every reward: 1.5 (a3c_continuous `player_util`, §2.6 "max(1.5·r, …)"). */
  scale: number;
  /** Lower bound of the scaled reward: −20 (a3c_continuous flag `--rew-clip`, §2.2). */
  floor: number;
  /** Reward of an episode that ends in failure or by time limit: −20 (§2.6 "reward set to −20"). */
  failureReward: number;
}

/** Defaults of {@link ContinuousRewardOptions}, a3c_continuous HEAD. */
export const CONTINUOUS_REWARD_DEFAULTS: Readonly<ContinuousRewardOptions> = Object.freeze({
  scale: 1.5,
  floor: -20,
  failureReward: -20,
});

/**
 * How a step ends a3c_continuous's episode:
 * - `"running"`: the episode goes on; keep the transition.
 * - `"failure"`: terminated with a non-positive reward (BipedalWalker's fall is −100) or truncated by
 *   the time limit: keep the transition with the failure reward and bootstrap with 0.
 * - `"success"`: terminated with a positive reward (the walker reached the end): drop this last
 *   transition and bootstrap the return with the (detached) value of the state this step started
 *   from, which the critic already computed.
 */
export type ContinuousOutcome = "running" | "failure" | "success";

/**
 * a3c_continuous's reward shaping (`player_util.py`): the reward becomes max(scale·r, floor); when
 * the episode ends, truncation or a reward ≤ 0 counts as failure and the reward is set to
 * `failureReward`, while termination with a positive reward counts as success (see
 * {@link ContinuousOutcome} for what the caller does with each).
 *
 * @param reward the environment's raw reward for this step.
 * @param terminated the episode reached a terminal state.
 * @param truncated the episode was cut by the time limit (a3c_continuous treats it as failure).
 */
export function shapeContinuousReward(
  reward: number,
  terminated: boolean,
  truncated: boolean,
  options: Partial<ContinuousRewardOptions> = {},
): { reward: number; outcome: ContinuousOutcome } {
  const { scale, floor, failureReward } = { ...CONTINUOUS_REWARD_DEFAULTS, ...options };
  if (!Number.isFinite(reward)) {
    throw new RangeError(`shapeContinuousReward: reward is ${reward}, expected a finite number`);
  }
  const shaped = Math.max(scale * reward, floor);
  if (!terminated && !truncated) return { reward: shaped, outcome: "running" };
  if (truncated || reward <= 0) return { reward: failureReward, outcome: "failure" };
  return { reward: shaped, outcome: "success" };
}

function isDone(dones: Dones | undefined, t: number): boolean {
  return dones !== undefined && Boolean(dones[t]);
}

function checkRollout(
  fn: string,
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  bootstrap: number,
  dones: Dones | undefined,
): void {
  if (values.length !== rewards.length) {
    throw new RangeError(
      `${fn}: values has ${values.length} entries, expected one per reward (${rewards.length})`,
    );
  }
  if (dones !== undefined && dones.length !== rewards.length) {
    throw new RangeError(
      `${fn}: dones has ${dones.length} entries, expected one per reward (${rewards.length})`,
    );
  }
  if (!Number.isFinite(bootstrap)) {
    throw new RangeError(`${fn}: bootstrap value is ${bootstrap}, expected a finite number`);
  }
}

/** Checks a rollout and its factors in [0, 1], and allocates the returns and advantages. */
function startRollout(
  fn: string,
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  bootstrap: number,
  factors: Record<string, number>,
  dones?: Dones,
): { T: number; returns: Float64Array; advantages: Float64Array } {
  checkRollout(fn, rewards, values, bootstrap, dones);
  for (const [name, x] of Object.entries(factors)) checkUnit(fn, name, x);
  const T = rewards.length;
  return { T, returns: new Float64Array(T), advantages: new Float64Array(T) };
}

function checkUnit(fn: string, name: string, x: number): void {
  if (!(x >= 0 && x <= 1)) {
    throw new RangeError(`${fn}: ${name} is ${x}, expected a number in [0, 1]`);
  }
}
