/**
 * The one evaluation loop: play whole games with a policy, through lost lives, and sum them up.
 * The evaluator worker, `deno task eval`, the GIF recorder, the Atari calibration and the live
 * page's games all play through it (the batched evaluation of `deno task eval --envs` steps many
 * envs with one forward, and keeps a loop of its own).
 *
 * @example
 * ```ts
 * import { makeEnv } from "./registry.ts";
 * const env = makeEnv("CartPole-v1");
 * const left = { reset() {}, act: () => 0 };
 * const result = await evaluatePolicy(env, left, { episodes: 5, seed: 1 });
 * console.log(result.mean, result.rewards);
 * ```
 *
 * @module
 */
import type { Action, Env, Observation, StepResult } from "./core.ts";

/**
 * Plays an env: `reset` when a game or a life begins (a recurrent policy forgets its state), `act`
 * once per step. `act` may return a promise (e.g. an ONNX session's forward).
 */
export interface Policy<O = Observation> {
  reset(): void;
  act(observation: O): Action | Promise<Action>;
}

/** Options of {@link playEpisode}. */
export interface PlayOptions {
  /** Seed of the first reset (none: the env goes on from its own generator). */
  seed?: number;
  /** Steps after which the game is cut (`done` false); none by default. */
  maxSteps?: number;
  /** Play on after a lost life (an `EpisodicLife` end with `wasRealDone` false); default true. */
  throughLostLives?: boolean;
  /** Called after each env reset (the game's first, and each after a lost life). */
  onReset?: () => void;
  /** Called after each step; returning `false` ends the game there (`done` false). */
  onStep?: (result: StepResult<Observation>) => boolean | void;
}

/** One game's return and length; `done` is false when it was cut. */
export interface EpisodeResult {
  reward: number;
  length: number;
  done: boolean;
}

/** Plays one game (a real one: on through lost lives) with `policy`. */
export async function playEpisode<O extends Observation>(
  env: Env<O>,
  policy: Policy<O>,
  options: PlayOptions = {},
): Promise<EpisodeResult> {
  const throughLostLives = options.throughLostLives ?? true;
  const maxSteps = options.maxSteps ?? Infinity;
  let observation = env.reset(options.seed === undefined ? undefined : { seed: options.seed })
    .observation;
  policy.reset();
  options.onReset?.();
  let reward = 0, length = 0;
  while (length < maxSteps) {
    const chosen = policy.act(observation);
    // awaited only when it is a promise: a synchronous policy costs no microtask a step
    const action = chosen instanceof Promise ? await chosen : chosen;
    const result = env.step(action);
    reward += result.reward;
    length++;
    if (options.onStep?.(result) === false) return { reward, length, done: false };
    if (result.terminated || result.truncated) {
      if (!(throughLostLives && result.info.wasRealDone === false)) {
        return { reward, length, done: true };
      }
      observation = env.reset().observation;
      policy.reset();
      options.onReset?.();
    } else {
      observation = result.observation;
    }
  }
  return { reward, length, done: false };
}

/** What {@link evaluatePolicy} returns. */
export interface EvaluationSummary {
  episodes: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  rewards: number[];
  lengths: number[];
}

/** Options of {@link evaluatePolicy}. */
export interface EvaluateOptions extends Omit<PlayOptions, "seed"> {
  /** Games to play. */
  episodes: number;
  /** Seed of the first game's reset; the later games go on from the env's generator. */
  seed?: number;
  /** Whether to stop before the next game (e.g. a stop request); the games so far are summed. */
  stopped?: () => boolean;
}

/** Plays `episodes` games with `policy` and sums them up (population standard deviation). */
export async function evaluatePolicy<O extends Observation>(
  env: Env<O>,
  policy: Policy<O>,
  options: EvaluateOptions,
): Promise<EvaluationSummary> {
  const rewards: number[] = [], lengths: number[] = [];
  for (let i = 0; i < options.episodes && !(options.stopped?.() ?? false); i++) {
    const game = await playEpisode(env, policy, {
      ...options,
      seed: i === 0 ? options.seed : undefined,
    });
    rewards.push(game.reward);
    lengths.push(game.length);
  }
  return summarize(rewards, lengths);
}

/** Mean, population standard deviation, min and max of episode returns. */
export function summarize(rewards: number[], lengths: number[]): EvaluationSummary {
  const episodes = rewards.length;
  const mean = episodes ? rewards.reduce((a, b) => a + b, 0) / episodes : NaN;
  const std = episodes
    ? Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / episodes)
    : NaN;
  return {
    episodes,
    mean,
    std,
    min: Math.min(...rewards),
    max: Math.max(...rewards),
    rewards,
    lengths,
  };
}
