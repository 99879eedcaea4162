/**
 * What a run's workers share: the parameters, the optimizer state, the counters and (walkers) the
 * observation statistics, all on `SharedArrayBuffer`s; made for a configuration, and restored from
 * a checkpoint.
 *
 * @module
 */
import { type ParameterLayout, Parameters } from "../autograd/parameters.ts";
import { Rng } from "../autograd/random.ts";
import { observationStatistics } from "../envs/pipeline.ts";
import { RunningMeanStd, type RunningMeanStdState } from "../envs/wrappers/running_mean_std.ts";
import { loadCheckpoint } from "../io/checkpoint.ts";
import type { ModelDefinition } from "../models/actor_critic.ts";
import { modelDefinition } from "../models/mod.ts";
import { ConfigError, type TrainConfig } from "./config.ts";
import { Adam, type Optimizer, RMSprop } from "./optimizers.ts";
import { makeTrainingEnv } from "./training_env.ts";
import {
  COUNTER_EPISODES,
  COUNTER_FRAMES,
  COUNTER_STEPS,
  COUNTER_UPDATES,
  COUNTERS_PER_SLOT,
} from "./worker_protocol.ts";

/** A run's counts. */
export interface Counts {
  steps: number;
  frames: number;
  episodes: number;
  updates: number;
}

/**
 * The run's counters on shared memory, `COUNTERS_PER_SLOT` float64 values per slot, each slot
 * written by one isolate only:
 *
 * | slot | written by | holds |
 * | --- | --- | --- |
 * | {@link RunCounters.BASE_SLOT} (0) | the main isolate | the run's counts before this process's workers: restored from a checkpoint, and in a cluster the other machines' work as of the last sync |
 * | 1 … workers | training worker i − 1 | its own updates |
 * | workers + 1 | the evaluator | nothing counted in the totals |
 *
 * So the totals (slots 0 … workers) are the whole run's, resumed or spread over machines.
 */
export class RunCounters {
  /** The slot of the counts this process did not make itself. */
  static readonly BASE_SLOT = 0;
  readonly array: Float64Array;

  constructor(readonly workers: number) {
    this.array = new Float64Array(new SharedArrayBuffer((workers + 2) * COUNTERS_PER_SLOT * 8));
  }

  /** The memory the workers write their slots into. */
  get buffer(): SharedArrayBuffer {
    return this.array.buffer as SharedArrayBuffer;
  }

  /** Training worker `i`'s slot. */
  workerSlot(i: number): number {
    return i + 1;
  }

  /** The evaluator's slot. */
  get evalSlot(): number {
    return this.workers + 1;
  }

  /** Counter `k` (`COUNTER_FRAMES`, ...) over the base and every training worker. */
  total(k: number): number {
    let s = 0;
    for (let i = 0; i <= this.workers; i++) s += this.array[i * COUNTERS_PER_SLOT + k];
    return s;
  }

  /** Every total. */
  totals(): Counts {
    return this.#sum(0);
  }

  /** What this process's training workers counted (the totals less the base). */
  own(): Counts {
    return this.#sum(1);
  }

  /** The base's counts. */
  base(): Counts {
    return this.#read(RunCounters.BASE_SLOT);
  }

  /** Sets the base: what was counted before this process's workers (missing counts are 0). */
  setBase(c: Partial<Counts>): void {
    const a = this.array, b = RunCounters.BASE_SLOT * COUNTERS_PER_SLOT;
    a[b + COUNTER_STEPS] = c.steps ?? 0;
    a[b + COUNTER_FRAMES] = c.frames ?? 0;
    a[b + COUNTER_EPISODES] = c.episodes ?? 0;
    a[b + COUNTER_UPDATES] = c.updates ?? 0;
  }

  #read(slot: number): Counts {
    const a = this.array, b = slot * COUNTERS_PER_SLOT;
    return {
      steps: a[b + COUNTER_STEPS],
      frames: a[b + COUNTER_FRAMES],
      episodes: a[b + COUNTER_EPISODES],
      updates: a[b + COUNTER_UPDATES],
    };
  }

  #sum(from: number): Counts {
    const c = { steps: 0, frames: 0, episodes: 0, updates: 0 };
    for (let i = from; i <= this.workers; i++) {
      const s = this.#read(i);
      c.steps += s.steps;
      c.frames += s.frames;
      c.episodes += s.episodes;
      c.updates += s.updates;
    }
    return c;
  }
}

/** A run's shared state. */
export interface SharedState {
  definition: ModelDefinition;
  params: Parameters;
  layout: ParameterLayout;
  optimizer: Optimizer;
  counters: RunCounters;
  /** The walkers' observation statistics, which every worker updates and normalises with. */
  statistics: RunningMeanStd | null;
}

/**
 * The shared state of a fresh run of `config` (its model already resolved): parameters
 * initialised from `config.seed`, a new optimizer, zero counters. Refuses, before allocating, a
 * configuration that cannot fit in memory.
 */
export function createSharedState(config: TrainConfig): SharedState {
  const probe = makeTrainingEnv(config, config.seed);
  try {
    const definition = modelDefinition(
      config.model,
      probe.observationSpace,
      probe.actionSpace,
      config.hiddenSize,
    );
    checkMemory(config, definition);
    const probeStatistics = observationStatistics(probe);
    const statistics = probeStatistics === null
      ? null
      : RunningMeanStd.createShared(probeStatistics.size);
    const params = new Parameters(definition.specs, { shared: true });
    params.initialize(new Rng(config.seed));
    return {
      definition,
      params,
      layout: params.layout(),
      optimizer: makeOptimizer(config, params),
      counters: new RunCounters(config.workers),
      statistics,
    };
  } finally {
    probe.close();
  }
}

/**
 * Restores `state` from the checkpoint `config.load`: parameters, the shared optimizer's state
 * (when the checkpoint has one), the counters (into the base slot) and the observation
 * statistics. Returns the seconds of training the checkpoint had; `log` gets what the user should
 * know (a recovered file, a fresh optimizer).
 */
export async function restoreSharedState(
  state: SharedState,
  config: TrainConfig & { load: string },
  log: (line: string) => void,
): Promise<number> {
  const restored = await loadCheckpoint(config.load, {
    params: state.params.data,
    layout: state.layout.slots,
    optimizer: config.sharedOptimizer ? state.optimizer : undefined,
    optimizerOptional: true,
  });
  if (restored.recovered !== undefined) log(restored.recovered);
  if (restored.optimizer === undefined && config.sharedOptimizer) {
    log(`${config.load}: no optimizer state (an exported model); the optimizer starts fresh`);
  }
  const c = restored.counters ?? {};
  state.counters.setBase(c);
  const saved = restored.normalisation as RunningMeanStdState | undefined;
  if (state.statistics !== null && saved !== undefined) {
    state.statistics.import({ ...saved, frozen: false });
  }
  return c.seconds ?? 0;
}

function makeOptimizer(config: TrainConfig, params: Parameters): Optimizer {
  const segments = params.layout().slots;
  const options = { shared: config.sharedOptimizer, size: params.size };
  return config.optimizer === "adam"
    ? new Adam(
      segments,
      { lr: config.lr, eps: config.optimizerEps, amsgrad: config.amsgrad },
      options,
    )
    : new RMSprop(segments, { lr: config.lr, eps: config.optimizerEps }, options);
}

/**
 * Refuses, before anything is allocated, a configuration whose parameters, optimizer state,
 * worker copies and rollouts cannot fit in this machine's memory (a lower-bound estimate: 4 bytes
 * a value; per rollout step of each env, its observation and LSTM state and their gradients).
 */
function checkMemory(config: TrainConfig, definition: ModelDefinition): void {
  const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const parameters = definition.specs.reduce((n, s) => n + count(s.shape), 0);
  const slots = config.optimizer === "adam" ? (config.amsgrad ? 3 : 2) : 1;
  const weights = 4 * parameters * (1 + slots + 2 * config.workers);
  const steps = Math.max(config.numSteps, ...(config.distributedStepSize ?? [])) *
    config.envsPerWorker * (config.a3g ? config.envGroups : 1) * config.workers;
  const rollouts = 4 * steps * 2 * (count(definition.observationShape) + 10 * config.hiddenSize);
  let total: number | null = null;
  try {
    total = Deno.systemMemoryInfo().total;
  } catch {
    // without permission to ask, only sizes no machine has are refused
  }
  const limit = total ?? 2 ** 40;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 3 : 1)} GiB`;
  if (weights + rollouts > limit) {
    throw new ConfigError(
      `this configuration needs at least ${gib(weights + rollouts)} (${gib(weights)} for ` +
        `${parameters.toExponential(2)} parameters, their optimizer state and ${config.workers} ` +
        `worker copies; ${gib(rollouts)} for rollouts), more than ${
          total === null ? "any machine has" : `this machine's ${gib(total)}`
        }; lower --hidden-size, --num-steps, --envs-per-worker or --workers`,
    );
  }
}
