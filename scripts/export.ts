/**
 * `deno task export <checkpoint> [--safetensors <out>] [--onnx <out>] [--model <out>]`:
 *
 * - `--safetensors`: a checkpoint's model weights alone (no optimizer state or counters) as a
 *   safetensors file whose tensor names and shapes are PyTorch's `state_dict` keys, with the env
 *   and model family in its metadata;
 * - `--onnx`: the model as a standalone ONNX graph (opset 17, one step: `obs` [, `h`, `c`] →
 *   `value`, `logits` or `mean`/`variance` [, `h_out`, `c_out`]) that any ONNX runtime can run,
 *   with the run configuration in its metadata (see `io/onnx.ts`);
 * - `--model`: the checkpoint without its optimizer state (weights, configuration, counters and
 *   observation statistics): a trained model small enough to ship, which `deno task eval`, the
 *   notebooks and `--load` (with a fresh optimizer) read like any checkpoint.
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@14.0.0";
import type { TrainConfig } from "../algorithms/config.ts";
import { ConfigError } from "../algorithms/config.ts";
import { EnvError } from "../envs/core.ts";
import {
  CheckpointError,
  checkpointPaths,
  readCheckpoint,
  saveCheckpoint,
} from "../io/checkpoint.ts";
import { prepareOutput, requireAccess } from "./permissions.ts";
import { quiet, runTask, usage } from "./_task.ts";
import { exportOnnx, OnnxError } from "../io/onnx.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { checkpointModel } from "../algorithms/evaluate_checkpoint.ts";

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

if (import.meta.main) {
  const cmd = quiet(
    new Command("export")
      .description("Export a checkpoint's model weights or its model as ONNX.")
      .argument("<checkpoint>", "checkpoint (path without extension)")
      .option("--safetensors <out>", "weights-only safetensors file to write")
      .option("--onnx <out>", "ONNX model file to write")
      .option(
        "--model <out>",
        "checkpoint without optimizer state to write (path without extension)",
      ),
  );
  await runTask("export", [CheckpointError, OnnxError, ConfigError, EnvError], async () => {
    cmd.parse(Deno.args, { from: "user" });
    const o = cmd.opts();
    if (o.safetensors === undefined && o.onnx === undefined && o.model === undefined) {
      throw usage("give --safetensors <out>, --onnx <out> and/or --model <out>");
    }
    requireAccess("export", "read", checkpointPaths(cmd.args[0]).weights, "checkpoint");
    if (o.safetensors !== undefined) {
      await prepareOutput("export", o.safetensors, "--safetensors");
    }
    if (o.onnx !== undefined) await prepareOutput("export", o.onnx, "--onnx");
    if (o.model !== undefined) {
      await prepareOutput("export", checkpointPaths(o.model).weights, "--model");
    }
    if (o.safetensors !== undefined) {
      const n = await exportWeights(cmd.args[0], o.safetensors);
      console.log(`wrote ${n} tensors to ${o.safetensors}`);
    }
    if (o.model !== undefined) {
      const bytes = await exportModel(cmd.args[0], o.model);
      console.log(`wrote ${o.model}.json and ${o.model}.safetensors (${bytes} bytes of weights)`);
    }
    if (o.onnx !== undefined) {
      const bytes = await exportOnnxModel(cmd.args[0], o.onnx);
      console.log(`wrote an ONNX model (opset 17, ${bytes} bytes) to ${o.onnx}`);
    }
  });
}
