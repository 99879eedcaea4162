/**
 * Animated GIFs of RGB frames and of whole episodes: {@link encodeGif} turns frames into GIF89a
 * bytes, {@link GifWriter} does the same one frame at a time, and {@link recordEpisodeGif} plays one
 * episode with a policy and writes what `env.render()` shows.
 *
 * Colours are kept exactly whenever a frame has at most 256 of them (every Atari, Box2D and classic
 * control frame does): the first frame's colours become the global palette, a later frame whose
 * colours are all in it uses it, and one that brings new colours gets its own exact local palette.
 * A frame with more colours is quantised to 256 (gifenc's PnnQuant). Pixels that did not change
 * since the previous frame are written as transparent, which keeps GIFs of mostly static screens
 * (Pong, Breakout) small.
 *
 * @example
 * ```ts
 * import { makeEnv } from "../envs/registry.ts";
 * import { recordEpisodeGif } from "./gif.ts";
 * const env = makeEnv("CartPole-v1");
 * const result = await recordEpisodeGif(env, (obs) => (obs[2] > 0 ? 1 : 0), {
 *   path: "cartpole.gif",
 *   seed: 1,
 *   scale: 0.5,
 * });
 * console.log(`${result.steps} steps, ${result.frames} frames, ${result.bytes} bytes`);
 * ```
 *
 * @module
 */
import gifenc from "npm:gifenc@1.0.3";
import type { Action, Env, Observation, RgbFrame } from "../envs/core.ts";
import { playEpisode, type Policy as EpisodePolicy } from "../envs/evaluate.ts";
import { writeFileAtomic } from "./atomic_file.ts";

// gifenc is CommonJS bundled by esbuild: its named exports exist only on the default export.
const { GIFEncoder, quantize, applyPalette } = gifenc as unknown as GifencModule;

type Palette = number[][];

interface GifencEncoder {
  writeFrame(
    index: Uint8Array,
    width: number,
    height: number,
    options: {
      palette?: Palette;
      delay?: number;
      repeat?: number;
      colorDepth?: number;
      transparent?: boolean;
      transparentIndex?: number;
      dispose?: number;
    },
  ): void;
  finish(): void;
  bytes(): Uint8Array;
}

interface GifencModule {
  GIFEncoder(options?: { initialCapacity?: number }): GifencEncoder;
  quantize(rgba: Uint8Array, maxColors: number, options?: { format?: string }): Palette;
  applyPalette(rgba: Uint8Array, palette: Palette, format?: string): Uint8Array;
}

/** The error GIF encoding and recording throw for bad frames or options. */
export class GifError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GifError";
  }
}

/** Options of {@link GifWriter} and {@link encodeGif}. */
export interface GifOptions {
  /** Playback frames per second (30). GIF delays are whole hundredths of a second, at least 2. */
  fps?: number;
  /** Size factor applied to every frame with nearest-neighbour sampling (1; 0.5 halves, 2 doubles). */
  scale?: number;
  /** Whether the animation repeats forever (true) or plays once. */
  loop?: boolean;
}

/** The hundredths of a second each frame shows for at `fps` frames per second. */
export function gifDelay(fps: number): number {
  if (!(Number.isFinite(fps) && fps > 0)) {
    throw new GifError(`fps must be a positive number, got ${fps}`);
  }
  // browsers show delays under 2/100 s as 1/10 s, so faster rates are capped at 50 fps
  return Math.max(2, Math.round(100 / fps));
}

function checkFrame(frame: RgbFrame, n: number): void {
  const { width, height, data } = frame;
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new GifError(
      `frame ${n}: width and height must be positive integers, got ${width}×${height}`,
    );
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 3) {
    throw new GifError(
      `frame ${n}: expected ${width}×${height}×3 = ${width * height * 3} RGB bytes, got ${
        data?.length ?? "no data"
      }`,
    );
  }
}

/** Nearest-neighbour resampling of an RGB frame to `width × height`. */
function resample(frame: RgbFrame, width: number, height: number): Uint8Array {
  if (width === frame.width && height === frame.height) return frame.data;
  const out = new Uint8Array(width * height * 3);
  const src = frame.data;
  const sx = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    sx[x] = Math.min(frame.width - 1, Math.floor(((x + 0.5) * frame.width) / width)) * 3;
  }
  for (let y = 0; y < height; y++) {
    const row = Math.min(frame.height - 1, Math.floor(((y + 0.5) * frame.height) / height)) *
      frame.width * 3;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      const i = row + sx[x];
      out[o] = src[i];
      out[o + 1] = src[i + 1];
      out[o + 2] = src[i + 2];
    }
  }
  return out;
}

/** The distinct colours of an RGB buffer as 0xRRGGBB in order of first appearance, or null past `max`. */
function distinctColours(rgb: Uint8Array, max: number): number[] | null {
  const seen = new Set<number>();
  const colours: number[] = [];
  let last = -1;
  for (let i = 0; i < rgb.length; i += 3) {
    const c = (rgb[i] << 16) | (rgb[i + 1] << 8) | rgb[i + 2];
    if (c === last || seen.has(c)) {
      last = c;
      continue;
    }
    if (colours.length === max) return null;
    seen.add(c);
    colours.push(c);
    last = c;
  }
  return colours;
}

/** A palette with its exact colour → index lookup. */
interface ExactPalette {
  colours: Palette;
  lookup: Map<number, number>;
}

function exactPalette(colours: number[]): ExactPalette {
  const lookup = new Map<number, number>();
  colours.forEach((c, i) => lookup.set(c, i));
  return { colours: colours.map((c) => [c >> 16, (c >> 8) & 255, c & 255]), lookup };
}

/** Indices of `rgb` in an exact palette, or null if some colour is not in it. */
function mapExact(rgb: Uint8Array, palette: ExactPalette): Uint8Array | null {
  const index = new Uint8Array(rgb.length / 3);
  let last = -1, lastIndex = 0;
  for (let i = 0, p = 0; i < rgb.length; i += 3, p++) {
    const c = (rgb[i] << 16) | (rgb[i + 1] << 8) | rgb[i + 2];
    if (c !== last) {
      const k = palette.lookup.get(c);
      if (k === undefined) return null;
      last = c;
      lastIndex = k;
    }
    index[p] = lastIndex;
  }
  return index;
}

/** Quantises `rgb` to at most `maxColours` colours. */
function quantized(rgb: Uint8Array, maxColours: number): { colours: Palette; index: Uint8Array } {
  const rgba = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, o = 0; i < rgb.length; i += 3, o += 4) {
    rgba[o] = rgb[i];
    rgba[o + 1] = rgb[i + 1];
    rgba[o + 2] = rgb[i + 2];
    rgba[o + 3] = 255;
  }
  const colours = quantize(rgba, maxColours, { format: "rgb565" });
  return { colours, index: applyPalette(rgba, colours, "rgb565") };
}

/** Entries of a GIF colour table holding `n` colours (a power of two, at least 2). */
function tableSlots(n: number): number {
  return 1 << Math.max(1, Math.ceil(Math.log2(Math.max(n, 1))));
}

/** LZW code size for indices below `n`. */
function depthFor(n: number): number {
  return Math.max(2, Math.ceil(Math.log2(Math.max(n, 2))));
}

/**
 * Encodes frames into an animated GIF one at a time, keeping only the compressed bytes (so an
 * episode of thousands of frames needs little memory). All frames must have the size of the first.
 *
 * @example
 * ```ts
 * const writer = new GifWriter({ fps: 20 });
 * for (const frame of frames) writer.add(frame);
 * const bytes = writer.finish();
 * ```
 */
export class GifWriter {
  readonly #encoder = GIFEncoder({ initialCapacity: 1 << 16 });
  readonly #delay: number;
  readonly #scale: number;
  readonly #repeat: number;
  #size: { width: number; height: number; outWidth: number; outHeight: number } | null = null;
  #global: ExactPalette | null = null;
  // the RGB the viewer shows after the last frame, to find unchanged pixels
  #shown: Uint8Array | null = null;
  #frames = 0;
  #finished = false;

  /** A writer with the given playback rate, scale and looping. */
  constructor(options: GifOptions = {}) {
    this.#delay = gifDelay(options.fps ?? 30);
    const scale = options.scale ?? 1;
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new GifError(`scale must be a positive number, got ${scale}`);
    }
    this.#scale = scale;
    this.#repeat = options.loop === false ? -1 : 0;
  }

  /** Frames added so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Appends a frame; it must be as large as the first one. */
  add(frame: RgbFrame): void {
    if (this.#finished) throw new GifError("cannot add a frame to a finished GIF");
    checkFrame(frame, this.#frames);
    if (this.#size === null) {
      const outWidth = Math.max(1, Math.round(frame.width * this.#scale));
      const outHeight = Math.max(1, Math.round(frame.height * this.#scale));
      if (outWidth > 65535 || outHeight > 65535) {
        throw new GifError(`a GIF is at most 65535×65535 pixels, got ${outWidth}×${outHeight}`);
      }
      this.#size = { width: frame.width, height: frame.height, outWidth, outHeight };
    } else if (frame.width !== this.#size.width || frame.height !== this.#size.height) {
      throw new GifError(
        `frame ${this.#frames}: expected ${this.#size.width}×${this.#size.height} like frame 0, ` +
          `got ${frame.width}×${frame.height}`,
      );
    }
    const { outWidth: w, outHeight: h } = this.#size;
    const rgb = resample(frame, w, h);
    const first = this.#global === null;

    let colours: Palette, index: Uint8Array, local: boolean;
    const globalIndex = this.#global === null ? null : mapExact(rgb, this.#global);
    if (this.#global !== null && globalIndex !== null) {
      colours = this.#global.colours;
      index = globalIndex;
      local = false;
    } else {
      const distinct = distinctColours(rgb, 256);
      if (distinct !== null) {
        const exact = exactPalette(distinct);
        colours = exact.colours;
        index = mapExact(rgb, exact)!;
        if (first) this.#global = exact;
      } else {
        ({ colours, index } = quantized(rgb, 256));
        if (first) this.#global = exactPalette([]);
      }
      local = !first;
    }

    // Unchanged pixels become a transparent index one past the palette (when there is room).
    let transparent = false;
    const shown = this.#shown;
    const t = colours.length;
    if (shown !== null && t < 256) {
      for (let p = 0, i = 0; p < index.length; p++, i += 3) {
        const c = colours[index[p]];
        if (shown[i] === c[0] && shown[i + 1] === c[1] && shown[i + 2] === c[2]) {
          index[p] = t;
          transparent = true;
        }
      }
      // the global table is padded to a power of two: a spare entry there saves a local table
      if (transparent && (local || t >= tableSlots(t))) {
        colours = [...colours, [0, 0, 0]];
        local = true;
      }
    }

    // What the viewer shows from now on.
    const next = shown ?? new Uint8Array(w * h * 3);
    for (let p = 0, i = 0; p < index.length; p++, i += 3) {
      const k = index[p];
      if (transparent && k === t) continue;
      const c = colours[k];
      next[i] = c[0];
      next[i + 1] = c[1];
      next[i + 2] = c[2];
    }
    this.#shown = next;

    this.#encoder.writeFrame(index, w, h, {
      palette: first || local ? colours : undefined,
      delay: this.#delay * 10,
      repeat: this.#repeat,
      colorDepth: depthFor(transparent ? t + 1 : t),
      transparent,
      transparentIndex: transparent ? t : 0,
      dispose: 1,
    });
    this.#frames++;
  }

  /** Ends the GIF and returns its bytes; at least one frame must have been added. */
  finish(): Uint8Array {
    if (this.#frames === 0) throw new GifError("a GIF needs at least one frame, got none");
    if (!this.#finished) {
      this.#encoder.finish();
      this.#finished = true;
    }
    return this.#encoder.bytes();
  }
}

/**
 * Encodes RGB frames (all of one size) as an animated GIF89a shown at `fps` frames per second.
 *
 * @example
 * ```ts
 * const bytes = encodeGif([env.render()], 30);
 * await Deno.writeFile("frame.gif", bytes);
 * ```
 */
export function encodeGif(
  frames: readonly RgbFrame[],
  fps = 30,
  options: Omit<GifOptions, "fps"> = {},
): Uint8Array {
  if (frames.length === 0) throw new GifError("a GIF needs at least one frame, got none");
  const writer = new GifWriter({ ...options, fps });
  for (const frame of frames) writer.add(frame);
  return writer.finish();
}

/** What a policy is told besides the observation. */
export interface PolicyContext {
  /** Agent steps taken so far in the episode. */
  step: number;
  /**
   * True on the first call after a reset, including the resets after a lost life under
   * `EpisodicLife` (recurrent policies clear their state here).
   */
  reset: boolean;
}

/** Chooses an action from an observation (the env's, e.g. the preprocessed frames of the pipeline). */
export type Policy = (observation: Observation, context: PolicyContext) => Action;

/** Options of {@link recordEpisodeGif}. */
export interface RecordEpisodeOptions extends GifOptions {
  /** Where to write the GIF (replaced atomically). */
  path: string;
  /** Seed of the episode's reset. */
  seed?: number;
  /** Largest number of agent steps (10,000). */
  maxSteps?: number;
  /** Keep every `every`-th rendered frame (1: all); the last frame is always kept. */
  every?: number;
  /**
   * Play through lost lives: when a step ends with `info.wasRealDone === false` (the
   * `EpisodicLife` wrapper), reset and go on until the game is over (true).
   */
  throughLostLives?: boolean;
}

/** What {@link recordEpisodeGif} did. */
export interface RecordEpisodeResult {
  /** The GIF written. */
  path: string;
  /** Agent steps played. */
  steps: number;
  /** Frames in the GIF. */
  frames: number;
  /** Sum of the env's rewards (as the env reports them, after any wrapper). */
  reward: number;
  /** Whether the episode ended (terminated or truncated) rather than hitting `maxSteps`. */
  done: boolean;
  /** Size of the GIF in bytes. */
  bytes: number;
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new GifError(`${name} must be an integer ≥ 1, got ${value}`);
  }
  return value;
}

/**
 * Plays one episode of `env` with `act` and writes the frames of `env.render()` (the reset frame,
 * then one per step) as a GIF. Wrappers forward `render()` to the innermost env, so a pipeline env
 * shows the real game screen while `act` sees the preprocessed observations. The env is not closed.
 *
 * @example
 * ```ts
 * const env = makeTrainingEnv(config, 1);
 * await recordEpisodeGif(env, (obs, { reset }) => policy(obs, reset), {
 *   path: "pong.gif",
 *   seed: 1,
 *   every: 2,
 * });
 * ```
 */
export async function recordEpisodeGif(
  env: Env,
  act: Policy,
  options: RecordEpisodeOptions,
): Promise<RecordEpisodeResult> {
  if (typeof options?.path !== "string" || options.path === "") {
    throw new GifError("options.path must name the GIF file to write");
  }
  const maxSteps = positiveInteger("maxSteps", options.maxSteps ?? 10_000);
  const every = positiveInteger("every", options.every ?? 1);
  const throughLostLives = options.throughLostLives ?? true;
  const writer = new GifWriter(options);

  let rendered = 0;
  let pending: RgbFrame | null = null; // the newest frame skipped by `every`, kept for the end
  const frame = () => {
    const f = env.render();
    if (rendered++ % every === 0) {
      writer.add(f);
      pending = null;
    } else {
      pending = f;
    }
  };

  // the policy's calls, told the step number and whether a game or a life has just begun
  let steps = 0, reset = true;
  const policy: EpisodePolicy = {
    reset: () => {
      reset = true;
    },
    act: (observation) => {
      const action = act(observation, { step: steps, reset });
      reset = false;
      return action;
    },
  };
  let first = true;
  const game = await playEpisode(env, policy, {
    seed: options.seed,
    maxSteps,
    throughLostLives,
    onReset: () => {
      // the first frame; after a lost life the game goes on from the frame already drawn
      if (first) frame();
      first = false;
    },
    onStep: () => {
      steps++;
      frame();
    },
  });
  const { reward, done } = game;
  if (pending !== null) writer.add(pending);
  const bytes = writer.finish();
  await writeFileAtomic(options.path, bytes);
  return { path: options.path, steps, frames: writer.frames, reward, done, bytes: bytes.length };
}
