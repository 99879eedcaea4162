/**
 * Training configuration: every hyper-parameter with its documented default, the presets behind
 * `deno task train <preset>`, and validation that names the bad field and what it accepts.
 *
 * @module
 */
import { parseClusterUrl } from "./cluster.ts";

/** Model families (see `models/`). */
export const MODEL_NAMES = [
  "small", // Atari conv+LSTM, 1×42×42 (pytorch-a3c)
  "large", // Atari conv+maxpool+LSTM, 1×80×80 (rl_a3c_pytorch)
  "small-ff", // the small conv stack without the LSTM
  "large-ff", // the large conv stack without the LSTM
  "mlp-lstm", // continuous control, a3c_continuous's MLP+LSTM
  "conv1d-lstm", // continuous control over stacked frames
  "mlp", // classic control, feed-forward actor-critic
] as const;

/** A model family name. */
export type ModelName = typeof MODEL_NAMES[number];

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

/** The model families A3G runs on the GPU. */
export const A3G_MODEL_NAMES: readonly ModelName[] = ["small", "large", "small-ff", "large-ff"];

/** Defaults shared by every preset; each preset overrides what its seed project does. */
export const DEFAULTS: TrainConfig = {
  env: "PongNoFrameskip-v4",
  preset: null,
  workers: navigator.hardwareConcurrency || 2,
  lr: 1e-4,
  lrFinal: null,
  lrAnnealFrames: 20_000_000,
  gamma: 0.99,
  tau: 1.0,
  entropyCoef: 0.01,
  valueCoef: 0.5,
  maxGradNorm: null,
  numSteps: 20,
  distributedStepSize: null,
  optimizer: "adam",
  amsgrad: false,
  optimizerEps: 1e-3,
  sharedOptimizer: true,
  seed: 1,
  maxEpisodeLength: 10000,
  model: "auto",
  hiddenSize: 256,
  stackFrames: 1,
  skipRate: 4,
  clipRewards: true,
  shapeRewards: false,
  saveMax: false,
  saveEvery: 60,
  histogramEvery: 60,
  load: null,
  runDir: null,
  maxFrames: null,
  maxMinutes: null,
  stopWhenSolved: false,
  targetReward: null,
  evalWait: 10,
  evalDuty: 0.1,
  evaluate: true,
  a3g: false,
  envsPerWorker: 1,
  envGroups: 2,
  cluster: null,
  syncEvery: 10,
  chief: false,
  serve: null,
  serveHost: "127.0.0.1",
};

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

/** Presets behind `deno task train <name>`: overrides of `DEFAULTS`. */
export const PRESETS: Record<string, Partial<TrainConfig>> = {
  // pytorch-a3c's model (42×42, ELU conv + LSTM 256, clip 50) with 8 envs per learner. The
  // starting learning rate was chosen by short measured runs (README, results/pong-preset): per
  // agent step, lr/(K·T) ≈ 6e-6 learned fastest (1e-4 and 4e-4 slower, 2e-3 slower again). Held
  // at 1e-3, a 40-minute run levelled off near −12 after 6M frames; resumed at 3e-4 it moved on
  // at once, so the rate is annealed to 1e-4 over 20M frames.
  pong: { env: "PongNoFrameskip-v4", ...ATARI, targetReward: 20 },
  // Pong's learner and schedule, not yet tuned for Breakout.
  breakout: { env: "BreakoutNoFrameskip-v4", ...ATARI },
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
  // a3c_continuous's current recipe: γ .98, τ .8, value coefficient .4, Adam ε 1e-8, AMSGrad.
  bipedal: {
    env: "BipedalWalker-v3",
    model: "mlp-lstm",
    hiddenSize: 160,
    gamma: 0.98,
    tau: 0.8,
    valueCoef: 0.4,
    optimizerEps: 1e-8,
    amsgrad: true,
    clipRewards: false,
    shapeRewards: true,
    maxEpisodeLength: 1600,
    evalWait: 5,
  },
  "bipedal-hardcore": {
    env: "BipedalWalkerHardcore-v3",
    model: "mlp-lstm",
    hiddenSize: 160,
    gamma: 0.98,
    tau: 0.8,
    valueCoef: 0.4,
    optimizerEps: 1e-8,
    amsgrad: true,
    clipRewards: false,
    shapeRewards: true,
    maxEpisodeLength: 2000,
    evalWait: 5,
  },
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

/** Each field's JSON type (`?` where null is allowed): checked before any value is. */
const FIELD_TYPES: Record<keyof TrainConfig, string> = {
  env: "string",
  preset: "string?",
  workers: "number",
  lr: "number",
  lrFinal: "number?",
  lrAnnealFrames: "number",
  gamma: "number",
  tau: "number",
  entropyCoef: "number",
  valueCoef: "number",
  maxGradNorm: "number?",
  numSteps: "number",
  distributedStepSize: "array?",
  optimizer: "string",
  amsgrad: "boolean",
  optimizerEps: "number",
  sharedOptimizer: "boolean",
  seed: "number",
  maxEpisodeLength: "number",
  model: "string",
  hiddenSize: "number",
  stackFrames: "number",
  skipRate: "number",
  clipRewards: "boolean",
  shapeRewards: "boolean",
  saveMax: "boolean",
  saveEvery: "number",
  histogramEvery: "number",
  load: "string?",
  runDir: "string?",
  maxFrames: "number?",
  maxMinutes: "number?",
  stopWhenSolved: "boolean",
  targetReward: "number?",
  evalWait: "number",
  evalDuty: "number",
  evaluate: "boolean",
  a3g: "boolean",
  envsPerWorker: "number",
  envGroups: "number",
  cluster: "string?",
  syncEvery: "number",
  chief: "boolean",
  serve: "number?",
  serveHost: "string",
};

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Throws a `ConfigError` for an unknown field or a field of the wrong type. */
function checkTypes(c: TrainConfig): void {
  for (const key of Object.keys(c)) {
    if (!Object.hasOwn(FIELD_TYPES, key)) {
      throw new ConfigError(
        `${key}: not an option (options are ${Object.keys(FIELD_TYPES).join(", ")})`,
      );
    }
  }
  for (const [key, type] of Object.entries(FIELD_TYPES)) {
    const value = (c as unknown as Record<string, unknown>)[key];
    const nullable = type.endsWith("?");
    const base = nullable ? type.slice(0, -1) : type;
    if (nullable && value === null) continue;
    const ok = base === "array"
      ? Array.isArray(value)
      : base === "number"
      ? typeof value === "number" && Number.isFinite(value)
      : base === "boolean"
      ? typeof value === "boolean"
      : typeof value === "string";
    const expected = base === "number"
      ? "a finite number"
      : base === "array"
      ? "a list"
      : `a ${base}`;
    check(ok, kebab(key), value, nullable ? `${expected} or null` : expected);
  }
}

/** Throws a `ConfigError` for the first invalid field. */
export function validateConfig(c: TrainConfig): void {
  checkTypes(c);
  const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
  check(typeof c.env === "string" && c.env.length > 0, "env", c.env, "an environment id");
  check(positiveInt(c.workers) && c.workers <= 256, "workers", c.workers, "an integer 1..256");
  check(c.lr > 0 && Number.isFinite(c.lr), "lr", c.lr, "a positive number");
  check(
    c.lrFinal === null || (c.lrFinal > 0 && Number.isFinite(c.lrFinal)),
    "lr-final",
    c.lrFinal,
    "a positive number (or none)",
  );
  check(
    c.lrAnnealFrames > 0 && Number.isFinite(c.lrAnnealFrames),
    "lr-anneal-frames",
    c.lrAnnealFrames,
    "a positive number of frames",
  );
  check(c.gamma > 0 && c.gamma <= 1, "gamma", c.gamma, "a number in (0, 1]");
  check(c.tau >= 0 && c.tau <= 1, "tau", c.tau, "a number in [0, 1]");
  check(c.entropyCoef >= 0, "entropy-coef", c.entropyCoef, "a number ≥ 0");
  check(c.valueCoef >= 0, "value-coef", c.valueCoef, "a number ≥ 0");
  check(
    c.maxGradNorm === null || c.maxGradNorm > 0,
    "max-grad-norm",
    c.maxGradNorm,
    "a positive number (or none)",
  );
  check(positiveInt(c.numSteps), "num-steps", c.numSteps, "a positive integer");
  check(
    c.distributedStepSize === null ||
      (c.distributedStepSize.length > 0 && c.distributedStepSize.every(positiveInt)),
    "distributed-step-size",
    c.distributedStepSize,
    "a list of positive integers",
  );
  check(
    (OPTIMIZER_NAMES as readonly string[]).includes(c.optimizer),
    "optimizer",
    c.optimizer,
    `one of ${OPTIMIZER_NAMES.join(", ")}`,
  );
  check(c.optimizerEps > 0, "optimizer-eps", c.optimizerEps, "a positive number");
  check(Number.isInteger(c.seed), "seed", c.seed, "an integer");
  check(
    positiveInt(c.maxEpisodeLength),
    "max-episode-length",
    c.maxEpisodeLength,
    "a positive integer",
  );
  check(
    c.model === "auto" || (MODEL_NAMES as readonly string[]).includes(c.model),
    "model",
    c.model,
    `one of ${MODEL_NAMES.join(", ")}, or auto`,
  );
  check(positiveInt(c.hiddenSize), "hidden-size", c.hiddenSize, "a positive integer");
  check(positiveInt(c.stackFrames), "stack-frames", c.stackFrames, "a positive integer");
  check(positiveInt(c.skipRate), "skip-rate", c.skipRate, "a positive integer");
  check(
    c.maxFrames === null || c.maxFrames > 0,
    "max-frames",
    c.maxFrames,
    "a positive number (or none)",
  );
  check(
    c.maxMinutes === null || c.maxMinutes > 0,
    "max-minutes",
    c.maxMinutes,
    "a positive number (or none)",
  );
  check(c.evalWait >= 0, "eval-wait", c.evalWait, "a number of seconds ≥ 0");
  check(c.saveEvery > 0, "save-every", c.saveEvery, "a positive number of seconds");
  check(c.histogramEvery >= 0, "histogram-every", c.histogramEvery, "a number of seconds ≥ 0");
  check(c.evalDuty > 0 && c.evalDuty <= 1, "eval-duty", c.evalDuty, "a number in (0, 1]");
  check(
    positiveInt(c.envsPerWorker) && c.envsPerWorker <= 1024,
    "envs-per-worker",
    c.envsPerWorker,
    "an integer 1..1024",
  );
  check(
    positiveInt(c.envGroups) && c.envGroups <= 16,
    "env-groups",
    c.envGroups,
    "an integer 1..16",
  );
  check(positiveInt(c.syncEvery), "sync-every", c.syncEvery, "a positive integer");
  check(
    c.serve === null || (Number.isInteger(c.serve) && c.serve >= 0 && c.serve <= 65535),
    "serve",
    c.serve,
    "a port 0..65535 (0 picks a free one)",
  );
  check(c.serveHost.trim() !== "", "serve-host", c.serveHost, "a host name or address");
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
    !c.a3g || c.model === "auto" || A3G_MODEL_NAMES.includes(c.model),
    "model",
    c.model,
    `one of ${A3G_MODEL_NAMES.join(", ")} with --a3g (A3G runs the Atari conv models on the GPU)`,
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
