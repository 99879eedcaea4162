/**
 * The env a learner or an evaluator plays: the registry's env wrapped in the chain its seed
 * project uses (rl_a3c_pytorch's Atari chain, a3c_continuous's walker chain, or the plain env with
 * its time limit), optionally with stacked frames.
 *
 * @module
 */
import { atariEnvSpecs } from "./atari/mod.ts";
import { type Env, EnvError } from "./core.ts";
import { envSpec, makeEnv } from "./registry.ts";
import { FrameStack } from "./wrappers/frame_stack.ts";
import { atariPipeline, walkerPipeline } from "./wrappers/presets.ts";
import { NormalizeObservation, type RunningMeanStd } from "./wrappers/running_mean_std.ts";
import { findWrapper } from "./wrappers/wrapper.ts";

/** Whether an env id (or alias) is one of the Atari games. */
export function isAtari(id: string): boolean {
  return atariEnvSpecs.includes(envSpec(id));
}

/** Options of {@link makePipelineEnv}. */
export interface PipelineOptions {
  /** Seed of the pipeline's own randomness (no-op starts). */
  seed: number;
  /** Atari: side of the square frame the observations are resized to (default 80). */
  frameSize?: number;
  /** Atari: raw frames per agent step on NoFrameskip ids (default 4). */
  skip?: number;
  /** Atari: raw frames the max-pool runs over on NoFrameskip ids (default 3). */
  maxPoolFrames?: number;
  /** Agent steps per episode at most. */
  maxEpisodeLength?: number;
  /** Observations stacked (default 1: none). */
  stackFrames?: number;
  /** Walkers: the observation statistics to normalise with (new ones otherwise). */
  rms?: RunningMeanStd;
  /**
   * Options for the Atari env itself (e.g. `{ frameskip: 1 }`, which makes `ALE/Pong-v5` take the
   * NoFrameskip chain with its sticky actions kept per emulated frame).
   */
  atariOptions?: Record<string, unknown>;
}

/** Builds env `id` wrapped in its seed project's chain. */
export function makePipelineEnv(id: string, options: PipelineOptions): Env {
  const spec = envSpec(id);
  const atariOptions = options.atariOptions ?? {};
  let env: Env;
  if (!isAtari(spec.id) && Object.keys(atariOptions).length > 0) {
    throw new EnvError(
      `${id} is not an Atari env; options ${
        Object.keys(atariOptions).join(", ")
      } apply only to Atari ids`,
    );
  }
  if (isAtari(spec.id)) {
    env = atariPipeline(makeEnv(spec.id, atariOptions), {
      size: options.frameSize ?? 80,
      skip: options.skip,
      maxPoolFrames: options.maxPoolFrames,
      maxEpisodeLength: options.maxEpisodeLength,
      seed: options.seed,
    });
  } else if (spec.id.startsWith("BipedalWalker")) {
    env = walkerPipeline(makeEnv(spec.id), {
      maxEpisodeSteps: options.maxEpisodeLength,
      rms: options.rms,
    });
  } else {
    env = makeEnv(spec.id, { maxEpisodeSteps: options.maxEpisodeLength });
  }
  const stack = options.stackFrames ?? 1;
  return stack > 1 ? new FrameStack(env, stack) : env;
}

/**
 * The per-dimension observation statistics of an env built by {@link makePipelineEnv} (the
 * walkers'), or null when its chain has none.
 */
export function observationStatistics(env: Env): RunningMeanStd | null {
  return findWrapper(env, NormalizeObservation)?.rms ?? null;
}
