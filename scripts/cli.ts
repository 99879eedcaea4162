/**
 * Command-line parsing shared by `deno task train` and `deno task eval`: flags named as in the
 * seed projects, each value checked before any work starts.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@14.0.0";
import {
  ConfigError,
  MODEL_NAMES,
  OPTIMIZER_NAMES,
  PRESETS,
  resolveConfig,
  type TrainConfig,
} from "../algorithms/config.ts";

function number(kind: "positive" | "nonnegative" | "fraction" | "any") {
  return (value: string): number => {
    const n = Number(value);
    const ok = value.trim() !== "" && Number.isFinite(n) &&
      (kind === "any" ||
        (kind === "positive" ? n > 0 : kind === "fraction" ? n >= 0 && n <= 1 : n >= 0));
    if (!ok) {
      const expected = {
        positive: "a positive number",
        nonnegative: "a number ≥ 0",
        fraction: "a number in [0, 1]",
        any: "a number",
      }[kind];
      throw new InvalidArgumentError(`expected ${expected}`);
    }
    return n;
  };
}

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    }
    return n;
  };
}

function integerList(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), integer(1)(value)];
}

/** "none" turns clipping off; commander stores a parser's null as "", so 0 stands for none. */
function optionalNorm(value: string): number {
  if (value === "none" || value === "off") return 0;
  return number("positive")(value);
}

/** The `train` command's flags (a `Command` configured but not yet parsed). */
export function trainCommand(): Command<[string], Record<string, unknown>> {
  return new Command("train")
    .description(
      "Train an agent with A3C (Hogwild workers sharing parameters), or A3G with --a3g.",
    )
    .argument("<preset|env-id>", `a preset (${Object.keys(PRESETS).join(", ")}) or an env id`)
    .option("-w, --workers <n>", "training workers (default: the machine's cores)", integer(1))
    .option("-l, --lr <x>", "learning rate", number("positive"))
    .option("--lr-final <x>", "anneal the learning rate linearly to x", number("positive"))
    .option(
      "--lr-anneal-frames <n>",
      "frames over which --lr-final is reached (default 20M)",
      number("positive"),
    )
    .option("-g, --gamma <x>", "discount γ", number("fraction"))
    .option("-t, --tau <x>", "GAE λ (τ)", number("fraction"))
    .option("--entropy-coef <x>", "entropy bonus weight β", number("nonnegative"))
    .option("--value-coef <x>", "value loss weight", number("nonnegative"))
    .option("--max-grad-norm <x|none>", "global gradient-norm clip", optionalNorm)
    .option("--num-steps <n>", "rollout length", integer(1))
    .option(
      "--distributed-step-size <n...>",
      "per-worker rollout lengths, worker i uses list[i mod length]",
      integerList,
    )
    .addOption(new Option("--optimizer <name>", "optimizer").choices(OPTIMIZER_NAMES))
    .option("--amsgrad", "AMSGrad variant of Adam")
    .option("--optimizer-eps <x>", "optimizer ε", number("positive"))
    .option("--shared-optimizer", "share optimizer statistics between workers (default)")
    .option("--no-shared-optimizer", "each worker keeps its own optimizer statistics")
    .option("-s, --seed <n>", "base seed (worker i uses seed + i)", integer(0))
    .option("--max-episode-length <n>", "agent steps per episode at most", integer(1))
    .addOption(
      new Option("--model <name>", "model family (auto: one that fits the env)").choices([
        ...MODEL_NAMES,
        "auto",
      ]),
    )
    .option("--hidden-size <n>", "LSTM / hidden width", integer(1))
    .option("--stack-frames <n>", "frames stacked per observation", integer(1))
    .option("--skip-rate <n>", "frame skip for NoFrameskip Atari ids", integer(1))
    .option("--save-max", "save `best` only when an evaluation reaches a new maximum")
    .option("--load <checkpoint>", "resume from a checkpoint (path without extension)")
    .option("--run-dir <dir>", "directory for checkpoints and logs")
    .option("--max-frames <n>", "stop after this many frames", number("positive"))
    .option(
      "--max-minutes <x>",
      "stop after this many minutes of training in all (a resumed run counts its earlier time)",
      number("positive"),
    )
    .option(
      "--histogram-every <seconds>",
      "TensorBoard parameter histograms at most this often (default 60)",
      number("nonnegative"),
    )
    .option(
      "--save-every <seconds>",
      "save `latest` at least this often (default 60; also after each evaluation)",
      number("positive"),
    )
    .option("--stop-when-solved", "stop once a confirming 100-episode test passes")
    .option("--target-reward <x>", "episode return that counts as solved", number("any"))
    .option(
      "--eval-wait <seconds>",
      "pause of the evaluation worker between episodes",
      number("nonnegative"),
    )
    .option(
      "--eval-duty <fraction>",
      "share of one core the evaluation worker may use, in (0, 1] (default 0.1)",
      number("positive"),
    )
    .option("--no-eval", "run no evaluation worker")
    .option("--a3g", "A3G: training workers compute on a WebGPU device (Atari conv models)")
    .option(
      "--envs-per-worker <k>",
      "environments each learner steps together with one batched forward (K)",
      integer(1),
    )
    .option("--env-groups <g>", "A3G: env groups per worker kept in flight", integer(1))
    .option(
      "--cluster <url>",
      "train as one machine of a run kept in Redis: redis://host:port/run-name",
    )
    .option(
      "--sync-every <n>",
      "cluster: push and pull the parameters every n updates (default 10)",
      integer(1),
    )
    .option("--chief", "cluster: take the chief's role (evaluation, checkpoints) or fail")
    .option(
      "--serve [port]",
      "serve the run's live page on 127.0.0.1 (no port or 0: a free one)",
    )
    .option("--serve-host <host>", "address the live page listens on (default 127.0.0.1)")
    .exitOverride()
    .configureOutput({ writeErr: () => {} }) as unknown as Command<
      [string],
      Record<string, unknown>
    >;
}

/** The port of `--serve <port>`: an integer 0..65535. */
function servePort(value: unknown): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n > 65535) {
    throw new ConfigError(`serve: ${String(value)} is invalid; expected a port 0..65535`);
  }
  return n;
}

/** Parses `deno task train` arguments into a validated configuration (throws `ConfigError`). */
export function parseTrainArgs(args: string[]): TrainConfig {
  const cmd = trainCommand();
  try {
    cmd.parse(args, { from: "user" });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") throw err;
    throw new ConfigError(e.message.replace(/^error: /, ""));
  }
  const o = cmd.opts() as Record<string, unknown>;
  const overrides: Partial<TrainConfig> = {
    workers: o.workers as number | undefined,
    lr: o.lr as number | undefined,
    gamma: o.gamma as number | undefined,
    tau: o.tau as number | undefined,
    entropyCoef: o.entropyCoef as number | undefined,
    valueCoef: o.valueCoef as number | undefined,
    maxGradNorm: o.maxGradNorm === 0 ? null : o.maxGradNorm as number | undefined,
    numSteps: o.numSteps as number | undefined,
    distributedStepSize: o.distributedStepSize as number[] | undefined,
    optimizer: o.optimizer as TrainConfig["optimizer"] | undefined,
    amsgrad: o.amsgrad as boolean | undefined,
    optimizerEps: o.optimizerEps as number | undefined,
    sharedOptimizer: o.sharedOptimizer as boolean | undefined,
    seed: o.seed as number | undefined,
    maxEpisodeLength: o.maxEpisodeLength as number | undefined,
    model: o.model as TrainConfig["model"] | undefined,
    hiddenSize: o.hiddenSize as number | undefined,
    stackFrames: o.stackFrames as number | undefined,
    skipRate: o.skipRate as number | undefined,
    saveMax: o.saveMax as boolean | undefined,
    saveEvery: o.saveEvery as number | undefined,
    histogramEvery: o.histogramEvery as number | undefined,
    load: o.load as string | undefined,
    runDir: o.runDir as string | undefined,
    maxFrames: o.maxFrames as number | undefined,
    maxMinutes: o.maxMinutes as number | undefined,
    stopWhenSolved: o.stopWhenSolved as boolean | undefined,
    targetReward: o.targetReward as number | undefined,
    evalWait: o.evalWait as number | undefined,
    evalDuty: o.evalDuty as number | undefined,
    lrFinal: o.lrFinal as number | undefined,
    lrAnnealFrames: o.lrAnnealFrames as number | undefined,
    evaluate: o.eval as boolean | undefined,
    a3g: o.a3g as boolean | undefined,
    envsPerWorker: o.envsPerWorker as number | undefined,
    envGroups: o.envGroups as number | undefined,
    cluster: o.cluster as string | undefined,
    syncEvery: o.syncEvery as number | undefined,
    chief: o.chief as boolean | undefined,
    serve: o.serve === undefined ? undefined : o.serve === true ? 0 : servePort(o.serve),
    serveHost: o.serveHost as string | undefined,
  };
  // commander's `--no-x` gives x = true by default; only an explicit flag may override a preset.
  if (!args.includes("--no-shared-optimizer") && !args.includes("--shared-optimizer")) {
    delete overrides.sharedOptimizer;
  }
  if (!args.includes("--no-eval")) delete overrides.evaluate;
  return resolveConfig(cmd.args[0], overrides);
}
