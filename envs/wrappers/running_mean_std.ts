/**
 * Per-dimension running mean and variance of observations, as a3c_continuous normalises
 * BipedalWalker: updated while training, frozen once the agent is good, saved and loaded as JSON.
 *
 * @module
 */
import { box, type BoxSpace, type Env, EnvError, type Observation } from "../core.ts";
import { ObservationWrapper } from "./wrapper.ts";

/** The saved form of a {@link RunningMeanStd} (plain JSON). */
export interface RunningMeanStdState {
  mean: number[];
  var: number[];
  count: number;
  frozen: boolean;
}

/** Smallest variance used when dividing (std = √max(var, 1e-4)). */
const MIN_VAR = 1e-4;

/**
 * Running per-dimension mean/variance with the parallel-moments update of a batch of one:
 * δ = x − μ, N = n + 1, μ ← μ + δ/N, var ← (var·n + δ²·n/N)/N, n ← N. Starts at μ = 0, var = 1,
 * n = 1e-4. While live, `normalize` gives clip((x − μ)/√max(var, 1e-4), ±20); once frozen it uses
 * the std stored at freezing and clips to ±10.
 */
export class RunningMeanStd {
  readonly mean: Float64Array;
  readonly var: Float64Array;
  /** mean, var and count, one after another (`storage`). */
  readonly #store: Float64Array;
  #frozen = false;
  readonly #frozenStd: Float64Array;

  /**
   * New statistics (μ = 0, var = 1, n = `epsilon`), or, with `storage` (2·size + 1 floats: mean,
   * var, count), statistics that live in that array as they are, e.g. on a `SharedArrayBuffer`
   * that every training worker and the evaluator update and read (see `createShared`).
   */
  constructor(readonly size: number, epsilon = 1e-4, storage?: Float64Array) {
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new EnvError(`RunningMeanStd: size is ${size}; expected a positive integer`);
    }
    if (storage !== undefined && storage.length !== 2 * size + 1) {
      throw new EnvError(
        `RunningMeanStd: storage holds ${storage.length} floats; ${size} dimensions need ${
          2 * size + 1
        }`,
      );
    }
    this.#store = storage ?? new Float64Array(2 * size + 1);
    this.mean = this.#store.subarray(0, size);
    this.var = this.#store.subarray(size, 2 * size);
    if (storage === undefined) {
      this.var.fill(1);
      this.count = epsilon;
    }
    this.#frozenStd = new Float64Array(size);
  }

  /** New statistics on a `SharedArrayBuffer` (`storage.buffer`), to post to other isolates. */
  static createShared(size: number, epsilon = 1e-4): RunningMeanStd {
    const fresh = new RunningMeanStd(size, epsilon);
    const storage = new Float64Array(new SharedArrayBuffer(8 * (2 * size + 1)));
    storage.set(fresh.storage);
    return new RunningMeanStd(size, epsilon, storage);
  }

  /** The number of observations seen (plus the initial ε). */
  get count(): number {
    return this.#store[2 * this.size];
  }

  set count(n: number) {
    this.#store[2 * this.size] = n;
  }

  /** mean, var and count in one array: the statistics' memory, shared when created so. */
  get storage(): Float64Array {
    return this.#store;
  }

  /** Whether the statistics are frozen (no updates, stored std, clip ±10). */
  get frozen(): boolean {
    return this.#frozen;
  }

  /** Adds one observation to the statistics (ignored while frozen). */
  update(x: ArrayLike<number>): void {
    this.#checkLength(x.length);
    if (this.#frozen) return;
    const n = this.count, total = n + 1;
    for (let i = 0; i < this.size; i++) {
      const delta = x[i] - this.mean[i];
      this.mean[i] += delta / total;
      this.var[i] = (this.var[i] * n + (delta * delta * n) / total) / total;
    }
    this.count = total;
  }

  /** Writes the normalised `x` into `out` (and returns it). */
  normalize(x: ArrayLike<number>, out: Float32Array = new Float32Array(this.size)): Float32Array {
    this.#checkLength(x.length);
    const clip = this.#frozen ? 10 : 20;
    for (let i = 0; i < this.size; i++) {
      const std = this.#frozen ? this.#frozenStd[i] : Math.sqrt(Math.max(this.var[i], MIN_VAR));
      out[i] = Math.min(Math.max((x[i] - this.mean[i]) / std, -clip), clip);
    }
    return out;
  }

  /** Stops updating and stores std = √max(var, 1e-4). */
  freeze(): void {
    for (let i = 0; i < this.size; i++) {
      this.#frozenStd[i] = Math.sqrt(Math.max(this.var[i], MIN_VAR));
    }
    this.#frozen = true;
  }

  /** Resumes updating. */
  unfreeze(): void {
    this.#frozen = false;
  }

  /** Caps the sample count so later samples keep a weight of at least 1/max. */
  capCount(max: number): void {
    this.count = Math.min(this.count, max);
  }

  /** The statistics as plain JSON. */
  export(): RunningMeanStdState {
    return {
      mean: Array.from(this.mean),
      var: Array.from(this.var),
      count: this.count,
      frozen: this.#frozen,
    };
  }

  /** Replaces the statistics with saved ones (re-freezing if they were frozen). */
  import(state: RunningMeanStdState): void {
    const ok = state && Array.isArray(state.mean) && Array.isArray(state.var) &&
      state.mean.length === this.size && state.var.length === this.size &&
      typeof state.count === "number" && state.count > 0 &&
      [...state.mean, ...state.var].every(Number.isFinite) && state.var.every((v) => v >= 0);
    if (!ok) {
      throw new EnvError(
        `RunningMeanStd.import: expected {mean, var} of ${this.size} finite numbers (var ≥ 0) ` +
          `and a positive count`,
      );
    }
    this.mean.set(state.mean);
    this.var.set(state.var);
    this.count = state.count;
    this.#frozen = false;
    if (state.frozen) this.freeze();
  }

  /** A new instance holding saved statistics. */
  static fromState(state: RunningMeanStdState): RunningMeanStd {
    const rms = new RunningMeanStd(state.mean?.length ?? 0);
    rms.import(state);
    return rms;
  }

  #checkLength(n: number): void {
    if (n !== this.size) {
      throw new EnvError(`RunningMeanStd: observation has ${n} values; expected ${this.size}`);
    }
  }
}

/**
 * Normalises every observation (resets included) with a {@link RunningMeanStd}, updating it first
 * unless it is frozen. The statistics object can be shared, saved and frozen from outside. The
 * observation is a buffer reused on the next call.
 */
export class NormalizeObservation extends ObservationWrapper {
  readonly rms: RunningMeanStd;
  readonly #out: Float32Array;
  readonly #space: BoxSpace;

  constructor(env: Env, rms?: RunningMeanStd) {
    super(env);
    const space = env.observationSpace;
    if (space.kind !== "box") {
      throw new EnvError(`${env.id}: NormalizeObservation needs a box observation space`);
    }
    const size = space.low.length;
    this.rms = rms ?? new RunningMeanStd(size);
    if (this.rms.size !== size) {
      throw new EnvError(
        `${env.id}: NormalizeObservation statistics have ${this.rms.size} dimensions; ` +
          `the observations have ${size}`,
      );
    }
    this.#out = new Float32Array(size);
    this.#space = box(space.shape, -20, 20);
  }

  override get observationSpace(): BoxSpace {
    return this.#space;
  }

  /** The observation normalised with the statistics, updated by it first. */
  observation(x: Observation): Float32Array {
    this.rms.update(x);
    return this.rms.normalize(x, this.#out);
  }
}
