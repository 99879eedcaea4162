/**
 * NormalizedEnv: rl_a3c_pytorch's running scalar normalisation of whole frames.
 *
 * @module
 */
import { box, type BoxSpace, type Env, EnvError, type Observation } from "../core.ts";
import { AtariRescale } from "./atari_rescale.ts";
import { ObservationWrapper } from "./wrapper.ts";

/** Options of {@link NormalizedEnv}. */
export interface NormalizedEnvOptions {
  /** Decay of the running averages (0.9999). */
  alpha?: number;
}

/**
 * For every observation (resets included): m ← α·m + (1−α)·mean(x), s ← α·s + (1−α)·std(x)
 * (population std), bias-corrected by 1 − αⁿ with n the frames seen since construction (not per
 * episode), and returns (x − m̂)/(ŝ + 1e-8) as float32. The observation is a buffer reused on the
 * next call.
 */
export class NormalizedEnv extends ObservationWrapper {
  readonly alpha: number;
  /** Running mean of frame means (not bias-corrected). */
  stateMean = 0;
  /** Running mean of frame standard deviations (not bias-corrected). */
  stateStd = 0;
  /** Frames normalised so far. */
  numSteps = 0;
  readonly #out: Float32Array;
  readonly #space: BoxSpace;
  // an AtariRescale right inside knows the exact sum of its frames, which saves a pass
  readonly #rescale: AtariRescale | undefined;

  constructor(env: Env, options: NormalizedEnvOptions = {}) {
    super(env);
    this.alpha = options.alpha ?? 0.9999;
    if (!(this.alpha > 0 && this.alpha < 1)) {
      throw new EnvError(`${env.id}: NormalizedEnv alpha is ${this.alpha}; expected 0 < alpha < 1`);
    }
    const space = env.observationSpace;
    if (space.kind !== "box") {
      throw new EnvError(`${env.id}: NormalizedEnv needs a box observation space`);
    }
    this.#out = new Float32Array(space.low.length);
    this.#space = box(space.shape, -Infinity, Infinity);
    this.#rescale = env.constructor === AtariRescale ? env as AtariRescale : undefined;
  }

  override get observationSpace(): BoxSpace {
    return this.#space;
  }

  /** Updates the statistics with `x` and returns it normalised (in the reused buffer). */
  normalize(x: Observation): Float32Array {
    return this.#normalize(x, NaN);
  }

  /** {@link NormalizedEnv.normalize} given the sum of `x` when known (NaN: sum it here). */
  #normalize(x: Observation, knownSum: number): Float32Array {
    const n = x.length, out = this.#out;
    const f32 = x instanceof Float32Array;
    const sum = knownSum === knownSum ? knownSum : f32 ? sumF32(x) : sumAny(x);
    const mean = sum / n;
    const std = Math.sqrt((f32 ? squaresF32(x, mean) : squaresAny(x, mean)) / n);
    const a = this.alpha;
    this.numSteps++;
    this.stateMean = this.stateMean * a + mean * (1 - a);
    this.stateStd = this.stateStd * a + std * (1 - a);
    const correction = 1 - Math.pow(a, this.numSteps);
    const m = this.stateMean / correction, s = this.stateStd / correction;
    const inv = 1 / (s + 1e-8);
    if (f32) scaleF32(x, m, inv, out);
    else scaleAny(x, m, inv, out);
    return out;
  }

  #observationSum(x: Observation): number {
    return this.#rescale === undefined ? NaN : this.#rescale.observationSum(x);
  }

  /** The observation normalised with the running statistics, updated by it first. */
  observation(x: Observation): Float32Array {
    return this.#normalize(x, this.#observationSum(x));
  }
}

// The loops below are split by array type so each stays monomorphic; they keep the order of
// operations of the plain formula, so results do not depend on which one runs.

function sumF32(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  return sum;
}

function sumAny(x: Observation): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i];
  return sum;
}

function squaresF32(x: Float32Array, mean: number): number {
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    sq += d * d;
  }
  return sq;
}

function squaresAny(x: Observation, mean: number): number {
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean;
    sq += d * d;
  }
  return sq;
}

function scaleF32(x: Float32Array, m: number, inv: number, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - m) * inv;
}

function scaleAny(x: Observation, m: number, inv: number, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - m) * inv;
}
