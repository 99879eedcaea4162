/**
 * A run's env and model choice: the configuration's env built by `envs/pipeline.ts` at the frame
 * size its model family was designed for, and the model family resolved to one that fits it.
 *
 * @module
 */
import type { Env } from "../envs/core.ts";
import { meanFrameskip } from "../envs/atari/mod.ts";
import { makePipelineEnv } from "../envs/pipeline.ts";
import { envSpec } from "../envs/registry.ts";
import type { RunningMeanStd } from "../envs/wrappers/running_mean_std.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { atariFrameSize, modelDefinition } from "../models/mod.ts";
import { greedyAction } from "./a3c.ts";
import {
  ConfigError,
  MODEL_NAMES,
  type ModelName,
  skipRateAt,
  type TrainConfig,
  validateConfig,
} from "./config.ts";

/** Whether the run's env takes the frame skip: the NoFrameskip Atari ids. */
function skipsFrames(config: TrainConfig): boolean {
  return meanFrameskip(envSpec(config.env).id) === 1;
}

/**
 * Whether env `id` is an Atari id that skips frames inside the emulator (Pong-v4, ALE/Pong-v5):
 * a model trained on it saw the last frame of each step alone, whatever `maxPoolFrames` says.
 */
export function showsLastFrame(id: string): boolean {
  return (meanFrameskip(envSpec(id).id) ?? 1) > 1;
}

/**
 * The configuration as a run plays it after `frames` frames: with its frame skip switched to
 * `skipRateFinal` once `skipSwitchFrames` frames are played, on the envs that take a skip (the
 * same object while nothing changes).
 */
export function configAtFrames(config: TrainConfig, frames: number): TrainConfig {
  const skipRate = skipRateAt(config, frames);
  return skipRate === config.skipRate || !skipsFrames(config) ? config : { ...config, skipRate };
}

/**
 * Raw frames per agent step: the frame skip on NoFrameskip Atari ids, the registered one on the
 * other Atari ids (its mean, 3, where it is drawn from 2–4 each step), else 1.
 */
export function framesPerStep(config: TrainConfig): number {
  return skipsFrames(config) ? config.skipRate : meanFrameskip(envSpec(config.env).id) ?? 1;
}

/**
 * Builds the env of a run for one learner or evaluator (see `makePipelineEnv`): frames at the
 * model family's size, the run's skip, episode limit and frame stack. `rms`: the run's shared
 * observation statistics (walkers).
 */
export function makeTrainingEnv(
  config: TrainConfig,
  seed: number,
  rms?: RunningMeanStd,
  atariOptions: Record<string, unknown> = {},
): Env {
  return makePipelineEnv(config.env, {
    seed,
    frameSize: atariFrameSize(config.model),
    skip: config.skipRate,
    maxPoolFrames: config.maxPoolFrames,
    maxEpisodeLength: config.maxEpisodeLength,
    stackFrames: config.stackFrames,
    rms,
    atariOptions,
  });
}

/** Whether model family `name` can play the run's env: one forward on a blank observation. */
function fits(config: TrainConfig, name: ModelName): { ok: true } | { ok: false; why: string } {
  let env: Env | undefined;
  try {
    env = makeTrainingEnv({ ...config, model: name }, config.seed);
    const definition = modelDefinition(name, env.observationSpace, env.actionSpace, 8);
    const model = new ActorCritic(definition);
    const size = definition.observationShape.reduce((a, b) => a * b, 1);
    greedyAction(model, new Float32Array(size), model.initialState(1));
    return { ok: true };
  } catch (error) {
    // shapes that do not fit are RangeErrors of the model or its ops; anything else is a fault
    if (!(error instanceof RangeError)) throw error;
    return { ok: false, why: error.message };
  } finally {
    env?.close();
  }
}

/** A short description of an env's spaces for messages: `observation [4], actions Discrete(2)`. */
function describeSpaces(config: TrainConfig): string {
  const env = makeTrainingEnv({ ...config, model: "small" }, config.seed);
  try {
    const o = env.observationSpace, a = env.actionSpace;
    const obs = o.kind === "box" ? `[${o.shape.join(", ")}]` : `Discrete(${o.n})`;
    const act = a.kind === "box" ? `Box[${a.shape.join(", ")}]` : `Discrete(${a.n})`;
    return `observation ${obs}, actions ${act}`;
  } finally {
    env.close();
  }
}

/**
 * The configuration with a model family that fits its env: `auto` becomes the seeds' choice for
 * the env's spaces (the Atari conv+LSTM for frames, an MLP for vectors with discrete actions,
 * a3c_continuous's MLP+LSTM for continuous ones); a family that cannot play the env is refused,
 * naming the families that can.
 */
export function resolveModel(config: TrainConfig): TrainConfig {
  if (config.model !== "auto") {
    const fit = fits(config, config.model);
    if (fit.ok) return config;
    const others = MODEL_NAMES.filter((name) => fits(config, name).ok);
    throw new ConfigError(
      `model: ${config.model} does not fit ${config.env} (${
        describeSpaces(config)
      }; ${fit.why}); ` +
        `models that fit: ${others.length ? others.join(", ") : "none"}`,
    );
  }
  const probe = makeTrainingEnv({ ...config, model: "small" }, config.seed);
  const frames = probe.observationSpace.kind === "box" && probe.observationSpace.shape.length === 3;
  const continuous = probe.actionSpace.kind === "box";
  probe.close();
  const preferred: ModelName = frames ? "small" : continuous ? "mlp-lstm" : "mlp";
  for (const name of [preferred, ...MODEL_NAMES]) {
    if (fits(config, name).ok) {
      const resolved = { ...config, model: name };
      validateConfig(resolved);
      return resolved;
    }
  }
  throw new ConfigError(
    `model: no model family fits ${config.env} (${describeSpaces(config)})`,
  );
}
