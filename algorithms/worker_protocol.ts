/**
 * What the main isolate and its workers say to each other, and the layout of the shared counters
 * and control words.
 *
 * @module
 */
import type { ParameterLayout } from "../autograd/parameters.ts";
import type { TrainConfig } from "./config.ts";
import type { OptimizerDescription } from "./optimizers.ts";
import type { UpdateTime } from "./a3c.ts";

const TIME_PHASES = ["act", "env", "learn", "optimizer"] as const;

/** Counters per slot in the shared `Float64Array`: steps, frames, episodes, updates. */
export const COUNTERS_PER_SLOT = 4;
/** Agent steps. */
export const COUNTER_STEPS = 0;
/** Raw frames (agent steps × frame skip on Atari). */
export const COUNTER_FRAMES = 1;
/** Finished episodes (real games on Atari). */
export const COUNTER_EPISODES = 2;
/** Optimizer updates. */
export const COUNTER_UPDATES = 3;

/** Index of the stop flag in the shared control `Int32Array`. */
export const CONTROL_STOP = 0;
/** Index of the number of open live pages in the control array (the evaluator sends frames). */
export const CONTROL_VIEWERS = 1;
/** Least milliseconds between two frames the evaluator sends to live pages (~30 frames/s). */
export const FRAME_INTERVAL_MS = 33;

/** The one message a worker receives: everything it needs, shared memory included. */
export interface WorkerSetup {
  role: "train" | "eval";
  /** Worker index (seed offset, distributed step size). */
  index: number;
  /** This worker's slot in the counters. */
  slot: number;
  config: TrainConfig;
  layout: ParameterLayout;
  /** The shared parameters (float32). */
  params: SharedArrayBuffer;
  /** The shared optimizer (training workers only). */
  optimizer: OptimizerDescription | null;
  /** Shared `Float64Array` counters, `COUNTERS_PER_SLOT` per slot. */
  counters: SharedArrayBuffer;
  /** Shared `Int32Array` control words. */
  control: SharedArrayBuffer;
  /** Episode return that counts as solved, or null. */
  solvedThreshold: number | null;
  /**
   * The run's shared observation statistics (walkers): mean, var and count as float64 on shared
   * memory (see `RunningMeanStd`), or null for envs without them.
   */
  normalisation: SharedArrayBuffer | null;
  /** How often this worker was restarted after a failure before this start (0 at first). */
  restarts: number;
  /**
   * A test hook that is never set in a real run: the worker throws once it has made this many
   * updates, as a bug in a learner would.
   */
  failAfterUpdates?: number;
}

/** Messages from workers. */
export type WorkerMessage =
  | { type: "episode"; worker: number; reward: number; length: number }
  | {
    type: "stats";
    worker: number;
    updates: number;
    policyLoss: number;
    valueLoss: number;
    entropy: number;
    gradNorm: number;
    /** Updates skipped since the last stats message (non-finite loss or gradient). */
    skipped: number;
    /** Milliseconds since the last stats message: wall time, and each phase of the updates. */
    time: UpdateTime & { wall: number };
    /** Bytes of this worker's JavaScript heap and of its WebAssembly memory in use, when sampled. */
    memory?: { heap: number; wasm: number };
  }
  | {
    type: "eval";
    reward: number;
    length: number;
    mean: number;
    /** Seconds the episode took to play. */
    seconds: number;
    params: Float32Array;
  }
  | {
    type: "confirm";
    episodes: number;
    mean: number;
    std: number;
    min: number;
    max: number;
    passed: boolean;
    params: Float32Array;
  }
  | {
    type: "frame";
    /** The evaluator's current frame as the env renders it: height × width × 3 bytes. */
    rgb: Uint8Array;
    width: number;
    height: number;
  }
  | { type: "stopped"; worker: number; role: "train" | "eval" }
  | { type: "error"; worker: number; role: "train" | "eval"; message: string; stack?: string };

/**
 * A training worker's bookkeeping after each update: counts it in the worker's counter slot, posts
 * finished episodes at once and the mean losses about once a second (and on `flush`).
 */
export class UpdateReporter {
  #n = 0;
  #policyLoss = 0;
  #valueLoss = 0;
  #entropy = 0;
  #gradNorm = 0;
  #skipped = 0;
  #time: UpdateTime = { act: 0, env: 0, learn: 0, optimizer: 0 };
  #lastPost = performance.now();
  readonly #counters: Float64Array;
  readonly #slot: number;

  /**
   * @param worker the worker's index
   * @param counters the shared counters
   * @param slot the worker's slot
   * @param framesPerStep raw frames per agent step (unless an update names its own)
   * @param post sends a message to the main isolate
   */
  constructor(
    readonly worker: number,
    counters: SharedArrayBuffer,
    slot: number,
    readonly framesPerStep: number,
    readonly post: (message: WorkerMessage) => void,
    readonly sampleMemory?: () => { heap: number; wasm: number },
  ) {
    this.#counters = new Float64Array(counters);
    this.#slot = slot * COUNTERS_PER_SLOT;
  }

  /** Records one update, played at `framesPerStep` raw frames per agent step. */
  record(stats: {
    steps: number;
    policyLoss: number;
    valueLoss: number;
    entropy: number;
    gradNorm: number;
    episodes: { reward: number; length: number }[];
    time?: UpdateTime;
    skipped?: boolean;
  }, framesPerStep = this.framesPerStep): void {
    const c = this.#counters, slot = this.#slot;
    c[slot + COUNTER_STEPS] += stats.steps;
    c[slot + COUNTER_FRAMES] += stats.steps * framesPerStep;
    c[slot + COUNTER_UPDATES] += 1;
    c[slot + COUNTER_EPISODES] += stats.episodes.length;
    for (const e of stats.episodes) this.post({ type: "episode", worker: this.worker, ...e });
    if (stats.skipped) {
      // Its losses are not finite; they stay out of the means.
      this.#skipped++;
    } else {
      this.#n++;
      this.#policyLoss += stats.policyLoss;
      this.#valueLoss += stats.valueLoss;
      this.#entropy += stats.entropy;
      this.#gradNorm += stats.gradNorm;
    }
    if (stats.time !== undefined) {
      for (const k of TIME_PHASES) this.#time[k] += stats.time[k];
    }
    if (performance.now() - this.#lastPost > 1000) this.flush();
  }

  /** Posts the mean losses since the last post (if any update happened). */
  flush(): void {
    const n = this.#n;
    if (n === 0 && this.#skipped === 0) return;
    const now = performance.now();
    this.post({
      type: "stats",
      worker: this.worker,
      updates: n,
      policyLoss: n === 0 ? NaN : this.#policyLoss / n,
      valueLoss: n === 0 ? NaN : this.#valueLoss / n,
      entropy: n === 0 ? NaN : this.#entropy / n,
      gradNorm: n === 0 ? NaN : this.#gradNorm / n,
      skipped: this.#skipped,
      time: { ...this.#time, wall: now - this.#lastPost },
      memory: this.sampleMemory?.(),
    });
    this.#lastPost = now;
    this.#time = { act: 0, env: 0, learn: 0, optimizer: 0 };
    this.#skipped = 0;
    this.#n =
      this.#policyLoss =
      this.#valueLoss =
      this.#entropy =
      this.#gradNorm =
        0;
  }
}
