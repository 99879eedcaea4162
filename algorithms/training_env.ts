/**
 * The env a learner or the evaluation worker plays: the registry's env wrapped in the pipeline its
 * seed project uses (rl_a3c_pytorch's Atari chain, a3c_continuous's walker chain, or the plain env).
 *
 * @module
 */
import { atariEnvSpecs } from "../envs/atari/mod.ts";
import type { Env } from "../envs/core.ts";
import { envSpec, makeEnv } from "../envs/registry.ts";
import { FrameStack } from "../envs/wrappers/frame_stack.ts";
import { NormalizeObservation, type RunningMeanStd } from "../envs/wrappers/running_mean_std.ts";
import { findWrapper } from "../envs/wrappers/wrapper.ts";
import { atariPipeline, walkerPipeline } from "../envs/wrappers/presets.ts";
import type { TrainConfig } from "./config.ts";

/** Whether an env id (or alias) is one of the Atari games. */
export function isAtari(id: string): boolean {
  return atariEnvSpecs.includes(envSpec(id));
}

/** Raw frames per agent step: the frame skip on NoFrameskip Atari ids, else 1. */
export function framesPerStep(config: TrainConfig): number {
  const spec = envSpec(config.env);
  return isAtari(spec.id) && spec.id.includes("NoFrameskip") ? config.skipRate : 1;
}

/**
 * The per-dimension observation statistics of an env built by `makeTrainingEnv` (the walkers'),
 * or null when its pipeline has none.
 */
export function observationStatistics(env: Env): RunningMeanStd | null {
  return findWrapper(env, NormalizeObservation)?.rms ?? null;
}

/**
 * Builds the env of a run for one learner or evaluator. `rms` gives the walker pipeline the
 * observation statistics to normalise with (the run's shared ones); new ones otherwise.
 */
export function makeTrainingEnv(config: TrainConfig, seed: number, rms?: RunningMeanStd): Env {
  const spec = envSpec(config.env);
  let env: Env;
  if (isAtari(spec.id)) {
    env = atariPipeline(makeEnv(spec.id), {
      size: config.model.startsWith("small") ? 42 : 80,
      skip: config.skipRate,
      maxEpisodeLength: config.maxEpisodeLength,
      seed,
    });
  } else if (spec.id.startsWith("BipedalWalker")) {
    env = walkerPipeline(makeEnv(spec.id), { maxEpisodeSteps: config.maxEpisodeLength, rms });
  } else {
    env = makeEnv(spec.id, { maxEpisodeSteps: config.maxEpisodeLength });
  }
  return config.stackFrames > 1 ? new FrameStack(env, config.stackFrames) : env;
}
