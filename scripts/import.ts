/**
 * `deno task import <file.dat> --model <family> --env <id> --out <dir>`: reads a PyTorch
 * state_dict file (`torch.save(model.state_dict(), …)` by rl_a3c_pytorch, pytorch-a3c or any
 * model of the same layout), in torch's zip or legacy format, without running any of it, and writes
 * `<dir>/model.json` and `<dir>/model.safetensors`: an a3g model that `deno task eval`,
 * `deno task export`, the notebooks and `--load` read like any checkpoint.
 *
 * @module
 */
import { Option } from "npm:@commander-js/extra-typings@14.0.0";
import { ConfigError, MODEL_NAMES, type ModelName } from "../algorithms/config.ts";
import { EnvError } from "../envs/core.ts";
import { importFile } from "../io/torch_import.ts";
import { StateDictError } from "../io/torch_state_dict.ts";
import { prepareOutput, requireAccess } from "./permissions.ts";
import { integerAtLeast, runTask, taskCommand } from "./_task.ts";

if (import.meta.main) {
  const cmd = taskCommand(
    "import",
    "Import a PyTorch state_dict (.dat/.pt) as an a3g model, without unpickling it.",
    "<file>",
    "the state_dict file",
  )
    .addOption(
      new Option("--model <family>", "the model family it was trained with")
        .choices(MODEL_NAMES).makeOptionMandatory(),
    )
    .requiredOption("--env <id>", "a preset or env id the model plays")
    .requiredOption("--out <dir>", "directory to write model.json and model.safetensors into")
    .option("--hidden-size <n>", "LSTM width (read from the file by default)", integerAtLeast(1))
    .option(
      "--stack-frames <n>",
      "observations stacked per input (a3c_continuous's --stack-frames, e.g. 4 for CONV)",
      integerAtLeast(1),
    );
  await runTask("import", [StateDictError, ConfigError, EnvError], async () => {
    cmd.parse(Deno.args, { from: "user" });
    const o = cmd.opts();
    requireAccess("import", "read", cmd.args[0], "file");
    await prepareOutput("import", `${o.out}/model.safetensors`, "--out");
    const started = performance.now();
    const name = await importFile(cmd.args[0], {
      model: o.model as ModelName,
      env: o.env,
      out: o.out,
      hiddenSize: o.hiddenSize,
      stackFrames: o.stackFrames,
    });
    const ms = performance.now() - started;
    console.log(`wrote ${name}.json and ${name}.safetensors (${ms.toFixed(0)} ms)`);
  });
}
