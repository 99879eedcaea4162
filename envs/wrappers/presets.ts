/**
 * The seeds' env pipelines as presets: rl_a3c_pytorch's Atari chain (with the 42×42 variant of
 * the small model) and a3c_continuous's BipedalWalker chain.
 *
 * @module
 */
import type { AtariEnv } from "../atari/ale_env.ts";
import type { Env } from "../core.ts";
import { EpisodicLife } from "./episodic_life.ts";
import { actionMeanings, FireReset } from "./fire_reset.ts";
import { AtariRescale } from "./atari_rescale.ts";
import { MaxAndSkip } from "./max_and_skip.ts";
import { NoopReset } from "./noop_reset.ts";
import { NormalizedEnv } from "./normalized_env.ts";
import { NormalizeObservation, RunningMeanStd } from "./running_mean_std.ts";
import { TimeLimit } from "./time_limit.ts";

/** A crop of the Atari screen: rows [crop1, crop2 + 160). */
export interface AtariCrop {
  crop1: number;
  crop2: number;
}

/** rl_a3c_pytorch's per-game crops (its config.json); `Default` applies to other games. */
export const ATARI_CROPS: Readonly<Record<string, AtariCrop>> = {
  Default: { crop1: 34, crop2: 34 },
  Asteroids: { crop1: 16, crop2: 34 },
  BeamRider: { crop1: 20, crop2: 20 },
  Breakout: { crop1: 34, crop2: 34 },
  Centipede: { crop1: 36, crop2: 56 },
  MsPacman: { crop1: 2, crop2: 10 },
  Pong: { crop1: 34, crop2: 34 },
  Seaquest: { crop1: 30, crop2: 30 },
  SpaceInvaders: { crop1: 8, crop2: 36 },
  VideoPinball: { crop1: 42, crop2: 60 },
  Qbert: { crop1: 12, crop2: 40 },
  Boxing: { crop1: 30, crop2: 30 },
};

/** The crop for an env id: the last game name of {@link ATARI_CROPS} found in the id, else Default. */
export function atariCrop(envId: string): AtariCrop {
  let crop = ATARI_CROPS.Default;
  for (const [game, c] of Object.entries(ATARI_CROPS)) if (envId.includes(game)) crop = c;
  return crop;
}

/**
 * Whether an Atari env runs one emulated frame per step (the NoFrameskip ids, or any id made with
 * `frameskip: 1`), so that the agent-side skip, max-pool and no-op stages apply.
 */
export function emulatesOneFrame(env: Env): boolean {
  const skip = (env as Partial<AtariEnv>).frameskip;
  return skip !== undefined ? skip[0] === 1 && skip[1] === 2 : env.id.includes("NoFrameskip");
}

/** Options of {@link atariPipeline}. */
export interface AtariPipelineOptions {
  /** Output side: 80 (large model, default) or 42 (small model; resized through 80). */
  size?: number;
  /** Raw frames per agent step for NoFrameskip envs (4). */
  skip?: number;
  /** Agent steps per episode (10,000); the raw-frame limit is this × skip for NoFrameskip envs. */
  maxEpisodeLength?: number;
  /** Largest number of reset no-ops (30). */
  noopMax?: number;
  /** Raw frames the max-pool runs over (3, as rl_a3c_pytorch; baselines uses 2). */
  maxPoolFrames?: number;
  /** End the learner's episode on a lost life (true). */
  episodicLife?: boolean;
  /** Press FIRE after resets; by default when the env has FIRE as action 1. */
  fireReset?: boolean;
  /** Screen crop; by default rl_a3c_pytorch's for the game in the id (Pong, Breakout: 34/34). */
  crop?: AtariCrop;
  /** Running normalisation of the frames (true). */
  normalize?: boolean;
  /** Seed of the no-op generator. */
  seed?: number;
}

/**
 * rl_a3c_pytorch's Atari chain, in its order: TimeLimit(maxEpisodeLength × skip raw frames) →
 * NoopReset(30) → MaxAndSkip(skip, max over the last 3 raw frames) → EpisodicLife → FireReset (if
 * FIRE) → AtariRescale (crop, area resize to `size`, luminance grey, float32 1×S×S) →
 * NormalizedEnv(α 0.9999). For ids without "NoFrameskip" (the env skips frames itself) the limit is
 * maxEpisodeLength and there is no no-op or skip stage; an id made with `frameskip: 1` (e.g.
 * `ALE/Pong-v5` with its sticky actions per emulated frame, as Machado et al. 2018 evaluate) takes
 * the NoFrameskip chain. A `TimeLimit` already around `env` (from
 * the registry) is replaced, as the seed overrides the registered limit. Reward clipping stays with
 * the learner (the seed clips in the agent).
 *
 * @example
 * ```ts
 * const env = atariPipeline(makeEnv("pong"), { size: 80 });
 * const { observation } = env.reset({ seed: 1 }); // Float32Array of 1×80×80
 * ```
 */
export function atariPipeline(env: Env, options: AtariPipelineOptions = {}): Env<Float32Array> {
  const skip = options.skip ?? 4;
  const maxEpisodeLength = options.maxEpisodeLength ?? 10000;
  let e: Env = env instanceof TimeLimit ? env.env : env;
  if (emulatesOneFrame(e)) {
    e = new TimeLimit(e, maxEpisodeLength * skip);
    e = new NoopReset(e, { noopMax: options.noopMax ?? 30, seed: options.seed });
    e = new MaxAndSkip(e, { skip, maxPoolFrames: options.maxPoolFrames ?? 3 });
  } else {
    e = new TimeLimit(e, maxEpisodeLength);
  }
  if (options.episodicLife ?? true) e = new EpisodicLife(e);
  const meanings = actionMeanings(e);
  const hasFire = meanings !== undefined
    ? meanings[1] === "FIRE"
    : e.actionSpace.kind === "discrete" && e.actionSpace.n >= 3;
  if (options.fireReset ?? hasFire) e = new FireReset(e);
  const crop = options.crop ?? atariCrop(e.id);
  const rescaled = new AtariRescale(e, { ...crop, size: options.size ?? 80 });
  return (options.normalize ?? true) ? new NormalizedEnv(rescaled) : rescaled;
}

/** Options of {@link walkerPipeline}. */
export interface WalkerPipelineOptions {
  /** Steps per episode (1600: a3c_continuous makes Hardcore through BipedalWalker-v3 too). */
  maxEpisodeSteps?: number;
  /** Observation statistics to use (shared, loaded or frozen); new ones by default. */
  rms?: RunningMeanStd;
}

/**
 * a3c_continuous's BipedalWalker chain: TimeLimit(1600, replacing a registry limit — Hardcore
 * included, as the seed builds it from the v3 id) → per-dimension running observation
 * normalisation ({@link RunningMeanStd}: clip ±20 while live, ±10 once frozen). The reward
 * shaping (×1.5, floor −20, failure handling) is the learner's, not the env's, in the seed.
 */
export function walkerPipeline(
  env: Env,
  options: WalkerPipelineOptions = {},
): NormalizeObservation {
  const inner = env instanceof TimeLimit ? env.env : env;
  const limited = new TimeLimit(inner, options.maxEpisodeSteps ?? 1600);
  return new NormalizeObservation(limited, options.rms);
}
