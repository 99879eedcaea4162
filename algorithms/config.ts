/**
 * Training configuration: every hyper-parameter with its documented default, the presets behind
 * `deno task train <preset>`, and validation that names the bad field and what it accepts.
 *
 * @module
 */
import { GPU_MODEL_NAMES, MODEL_NAMES, type ModelName } from "../models/mod.ts";
import { parseClusterUrl } from "./cluster.ts";

/** Model families (the registry is `models/mod.ts`). */
export { MODEL_NAMES, type ModelName } from "../models/mod.ts";

/** Optimizers the shared-memory trainer supports. */
export const OPTIMIZER_NAMES = ["adam", "rmsprop"] as const;

/** An optimizer name. */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/** Everything a training run is configured by. */
export interface TrainConfig {
  /** Environment id or alias (see `listEnvs()`). */
  env: string;
  /** Preset the run started from, if any. */
  preset: string | null;
  /** Training workers (Deno Worker isolates). Default: the machine's cores. */
  workers: number;
  /** Learning rate. rl_a3c_pytorch: 1e-4. */
  lr: number;
  /**
   * Learning rate reached by linear annealing over `lrAnnealFrames` frames (then held), or null
   * for a constant `lr`.
   */
  lrFinal: number | null;
  /** Frames over which the learning rate goes from `lr` to `lrFinal`. */
  lrAnnealFrames: number;
  /** Discount γ. */
  gamma: number;
  /** GAE λ (called τ in the seeds). 1.0 gives plain n-step advantages. */
  tau: number;
  /** Weight β of the entropy bonus. */
  entropyCoef: number;
  /** Weight of the value loss ½Σ(R−V)². rl_a3c_pytorch: 0.5. */
  valueCoef: number;
  /** Global gradient-norm clip; null turns clipping off (rl_a3c_pytorch has none, pytorch-a3c 50). */
  maxGradNorm: number | null;
  /** Rollout length (steps per update). */
  numSteps: number;
  /** Per-worker rollout lengths: worker i uses list[i mod length] (rl_a3c_pytorch's DSS). */
  distributedStepSize: number[] | null;
  /** Optimizer. */
  optimizer: OptimizerName;
  /** Use AMSGrad with Adam. */
  amsgrad: boolean;
  /** Optimizer ε (Adam: rl_a3c_pytorch uses 1e-3; RMSprop: 0.1). */
  optimizerEps: number;
  /** Share optimizer statistics between workers (true) or keep them per worker. */
  sharedOptimizer: boolean;
  /** Base seed; worker i uses seed + i. */
  seed: number;
  /** Agent steps after which an episode is cut (× frame skip raw frames on Atari). */
  maxEpisodeLength: number;
  /** Model family. */
  model: ModelName | "auto";
  /** LSTM (or hidden layer) width. */
  hiddenSize: number;
  /** Frames stacked into one observation (continuous control). */
  stackFrames: number;
  /** Frame skip applied to NoFrameskip Atari ids. */
  skipRate: number;
  /**
   * Frame skip from `skipSwitchFrames` frames on (NoFrameskip Atari ids), or null to keep
   * `skipRate` throughout. Workers and the evaluator rebuild their envs at the switch.
   */
  skipRateFinal: number | null;
  /** Frames after which `skipRateFinal` replaces `skipRate`. */
  skipSwitchFrames: number;
  /**
   * Raw frames the max-pool of a NoFrameskip Atari id runs over at each agent step: 3 as
   * rl_a3c_pytorch, 2 as baselines, 1 for the last frame alone (what the registered `Pong-v4` and
   * `ALE/Pong-v5` show, which skip inside the emulator).
   */
  maxPoolFrames: number;
  /** Clip training rewards to [−1, 1] (Atari). */
  clipRewards: boolean;
  /** Apply a3c_continuous's reward shaping (walkers). */
  shapeRewards: boolean;
  /** Save `best` only when an evaluation reaches a new maximum (else save after each one). */
  saveMax: boolean;
  /**
   * Seconds between saves of `latest` (besides the save after each evaluation): a kill loses at
   * most this much training.
   */
  saveEvery: number;
  /** Seconds between TensorBoard histograms of the parameters (taken at evaluations). */
  histogramEvery: number;
  /** Checkpoint to resume from (path without extension), or null. */
  load: string | null;
  /** Directory of this run's checkpoints and logs. Default: runs/<env>-<date>. */
  runDir: string | null;
  /** Stop after this many frames (env steps × skip), or null. */
  maxFrames: number | null;
  /** Stop after this many minutes of wall time, or null. */
  maxMinutes: number | null;
  /** Stop once the solved threshold holds over a confirming 100-episode test. */
  stopWhenSolved: boolean;
  /** Episode return that counts as solved; null takes the env's registered threshold. */
  targetReward: number | null;
  /** Seconds the evaluation worker waits at least between episodes. */
  evalWait: number;
  /**
   * Share of one core the evaluation worker may use, in (0, 1]: after an episode that took s
   * seconds it waits s·(1 − duty)/duty (and at least `evalWait`), so on a machine with as many
   * cores as training workers evaluation takes little from training however long its games last.
   */
  evalDuty: number;
  /** Whether to run the evaluation worker at all. */
  evaluate: boolean;
  /** A3G: training workers compute on a WebGPU device (Atari conv models only). */
  a3g: boolean;
  /** Environments each learner steps together with one batched forward (K; CPU and A3G). */
  envsPerWorker: number;
  /** A3G: env groups per worker kept in flight, so one group's readback overlaps another's work. */
  envGroups: number;
  /**
   * Train as one machine of a run whose global parameters live in Redis,
   * `redis://host:port/run-name` (see `algorithms/cluster.ts`); null trains alone.
   */
  cluster: string | null;
  /** Cluster: push and pull the parameters after this many of this machine's updates. */
  syncEvery: number;
  /** Cluster: take the chief's role (evaluation, checkpoints) or fail; else only if it is free. */
  chief: boolean;
  /** Serve the run's live page on this port (0: a free one); null serves none. */
  serve: number | null;
  /** Address the live page listens on (the loopback unless asked). */
  serveHost: string;
}

/** How one field's value is checked, and parsed from the command line. */
export interface FieldRule {
  /** `integer` is a number with no fraction. */
  type: "number" | "integer" | "boolean" | "string" | "list";
  /** Null is accepted (on the command line: `none`). */
  nullable?: boolean;
  /** Inclusive bounds, and an exclusive lower one. */
  min?: number;
  max?: number;
  above?: number;
  /** The strings accepted (a string field). */
  choices?: readonly string[];
  /** What is accepted, as messages say it: "a positive number". */
  expected: string;
}

/**
 * One field of the configuration: its default, its command-line flag with help (a field with no
 * help has no flag: only presets or the positional argument set it), and the rule its value
 * follows.
 */
export interface FieldSpec<T> {
  default: T;
  /** What the flag does, for `--help`. */
  help?: string;
  /** A one-letter alias, e.g. `-l` beside `--lr`. */
  short?: string;
  /** The value's placeholder when it is not the type's (`<x>`, `<n>`, `<name>`, `<n...>`). */
  arg?: string;
  /** The whole flag when it is not `--<field in kebab case>` (`--no-eval` sets `evaluate`). */
  flag?: string;
  /** A second, negating flag for a boolean that also has a positive one. */
  negation?: string;
  rule: FieldRule;
}

/** Bounds of a number rule, and whether null is taken. */
type Bounds = Pick<FieldRule, "min" | "max" | "above" | "nullable">;

/**
 * What a number rule accepts, in words made from its bounds: "a positive number of seconds",
 * "an integer 1..256", "a number in (0, 1]", "a number ≥ 0"; " (or none)" where null is taken.
 * A combination it has no words for is a mistake in the table and throws.
 */
function describeNumber(type: "number" | "integer", b: Bounds, unit?: string): string {
  const noun = unit === undefined ? type : `${type} of ${unit}`;
  const a = type === "integer" ? "an" : "a";
  const { min, max, above } = b;
  const bounds = [min, max, above].map((x) => x === undefined ? "-" : "x").join("");
  const words = {
    "---": `${a} ${noun}`,
    "x--": min === 1 && type === "integer" ? `a positive ${noun}` : `${a} ${noun} ≥ ${min}`,
    "-x-": `${a} ${noun} ≤ ${max}`,
    "--x": above === 0 ? `a positive ${noun}` : `${a} ${noun} > ${above}`,
    "xx-": type === "integer" ? `${a} ${noun} ${min}..${max}` : `${a} ${noun} in [${min}, ${max}]`,
    "-xx": `${a} ${noun} in (${above}, ${max}]`,
  }[bounds];
  if (words === undefined) {
    throw new TypeError(`config: no words for min ${min}, max ${max} and above ${above} together`);
  }
  return b.nullable ? `${words} (or none)` : words;
}

/** What a number field's message says beyond its bounds: a unit, or words of its own. */
interface Words {
  unit?: string;
  expected?: string;
}

const num = (bounds: Bounds = {}, words: Words = {}): FieldRule => ({
  type: "number",
  expected: words.expected ?? describeNumber("number", bounds, words.unit),
  ...bounds,
});
const int = (bounds: Bounds = {}, words: Words = {}): FieldRule => ({
  type: "integer",
  expected: words.expected ?? describeNumber("integer", bounds, words.unit),
  ...bounds,
});
const bool: FieldRule = { type: "boolean", expected: "true or false" };
const text = (expected: string, extra: Partial<FieldRule> = {}): FieldRule => ({
  type: "string",
  expected,
  ...extra,
});
const positiveInteger = int({ min: 1 });
const optionalPositive = num({ above: 0, nullable: true });

/**
 * Every field of {@link TrainConfig} once: default, help and rule, and the flag where it is not
 * the field's name in kebab case ({@link flagOf}). The defaults, the type and value checks of
 * {@link validateConfig}, the messages that say what is accepted, and `deno task train`'s options
 * and help (`scripts/cli.ts`) are all made from it.
 */
export const FIELDS: { readonly [K in keyof TrainConfig]: FieldSpec<TrainConfig[K]> } = {
  env: { default: "PongNoFrameskip-v4", rule: text("an environment id") },
  preset: { default: null, rule: text("a preset name", { nullable: true }) },
  workers: {
    default: navigator.hardwareConcurrency || 2,
    short: "-w",
    help: "training workers (default: the machine's cores)",
    rule: int({ min: 1, max: 256 }),
  },
  lr: { default: 1e-4, short: "-l", help: "learning rate", rule: num({ above: 0 }) },
  lrFinal: {
    default: null,
    help: "anneal the learning rate linearly to x",
    rule: optionalPositive,
  },
  lrAnnealFrames: {
    default: 20_000_000,
    arg: "<n>",
    help: "frames over which --lr-final is reached (default 20M)",
    rule: num({ above: 0 }, { unit: "frames" }),
  },
  gamma: { default: 0.99, short: "-g", help: "discount γ", rule: num({ above: 0, max: 1 }) },
  tau: { default: 1.0, short: "-t", help: "GAE λ (τ)", rule: num({ min: 0, max: 1 }) },
  entropyCoef: { default: 0.01, help: "entropy bonus weight β", rule: num({ min: 0 }) },
  valueCoef: { default: 0.5, help: "value loss weight", rule: num({ min: 0 }) },
  maxGradNorm: {
    default: null,
    arg: "<x|none>",
    help: "global gradient-norm clip",
    rule: optionalPositive,
  },
  numSteps: { default: 20, help: "rollout length", rule: positiveInteger },
  distributedStepSize: {
    default: null,
    help: "per-worker rollout lengths, worker i uses list[i mod length]",
    rule: { type: "list", nullable: true, expected: "a list of positive integers" },
  },
  optimizer: {
    default: "adam",
    help: "optimizer",
    rule: text(`one of ${OPTIMIZER_NAMES.join(", ")}`, { choices: OPTIMIZER_NAMES }),
  },
  amsgrad: { default: false, help: "AMSGrad variant of Adam", rule: bool },
  optimizerEps: { default: 1e-3, help: "optimizer ε", rule: num({ above: 0 }) },
  sharedOptimizer: {
    default: true,
    help: "share optimizer statistics between workers (default)",
    negation: "each worker keeps its own optimizer statistics",
    rule: bool,
  },
  seed: { default: 1, short: "-s", help: "base seed (worker i uses seed + i)", rule: int() },
  maxEpisodeLength: {
    default: 10000,
    help: "agent steps per episode at most",
    rule: positiveInteger,
  },
  model: {
    default: "auto",
    help: "model family (auto: one that fits the env)",
    rule: text(`one of ${MODEL_NAMES.join(", ")}, or auto`, { choices: [...MODEL_NAMES, "auto"] }),
  },
  hiddenSize: { default: 256, help: "LSTM / hidden width", rule: positiveInteger },
  stackFrames: { default: 1, help: "frames stacked per observation", rule: positiveInteger },
  skipRate: { default: 4, help: "frame skip for NoFrameskip Atari ids", rule: positiveInteger },
  skipRateFinal: {
    default: null,
    help: "frame skip from --skip-switch-frames frames on (none: --skip-rate throughout)",
    rule: int({ min: 1, nullable: true }),
  },
  skipSwitchFrames: {
    default: 50_000_000,
    arg: "<n>",
    help: "frames after which --skip-rate-final applies (default 50M)",
    rule: num({ min: 0 }, { unit: "frames" }),
  },
  maxPoolFrames: {
    default: 3,
    help: "raw frames max-pooled per agent step on NoFrameskip Atari ids (1: the last frame alone)",
    rule: positiveInteger,
  },
  clipRewards: { default: true, rule: bool },
  shapeRewards: { default: false, rule: bool },
  saveMax: {
    default: false,
    help: "save `best` only when an evaluation reaches a new maximum",
    rule: bool,
  },
  saveEvery: {
    default: 60,
    arg: "<seconds>",
    help: "save `latest` at least this often (default 60; also after each evaluation)",
    rule: num({ above: 0 }, { unit: "seconds" }),
  },
  histogramEvery: {
    default: 60,
    arg: "<seconds>",
    help: "TensorBoard parameter histograms at most this often (default 60)",
    rule: num({ min: 0 }, { unit: "seconds" }),
  },
  load: {
    default: null,
    arg: "<checkpoint>",
    help: "resume from a checkpoint (path without extension)",
    rule: text("a checkpoint path", { nullable: true }),
  },
  runDir: {
    default: null,
    arg: "<dir>",
    help: "directory for checkpoints and logs",
    rule: text("a directory", { nullable: true }),
  },
  maxFrames: {
    default: null,
    arg: "<n>",
    help: "stop after this many frames",
    rule: optionalPositive,
  },
  maxMinutes: {
    default: null,
    help: "stop after this many minutes of training in all (a resumed run counts its earlier time)",
    rule: optionalPositive,
  },
  stopWhenSolved: {
    default: false,
    help: "stop once a confirming 100-episode test passes",
    rule: bool,
  },
  targetReward: {
    default: null,
    help: "episode return that counts as solved",
    rule: num({ nullable: true }),
  },
  evalWait: {
    default: 10,
    arg: "<seconds>",
    help: "pause of the evaluation worker between episodes",
    rule: num({ min: 0 }, { unit: "seconds" }),
  },
  evalDuty: {
    default: 0.1,
    arg: "<fraction>",
    help: "share of one core the evaluation worker may use, in (0, 1] (default 0.1)",
    rule: num({ above: 0, max: 1 }),
  },
  evaluate: { default: true, flag: "--no-eval", help: "run no evaluation worker", rule: bool },
  a3g: {
    default: false,
    help: "A3G: training workers compute on a WebGPU device (Atari conv models)",
    rule: bool,
  },
  envsPerWorker: {
    default: 1,
    arg: "<k>",
    help: "environments each learner steps together with one batched forward (K)",
    rule: int({ min: 1, max: 1024 }),
  },
  envGroups: {
    default: 2,
    arg: "<g>",
    help: "A3G: env groups per worker kept in flight",
    rule: int({ min: 1, max: 16 }),
  },
  cluster: {
    default: null,
    arg: "<url>",
    help: "train as one machine of a run kept in Redis: redis://host:port/run-name",
    rule: text("redis://host:port/run-name", { nullable: true }),
  },
  syncEvery: {
    default: 10,
    help: "cluster: push and pull the parameters every n updates (default 10)",
    rule: positiveInteger,
  },
  chief: {
    default: false,
    help: "cluster: take the chief's role (evaluation, checkpoints) or fail",
    rule: bool,
  },
  serve: {
    default: null,
    arg: "[port]",
    help: "serve the run's live page on 127.0.0.1 (no port or 0: a free one)",
    rule: int({ min: 0, max: 65535, nullable: true }, {
      expected: "a port 0..65535 (0 picks a free one)",
    }),
  },
  serveHost: {
    default: "127.0.0.1",
    arg: "<host>",
    help: "address the live page listens on (default 127.0.0.1)",
    rule: text("a host name or address"),
  },
};

/** The value placeholder of each rule type on the command line. */
const ARGS: Record<FieldRule["type"], string> = {
  number: "<x>",
  integer: "<n>",
  string: "<name>",
  list: "<n...>",
  boolean: "",
};

/**
 * Commander's syntax of `field`'s flag (`-l, --lr <x>`), made from its name, alias and rule; none
 * for a field without help.
 */
export function flagOf(field: string, spec: FieldSpec<unknown>): string | undefined {
  if (spec.help === undefined) return undefined;
  if (spec.flag !== undefined) return spec.flag;
  const long = `--${kebab(field)} ${spec.arg ?? ARGS[spec.rule.type]}`.trimEnd();
  return spec.short === undefined ? long : `${spec.short}, ${long}`;
}

/** Defaults shared by every preset; each preset overrides what its seed project does. */
export const DEFAULTS: TrainConfig = Object.fromEntries(
  Object.entries(FIELDS).map(([field, spec]) => [field, spec.default]),
) as unknown as TrainConfig;

/** Whether `value` follows `rule` (type and bounds). */
export function followsRule(rule: FieldRule, value: unknown): boolean {
  if (value === null) return rule.nullable ?? false;
  switch (rule.type) {
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string" && value.trim() !== "" &&
        (rule.choices === undefined || rule.choices.includes(value));
    case "list":
      return Array.isArray(value) && value.length > 0 &&
        value.every((v) => Number.isInteger(v) && v > 0);
    default: {
      if (typeof value !== "number" || !Number.isFinite(value)) return false;
      if (rule.type === "integer" && !Number.isInteger(value)) return false;
      return (rule.min === undefined || value >= rule.min) &&
        (rule.max === undefined || value <= rule.max) &&
        (rule.above === undefined || value > rule.above);
    }
  }
}

/** The Atari presets' model, learner and learning-rate schedule (see `pong` below). */
const ATARI: Partial<TrainConfig> = {
  model: "small",
  hiddenSize: 256,
  maxGradNorm: 50,
  envsPerWorker: 8,
  lr: 1e-3,
  lrFinal: 1e-4,
  lrAnnealFrames: 20_000_000,
};

/** a3c_continuous's current recipe for the walkers: γ .98, τ .8, value coefficient .4, Adam ε 1e-8, AMSGrad. */
const WALKER: Partial<TrainConfig> = {
  model: "mlp-lstm",
  hiddenSize: 160,
  gamma: 0.98,
  tau: 0.8,
  valueCoef: 0.4,
  optimizerEps: 1e-8,
  amsgrad: true,
  clipRewards: false,
  shapeRewards: true,
  evalWait: 5,
};

/** Presets behind `deno task train <name>`: overrides of `DEFAULTS`. */
export const PRESETS: Record<string, Partial<TrainConfig>> = {
  // pytorch-a3c's model (42×42, ELU conv + LSTM 256, clip 50) with 8 envs per learner. The
  // starting learning rate was chosen by short measured runs (README, results/pong-preset): per
  // agent step, lr/(K·T) ≈ 6e-6 learned fastest (1e-4 and 4e-4 slower, 2e-3 slower again). Held
  // at 1e-3, a 40-minute run levelled off near −12 after 6M frames; resumed at 3e-4 it moved on
  // at once, so the rate is annealed to 1e-4 over 20M frames.
  // The last frame alone (no max-pool) at skip 4 throughout: that is what the registered Pong-v4
  // and ALE/Pong-v5 show and play, and a 60-minute run so trained scored +12.63 on Pong-v4 where
  // the max-pooled one scored −8.77, level with it per frame on PongNoFrameskip-v4 (README, "Shown
  // the last frame"). A switch to skip 2 (--skip-rate-final 2) gains up to 2.8 points late on
  // PongNoFrameskip-v4 but leaves a model that the registered envs' skip of 4 does not suit.
  pong: {
    env: "PongNoFrameskip-v4",
    ...ATARI,
    maxPoolFrames: 1,
    targetReward: 20,
  },
  // Pong's learner with a smaller entropy bonus and a lower, held rate, each chosen by a run
  // (results/breakout-*, README): with β = 0.01 two runs (25.8M frames annealed, 7.4M held) stayed
  // at uniform play; with β = 0.001 at lr 1e-3 the policy left it within 2M frames, then its entropy
  // collapsed within a minute at 11.3M frames (a deterministic player stuck near 12 a game);
  // from the same 7.37M-frame checkpoint, β = 0.002 at lr 4e-4 kept the entropy off zero and scored
  // 30-odd a game in training from 13.7M frames.
  breakout: {
    env: "BreakoutNoFrameskip-v4",
    ...ATARI,
    lr: 4e-4,
    entropyCoef: 0.002,
    lrFinal: null,
  },
  cartpole: {
    env: "CartPole-v1",
    model: "mlp",
    hiddenSize: 64,
    clipRewards: false,
    maxEpisodeLength: 500,
    lr: 1e-3,
    optimizerEps: 1e-8,
    maxGradNorm: 40,
    evalWait: 0,
  },
  pendulum: {
    env: "Pendulum-v1",
    model: "mlp-lstm",
    hiddenSize: 128,
    clipRewards: false,
    maxEpisodeLength: 200,
    gamma: 0.9,
    optimizerEps: 1e-8,
    evalWait: 1,
  },
  bipedal: { env: "BipedalWalker-v3", ...WALKER, maxEpisodeLength: 1600 },
  "bipedal-hardcore": { env: "BipedalWalkerHardcore-v3", ...WALKER, maxEpisodeLength: 2000 },
  lunar: {
    env: "LunarLander-v3",
    model: "mlp",
    hiddenSize: 128,
    clipRewards: false,
    maxEpisodeLength: 1000,
    optimizerEps: 1e-8,
    evalWait: 2,
  },
};

/** A configuration error: names the field, the value and what is accepted. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function check(ok: boolean, field: string, value: unknown, expected: string): void {
  if (!ok) throw new ConfigError(`${field}: got ${show(value)}, expected ${expected}`);
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Throws a `ConfigError` for an unknown field or a field of the wrong JSON type. */
function checkTypes(c: TrainConfig): void {
  for (const key of Object.keys(c)) {
    if (!Object.hasOwn(FIELDS, key)) {
      throw new ConfigError(
        `${key}: not an option (options are ${Object.keys(FIELDS).join(", ")})`,
      );
    }
  }
  for (const [key, { rule }] of Object.entries(FIELDS) as [string, FieldSpec<unknown>][]) {
    const value = (c as unknown as Record<string, unknown>)[key];
    if (rule.nullable && value === null) continue;
    const ok = rule.type === "list"
      ? Array.isArray(value)
      : rule.type === "boolean"
      ? typeof value === "boolean"
      : rule.type === "string"
      ? typeof value === "string"
      : typeof value === "number" && Number.isFinite(value);
    const expected = rule.type === "list"
      ? "a list"
      : rule.type === "boolean"
      ? "a boolean"
      : rule.type === "string"
      ? "a string"
      : "a finite number";
    check(ok, kebab(key), value, rule.nullable ? `${expected} or null` : expected);
  }
}

/** Throws a `ConfigError` for the first invalid field. */
export function validateConfig(c: TrainConfig): void {
  checkTypes(c);
  for (const [key, { rule }] of Object.entries(FIELDS) as [string, FieldSpec<unknown>][]) {
    const value = (c as unknown as Record<string, unknown>)[key];
    check(followsRule(rule, value), kebab(key), value, rule.expected);
  }
  // what one field cannot say alone
  if (c.cluster !== null) {
    try {
      parseClusterUrl(c.cluster);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  check(
    c.cluster !== null || !c.chief,
    "chief",
    c.chief,
    "--chief only with --cluster redis://host:port/run-name",
  );
  check(
    !c.a3g || c.model === "auto" || GPU_MODEL_NAMES.includes(c.model),
    "model",
    c.model,
    `one of ${GPU_MODEL_NAMES.join(", ")} with --a3g (A3G runs the Atari conv models on the GPU)`,
  );
}

/** The learning rate after `frames` frames: `lr`, annealed linearly to `lrFinal` if one is set. */
export function learningRate(
  c: Pick<TrainConfig, "lr" | "lrFinal" | "lrAnnealFrames">,
  frames: number,
): number {
  if (c.lrFinal === null) return c.lr;
  const f = Math.min(1, Math.max(0, frames) / c.lrAnnealFrames);
  return c.lr * (1 - f) + c.lrFinal * f;
}

/**
 * The frame skip after `frames` frames: `skipRate`, and `skipRateFinal` (if set) from
 * `skipSwitchFrames` frames on.
 */
export function skipRateAt(
  c: Pick<TrainConfig, "skipRate" | "skipRateFinal" | "skipSwitchFrames">,
  frames: number,
): number {
  return c.skipRateFinal !== null && frames >= c.skipSwitchFrames ? c.skipRateFinal : c.skipRate;
}

/**
 * The configuration of `deno task train <name>`: a preset name, or an env id with the defaults.
 * `overrides` are applied last; the result is validated.
 */
export function resolveConfig(name: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  // presets in any letter case
  const key = Object.hasOwn(PRESETS, name)
    ? name
    : Object.keys(PRESETS).find((k) => k.toLowerCase() === name.toLowerCase());
  const base: TrainConfig = key !== undefined
    ? { ...DEFAULTS, ...PRESETS[key], preset: key }
    : { ...DEFAULTS, env: name };
  const config = { ...base, ...stripUndefined(overrides) };
  validateConfig(config);
  return config;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
