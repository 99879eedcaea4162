/**
 * MaxAndSkip: repeats each action `skip` raw frames, sums the rewards and returns the pixel-wise
 * max over the last 2 (baselines) or 3 (rl_a3c_pytorch) raw frames.
 *
 * @module
 */
import type { Action, Env, Observation, ResetOptions, ResetResult, StepResult } from "../core.ts";
import { EnvError } from "../core.ts";
import { bytesEqual, max2Words, max3Words } from "./frame_ops.ts";
import { Wrapper } from "./wrapper.ts";

/** Options of {@link MaxAndSkip}. */
export interface MaxAndSkipOptions {
  /** Raw frames per agent step (4). */
  skip?: number;
  /** How many of the last raw frames the max runs over: 2 (baselines, default) or 3 (rl_a3c_pytorch). */
  maxPoolFrames?: number;
}

/** Bytes per chunk of the pooled max: chunks equal in every pooled frame are copied natively. */
const CHUNK = 2048;

/**
 * Frame skipping with max-pooling. Keeps the last `maxPoolFrames` raw frames in a ring (copies:
 * the inner env may reuse its buffer); a reset clears the ring and seeds it with the reset frame,
 * and a step stops early when the episode ends, so the ring can then hold frames of the previous
 * agent step (rl_a3c_pytorch's deque semantics). The returned observation is a buffer this wrapper
 * reuses on its next call.
 *
 * A consumer that reads only part of the frame and pools it itself (AtariRescale's fused path)
 * may call {@link MaxAndSkip.deferPooling}: the ring then keeps only those bytes, and the returned
 * buffer is filled only on demand by {@link MaxAndSkip.pooledFrame}.
 */
export class MaxAndSkip extends Wrapper<Uint8Array> {
  readonly skip: number;
  readonly maxPoolFrames: number;
  readonly #size: number;
  readonly #frames: Uint8Array[];
  readonly #words: Int32Array[];
  readonly #out: Uint8Array;
  readonly #outWords: Int32Array;
  #count = 0;
  #next = 0;
  #keepStart = 0;
  #keepEnd: number;
  #deferred = false;
  // the kept bytes of the last raw frame buffer seen (see #push)
  #keptOf: Observation | null = null;
  #kept: Observation = new Uint8Array(0);

  constructor(env: Env, options: MaxAndSkipOptions = {}) {
    super(env);
    this.skip = options.skip ?? 4;
    this.maxPoolFrames = options.maxPoolFrames ?? 2;
    if (!(Number.isInteger(this.skip) && this.skip >= 1)) {
      throw new EnvError(`${env.id}: MaxAndSkip skip is ${this.skip}; expected an integer ≥ 1`);
    }
    if (!(Number.isInteger(this.maxPoolFrames) && this.maxPoolFrames >= 1)) {
      throw new EnvError(
        `${env.id}: MaxAndSkip maxPoolFrames is ${this.maxPoolFrames}; expected 2 or 3 (any integer ≥ 1)`,
      );
    }
    const space = env.observationSpace;
    if (space.kind !== "box" || space.dtype !== "uint8") {
      throw new EnvError(
        `${env.id}: MaxAndSkip needs uint8 frames (a uint8 box observation space)`,
      );
    }
    const size = space.low.length;
    this.#size = this.#keepEnd = size;
    const padded = Math.ceil(size / 4) * 4; // word-wise max needs whole words
    this.#frames = Array.from({ length: this.maxPoolFrames }, () => new Uint8Array(padded));
    this.#words = this.#frames.map((f) => new Int32Array(f.buffer));
    const out = new Uint8Array(padded);
    this.#out = out.subarray(0, size);
    this.#outWords = new Int32Array(out.buffer);
  }

  /**
   * From now on keeps only bytes `[start, end)` of each raw frame (the union with earlier calls)
   * and no longer pools on every step: the returned observation is still
   * {@link MaxAndSkip.observationBuffer}, but it holds the pooled frame only after a call of
   * {@link MaxAndSkip.pooledFrame}, and only over the kept bytes. For a consumer that reads the
   * ring itself ({@link MaxAndSkip.ringFrame}) right after each step or reset.
   */
  deferPooling(start: number, end: number): void {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end)) {
      throw new RangeError(`MaxAndSkip.deferPooling: bad byte range [${start}, ${end})`);
    }
    end = Math.min(end, this.#size);
    if (this.#deferred) {
      start = Math.min(start, this.#keepStart);
      end = Math.max(end, this.#keepEnd);
    }
    this.#keepStart = start;
    this.#keptOf = null;
    this.#keepEnd = end;
    this.#deferred = true;
  }

  /** Whether {@link MaxAndSkip.deferPooling} was called. */
  get deferred(): boolean {
    return this.#deferred;
  }

  /** The buffer every observation of this wrapper is returned in. */
  get observationBuffer(): Uint8Array {
    return this.#out;
  }

  /** Raw frames in the ring (1 after a reset, up to `maxPoolFrames`). */
  get poolCount(): number {
    return this.#count;
  }

  /**
   * The ring's frame `age` raw frames before the newest (0: newest; `age < poolCount`), a
   * buffer padded to whole 32-bit words that lives as long as this wrapper. Read-only.
   */
  ringFrame(age: number): Uint8Array {
    const k = this.maxPoolFrames;
    return this.#frames[(this.#next + 2 * k - 1 - age) % k];
  }

  /** Pools the ring into the observation buffer now (over the kept bytes) and returns it. */
  pooledFrame(): Uint8Array {
    this.#maxFrame();
    return this.#out;
  }

  #push(frame: Observation): void {
    const start = this.#keepStart, end = this.#keepEnd;
    const slot = this.#frames[this.#next];
    if (start === 0 && end === frame.length) slot.set(frame);
    else {
      // envs hand back the same buffer every frame: keep its view instead of allocating one
      if (frame !== this.#keptOf) {
        this.#keptOf = frame;
        this.#kept = frame.subarray(start, end);
      }
      slot.set(this.#kept, start);
    }
    this.#next = (this.#next + 1) % this.maxPoolFrames;
    this.#count = Math.min(this.#count + 1, this.maxPoolFrames);
  }

  /**
   * Pixel-wise max over the frames in the ring, chunk by chunk: a chunk that is the same in all
   * of them (most of an Atari screen) is copied natively instead of compared word by word.
   */
  #maxFrame(): void {
    const count = this.#count;
    const newest = this.ringFrame(0), out = this.#out;
    const start = this.#keepStart & ~3, end = (this.#keepEnd + 3) & ~3;
    if (count === 1) {
      out.set(newest.subarray(start, Math.min(end, out.length)), start);
      return;
    }
    const k = this.maxPoolFrames, w = this.#words, ow = this.#outWords;
    const slot = (age: number) => (this.#next + 2 * k - 1 - age) % k;
    const a = w[slot(0)], b = w[slot(1)], c = count >= 3 ? w[slot(2)] : b;
    const a8 = newest, b8 = this.ringFrame(1), c8 = count >= 3 ? this.ringFrame(2) : b8;
    const whole = new Uint8Array(ow.buffer);
    for (let s = start; s < end; s += CHUNK) {
      const e = Math.min(s + CHUNK, end);
      const chunk = a8.subarray(s, e);
      if (bytesEqual(chunk, b8.subarray(s, e)) && bytesEqual(chunk, c8.subarray(s, e))) {
        whole.set(chunk, s);
      } else {
        max3Words(a, b, c, s >> 2, ow, s >> 2, (e - s) >> 2);
      }
    }
    for (let age = 3; age < count; age++) {
      max2Words(ow, w[slot(age)], start >> 2, ow, start >> 2, (end - start) >> 2);
    }
  }

  override reset(options?: ResetOptions): ResetResult<Uint8Array> {
    this.#count = 0;
    this.#next = 0;
    const result = this.env.reset(options);
    this.#push(result.observation);
    if (!this.#deferred) this.#maxFrame();
    return { observation: this.#out, info: result.info };
  }

  override step(action: Action): StepResult<Uint8Array> {
    let reward = 0;
    let last: StepResult | undefined;
    for (let i = 0; i < this.skip; i++) {
      last = this.env.step(action);
      this.#push(last.observation);
      reward += last.reward;
      if (last.terminated || last.truncated) break;
    }
    if (!this.#deferred) this.#maxFrame();
    const { terminated, truncated, info } = last!;
    return { observation: this.#out, reward, terminated, truncated, info };
  }
}
