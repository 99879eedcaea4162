/**
 * Turns a PyTorch state_dict (read by {@link readStateDict}, never unpickled by Python) into an
 * a3g model of a given family for a given env: every tensor of the model must be there, by the
 * seeds' state_dict key, with the model's shape, and no other may be; all mismatches are listed in
 * one error. The LSTM (or hidden) width is read from the file unless given. {@link importFile}
 * does it for a file and saves the model as a checkpoint (`deno task import`).
 *
 * @example
 * ```ts
 * const { model, config } = importStateDict(await Deno.readFile("Pong.dat"), {
 *   model: "large",
 *   env: "PongNoFrameskip-v4",
 * });
 * ```
 *
 * @module
 */
import { type ModelName, resolveConfig, type TrainConfig } from "../algorithms/config.ts";
import { makeTrainingEnv } from "../algorithms/training_env.ts";
import { Parameters } from "../autograd/parameters.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { modelDefinition } from "../models/mod.ts";
import { saveCheckpoint } from "./checkpoint.ts";
import { readStateDict, StateDictError, type StateDictTensor } from "./torch_state_dict.ts";

/** What {@link importStateDict} needs besides the file. */
export interface ImportOptions {
  /** The model family the state_dict was trained with. */
  model: ModelName;
  /** A preset or env id the model plays. */
  env: string;
  /** LSTM / hidden width; by default read from `lstm.weight_hh` (or `fc.weight`). */
  hiddenSize?: number;
  /** Observations stacked per input (a3c_continuous's `--stack-frames`; `conv1d-lstm` needs > 1). */
  stackFrames?: number;
  /** The file's name, for messages. */
  source?: string;
}

function hiddenSizeOf(tensors: Map<string, StateDictTensor>, source: string): number {
  const hh = tensors.get("lstm.weight_hh");
  if (hh !== undefined && hh.shape.length === 2) return hh.shape[1];
  const fc = tensors.get("fc.weight");
  if (fc !== undefined && fc.shape.length === 2) return fc.shape[0];
  throw new StateDictError(
    source,
    "has neither lstm.weight_hh nor fc.weight to read the hidden size from; give --hidden-size",
  );
}

/** Reads `bytes` as a state_dict and loads it into a new model of `options.model`. */
export function importStateDict(
  bytes: Uint8Array,
  options: ImportOptions,
): { config: TrainConfig; model: ActorCritic } {
  const source = options.source ?? "state_dict";
  const tensors = readStateDict(bytes, source);
  const hiddenSize = options.hiddenSize ?? hiddenSizeOf(tensors, source);
  const config = resolveConfig(options.env, {
    model: options.model,
    hiddenSize,
    ...(options.stackFrames !== undefined ? { stackFrames: options.stackFrames } : {}),
  });
  const env = makeTrainingEnv(config, config.seed);
  let definition;
  try {
    definition = modelDefinition(config.model, env.observationSpace, env.actionSpace, hiddenSize);
  } finally {
    env.close();
  }
  const model = new ActorCritic(definition, new Parameters(definition.specs));
  const problems: string[] = [];
  const wanted = new Set<string>();
  for (const { name, shape } of definition.specs) {
    wanted.add(name);
    const t = tensors.get(name);
    if (t === undefined) problems.push(`missing ${name} [${shape}]`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`${name} is [${t.shape}], the model needs [${shape}]`);
    }
  }
  for (const [name, t] of tensors) {
    if (!wanted.has(name)) problems.push(`${name} [${t.shape}] is not in the model`);
  }
  if (problems.length > 0) {
    throw new StateDictError(
      source,
      `does not fit model ${config.model} for ${config.env} (hidden size ${hiddenSize}): ` +
        problems.join("; "),
    );
  }
  for (const { name } of definition.specs) {
    model.parameters.get(name).data.set(tensors.get(name)!.data);
  }
  return { config, model };
}

/** Imports `file` and saves it as checkpoint `<out>/model`; returns the checkpoint's name. */
export async function importFile(
  file: string,
  options: {
    model: ModelName;
    env: string;
    out: string;
    hiddenSize?: number;
    stackFrames?: number;
  },
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (error) {
    throw new StateDictError(file, `cannot be read (${(error as Error).message})`);
  }
  const { config, model } = importStateDict(bytes, { ...options, source: file });
  const name = `${options.out}/model`;
  await saveCheckpoint(name, {
    params: model.parameters.data,
    layout: model.parameters.layout().slots,
    config: { ...config, load: null, runDir: null },
    counters: { frames: 0, steps: 0, episodes: 0, updates: 0, seconds: 0 },
  });
  return name;
}
