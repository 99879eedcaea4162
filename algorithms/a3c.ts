/**
 * A3C's loss, written once: from a rollout's log-probabilities, entropies and values, n-step value
 * targets and GAE advantages. The learner that plays rollouts and applies the gradient (for the CPU
 * and the GPU alike) is in `learner.ts`; the Hogwild plumbing in `worker.ts` and `trainer.ts`.
 *
 * Loss of a rollout of T steps (rl_a3c_pytorch):
 *
 * ```text
 * R_t = r_t + γ R_{t+1},  R_T = V(s_T) or 0 at episode end         (value targets)
 * δ_t = r_t + γ V(s_{t+1}) − V(s_t),  A_t = δ_t + γτ A_{t+1}        (GAE)
 * policy loss = −Σ_t log π(a_t|s_t)·A_t − β Σ_t H(π(·|s_t))
 * value loss  = ½ Σ_t (R_t − V(s_t))²
 * loss        = policy loss + valueCoef · value loss
 * ```
 *
 * @module
 */
import { add, mul, mulScalar, neg, sub, sum } from "../autograd/ops/mod.ts";
import type { LstmState } from "../autograd/ops/lstm.ts";
import { noGrad, Tensor } from "../autograd/tensor.ts";
import type { ActorCritic } from "../models/actor_critic.ts";
import { argmax } from "../models/heads.ts";
import type { Policy } from "../envs/evaluate.ts";
import { gae, nStepReturns } from "./returns.ts";

/** The hyper-parameters one learner uses (a subset of `TrainConfig`). */
export interface A3CHyperParameters {
  /** Discount γ. */
  gamma: number;
  /** GAE λ (τ). */
  tau: number;
  /** Entropy bonus weight β. */
  entropyCoef: number;
  /** Weight of the value loss. */
  valueCoef: number;
  /** Global gradient-norm clip, or null. */
  maxGradNorm: number | null;
  /** Clip training rewards to [−1, 1]. */
  clipRewards: boolean;
  /** a3c_continuous's reward shaping (×1.5, floor −20, failure −20, success bootstraps). */
  shapeRewards: boolean;
}

/** A finished episode as the learner saw it (unclipped rewards). */
export interface EpisodeRecord {
  /** Sum of the env's rewards over the episode (over all lives on Atari). */
  reward: number;
  /** Agent steps. */
  length: number;
}

/** Where one update's time went, in milliseconds. */
export interface UpdateTime {
  act: number;
  env: number;
  learn: number;
  optimizer: number;
}

/** What one update reports. */
export interface UpdateStats {
  /** Agent steps in the rollout. */
  steps: number;
  policyLoss: number;
  valueLoss: number;
  /** Mean policy entropy over the rollout. */
  entropy: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Episodes that ended during the rollout. */
  episodes: EpisodeRecord[];
  /**
   * Milliseconds of the update spent acting (the forwards, sampling included), stepping the envs,
   * computing the loss and its gradient, and clipping and applying it.
   */
  time?: UpdateTime;
  /** Whether the update was skipped because its loss or gradient was not finite. */
  skipped?: boolean;
}

/** The three losses of a rollout (each a one-element tensor). */
export interface A3CLoss {
  loss: Tensor;
  policyLoss: Tensor;
  valueLoss: Tensor;
}

/**
 * The A3C loss of a rollout from the model's outputs: `logProb`, `entropy` and `values` are `[T]`
 * (T steps played); only the first `horizon` steps enter the loss (a dropped last transition sits
 * beyond it); `bootstrap` is V(s_horizon), or 0 when the episode ended.
 */
export function a3cLoss(
  outputs: { logProb: Tensor; entropy: Tensor; values: Tensor },
  rewards: readonly number[],
  bootstrap: number,
  horizon: number,
  hp: Pick<A3CHyperParameters, "gamma" | "tau" | "entropyCoef" | "valueCoef">,
): A3CLoss {
  const steps = outputs.values.size;
  const v = outputs.values.data.subarray(0, horizon);
  const r = rewards.slice(0, horizon);
  const R = nStepReturns(r, v, bootstrap, hp.gamma).returns; // value targets R_t
  const A = gae(r, v, bootstrap, hp.gamma, hp.tau).advantages; // A_t (no gradient)
  const targets = new Float64Array(steps), advantages = new Float64Array(steps);
  const mask = new Float64Array(steps);
  for (let t = 0; t < horizon; t++) [targets[t], advantages[t], mask[t]] = [R[t], A[t], 1];
  return lossFromTargets(outputs, targets, advantages, mask, hp);
}

/**
 * The A3C loss from per-row value targets R, advantages A (both constants of the loss) and a mask
 * (0 drops a row): −Σ m·log π·A − β Σ m·H + valueCoef · ½ Σ m·(R − V)².
 */
export function lossFromTargets(
  outputs: { logProb: Tensor; entropy: Tensor; values: Tensor },
  targets: ArrayLike<number>,
  advantages: ArrayLike<number>,
  mask: ArrayLike<number>,
  hp: Pick<A3CHyperParameters, "entropyCoef" | "valueCoef">,
): A3CLoss {
  const { logProb, entropy, values } = outputs;
  const n = values.size;
  const constant = (fill: (i: number) => number) => {
    const data = values.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = fill(i);
    return new Tensor(data, [n]);
  };
  const m = constant((i) => mask[i]);
  const policyLoss = sub(
    neg(sum(mul(logProb, constant((i) => advantages[i] * mask[i])))),
    mulScalar(sum(mul(entropy, m)), hp.entropyCoef),
  );
  const error = mul(sub(constant((i) => targets[i]), values), m);
  const valueLoss = mulScalar(sum(mul(error, error)), 0.5);
  return { loss: add(policyLoss, mulScalar(valueLoss, hp.valueCoef)), policyLoss, valueLoss };
}

/** The greedy action for one observation: argmax of the logits, or the Gaussian mean. */
export function greedyAction(
  model: ActorCritic,
  observation: Float32Array,
  state: LstmState | null,
): { action: number | Float32Array; state: LstmState | null; value: number } {
  const x = new Tensor(observation, [1, ...model.definition.observationShape]);
  const { outputs, state: next } = noGrad(() => model.sequence(x, 1, state));
  const policy = model.policy;
  const action = policy.kind === "categorical"
    ? argmax(outputs.logits!.data, 0, policy.actions)
    : Float32Array.from(outputs.mean!.data);
  return { action, state: next, value: outputs.value.data[0] };
}

/**
 * `model`'s greedy policy for `playEpisode` and `evaluatePolicy`: {@link greedyAction} with the
 * recurrent state carried from step to step and forgotten at each reset. Observations are copied
 * (envs reuse their buffers).
 */
export function greedyPolicy(model: ActorCritic): Policy {
  let state = model.initialState(1);
  return {
    reset: () => {
      state = model.initialState(1);
    },
    act: (observation) => {
      const a = greedyAction(model, Float32Array.from(observation as ArrayLike<number>), state);
      state = a.state;
      return a.action;
    },
  };
}
