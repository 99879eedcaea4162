/**
 * A checkpoint's model in other forms: its weights alone as safetensors (PyTorch's `state_dict`
 * names and shapes, env and family in the metadata), the checkpoint without its optimizer state
 * (a model small enough to ship), or an ONNX graph (see `io/onnx.ts`). `deno task export` is
 * their command line.
 *
 * @module
 */
import type { TrainConfig } from "./config.ts";
import { readCheckpoint, saveCheckpoint } from "../io/checkpoint.ts";
import { exportOnnx, OnnxError } from "../io/onnx.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { checkpointModel } from "./evaluate_checkpoint.ts";

/** Writes the weights of checkpoint `name` to `out`; returns how many tensors were written. */
export async function exportWeights(name: string, out: string): Promise<number> {
  const saved = await readCheckpoint(name);
  const config = (saved.config ?? {}) as Partial<TrainConfig>;
  const tensors = saved.layout.map(({ name, shape, offset, size }) =>
    [name, { shape, data: saved.params.subarray(offset, offset + size) }] as const
  );
  await writeSafetensors(out, tensors, {
    format: "pt",
    env: String(config.env ?? ""),
    model: String(config.model ?? ""),
    hidden_size: String(config.hiddenSize ?? ""),
  });
  return tensors.length;
}

/**
 * Writes checkpoint `name` without its optimizer state as checkpoint `out` (`out.json` +
 * `out.safetensors`); returns the size of the weights file in bytes.
 */
export async function exportModel(name: string, out: string): Promise<number> {
  const saved = await readCheckpoint(name);
  const paths = await saveCheckpoint(out, {
    params: saved.params,
    layout: saved.layout,
    config: saved.config,
    counters: saved.counters,
    normalisation: saved.normalisation,
  });
  return (await Deno.stat(paths.weights)).size;
}

/**
 * The model of checkpoint `name` as a serialized ONNX model, built for the checkpoint's own env
 * (its spaces decide the graph's shapes), with `a3g.env` and `a3g.config` (the saved run
 * configuration) in its metadata.
 */
export async function checkpointToOnnx(name: string): Promise<Uint8Array> {
  const { model, config, env, saved } = await checkpointModel(name);
  env.close();
  return exportOnnx(model, {
    metadata: {
      "a3g.env": config.env,
      "a3g.config": JSON.stringify(saved.config ?? {}),
    },
  });
}

/** Writes the model of checkpoint `name` as an ONNX file `out`; returns its size in bytes. */
export async function exportOnnxModel(name: string, out: string): Promise<number> {
  const bytes = await checkpointToOnnx(name);
  try {
    await Deno.writeFile(out, bytes);
  } catch (error) {
    throw new OnnxError(
      `ONNX model ${out}: cannot be written (${(error as Error).message})`,
      error,
    );
  }
  return bytes.length;
}
