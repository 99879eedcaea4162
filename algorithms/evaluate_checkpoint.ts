/**
 * Evaluating a saved model: build a checkpoint's model for an env (the pipeline of training), play
 * greedy games with a3g's forward (one env, or many with one batched forward per step) or with
 * onnxruntime on the exported graph, and record a game as a GIF. `deno task eval`, `deno task
 * export`, the notebooks and the tests use it.
 *
 * @example
 * ```ts
 * const r = await evaluateCheckpoint("cartpole", "models/pretrained/cartpole", 10, 1);
 * console.log(r.mean, r.std, r.min, r.max);
 * ```
 *
 * @module
 */
import { Parameters } from "../autograd/parameters.ts";
import { greedyAction, greedyPolicy } from "./a3c.ts";
import { evaluatePolicy, type Policy, summarize } from "../envs/evaluate.ts";
import { DEFAULTS, resolveConfig, type TrainConfig } from "./config.ts";
import { observationStatistics } from "../envs/pipeline.ts";
import { makeTrainingEnv, resolveModel, showsLastFrame } from "./training_env.ts";
import type { RunningMeanStdState } from "../envs/wrappers/running_mean_std.ts";
import type { Env } from "../envs/core.ts";
import { recordEpisodeGif, type RecordEpisodeResult } from "../io/gif.ts";
import {
  CheckpointError,
  loadCheckpoint,
  type LoadedCheckpoint,
  readCheckpoint,
} from "../io/checkpoint.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { noGrad, Tensor } from "../autograd/tensor.ts";
import { argmax, type PolicyKind } from "../models/heads.ts";
import { modelDefinition } from "../models/mod.ts";

/** The result of an evaluation, as `--json` prints it. */
export interface EvalResult {
  env: string;
  episodes: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  lengths: number[];
  rewards: number[];
}

/** Which forward plays the episodes: a3g's own (`ts`) or onnxruntime-node on the exported graph. */
export type EvalBackend = "ts" | "onnx";

/** The backends `--backend` accepts. */
export const EVAL_BACKENDS: readonly EvalBackend[] = ["ts", "onnx"];

/** Options of {@link evaluateCheckpoint}. */
export interface EvalOptions {
  /** `ts` (the default) or `onnx`. */
  backend?: EvalBackend;
  /**
   * Envs played at once with one batched forward per step (`ts` only; default 1). Env i's first
   * reset takes seed + i and it plays episodes i, i + envs, …, so the set of episodes does not
   * depend on which ones end first.
   */
  envs?: number;
  /**
   * Emulated frames per env step for an Atari id, as Gymnasium's `frameskip` (e.g. 1 makes
   * `ALE/Pong-v5` run through the training chain's skip of 4 and max-pool, its sticky actions kept
   * per emulated frame, as Machado et al. 2018 evaluate); the id's own by default.
   */
  frameskip?: number;
}

/** A greedy policy for one environment that holds something to free (an ONNX session). */
interface GreedyActor extends Policy {
  /** Frees what the actor holds. */
  close(): Promise<void>;
}

/**
 * The run configuration for evaluating on `name` (a preset or env id) with the model settings of
 * a saved run configuration: the saved configuration decides the model, the command line the env.
 */
export function evalConfig(name: string, saved: Partial<TrainConfig>): TrainConfig {
  const config = resolveConfig(name, {
    model: saved.model,
    hiddenSize: saved.hiddenSize,
    stackFrames: saved.stackFrames,
    skipRate: saved.skipRate,
    // a model trained on an emulator-side skip saw the last frame; checkpoints from before the
    // field pooled rl_a3c_pytorch's 3 frames, whatever the preset
    maxPoolFrames: saved.env !== undefined && showsLastFrame(saved.env)
      ? 1
      : saved.maxPoolFrames ?? DEFAULTS.maxPoolFrames,
    maxEpisodeLength: saved.maxEpisodeLength,
  });
  return config.model === "auto" ? resolveModel(config) : config;
}

/** What {@link checkpointModel} returns. */
export interface CheckpointModel {
  /** The resolved run configuration. */
  config: TrainConfig;
  /** The env, made as training makes it (close it when done). */
  env: Env;
  /** The model with the checkpoint's weights. */
  model: ActorCritic;
  /** The checkpoint as read. */
  saved: LoadedCheckpoint;
}

/**
 * Builds checkpoint `checkpoint`'s model for env `name` (a preset or env id; by default the
 * checkpoint's own preset or env) and loads its weights.
 */
export async function checkpointModel(
  checkpoint: string,
  name?: string,
  seed = 1,
  atariOptions: Record<string, unknown> = {},
): Promise<CheckpointModel> {
  const saved = await readCheckpoint(checkpoint);
  const savedConfig = (saved.config ?? {}) as Partial<TrainConfig>;
  const envName = name ?? savedConfig.preset ?? savedConfig.env;
  if (envName === undefined || envName === null) {
    throw new CheckpointError(
      saved.paths.json,
      "names no env in its configuration (expected config.env or config.preset)",
    );
  }
  const config = evalConfig(envName, savedConfig);
  const env = makeTrainingEnv(config, seed, undefined, atariOptions);
  try {
    freezeStatistics(env, saved);
    const definition = modelDefinition(
      config.model,
      env.observationSpace,
      env.actionSpace,
      config.hiddenSize,
    );
    const model = new ActorCritic(definition, new Parameters(definition.specs));
    await loadCheckpoint(checkpoint, {
      params: model.parameters.data,
      layout: model.parameters.layout().slots,
    });
    return { config, env, model, saved };
  } catch (error) {
    env.close();
    throw error;
  }
}

/** Makes `env` normalise with the checkpoint's observation statistics, frozen (a3c_continuous). */
function freezeStatistics(env: Env, saved: LoadedCheckpoint): void {
  const rms = observationStatistics(env);
  if (rms !== null && saved.normalisation !== undefined) {
    rms.import(saved.normalisation as RunningMeanStdState);
    rms.freeze();
  }
}

/**
 * Plays `episodes` greedy episodes (real games through lost lives) in `envs.length` envs at once,
 * one batched forward per step: env i plays episodes i, i + n, …; its first reset takes seed + i.
 */
function playBatched(
  model: ActorCritic,
  envs: Env[],
  envId: string,
  episodes: number,
  seed: number,
): EvalResult {
  const n = envs.length, size = model.definition.observationShape.reduce((a, b) => a * b, 1);
  const obs = new Float32Array(n * size);
  const quota = envs.map((_, i) => Math.floor(episodes / n) + (i < episodes % n ? 1 : 0));
  const reward = new Float64Array(n), length = new Int32Array(n);
  const rewards: number[] = [], lengths: number[] = [];
  envs.forEach((env, i) => {
    if (quota[i] > 0) obs.set(env.reset({ seed: seed + i }).observation, i * size);
  });
  let state = model.initialState(n);
  let resets: Float32Array | null = null;
  const policy = model.policy;
  while (quota.some((q) => q > 0)) {
    const x = new Tensor(obs, [n, ...model.definition.observationShape]);
    const step = noGrad(() => model.sequence(x, 1, state, resets ?? undefined));
    state = step.state;
    resets = null;
    for (let i = 0; i < n; i++) {
      if (quota[i] === 0) continue;
      const action = policy.kind === "categorical"
        ? argmax(step.outputs.logits!.data, i, policy.actions)
        : Float32Array.from(
          step.outputs.mean!.data.subarray(i * policy.dims, (i + 1) * policy.dims),
        );
      const r = envs[i].step(action);
      reward[i] += r.reward;
      length[i]++;
      let next = r.observation;
      if (r.terminated || r.truncated) {
        if (r.info.wasRealDone !== false) {
          rewards.push(reward[i]);
          lengths.push(length[i]);
          reward[i] = 0;
          length[i] = 0;
          quota[i]--;
        }
        if (quota[i] > 0) next = envs[i].reset().observation;
        resets ??= new Float32Array(n).fill(1);
        resets[i] = 0;
      }
      if (quota[i] > 0) obs.set(next, i * size);
    }
  }
  return summarizeOn(envId, rewards, lengths);
}

function summarizeOn(envId: string, rewards: number[], lengths: number[]): EvalResult {
  return { env: envId, ...summarize(rewards, lengths) };
}

/** Plays `episodes` greedy games with `actor`, then frees it. */
async function playWith(
  env: Env,
  actor: GreedyActor,
  envId: string,
  episodes: number,
  seed: number,
): Promise<EvalResult> {
  try {
    return { env: envId, ...(await evaluatePolicy(env, actor, { episodes, seed })) };
  } finally {
    await actor.close();
  }
}

/** a3g's own forward. */
function tsActor(model: ActorCritic): GreedyActor {
  return { ...greedyPolicy(model), close: () => Promise.resolve() };
}

/** onnxruntime-node on an exported graph (bytes or a file path). */
async function onnxActor(
  graph: Uint8Array | string,
  observationShape: readonly number[],
  policy: PolicyKind,
  hiddenSize: number | null,
): Promise<GreedyActor> {
  const { OnnxSession } = await import("../io/onnx_runtime.ts");
  const session = await OnnxSession.create(graph);
  const zeros = (): Float32Array | null =>
    hiddenSize === null ? null : new Float32Array(hiddenSize);
  let h = zeros(), c = zeros();
  const dims = [1, ...observationShape];
  return {
    reset: () => {
      h = zeros();
      c = zeros();
    },
    act: async (observation) => {
      const feeds = { obs: { data: Float32Array.from(observation), dims } };
      const out = await session.run(
        h === null || c === null ? feeds : {
          ...feeds,
          h: { data: h, dims: [1, hiddenSize!] },
          c: { data: c, dims: [1, hiddenSize!] },
        },
      );
      if (h !== null) {
        h = out.h_out.data;
        c = out.c_out.data;
      }
      return policy.kind === "categorical"
        ? argmax(out.logits.data, 0, policy.actions)
        : Float32Array.from(out.mean.data);
    },
    close: () => session.close(),
  };
}

/**
 * Plays `episodes` greedy episodes of the checkpoint's model on the run's env (the pipeline of
 * training, real games through lost lives), with a3g's forward or, with `backend: "onnx"`, the
 * model exported to ONNX and run by onnxruntime-node.
 */
export async function evaluateCheckpoint(
  name: string,
  checkpoint: string,
  episodes: number,
  seed: number,
  options: EvalOptions = {},
): Promise<EvalResult> {
  const backend = options.backend ?? "ts";
  if (!EVAL_BACKENDS.includes(backend)) {
    throw new RangeError(`eval: backend '${backend}' is unknown, expected ts or onnx`);
  }
  const parallel = options.envs ?? 1;
  if (!(Number.isInteger(parallel) && parallel >= 1)) {
    throw new RangeError(`eval: envs is ${parallel}, expected an integer ≥ 1`);
  }
  if (parallel > 1 && backend !== "ts") {
    throw new RangeError(
      "eval: --envs above 1 plays with a3g's forward; it cannot take --backend onnx",
    );
  }
  const atariOptions = options.frameskip === undefined ? {} : { frameskip: options.frameskip };
  const { config, env, model, saved } = await checkpointModel(checkpoint, name, seed, atariOptions);
  if (parallel > 1) {
    const envs = [env];
    try {
      for (let i = 1; i < Math.min(parallel, episodes); i++) {
        envs.push(makeTrainingEnv(config, seed + i, undefined, atariOptions));
        freezeStatistics(envs[i], saved);
      }
      return playBatched(model, envs, config.env, episodes, seed);
    } finally {
      for (const e of envs) e.close();
    }
  }
  try {
    let actor: GreedyActor;
    if (backend === "ts") {
      actor = tsActor(model);
    } else {
      const { exportOnnx } = await import("../io/onnx.ts");
      actor = await onnxActor(
        exportOnnx(model),
        model.definition.observationShape,
        model.policy,
        model.definition.lstm?.hiddenSize ?? null,
      );
    }
    return await playWith(env, actor, config.env, episodes, seed);
  } finally {
    env.close();
  }
}

/**
 * Records one greedy episode of checkpoint `checkpoint`'s model on env `name` as a GIF at `path`
 * (the env's own frames: Atari screens as they are, Box2D and classic control through `render()`).
 */
export async function recordCheckpointGif(
  name: string,
  checkpoint: string,
  path: string,
  seed: number,
): Promise<RecordEpisodeResult> {
  const { env, model } = await checkpointModel(checkpoint, name, seed);
  try {
    let state = model.initialState(1);
    return await recordEpisodeGif(env, (observation, { reset }) => {
      if (reset) state = model.initialState(1);
      const act = greedyAction(model, Float32Array.from(observation), state);
      state = act.state;
      return act.action;
    }, { path, seed });
  } finally {
    env.close();
  }
}

/**
 * Plays `episodes` greedy episodes of an exported `.onnx` file with onnxruntime-node on env
 * `name`, with the model settings of the run configuration in its metadata (`a3g.config`, which
 * `deno task export --onnx` writes). The env's spaces must match the graph's.
 */
export async function evaluateOnnxModel(
  name: string,
  path: string,
  episodes: number,
  seed: number,
): Promise<EvalResult> {
  const { OnnxError, readOnnxMetadata } = await import("../io/onnx.ts");
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw new OnnxError(`ONNX model ${path}: cannot be read (${(error as Error).message})`, error);
  }
  const info = readOnnxMetadata(bytes, `ONNX model ${path}`);
  let saved: Partial<TrainConfig> = { model: info.family as TrainConfig["model"] };
  if (info.hiddenSize !== null) saved.hiddenSize = info.hiddenSize;
  if (info.metadata["a3g.config"] !== undefined) {
    try {
      saved = { ...saved, ...JSON.parse(info.metadata["a3g.config"]) };
    } catch (error) {
      throw new OnnxError(`ONNX model ${path}: a3g.config metadata is not JSON`, error);
    }
  }
  const config = evalConfig(name, saved);
  const env = makeTrainingEnv(config, seed);
  try {
    const obs = env.observationSpace, act = env.actionSpace;
    const obsShape = obs.kind === "box" ? [...obs.shape] : [];
    if (obsShape.join() !== info.observationShape.join()) {
      throw new OnnxError(
        `ONNX model ${path}: takes observations [${info.observationShape}], ` +
          `env ${config.env} gives [${obsShape}]`,
      );
    }
    const policy = info.policy;
    const fits = policy.kind === "categorical"
      ? act.kind === "discrete" && act.n === policy.actions
      : act.kind === "box" && act.shape.reduce((a, b) => a * b, 1) === policy.dims;
    if (!fits) {
      throw new OnnxError(
        `ONNX model ${path}: its policy ${JSON.stringify(policy)} does not fit ` +
          `env ${config.env}'s action space`,
      );
    }
    const actor = await onnxActor(bytes, info.observationShape, policy, info.hiddenSize);
    return await playWith(env, actor, config.env, episodes, seed);
  } finally {
    env.close();
  }
}
