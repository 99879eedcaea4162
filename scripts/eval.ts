/**
 * `deno task eval <preset|env-id> --checkpoint <path> [--episodes 100] [--seed n] [--json]
 * [--backend ts|onnx]`: plays greedy episodes with a saved model and prints mean ± std, min and
 * max (`algorithms/evaluate_checkpoint.ts` does the work).
 *
 * `--backend onnx` builds the checkpoint's model as an ONNX graph and plays it with
 * onnxruntime-node instead of a3g's own forward (same episodes, same output);
 * `--onnx-model <file>` plays an exported `.onnx` file instead of a checkpoint, with the env
 * settings saved in its metadata. ONNX needs `--allow-ffi`; the runtime is loaded only then.
 *
 * @module
 */
import { Option } from "npm:@commander-js/extra-typings@14.0.0";
import { ConfigError } from "../algorithms/config.ts";
import { EnvError } from "../envs/core.ts";
import { CheckpointError, checkpointPaths } from "../io/checkpoint.ts";
import {
  evaluateCheckpoint,
  evaluateOnnxModel,
  recordCheckpointGif,
} from "../algorithms/evaluate_checkpoint.ts";
import { prepareOutput, requireAccess } from "./permissions.ts";
import { integerAtLeast, runTask, taskCommand, usage } from "./_task.ts";

const positiveInt = integerAtLeast(1);

/** A score as the summary prints it: whole (Atari) as it is, else to two decimals. */
const score = (x: number) => Number.isInteger(x) ? String(x) : x.toFixed(2);

if (import.meta.main) {
  const cmd = taskCommand(
    "eval",
    "Play greedy episodes with a saved model.",
    "<preset|env-id>",
    "a preset or an env id",
  )
    .option("--checkpoint <path>", "checkpoint (path without extension)")
    .option("--episodes <n>", "episodes to play", positiveInt, 100)
    .option("--seed <n>", "seed of the first episode", positiveInt, 1)
    .option(
      "--envs <n>",
      "play n envs at once with one batched forward per step (env i seeded with seed + i)",
      positiveInt,
      1,
    )
    .addOption(
      new Option("--backend <name>", "forward to play with: a3g's own or onnxruntime")
        .choices(["ts", "onnx"] as const),
    )
    .option(
      "--frameskip <n>",
      "emulated frames per env step of an Atari id (1 runs e.g. ALE/Pong-v5 through the " +
        "training chain's skip and max-pool, sticky actions kept per frame)",
      positiveInt,
    )
    .option("--onnx-model <file>", "play an exported .onnx file instead of a checkpoint")
    .option("--json", "print one JSON object")
    .option("--gif <out>", "also record one greedy episode as a GIF (needs --checkpoint)");
  await runTask("eval", [ConfigError, CheckpointError, EnvError, "OnnxError"], async () => {
    cmd.parse(Deno.args, { from: "user" });
    const o = cmd.opts();
    if ((o.checkpoint === undefined) === (o.onnxModel === undefined)) {
      throw usage("give either --checkpoint <path> or --onnx-model <file>");
    }
    if (o.gif !== undefined && o.checkpoint === undefined) {
      throw usage("--gif records a checkpoint's model; give --checkpoint <path>");
    }
    if (o.envs > 1 && (o.onnxModel !== undefined || o.backend === "onnx")) {
      throw usage("--envs above 1 plays with a3g's own forward; it cannot take onnx");
    }
    if (o.frameskip !== undefined && o.onnxModel !== undefined) {
      throw usage("--frameskip plays a checkpoint; it cannot take --onnx-model");
    }
    if (o.onnxModel !== undefined && o.backend === "ts") {
      throw usage("--onnx-model plays with onnxruntime; it cannot take --backend ts");
    }
    if (o.checkpoint !== undefined) {
      requireAccess("eval", "read", checkpointPaths(o.checkpoint).weights, "--checkpoint");
    }
    if (o.onnxModel !== undefined) requireAccess("eval", "read", o.onnxModel, "--onnx-model");
    if (o.gif !== undefined) await prepareOutput("eval", o.gif, "--gif");
    const r = o.onnxModel !== undefined
      ? await evaluateOnnxModel(cmd.args[0], o.onnxModel, o.episodes, o.seed)
      : await evaluateCheckpoint(cmd.args[0], o.checkpoint!, o.episodes, o.seed, {
        backend: o.backend ?? "ts",
        envs: o.envs,
        frameskip: o.frameskip,
      });
    if (o.json) {
      const { env, episodes, mean, std, min, max } = r;
      console.log(JSON.stringify({ env, episodes, mean, std, min, max }));
    } else {
      console.log(
        `${r.env}: ${r.episodes} episodes, mean ${r.mean.toFixed(2)} ± ${r.std.toFixed(2)}, ` +
          `min ${score(r.min)}, max ${score(r.max)}`,
      );
    }
    if (o.gif !== undefined) {
      const g = await recordCheckpointGif(cmd.args[0], o.checkpoint!, o.gif, o.seed);
      if (!o.json) {
        console.log(`wrote ${g.path}: ${g.frames} frames, ${g.steps} steps, reward ${g.reward}`);
      }
    }
  });
}
