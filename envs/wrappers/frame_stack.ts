/**
 * FrameStack: the last k observations side by side, oldest first.
 *
 * @module
 */
import { box, type BoxSpace, type Env, EnvError, type Observation } from "../core.ts";
import { ObservationWrapper } from "./wrapper.ts";

/**
 * Stacks the last `k` observations into one float32 array of shape `[k, ...shape]` (a leading
 * channel of 1 is merged: `[1, 80, 80]` → `[k, 80, 80]`), oldest first, newest last. A reset fills
 * the stack with k copies of the reset observation. Frames are copied, so inner envs may reuse
 * their buffers; the output is a buffer reused on the next call.
 */
export class FrameStack extends ObservationWrapper {
  readonly k: number;
  readonly #frame: number;
  readonly #out: Float32Array;
  readonly #space: BoxSpace;

  constructor(env: Env, k = 4) {
    super(env);
    if (!(Number.isInteger(k) && k >= 1)) {
      throw new EnvError(`${env.id}: FrameStack k is ${k}; expected a positive integer`);
    }
    const space = env.observationSpace;
    if (space.kind !== "box") {
      throw new EnvError(`${env.id}: FrameStack needs a box observation space`);
    }
    this.k = k;
    this.#frame = space.low.length;
    this.#out = new Float32Array(k * this.#frame);
    const shape = space.shape.length > 1 && space.shape[0] === 1
      ? space.shape.slice(1)
      : space.shape;
    const tile = (a: Float32Array) =>
      Float32Array.from({ length: k * a.length }, (_, i) => a[i % a.length]);
    this.#space = box([k, ...shape], tile(space.low), tile(space.high));
  }

  override get observationSpace(): BoxSpace {
    return this.#space;
  }

  /** The stack filled with k copies of the reset observation. */
  override resetObservation(x: Observation): Float32Array {
    for (let j = 0; j < this.k; j++) this.#out.set(x, j * this.#frame);
    return this.#out;
  }

  /** The stack moved on by one frame. */
  observation(x: Observation): Float32Array {
    this.#out.copyWithin(0, this.#frame);
    this.#out.set(x, (this.k - 1) * this.#frame);
    return this.#out;
  }
}
