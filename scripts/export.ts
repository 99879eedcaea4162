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
import { ConfigError } from "../algorithms/config.ts";
import { exportModel, exportOnnxModel, exportWeights } from "../algorithms/export_checkpoint.ts";
import { EnvError } from "../envs/core.ts";
import { CheckpointError, checkpointPaths } from "../io/checkpoint.ts";
import { OnnxError } from "../io/onnx.ts";
import { prepareOutput, requireAccess } from "./permissions.ts";
import { runTask, taskCommand, usage } from "./_task.ts";

if (import.meta.main) {
  const cmd = taskCommand(
    "export",
    "Export a checkpoint's model weights or its model as ONNX.",
    "<checkpoint>",
    "checkpoint (path without extension)",
  )
    .option("--safetensors <out>", "weights-only safetensors file to write")
    .option("--onnx <out>", "ONNX model file to write")
    .option(
      "--model <out>",
      "checkpoint without optimizer state to write (path without extension)",
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
