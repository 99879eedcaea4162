/**
 * Models: actor-critic networks (Atari conv+LSTM small and large and their feed-forward variants,
 * a3c_continuous's MLP+LSTM, a Conv1d+LSTM over stacked frames, an MLP for classic control) and
 * their categorical and Gaussian heads.
 *
 * @module
 */
import { box, discrete, type Space } from "../envs/core.ts";
import { ActorCritic, type ModelDefinition } from "./actor_critic.ts";
import {
  conv1dLstm,
  type FamilyOptions,
  LARGE_FRAME,
  largeAtari,
  mlp,
  mlpLstm,
  SMALL_FRAME,
  smallAtari,
} from "./families.ts";
import { gpuUnsupported } from "./gpu_actor_critic.ts";
import type { PolicyKind } from "./heads.ts";

export * from "./actor_critic.ts";
export * from "./architecture.ts";
export * from "./families.ts";
export * from "./heads.ts";

/** The policy an action space calls for. */
export function policyFor(actionSpace: Space): PolicyKind {
  return actionSpace.kind === "discrete"
    ? { kind: "categorical", actions: actionSpace.n }
    : { kind: "gaussian", dims: actionSpace.shape.reduce((a, b) => a * b, 1) };
}

/** One family: how its definition is built, and the Atari frame side it was designed for. */
interface Family {
  build(o: FamilyOptions): ModelDefinition;
  frame?: number;
}

const FAMILIES = {
  "small": { build: (o) => smallAtari(o, true), frame: SMALL_FRAME },
  "small-ff": { build: (o) => smallAtari(o, false), frame: SMALL_FRAME },
  // the same stack on 80×80 frames (32×5×5 = 800 features): twice the detail; Pong trains 2.4×
  // slower with it (README)
  "small-80": { build: (o) => smallAtari(o, true, "small-80"), frame: LARGE_FRAME },
  "large": { build: (o) => largeAtari(o, true), frame: LARGE_FRAME },
  "large-ff": { build: (o) => largeAtari(o, false), frame: LARGE_FRAME },
  "mlp-lstm": { build: mlpLstm },
  "conv1d-lstm": { build: conv1dLstm },
  "mlp": { build: mlp },
} satisfies Record<string, Family>;

/**
 * The side of the square Atari frame family `name` was designed for: 42 for pytorch-a3c's
 * `small` stacks, 80 for `small-80`, rl_a3c_pytorch's `large` ones and any other family (or `auto`).
 */
export function atariFrameSize(name: string): number {
  return (FAMILIES as Record<string, Family>)[name]?.frame ?? LARGE_FRAME;
}

/** A model family's name. */
export type ModelName = keyof typeof FAMILIES;

/** Names of the model families: the one registry every list of models derives from. */
export const MODEL_NAMES = Object.keys(FAMILIES) as readonly ModelName[];

/**
 * The families the A3G GPU program runs (`gpuUnsupported` of each family's definition on an
 * Atari frame, 1×80×80 with 6 actions, is null).
 */
export const GPU_MODEL_NAMES: readonly ModelName[] = MODEL_NAMES.filter((name) => {
  try {
    return gpuUnsupported(modelDefinition(name, box([1, 80, 80], 0, 255), discrete(6), 16)) ===
      null;
  } catch {
    return false; // a family that cannot take an Atari frame or discrete actions
  }
});

/**
 * The definition of model family `name` for an env's spaces.
 *
 * @example
 * ```ts
 * const model = new ActorCritic(modelDefinition("small", env.observationSpace, env.actionSpace, 256));
 * model.parameters.initialize(new Rng(1));
 * ```
 */
export function modelDefinition(
  name: string,
  observationSpace: Space,
  actionSpace: Space,
  hiddenSize: number,
): ModelDefinition {
  const family = (FAMILIES as Record<string, Family>)[name];
  if (family === undefined) {
    throw new RangeError(
      `model: unknown family '${name}', expected one of ${MODEL_NAMES.join(", ")}`,
    );
  }
  if (observationSpace.kind !== "box") {
    throw new RangeError(`model ${name}: needs a Box observation space, got a discrete one`);
  }
  return family.build({
    observationShape: observationSpace.shape,
    policy: policyFor(actionSpace),
    hiddenSize,
  });
}

/** A model of family `name` for an env's spaces (parameters allocated, not initialised). */
export function makeModel(
  name: string,
  observationSpace: Space,
  actionSpace: Space,
  hiddenSize: number,
): ActorCritic {
  return new ActorCritic(modelDefinition(name, observationSpace, actionSpace, hiddenSize));
}
