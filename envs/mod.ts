/**
 * Environments: the `Env` interface and spaces, Atari (Pong, Breakout), classic control, Box2D
 * walkers and landers, wrappers, and the registry.
 *
 * @module
 */
export * from "./core.ts";
export * from "./classic/mod.ts";
export * from "./wrappers/mod.ts";
export {
  editDistance,
  envSpec,
  listEnvs,
  makeEnv,
  type MakeEnvOptions,
  nearestEnvIds,
  REGISTRY_OPTIONS,
  rewardThreshold,
} from "./registry.ts";
export { VectorEnv, type VectorStepResult } from "./vector.ts";
export {
  isAtari,
  makePipelineEnv,
  observationStatistics,
  type PipelineOptions,
} from "./pipeline.ts";
export * from "./box2d/mod.ts";
