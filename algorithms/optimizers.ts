/**
 * Optimizers over flat parameter vectors whose statistics can live in shared memory.
 *
 * Parameters and gradients are single `Float32Array`s; the optimizer's statistics (Adam's m, v, v̂,
 * RMSprop's running averages) are `Float32Array`s of the same length, and one step counter per
 * parameter tensor ("segment", `{offset, size}`) lives in an `Int32Array`, as PyTorch keeps one
 * `step` per parameter. In shared mode (the default, rl_a3c_pytorch's `--shared-optimizer`) all of
 * them sit on `SharedArrayBuffer`s: every worker isolate attaches to the same buffers through
 * {@link Optimizer.describe} → `postMessage` → {@link attachOptimizer} and updates the same
 * statistics and the same shared parameters without locks (Hogwild). Only the step counters use
 * `Atomics`, so that concurrent updates never lose a count. In private mode (`shared: false`) each
 * worker keeps its own statistics over the shared parameters, like a per-worker torch optimizer.
 *
 * Each update is one fused loop per segment over the flat vectors.
 *
 * @example
 * ```ts
 * const layout = [{ offset: 0, size: 6 }, { offset: 6, size: 2 }]; // e.g. a weight and a bias
 * const adam = new Adam(layout, { lr: 1e-4, amsgrad: true });
 * worker.postMessage({ optimizer: adam.describe() }); // the worker calls attachOptimizer(...)
 * adam.step(params, grads);
 * ```
 *
 * @module
 */

/** A contiguous slice of the flat vector holding one parameter tensor. */
export interface Segment {
  /** Index of the first element in the flat vector. */
  offset: number;
  /** Number of elements. */
  size: number;
}

/** Which optimizer. */
export type OptimizerKind = "adam" | "rmsprop";

/**
 * Which Adam formula:
 * - `"standard"`: PyTorch's Adam and rl_a3c_pytorch's SharedAdam (`shared_optim.py`):
 *   denom = √v / √(1 − β2^t) + eps, p ← p − lr / (1 − β1^t) · m / denom; with AMSGrad,
 *   v̂ = max(v̂, v) replaces v in the denominator.
 * - `"a3c_continuous"`: a3c_continuous HEAD's SharedAdam (§2.7): step size
 *   lr·√(1 − β2^t) / (1 − β1^t), denom = √v + eps; its "AMSGrad" keeps v̂ = max(v̂, v) with v̂
 *   starting at eps² and uses denom = √((v + v̂) / 2), without eps. Its single global step counter
 *   equals our per-segment counters, since every update steps every segment once.
 */
export type AdamVariant = "standard" | "a3c_continuous";

/** Adam / AMSGrad hyper-parameters. */
export interface AdamHyperParameters {
  /** Learning rate: 1e-4 (rl_a3c_pytorch and a3c_continuous `--lr`). */
  lr: number;
  /** First-moment decay β1: 0.9. */
  beta1: number;
  /** Second-moment decay β2: 0.999. */
  beta2: number;
  /**
   * Denominator ε: 1e-3, rl_a3c_pytorch's SharedAdam default (`shared_optim.py`), much larger than
   * PyTorch's 1e-8, which damps steps of parameters whose gradients are tiny. a3c_continuous passes
   * 1e-8 (`--opt-eps`, §2.2).
   */
  eps: number;
  /** AMSGrad: keep v̂ = max(v̂, v) and divide by it (see {@link AdamVariant}). Default false. */
  amsgrad: boolean;
  /** Which formula; default `"standard"`. */
  variant: AdamVariant;
}

/** Defaults of {@link AdamHyperParameters}. */
export const ADAM_DEFAULTS: Readonly<AdamHyperParameters> = Object.freeze({
  lr: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-3,
  amsgrad: false,
  variant: "standard",
});

/** RMSprop hyper-parameters (rl_a3c_pytorch's SharedRMSprop, `shared_optim.py`). */
export interface RMSpropHyperParameters {
  /** Learning rate: 1e-4 (the `--lr` flag; SharedRMSprop's own default 7e-4 is never used). */
  lr: number;
  /** Decay α of the running average of g²: 0.99. */
  alpha: number;
  /**
   * Denominator ε: 0.1, SharedRMSprop's default (PyTorch's is 1e-8): steps stay at most lr·|g|/0.1
   * while the running average of g² is still small.
   */
  eps: number;
  /** Momentum μ: 0 (off). With μ > 0, buf ← μ·buf + g / denom and p ← p − lr·buf. */
  momentum: number;
  /** Centered: divide by √(E[g²] − E[g]²) + eps instead of √E[g²] + eps. Default false. */
  centered: boolean;
}

/** Defaults of {@link RMSpropHyperParameters}. */
export const RMSPROP_DEFAULTS: Readonly<RMSpropHyperParameters> = Object.freeze({
  lr: 1e-4,
  alpha: 0.99,
  eps: 0.1,
  momentum: 0,
  centered: false,
});

/** Construction options shared by every optimizer. */
export interface OptimizerOptions {
  /**
   * Keep the statistics on `SharedArrayBuffer`s that other isolates can attach to (true, the
   * default) or in private memory (false).
   */
  shared?: boolean;
  /** Length of the flat parameter vector; default: the end of the last segment. */
  size?: number;
  /**
   * Existing buffers to use instead of allocating, by state name plus `"step"` (what
   * {@link Optimizer.describe} lists); implies shared mode.
   */
  buffers?: Record<string, SharedArrayBuffer>;
}

/** Everything an isolate needs to rebuild an optimizer on the same shared buffers. */
export type OptimizerDescription =
  & (
    | { kind: "adam"; hyperParameters: AdamHyperParameters }
    | { kind: "rmsprop"; hyperParameters: RMSpropHyperParameters }
  )
  & {
    /** Parameter tensors as `{offset, size}`. */
    segments: Segment[];
    /** Length of the flat vector. */
    size: number;
    /** Whether `buffers` are shared; a private optimizer's description carries none. */
    shared: boolean;
    /** Float32 state buffers by name, and `step` (Int32, one counter per segment). */
    buffers?: Record<string, SharedArrayBuffer>;
  };

/** A snapshot of an optimizer's state, for checkpoints. */
export interface OptimizerState {
  /** Which optimizer wrote it. */
  kind: OptimizerKind;
  /** Hyper-parameters at the time of the snapshot. */
  hyperParameters: AdamHyperParameters | RMSpropHyperParameters;
  /** Parameter tensors as `{offset, size}`. */
  segments: Segment[];
  /** Update count of each segment. */
  steps: number[];
  /** Statistics by name (`m`, `v`, `v_hat`; `square_avg`, `grad_avg`, `momentum`), copies. */
  tensors: Record<string, Float32Array>;
}

/** An optimizer's hyper-parameters but the learning rate (each kind's own, for a union). */
export type ConfigOf<H> = H extends unknown ? Readonly<Omit<H, "lr">> : never;

/** The parameter tensors as segments, or the length of one flat segment. */
export type SegmentLayout = number | readonly Segment[];

/**
 * Base of the flat optimizers: segments, buffers, step counters, hyper-parameters, state and
 * description.
 */
export abstract class Optimizer<
  H extends AdamHyperParameters | RMSpropHyperParameters =
    | AdamHyperParameters
    | RMSpropHyperParameters,
> {
  /** Which optimizer. */
  abstract readonly kind: OptimizerKind;
  /** Parameter tensors as `{offset, size}`. */
  readonly segments: readonly Segment[];
  /** Length of the flat parameter vector. */
  readonly size: number;
  /** Whether the statistics live on `SharedArrayBuffer`s. */
  readonly shared: boolean;
  /** Learning rate of this optimizer object (may be changed between steps, e.g. by a schedule). */
  lr: number;
  /** Update count per segment (shared in shared mode). */
  protected readonly stepCounts: Int32Array;
  /** Statistics by name. */
  protected readonly tensors: Record<string, Float32Array>;
  /** The hyper-parameters beside the learning rate. */
  readonly config: ConfigOf<H>;

  /**
   * @param name the class name, for messages.
   * @param hyperParameters checked by the subclass but for the learning rate.
   * @param stateNames the statistics this optimizer keeps, each a Float32 vector of `size`.
   */
  protected constructor(
    name: string,
    layout: SegmentLayout,
    hyperParameters: H,
    stateNames: readonly string[],
    options: OptimizerOptions,
  ) {
    this.segments = toSegments(name, layout);
    const end = this.segments.reduce((e, s) => Math.max(e, s.offset + s.size), 0);
    this.size = options.size ?? end;
    if (!Number.isInteger(this.size) || this.size < end) {
      throw new RangeError(
        `${name}: size is ${options.size}, expected an integer ≥ ${end} (the end of the last segment)`,
      );
    }
    const { lr, ...config } = hyperParameters;
    if (!(lr >= 0 && Number.isFinite(lr))) {
      throw new RangeError(`${name}: lr is ${lr}, expected a finite number ≥ 0`);
    }
    this.lr = lr;
    this.config = Object.freeze(config) as ConfigOf<H>;
    const given = options.buffers;
    this.shared = given !== undefined || (options.shared ?? true);
    const allocate = (bytes: number) =>
      this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    const nSeg = this.segments.length;
    if (given) {
      for (const key of [...stateNames, "step"]) {
        const buffer = given[key];
        const bytes = key === "step" ? 4 * nSeg : 4 * this.size;
        if (!(buffer instanceof SharedArrayBuffer)) {
          throw new TypeError(`${name}: buffers.${key} is missing, expected a SharedArrayBuffer`);
        }
        if (buffer.byteLength !== bytes) {
          throw new RangeError(
            `${name}: buffers.${key} has ${buffer.byteLength} bytes, expected ${bytes}`,
          );
        }
      }
    }
    this.stepCounts = new Int32Array(given ? given.step : allocate(4 * nSeg));
    this.tensors = {};
    for (const key of stateNames) {
      this.tensors[key] = new Float32Array(given ? given[key] : allocate(4 * this.size));
    }
  }

  /** Hyper-parameters, with the current `lr`. */
  get hyperParameters(): H {
    return { lr: this.lr, ...this.config } as unknown as H;
  }

  /**
   * Applies one update to `params` from `grads` (both of length `size`), incrementing every
   * segment's step counter.
   */
  step(params: Float32Array, grads: Float32Array): void {
    if (params.length !== this.size || grads.length !== this.size) {
      throw new RangeError(
        `${this.constructor.name}.step: params has ${params.length} and grads ${grads.length} ` +
          `values, expected ${this.size} each`,
      );
    }
    for (let s = 0; s < this.segments.length; s++) {
      const { offset, size } = this.segments[s];
      const t = Atomics.add(this.stepCounts, s, 1) + 1;
      this.updateSegment(params, grads, offset, offset + size, t);
    }
  }

  /** One update of elements [start, end) at step t (1 for the first update). */
  protected abstract updateSegment(
    params: Float32Array,
    grads: Float32Array,
    start: number,
    end: number,
    t: number,
  ): void;

  /** Update count of each segment. */
  steps(): number[] {
    return Array.from(
      { length: this.stepCounts.length },
      (_, s) => Atomics.load(this.stepCounts, s),
    );
  }

  /** A copy of the statistics and counters (under Hogwild, a snapshot taken while others write). */
  state(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    for (const [key, value] of Object.entries(this.tensors)) tensors[key] = value.slice();
    return {
      kind: this.kind,
      hyperParameters: this.hyperParameters,
      segments: this.segments.map(({ offset, size }) => ({ offset, size })),
      steps: this.steps(),
      tensors,
    };
  }

  /**
   * Copies a snapshot from {@link state} into this optimizer's buffers (so, in shared mode, every
   * attached isolate sees it). Everything is checked before anything is written. The hyper-parameters
   * of this object are kept: a run may resume with another learning rate.
   */
  loadState(state: OptimizerState): void {
    const name = `${this.constructor.name}.loadState`;
    if (state.kind !== this.kind) {
      throw new TypeError(`${name}: state is for ${state.kind}, expected ${this.kind}`);
    }
    if (state.segments.length !== this.segments.length) {
      throw new RangeError(
        `${name}: state has ${state.segments.length} segments, expected ${this.segments.length}`,
      );
    }
    state.segments.forEach((seg, i) => {
      const own = this.segments[i];
      if (seg.offset !== own.offset || seg.size !== own.size) {
        throw new RangeError(
          `${name}: segment ${i} is {offset: ${seg.offset}, size: ${seg.size}}, ` +
            `expected {offset: ${own.offset}, size: ${own.size}}`,
        );
      }
    });
    if (state.steps.length !== this.segments.length) {
      throw new RangeError(
        `${name}: state has ${state.steps.length} step counts, expected one per segment ` +
          `(${this.segments.length})`,
      );
    }
    state.steps.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
        throw new RangeError(`${name}: steps[${i}] is ${n}, expected a non-negative int32`);
      }
    });
    for (const key of Object.keys(this.tensors)) {
      const value = state.tensors[key];
      if (value === undefined) {
        throw new TypeError(
          `${name}: state has no tensor ${key} (it has ${
            Object.keys(state.tensors).join(", ") || "none"
          })`,
        );
      }
      if (value.length !== this.size) {
        throw new RangeError(
          `${name}: tensor ${key} has ${value.length} values, expected ${this.size}`,
        );
      }
    }
    for (const [key, value] of Object.entries(this.tensors)) value.set(state.tensors[key]);
    state.steps.forEach((n, i) => Atomics.store(this.stepCounts, i, n));
  }

  /**
   * A structured-cloneable description: post it to a worker isolate and call
   * {@link attachOptimizer} there. For a shared optimizer the result updates the same statistics;
   * for a private one it starts with fresh private statistics.
   */
  describe(): OptimizerDescription {
    const base = {
      segments: this.segments.map(({ offset, size }) => ({ offset, size })),
      size: this.size,
      shared: this.shared,
    };
    let buffers: Record<string, SharedArrayBuffer> | undefined;
    if (this.shared) {
      buffers = { step: this.stepCounts.buffer as SharedArrayBuffer };
      for (const [key, value] of Object.entries(this.tensors)) {
        buffers[key] = value.buffer as SharedArrayBuffer;
      }
    }
    const hp = this.hyperParameters;
    return this.kind === "adam"
      ? { kind: "adam", hyperParameters: hp as AdamHyperParameters, ...base, buffers }
      : { kind: "rmsprop", hyperParameters: hp as RMSpropHyperParameters, ...base, buffers };
  }
}

/**
 * Adam, or AMSGrad with `amsgrad: true`, over a flat vector (rl_a3c_pytorch's `shared_optim.py`; see
 * {@link AdamVariant} for a3c_continuous's formula). State: `m`, `v`, and `v_hat` with AMSGrad.
 *
 * @example
 * ```ts
 * const opt = new Adam(layout, { amsgrad: true });          // shared statistics
 * const own = new Adam(layout, {}, { shared: false });      // private statistics
 * ```
 */
export class Adam extends Optimizer<AdamHyperParameters> {
  /** Always `"adam"`. */
  readonly kind = "adam" as const;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly vHat: Float32Array | null;

  /** @param hyperParameters overrides of {@link ADAM_DEFAULTS}. */
  constructor(
    layout: SegmentLayout,
    hyperParameters: Partial<AdamHyperParameters> = {},
    options: OptimizerOptions = {},
  ) {
    const hp = checkAdam({ ...ADAM_DEFAULTS, ...hyperParameters });
    super("Adam", layout, hp, hp.amsgrad ? ["m", "v", "v_hat"] : ["m", "v"], options);
    this.m = this.tensors.m;
    this.v = this.tensors.v;
    this.vHat = this.tensors.v_hat ?? null;
    // a3c_continuous starts v̂ at eps² so that its √((v + v̂)/2) is never 0
    if (this.vHat && hp.variant === "a3c_continuous" && !options.buffers) {
      this.vHat.fill(hp.eps * hp.eps);
    }
  }

  protected updateSegment(
    params: Float32Array,
    grads: Float32Array,
    start: number,
    end: number,
    t: number,
  ): void {
    const { beta1, beta2, eps, variant } = this.config;
    const bias1 = 1 - beta1 ** t, bias2 = 1 - beta2 ** t;
    const m = this.m, v = this.v, vHat = this.vHat;
    if (variant === "standard") {
      // p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
      const stepSize = this.lr / bias1, invSqrtBias2 = 1 / Math.sqrt(bias2);
      if (vHat) {
        amsgradLoop(params, grads, m, v, vHat, start, end, beta1, beta2, stepSize, {
          k: invSqrtBias2,
          eps,
        });
      } else adamLoop(params, grads, m, v, start, end, beta1, beta2, stepSize, invSqrtBias2, eps);
    } else {
      // p ← p − lr·√(1 − β2^t)/(1 − β1^t) · m / (√v + eps), or / √((v + v̂)/2) with its AMSGrad
      const stepSize = this.lr * Math.sqrt(bias2) / bias1;
      if (vHat) amsgradLoop(params, grads, m, v, vHat, start, end, beta1, beta2, stepSize, null);
      else adamLoop(params, grads, m, v, start, end, beta1, beta2, stepSize, 1, eps);
    }
  }
}

// The fused loops, one per formula, kept as plain functions of typed arrays and numbers so that
// the engine compiles each to a tight loop. Statistics are read and written in float32, the
// arithmetic in between is float64.

/** m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; p ← p − stepSize · m / (√v · k + eps). */
function adamLoop(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  start: number,
  end: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  k: number,
  eps: number,
): void {
  const c1 = 1 - beta1, c2 = 1 - beta2;
  for (let i = start; i < end; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + c1 * g;
    const vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] -= stepSize * mi / (Math.sqrt(vi) * k + eps);
  }
}

/**
 * AMSGrad: as {@link adamLoop} with v̂ ← max(v̂, v), and p ← p − stepSize · m / (√v̂ · k + eps)
 * (standard, `scale` given) or p ← p − stepSize · m / √((v + v̂)/2) (a3c_continuous's, `scale`
 * null). Adam without v̂ keeps a loop of its own: it is every Atari run's step, and a branch per
 * element made it about 15% slower.
 */
function amsgradLoop(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vHat: Float32Array,
  start: number,
  end: number,
  beta1: number,
  beta2: number,
  stepSize: number,
  scale: { k: number; eps: number } | null,
): void {
  const c1 = 1 - beta1, c2 = 1 - beta2;
  const k = scale?.k ?? 0, eps = scale?.eps ?? 0;
  for (let i = start; i < end; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + c1 * g;
    const vi = beta2 * v[i] + c2 * g * g;
    const hi = vi > vHat[i] ? vi : vHat[i];
    m[i] = mi;
    v[i] = vi;
    vHat[i] = hi;
    params[i] -= stepSize * mi / (scale ? Math.sqrt(hi) * k + eps : Math.sqrt(0.5 * (vi + hi)));
  }
}

/**
 * RMSprop over a flat vector, as rl_a3c_pytorch's SharedRMSprop (`shared_optim.py`):
 * s ← α s + (1 − α) g²; p ← p − lr · g / (√s + eps), with optional centering and momentum.
 * State: `square_avg`, plus `grad_avg` when centered and `momentum` when momentum > 0.
 */
export class RMSprop extends Optimizer<RMSpropHyperParameters> {
  /** Always `"rmsprop"`. */
  readonly kind = "rmsprop" as const;

  /** @param hyperParameters overrides of {@link RMSPROP_DEFAULTS}. */
  constructor(
    layout: SegmentLayout,
    hyperParameters: Partial<RMSpropHyperParameters> = {},
    options: OptimizerOptions = {},
  ) {
    const hp = checkRMSprop({ ...RMSPROP_DEFAULTS, ...hyperParameters });
    const names = ["square_avg"];
    if (hp.centered) names.push("grad_avg");
    if (hp.momentum > 0) names.push("momentum");
    super("RMSprop", layout, hp, names, options);
  }

  protected updateSegment(
    params: Float32Array,
    grads: Float32Array,
    start: number,
    end: number,
  ): void {
    const { alpha, eps, momentum, centered } = this.config;
    const { square_avg, grad_avg, momentum: buffer } = this.tensors;
    rmspropLoop(
      params,
      grads,
      square_avg,
      centered ? grad_avg : null,
      momentum > 0 ? buffer : null,
      start,
      end,
      this.lr,
      alpha,
      eps,
      momentum,
    );
  }
}

/**
 * s ← α s + (1−α) g²; p ← p − lr · g / denom with denom = √s + eps, or with centering
 * (a ← α a + (1−α) g; denom = √(s − a²) + eps) and/or momentum (b ← μ b + g / denom; p ← p − lr · b).
 */
function rmspropLoop(
  params: Float32Array,
  grads: Float32Array,
  sq: Float32Array,
  avg: Float32Array | null,
  buf: Float32Array | null,
  start: number,
  end: number,
  lr: number,
  alpha: number,
  eps: number,
  momentum: number,
): void {
  const c = 1 - alpha;
  for (let i = start; i < end; i++) {
    const g = grads[i];
    const si = alpha * sq[i] + c * g * g;
    sq[i] = si;
    let variance = si;
    if (avg) {
      const ai = alpha * avg[i] + c * g;
      avg[i] = ai;
      variance = si - ai * ai;
    }
    const denom = Math.sqrt(variance) + eps;
    if (buf) {
      const bi = momentum * buf[i] + g / denom;
      buf[i] = bi;
      params[i] -= lr * bi;
    } else {
      params[i] -= lr * g / denom;
    }
  }
}

/**
 * Rebuilds an optimizer from {@link Optimizer.describe}, typically in a worker isolate: on the same
 * shared buffers when the description is shared, with fresh private statistics otherwise.
 *
 * @example
 * ```ts
 * self.onmessage = (e) => {
 *   const optimizer = attachOptimizer(e.data.optimizer);
 *   optimizer.step(sharedParams, localGrads);
 * };
 * ```
 */
export function attachOptimizer(description: OptimizerDescription): Adam | RMSprop {
  const { segments, size, shared, buffers } = description;
  if (shared && !buffers) {
    throw new TypeError("attachOptimizer: description is shared but has no buffers");
  }
  const options: OptimizerOptions = shared ? { size, buffers } : { size, shared: false };
  switch (description.kind) {
    case "adam":
      return new Adam(segments, description.hyperParameters, options);
    case "rmsprop":
      return new RMSprop(segments, description.hyperParameters, options);
    default:
      throw new TypeError(
        `attachOptimizer: kind is ${JSON.stringify((description as { kind: unknown }).kind)}, ` +
          `expected "adam" or "rmsprop"`,
      );
  }
}

function toSegments(name: string, layout: SegmentLayout): Segment[] {
  if (typeof layout === "number") {
    if (!Number.isInteger(layout) || layout < 0) {
      throw new RangeError(`${name}: size is ${layout}, expected a non-negative integer`);
    }
    return [{ offset: 0, size: layout }];
  }
  const segments = layout.map(({ offset, size }) => ({ offset, size }));
  segments.forEach(({ offset, size }, i) => {
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(size) || size < 0) {
      throw new RangeError(
        `${name}: segment ${i} is {offset: ${offset}, size: ${size}}, expected non-negative integers`,
      );
    }
  });
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], cur = sorted[i];
    if (cur.offset < prev.offset + prev.size) {
      throw new RangeError(
        `${name}: segments {offset: ${prev.offset}, size: ${prev.size}} and ` +
          `{offset: ${cur.offset}, size: ${cur.size}} overlap, expected disjoint parameter tensors`,
      );
    }
  }
  return segments;
}

function checkAdam(hp: AdamHyperParameters): AdamHyperParameters {
  const bad = (what: string, value: unknown, expected: string) =>
    new RangeError(`Adam: ${what} is ${value}, expected ${expected}`);
  if (!(hp.beta1 >= 0 && hp.beta1 < 1)) throw bad("beta1", hp.beta1, "a number in [0, 1)");
  if (!(hp.beta2 >= 0 && hp.beta2 < 1)) throw bad("beta2", hp.beta2, "a number in [0, 1)");
  if (!(hp.eps > 0 && Number.isFinite(hp.eps))) throw bad("eps", hp.eps, "a finite number > 0");
  if (hp.variant !== "standard" && hp.variant !== "a3c_continuous") {
    throw bad("variant", JSON.stringify(hp.variant), `"standard" or "a3c_continuous"`);
  }
  return hp;
}

function checkRMSprop(hp: RMSpropHyperParameters): RMSpropHyperParameters {
  const bad = (what: string, value: unknown, expected: string) =>
    new RangeError(`RMSprop: ${what} is ${value}, expected ${expected}`);
  if (!(hp.alpha >= 0 && hp.alpha < 1)) throw bad("alpha", hp.alpha, "a number in [0, 1)");
  if (!(hp.eps > 0 && Number.isFinite(hp.eps))) throw bad("eps", hp.eps, "a finite number > 0");
  if (!(hp.momentum >= 0 && hp.momentum < 1)) {
    throw bad("momentum", hp.momentum, "a number in [0, 1)");
  }
  return hp;
}
