/**
 * a3g: A3C and A3G reinforcement learning in TypeScript for Deno.
 *
 * What a user composes, by name: the trainer (`train`, presets and configuration), the pieces of
 * an update (envs and wrappers, models, the `Learner` with its CPU or GPU policy backend, the A3C
 * loss, n-step returns and GAE, the shared optimizers), the evaluation loop, checkpoints and the
 * files around them (safetensors, ONNX, GIF, TensorBoard), and the live page. The folders' own
 * `mod.ts` files export more, for those who build on the internals.
 *
 * Train a preset, as `deno task train cartpole` does:
 *
 * @example
 * ```ts
 * import { resolveConfig, train } from "./mod.ts";
 * const runDir = await Deno.makeTempDir();
 * const result = await train(
 *   resolveConfig("cartpole", { workers: 1, maxFrames: 2_000, evaluate: false, runDir }),
 *   { print: false, handleSignals: false },
 * );
 * console.log(result.frames, result.updates); // ≥ 2000 frames, some updates
 * ```
 *
 * One A3C update by hand: K = 2 CartPole envs, a model, the learner and Adam:
 *
 * @example
 * ```ts
 * import {
 *   ActorCritic, Adam, CpuPolicy, Learner, makeEnv, modelDefinition, resolveConfig, Rng,
 * } from "./mod.ts";
 * const envs = [makeEnv("CartPole-v1"), makeEnv("CartPole-v1")];
 * const definition = modelDefinition("mlp", envs[0].observationSpace, envs[0].actionSpace, 32);
 * const model = new ActorCritic(definition);
 * model.parameters.initialize(new Rng(1));
 * const shared = Float32Array.from(model.parameters.data); // what Hogwild workers would share
 * const learner = new Learner(envs, new CpuPolicy(model, 2), resolveConfig("cartpole"), 1);
 * const adam = new Adam(model.parameters.layout().slots, { lr: 1e-3 }, {
 *   shared: false,
 *   size: model.parameters.size,
 * });
 * const stats = await learner.update(20, adam, shared); // 20 steps in each env, one update
 * console.log(stats.steps, stats.policyLoss, stats.entropy);
 * ```
 *
 * GAE over a rollout, and a policy played to the end of its games:
 *
 * @example
 * ```ts
 * import { evaluatePolicy, gae, makeEnv } from "./mod.ts";
 * const { advantages, returns } = gae([1, 1, 1], [0.5, 0.4, 0.3], 0, 0.99, 1);
 * console.log(advantages, returns);
 * const env = makeEnv("CartPole-v1");
 * const alwaysLeft = { reset() {}, act: () => 0 };
 * const played = await evaluatePolicy(env, alwaysLeft, { episodes: 3, seed: 1 });
 * console.log(played.mean); // about 9: pushing one way topples the pole
 * ```
 *
 * @module
 */

// ---- training ----
export { train } from "./algorithms/trainer.ts";
export type { TrainOptions, TrainResult, TrainStatus } from "./algorithms/trainer.ts";
export {
  ConfigError,
  DEFAULTS,
  learningRate,
  MODEL_NAMES,
  PRESETS,
  resolveConfig,
  validateConfig,
} from "./algorithms/config.ts";
export type { ModelName, TrainConfig } from "./algorithms/config.ts";
export { makeTrainingEnv } from "./algorithms/training_env.ts";

// ---- one update: the learner, its backends, the loss, returns, optimizers ----
export { CpuPolicy, Learner, rolloutLoss, rolloutTargets } from "./algorithms/learner.ts";
export type { PolicyBackend, Rollout } from "./algorithms/learner.ts";
export { GpuPolicy } from "./algorithms/a3g.ts";
export { a3cLoss, greedyAction, greedyPolicy, lossFromTargets } from "./algorithms/a3c.ts";
export type { A3CHyperParameters, A3CLoss, UpdateStats } from "./algorithms/a3c.ts";
export { clipReward, gae, nStepReturns, shapeContinuousReward } from "./algorithms/returns.ts";
export { Adam, attachOptimizer, Optimizer, RMSprop } from "./algorithms/optimizers.ts";

// ---- beyond one machine ----
export { Cluster, ClusterError, parseClusterUrl } from "./algorithms/cluster.ts";

// ---- models ----
export { ActorCritic } from "./models/actor_critic.ts";
export type { ModelDefinition } from "./models/actor_critic.ts";
export { atariFrameSize, GPU_MODEL_NAMES, modelDefinition, policyFor } from "./models/mod.ts";
export { CONV1D_STACK, LARGE_CONV, SMALL_CONV } from "./models/families.ts";
export { encode, encoderSpecs } from "./models/architecture.ts";
export type { Activation, ConvLayer, DenseLayer, Layer } from "./models/architecture.ts";
export { argmax, sampleCategorical, sampleGaussian } from "./models/heads.ts";
export type { PolicyKind, PolicyOutputs } from "./models/heads.ts";

// ---- autograd (what models and losses are written with) ----
export { noGrad, Tensor } from "./autograd/tensor.ts";
export { Parameters } from "./autograd/parameters.ts";
export { Rng } from "./autograd/random.ts";

// ---- envs, wrappers and the evaluation loop ----
export type { Action, Env, Observation, ResetResult, Space, StepResult } from "./envs/core.ts";
export { box, discrete, EnvError } from "./envs/core.ts";
export { envSpec, listEnvs, makeEnv, rewardThreshold } from "./envs/registry.ts";
export { makePipelineEnv, observationStatistics } from "./envs/pipeline.ts";
export type { PipelineOptions } from "./envs/pipeline.ts";
export { VectorEnv } from "./envs/vector.ts";
export * from "./envs/wrappers/mod.ts";
export { evaluatePolicy, playEpisode } from "./envs/evaluate.ts";
export {
  checkpointModel,
  evaluateCheckpoint,
  evaluateOnnxModel,
  recordCheckpointGif,
} from "./algorithms/evaluate_checkpoint.ts";
export type { EvalOptions, EvalResult } from "./algorithms/evaluate_checkpoint.ts";
export type { EpisodeResult, EvaluationSummary, Policy } from "./envs/evaluate.ts";

// ---- files: checkpoints, safetensors, ONNX, GIF, TensorBoard ----
export {
  CheckpointError,
  checkpointPaths,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from "./io/checkpoint.ts";
export type { Checkpoint, LoadedCheckpoint } from "./io/checkpoint.ts";
export { readSafetensors, writeSafetensors } from "./io/safetensors.ts";
export { exportOnnx, readOnnxMetadata } from "./io/onnx.ts";
export { recordEpisodeGif } from "./io/gif.ts";
export { readEvents, SummaryWriter } from "./logging/tensorboard.ts";
export { exportModel, exportOnnxModel, exportWeights } from "./algorithms/export_checkpoint.ts";
export { importFile, importStateDict } from "./io/torch_import.ts";

// ---- the live page ----
export { serveRun } from "./web/server.ts";
export type { RunServer } from "./web/server.ts";
