/**
 * AtariRescale: rl_a3c_pytorch's frame processing — crop, area-average resize on RGB, luminance
 * grey, float32 `1 × S × S` with values 0–255 — with every weight precomputed and no allocation per
 * frame.
 *
 * @module
 */
import { box, type BoxSpace, type Env, EnvError, type Observation } from "../core.ts";
import { ClipReward } from "./clip_reward.ts";
import { EpisodicLife } from "./episodic_life.ts";
import { FireReset } from "./fire_reset.ts";
import { bytesEqual, max3Words } from "./frame_ops.ts";
import { MaxAndSkip } from "./max_and_skip.ts";
import { StickyActions } from "./sticky_actions.ts";
import { TimeLimit } from "./time_limit.ts";
import { ObservationWrapper, Wrapper } from "./wrapper.ts";

/** Luminance weights of rl_a3c_pytorch's grey conversion (R, G, B). */
export const GREY_WEIGHTS = [0.2989, 0.587, 0.114] as const;

/**
 * The source taps of an area-average (OpenCV INTER_AREA, shrinking) resize along one axis:
 * output i averages `index[start[i] … start[i+1])` with `weight[…]` (weights of one output sum to 1).
 */
export interface AreaTaps {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** Area-average taps from `src` samples down to `dst` (needs dst ≤ src), as OpenCV computes them. */
export function areaTaps(src: number, dst: number): AreaTaps {
  if (!(dst >= 1 && dst <= src)) {
    throw new RangeError(
      `areaTaps: cannot area-resize ${src} samples to ${dst}; expected 1 ≤ dst ≤ src`,
    );
  }
  const scale = src / dst;
  const start = new Int32Array(dst + 1);
  const index: number[] = [], weight: number[] = [];
  for (let d = 0; d < dst; d++) {
    start[d] = index.length;
    const f1 = d * scale, f2 = f1 + scale;
    const cell = Math.min(scale, src - f1);
    const s2 = Math.min(Math.floor(f2), src - 1);
    const s1 = Math.min(Math.ceil(f1), s2);
    if (s1 - f1 > 1e-3) {
      index.push(s1 - 1);
      weight.push((s1 - f1) / cell);
    }
    for (let s = s1; s < s2; s++) {
      index.push(s);
      weight.push(1 / cell);
    }
    if (f2 - s2 > 1e-3) {
      index.push(s2);
      weight.push(Math.min(Math.min(f2 - s2, 1), cell) / cell);
    }
  }
  start[dst] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** Rounds to the nearest integer, ties to even (OpenCV's `cvRound`). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

/**
 * One RGB area resize of a `srcH × srcW × 3` byte image (read from `src` at `offset` with a row
 * pitch of `pitch` bytes) to `dstH × dstW × 3` bytes, rounding like OpenCV: an exact 2×2 shrink
 * rounds halves up (its integer fast path), any other shrink rounds the float average ties-to-even.
 */
export class AreaResizer {
  readonly #cols: AreaTaps;
  readonly #rows: AreaTaps;
  readonly #halve: boolean;
  readonly #tmp: Float64Array;

  constructor(
    readonly srcH: number,
    readonly srcW: number,
    readonly dstH: number,
    readonly dstW: number,
  ) {
    this.#halve = srcH === 2 * dstH && srcW === 2 * dstW;
    this.#cols = areaTaps(srcW, dstW);
    this.#rows = areaTaps(srcH, dstH);
    this.#tmp = new Float64Array(srcH * dstW * 3);
  }

  /** Resizes `src` (from `offset`, `pitch` bytes per row) into `dst` (`dstH × dstW × 3`). */
  resize(src: Uint8Array, offset: number, pitch: number, dst: Uint8Array): void {
    const dstH = this.dstH;
    if (this.#halve) {
      for (let y = 0; y < dstH; y++) this.#halveRow(src, offset, pitch, y, dst);
      return;
    }
    const rowLen = this.dstW * 3;
    for (let y = 0; y < this.srcH; y++) this.#horizontal(src, offset + y * pitch, y * rowLen);
    for (let y = 0; y < dstH; y++) this.#vertical(y, dst);
  }

  /**
   * {@link AreaResizer.resize} of a packed image (`srcH × srcW × 3`, no offset) that recomputes
   * only the output rows reading a source row flagged in `dirtyIn`, and flags exactly those in
   * `dirtyOut` (cleared first). Every other output row must still hold what the previous call on
   * the same buffers wrote (the horizontal pass of clean source rows is kept from it too), so the
   * first call must flag every row. The arithmetic is {@link AreaResizer.resize}'s, in its order.
   */
  resizeDirty(src: Uint8Array, dst: Uint8Array, dirtyIn: Uint8Array, dirtyOut: Uint8Array): void {
    const dstH = this.dstH, pitch = this.srcW * 3, rowLen = this.dstW * 3;
    const rs = this.#rows.start, ri = this.#rows.index;
    dirtyOut.fill(0);
    for (let y = 0; y < dstH; y++) {
      for (let k = rs[y]; k < rs[y + 1]; k++) {
        if (dirtyIn[ri[k]] !== 0) {
          dirtyOut[y] = 1;
          break;
        }
      }
    }
    if (this.#halve) {
      for (let y = 0; y < dstH; y++) if (dirtyOut[y] !== 0) this.#halveRow(src, 0, pitch, y, dst);
      return;
    }
    for (let y = 0; y < this.srcH; y++) {
      if (dirtyIn[y] !== 0) this.#horizontal(src, y * pitch, y * rowLen);
    }
    for (let y = 0; y < dstH; y++) if (dirtyOut[y] !== 0) this.#vertical(y, dst);
  }

  /** Output row `y` of the exact 2×2 shrink, OpenCV's integer path (halves round up). */
  #halveRow(src: Uint8Array, offset: number, pitch: number, y: number, dst: Uint8Array): void {
    const dstW = this.dstW;
    let p = offset + 2 * y * pitch, q = p + pitch, o = y * dstW * 3;
    for (let x = 0; x < dstW; x++, p += 6, q += 6, o += 3) {
      dst[o] = (src[p] + src[p + 3] + src[q] + src[q + 3] + 2) >> 2;
      dst[o + 1] = (src[p + 1] + src[p + 4] + src[q + 1] + src[q + 4] + 2) >> 2;
      dst[o + 2] = (src[p + 2] + src[p + 5] + src[q + 2] + src[q + 5] + 2) >> 2;
    }
  }

  /**
   * Horizontal pass of the source row starting at byte `row` into the scratch row at `o`. A tap
   * list covers consecutive source pixels; the sum starts from the first product (`0 + x` is `x`).
   */
  #horizontal(src: Uint8Array, row: number, o: number): void {
    const tmp = this.#tmp, dstW = this.dstW;
    const cs = this.#cols.start, ci = this.#cols.index, cw = this.#cols.weight;
    for (let x = 0; x < dstW; x++, o += 3) {
      const k0 = cs[x], k1 = cs[x + 1];
      let p = row + ci[k0] * 3, w = cw[k0];
      let r = w * src[p], g = w * src[p + 1], b = w * src[p + 2];
      for (let k = k0 + 1; k < k1; k++) {
        p += 3;
        w = cw[k];
        r += w * src[p];
        g += w * src[p + 1];
        b += w * src[p + 2];
      }
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }

  /**
   * Vertical pass for output row `y` from the scratch rows, rounding ties to even (cvRound).
   * Two and three taps (every tap list of a shrink by less than 2) get unrolled loops.
   */
  #vertical(y: number, dst: Uint8Array): void {
    const tmp = this.#tmp, rowLen = this.dstW * 3, o = y * rowLen;
    const k0 = this.#rows.start[y], n = this.#rows.start[y + 1] - k0;
    const ri = this.#rows.index, rw = this.#rows.weight;
    const a = ri[k0] * rowLen, wa = rw[k0];
    if (n === 2) {
      const b = ri[k0 + 1] * rowLen, wb = rw[k0 + 1];
      for (let i = 0; i < rowLen; i++) {
        const v = wa * tmp[a + i] + wb * tmp[b + i];
        const r = Math.round(v);
        dst[o + i] = r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
      }
    } else if (n === 3) {
      const b = ri[k0 + 1] * rowLen, wb = rw[k0 + 1], c = ri[k0 + 2] * rowLen, wc = rw[k0 + 2];
      for (let i = 0; i < rowLen; i++) {
        const v = wa * tmp[a + i] + wb * tmp[b + i] + wc * tmp[c + i];
        const r = Math.round(v);
        dst[o + i] = r - v === 0.5 && (r & 1) === 1 ? r - 1 : r;
      }
    } else {
      for (let i = 0; i < rowLen; i++) {
        let v = 0;
        for (let k = k0; k < k0 + n; k++) v += rw[k] * tmp[ri[k] * rowLen + i];
        dst[o + i] = roundHalfEven(v);
      }
    }
  }
}

/** Options of {@link AtariRescale}. */
export interface AtariRescaleOptions {
  /** First kept row (34 for Pong and Breakout). */
  crop1?: number;
  /** The crop ends at row crop2 + 160, exclusive (34 for Pong and Breakout). */
  crop2?: number;
  /** Output side S (80 by default; 42 goes through 80 first; 84 also works). */
  size?: number;
  /** Side of an intermediate area resize before the final one; 80 when size is 42, else none. */
  intermediate?: number | null;
}

/**
 * Crops rows [crop1, crop2 + 160) and columns [0, 160) of a `H × W × 3` uint8 frame, area-resizes
 * the RGB crop to S × S (optionally through an intermediate size), rounds each channel to a byte as
 * OpenCV does for uint8 images, and converts to grey 0.2989R + 0.587G + 0.114B as float32
 * `1 × S × S` (0–255, not divided by 255). The observation is a buffer reused on the next call.
 *
 * Fused path: when the frames come from a {@link MaxAndSkip} through wrappers that pass
 * observations through untouched (EpisodicLife, FireReset, TimeLimit, ClipReward, StickyActions),
 * the first resize halves the crop exactly (160 × 160 → 80 × 80) and the crop spans whole rows,
 * this wrapper pools the MaxAndSkip ring itself (see {@link MaxAndSkip.deferPooling}): it keeps the
 * pooled crop of the previous step, compares the ring with it natively four output rows at a time,
 * and recomputes max-pool, resize and grey only for the rows that changed (on Atari screens, the
 * rows a sprite moved in). The result is bit-identical to pooling, cropping and resizing the whole
 * frame. Any other source takes the plain path.
 */
export class AtariRescale extends ObservationWrapper {
  readonly size: number;
  readonly crop1: number;
  readonly crop2: number;
  readonly #space: BoxSpace;
  readonly #pitch: number;
  readonly #stages: { resizer: AreaResizer; out: Uint8Array }[] = [];
  readonly #out: Float32Array;
  readonly #fused: FusedPool | null = null;
  // sum of the current observation, NaN when it is not known
  #sum = NaN;

  constructor(env: Env, options: AtariRescaleOptions = {}) {
    super(env);
    this.crop1 = options.crop1 ?? 34;
    this.crop2 = options.crop2 ?? 34;
    this.size = options.size ?? 80;
    const space = env.observationSpace;
    if (space.kind !== "box" || space.shape.length !== 3 || space.shape[2] !== 3) {
      throw new EnvError(`${env.id}: AtariRescale needs H × W × 3 RGB frames`);
    }
    const [h, w] = space.shape;
    const cropH = this.crop2 + 160 - this.crop1, cropW = Math.min(160, w);
    if (!(Number.isInteger(this.crop1) && this.crop1 >= 0 && cropH > 0 && this.crop2 + 160 <= h)) {
      throw new EnvError(
        `${env.id}: AtariRescale crop rows [${this.crop1}, ${this.crop2 + 160}) do not fit ` +
          `a frame of ${h} rows; expected 0 ≤ crop1 < crop2 + 160 ≤ ${h}`,
      );
    }
    if (!(Number.isInteger(this.size) && this.size >= 1 && this.size <= Math.min(cropH, cropW))) {
      throw new EnvError(
        `${env.id}: AtariRescale size is ${this.size}; expected an integer in 1..${
          Math.min(cropH, cropW)
        }`,
      );
    }
    const mid = options.intermediate === undefined
      ? (this.size === 42 ? 80 : null)
      : options.intermediate;
    let inH = cropH, inW = cropW;
    for (const side of mid === null ? [this.size] : [mid, this.size]) {
      this.#stages.push({
        resizer: new AreaResizer(inH, inW, side, side),
        out: new Uint8Array(side * side * 3),
      });
      inH = inW = side;
    }
    this.#pitch = w * 3;
    this.#out = new Float32Array(this.size * this.size);
    this.#space = box([1, this.size, this.size], 0, 255);
    const source = pooledSource(env);
    const first = this.#stages[0].resizer;
    if (
      source !== undefined && LITTLE_ENDIAN && source.maxPoolFrames <= 3 && cropW === w &&
      this.#pitch % 4 === 0 &&
      first.dstH * 2 === cropH && first.dstW * 2 === cropW && first.dstW % 2 === 0
    ) {
      this.#fused = new FusedPool(source, this.crop1 * this.#pitch, cropH, this.#pitch, [
        ...this.#stages.slice(1).map((s) => s.resizer),
      ]);
    }
  }

  override get observationSpace(): BoxSpace {
    return this.#space;
  }

  /**
   * The sum of the elements of `observation` if it is this wrapper's current observation buffer
   * and still holds what it returned, else NaN. The sum is exact: every output is a float32 of at
   * least 0.114 or 0, so a multiple of 2⁻²⁷, and S² of them stay below 2²³; all partial sums
   * are therefore exact doubles, in any order. NormalizedEnv reads it instead of summing again.
   */
  observationSum(observation: Observation): number {
    return observation === this.#out ? this.#sum : NaN;
  }

  /** Processes one raw frame into the reused output buffer. */
  observation(frame: Observation): Float32Array {
    const fused = this.#fused;
    if (fused !== null && frame === fused.source.observationBuffer) {
      this.#sum = fused.process(this.#out);
      return this.#out;
    }
    let src = frame as Uint8Array, offset = this.crop1 * this.#pitch, pitch = this.#pitch;
    for (const { resizer, out } of this.#stages) {
      resizer.resize(src, offset, pitch, out);
      src = out;
      offset = 0;
      pitch = resizer.dstW * 3;
    }
    this.#sum = greyRows(src, 0, this.size * this.size, this.#out);
    return this.#out;
  }
}

/** The fused path needs the platform's word byte order to be little-endian (the SWAR sums). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Grey levels of each channel byte, so `GREY_R[r] + GREY_G[g] + GREY_B[b]` is the formula's. */
const GREY_R = Float64Array.from({ length: 256 }, (_, v) => v * GREY_WEIGHTS[0]);
const GREY_G = Float64Array.from({ length: 256 }, (_, v) => v * GREY_WEIGHTS[1]);
const GREY_B = Float64Array.from({ length: 256 }, (_, v) => v * GREY_WEIGHTS[2]);

/**
 * Grey of the RGB pixels `[from, to)` of `src` into the same pixels of `out`; returns their sum.
 * The products come from tables, so each value is the very `r·wr + g·wg + b·wb` of the formula.
 */
function greyRows(src: Uint8Array, from: number, to: number, out: Float32Array): number {
  let sum = 0;
  for (let i = from, p = 3 * from; i < to; i++, p += 3) {
    const v = Math.fround(GREY_R[src[p]] + GREY_G[src[p + 1]] + GREY_B[src[p + 2]]);
    out[i] = v;
    sum += v;
  }
  return sum;
}

/** Wrappers that hand the inner observation on untouched (exact classes, not subclasses). */
const TRANSPARENT: readonly (abstract new (...args: never[]) => Wrapper)[] = [
  EpisodicLife,
  FireReset,
  TimeLimit,
  ClipReward,
  StickyActions,
];

/** The MaxAndSkip whose observations reach `env` untouched, if any. */
function pooledSource(env: Env): MaxAndSkip | undefined {
  let e: Env = env;
  while (e instanceof Wrapper && TRANSPARENT.includes(e.constructor as never)) e = e.env;
  return e instanceof MaxAndSkip && e.constructor === MaxAndSkip ? e : undefined;
}

/** Output rows compared together first: 4 rows of 80 are 3,840 source bytes. */
const GROUP_ROWS = 4;

/** Byte views of a frame's crop: per group of output rows, and per output row (2 source rows). */
interface CropViews {
  words: Int32Array;
  groups: Uint8Array[];
  rows: Uint8Array[];
}

/**
 * The fused max-pool → crop → 2×2 area resize → (further resizes) → grey of AtariRescale over a
 * MaxAndSkip ring, recomputing only the output rows whose pooled source rows changed since the
 * previous call. Rows are compared natively: a group of rows first (all pooled frames equal, and
 * equal to the kept pooled crop: nothing to do — most of the screen), then row by row.
 */
class FusedPool {
  readonly #offset: number;
  readonly #pitch: number;
  readonly #side: number;
  readonly #later: AreaResizer[];
  /** The pooled crop behind the cached outputs. */
  readonly #pooled: CropViews;
  /** One pooled output row (2 source rows) where the frames differ. */
  readonly #scratch: CropViews;
  readonly #ringViews = new Map<Uint8Array, CropViews>();
  /** The 2×2 output as RGB bytes, when further resizes follow; else unused. */
  readonly #halved: Uint8Array;
  readonly #stageOut: Uint8Array[];
  readonly #dirty: Uint8Array[];
  readonly #grey: Float32Array;
  readonly #rowSums: Float64Array;
  #valid = false;

  constructor(
    readonly source: MaxAndSkip,
    offset: number,
    cropH: number,
    pitch: number,
    later: AreaResizer[],
  ) {
    source.deferPooling(offset, offset + cropH * pitch);
    this.#offset = offset;
    this.#pitch = pitch;
    const side = this.#side = cropH >> 1;
    this.#later = later;
    this.#pooled = this.#cropViews(new Uint8Array(cropH * pitch), 0, side);
    this.#scratch = this.#cropViews(new Uint8Array(2 * pitch), 0, 1);
    this.#halved = new Uint8Array(later.length > 0 ? side * side * 3 : 0);
    this.#stageOut = later.map((r) => new Uint8Array(r.dstH * r.dstW * 3));
    this.#dirty = [side, ...later.map((r) => r.dstH)].map((n) => new Uint8Array(n));
    const outSide = later.length > 0 ? later[later.length - 1].dstW : side;
    this.#grey = new Float32Array(outSide * outSide);
    this.#rowSums = new Float64Array(outSide);
  }

  /** Views of `rows` output rows (2 source rows each) of `bytes` from byte `at`. */
  #cropViews(bytes: Uint8Array, at: number, rows: number): CropViews {
    const rowBytes = 2 * this.#pitch;
    const groups: Uint8Array[] = [];
    for (let y = 0; y < rows; y += GROUP_ROWS) {
      groups.push(
        bytes.subarray(at + y * rowBytes, at + Math.min(y + GROUP_ROWS, rows) * rowBytes),
      );
    }
    const views = Array.from(
      { length: rows },
      (_, y) => bytes.subarray(at + y * rowBytes, at + (y + 1) * rowBytes),
    );
    return { words: new Int32Array(bytes.buffer, bytes.byteOffset), groups, rows: views };
  }

  /** The crop views of a ring frame (each ring slot is a buffer that lives as long as the ring). */
  #views(frame: Uint8Array): CropViews {
    let v = this.#ringViews.get(frame);
    if (v === undefined) {
      v = this.#cropViews(frame, this.#offset, this.#side);
      this.#ringViews.set(frame, v);
    }
    return v;
  }

  /** Pools and processes the ring's current frames into `out`; returns the sum of `out`. */
  process(out: Float32Array): number {
    const src = this.source, count = src.poolCount;
    const a = this.#views(src.ringFrame(0));
    const b = count >= 2 ? this.#views(src.ringFrame(1)) : a;
    const c = count >= 3 ? this.#views(src.ringFrame(2)) : b;
    const pooled = this.#pooled, scratch = this.#scratch, side = this.#side;
    const dirty = this.#dirty[0], rowWords = 2 * this.#pitch >> 2, from = this.#offset >> 2;
    const direct = this.#later.length === 0, valid = this.#valid;
    const grey = this.#grey, sums = this.#rowSums;
    dirty.fill(0);
    for (let g = 0, y0 = 0; y0 < side; g++, y0 += GROUP_ROWS) {
      const ag = a.groups[g];
      const same = (b === a || bytesEqual(ag, b.groups[g])) &&
        (c === b || bytesEqual(ag, c.groups[g]));
      if (same && valid && bytesEqual(ag, pooled.groups[g])) continue;
      const y1 = Math.min(y0 + GROUP_ROWS, side);
      for (let y = y0; y < y1; y++) {
        let row = a.rows[y];
        if (
          !same &&
          !((b === a || bytesEqual(row, b.rows[y])) && (c === b || bytesEqual(row, c.rows[y])))
        ) {
          // the frames differ in these two source rows: pool them word by word
          max3Words(a.words, b.words, c.words, from + y * rowWords, scratch.words, 0, rowWords);
          row = scratch.rows[0];
        }
        const kept = pooled.rows[y];
        if (valid && bytesEqual(row, kept)) continue;
        kept.set(row);
        if (direct) sums[y] = halveGreyRow(pooled.words, rowWords >> 1, y, side, grey);
        else halveRgbRow(pooled.words, rowWords >> 1, y, side, this.#halved);
        dirty[y] = 1;
      }
    }
    this.#valid = true;
    if (!direct) {
      let img = this.#halved;
      for (let s = 0; s < this.#later.length; s++) {
        this.#later[s].resizeDirty(img, this.#stageOut[s], this.#dirty[s], this.#dirty[s + 1]);
        img = this.#stageOut[s];
      }
      const rows = this.#dirty[this.#later.length], w = this.#later[this.#later.length - 1].dstW;
      for (let y = 0; y < rows.length; y++) {
        if (rows[y] !== 0) sums[y] = greyRows(img, y * w, (y + 1) * w, grey);
      }
    }
    out.set(grey);
    let sum = 0;
    for (let y = 0; y < sums.length; y++) sum += sums[y];
    return sum;
  }
}

/**
 * Output row `y` of the exact 2×2 shrink of a packed RGB image held as words (`rowWords` per
 * source row, `side` output pixels per row), converted to grey into `out`; returns the row's sum.
 * Two output pixels are 12 bytes of each source row, three words: the two rows are added in 16-bit
 * lanes (even bytes, odd bytes), then lanes are paired per channel. Each channel rounds as
 * OpenCV's integer path, `(sum + 2) >> 2`.
 */
function halveGreyRow(
  words: Int32Array,
  rowWords: number,
  y: number,
  side: number,
  out: Float32Array,
): number {
  const gr = GREY_R, gg = GREY_G, gb = GREY_B;
  let p = 2 * y * rowWords, q = p + rowWords, o = y * side, sum = 0;
  for (let x = 0; x < side; x += 2, p += 3, q += 3, o += 2) {
    const w0 = words[p], w1 = words[p + 1], w2 = words[p + 2];
    const v0 = words[q], v1 = words[q + 1], v2 = words[q + 2];
    // bytes: w0 = R0 G0 B0 R1, w1 = G1 B1 R2 G2, w2 = B2 R3 G3 B3 (lowest first)
    const l0 = (w0 & 0xff00ff) + (v0 & 0xff00ff),
      h0 = ((w0 >>> 8) & 0xff00ff) + ((v0 >>> 8) & 0xff00ff);
    const l1 = (w1 & 0xff00ff) + (v1 & 0xff00ff),
      h1 = ((w1 >>> 8) & 0xff00ff) + ((v1 >>> 8) & 0xff00ff);
    const l2 = (w2 & 0xff00ff) + (v2 & 0xff00ff),
      h2 = ((w2 >>> 8) & 0xff00ff) + ((v2 >>> 8) & 0xff00ff);
    const v = Math.fround(
      gr[((l0 & 0xffff) + (h0 >>> 16) + 2) >> 2] + gg[((h0 & 0xffff) + (l1 & 0xffff) + 2) >> 2] +
        gb[((l0 >>> 16) + (h1 & 0xffff) + 2) >> 2],
    );
    const u = Math.fround(
      gr[((l1 >>> 16) + (h2 & 0xffff) + 2) >> 2] + gg[((h1 >>> 16) + (l2 >>> 16) + 2) >> 2] +
        gb[((l2 & 0xffff) + (h2 >>> 16) + 2) >> 2],
    );
    out[o] = v;
    out[o + 1] = u;
    sum += v;
    sum += u;
  }
  return sum;
}

/** {@link halveGreyRow} writing the rounded RGB bytes of row `y` into `out` instead of grey. */
function halveRgbRow(
  words: Int32Array,
  rowWords: number,
  y: number,
  side: number,
  out: Uint8Array,
): void {
  let p = 2 * y * rowWords, q = p + rowWords, o = y * side * 3;
  for (let x = 0; x < side; x += 2, p += 3, q += 3, o += 6) {
    const w0 = words[p], w1 = words[p + 1], w2 = words[p + 2];
    const v0 = words[q], v1 = words[q + 1], v2 = words[q + 2];
    const l0 = (w0 & 0xff00ff) + (v0 & 0xff00ff),
      h0 = ((w0 >>> 8) & 0xff00ff) + ((v0 >>> 8) & 0xff00ff);
    const l1 = (w1 & 0xff00ff) + (v1 & 0xff00ff),
      h1 = ((w1 >>> 8) & 0xff00ff) + ((v1 >>> 8) & 0xff00ff);
    const l2 = (w2 & 0xff00ff) + (v2 & 0xff00ff),
      h2 = ((w2 >>> 8) & 0xff00ff) + ((v2 >>> 8) & 0xff00ff);
    out[o] = ((l0 & 0xffff) + (h0 >>> 16) + 2) >> 2;
    out[o + 1] = ((h0 & 0xffff) + (l1 & 0xffff) + 2) >> 2;
    out[o + 2] = ((l0 >>> 16) + (h1 & 0xffff) + 2) >> 2;
    out[o + 3] = ((l1 >>> 16) + (h2 & 0xffff) + 2) >> 2;
    out[o + 4] = ((h1 >>> 16) + (l2 >>> 16) + 2) >> 2;
    out[o + 5] = ((l2 & 0xffff) + (h2 >>> 16) + 2) >> 2;
  }
}
