/**
 * Checkpoints: `<name>.safetensors` holds the model's tensors under their model names
 * (`conv1.weight`, ...) and the optimizer's large buffers (`optimizer.m`, `optimizer.v`, ...);
 * `<name>.json` holds the rest: the parameter layout, the run configuration, the optimizer's
 * hyper-parameters and step counts, counters and normalisation statistics.
 *
 * Each file is replaced atomically (temporary file, then rename), and both carry the same random
 * checkpoint id. A save writes the weights first and the JSON file last, keeping the weights that
 * match the JSON file under a hidden `.<name>.safetensors.previous` link until the new JSON file is
 * in place: a process killed at any moment of a save leaves either the new checkpoint or the one
 * before it, and loading picks the weights whose id the JSON file names. Loading
 * checks everything (format, truncation, names, shapes, optimizer state) before it writes anything
 * into the model or the optimizer, and fails with one message naming the file and the problem.
 *
 * @example
 * ```ts
 * await saveCheckpoint("runs/pong/latest", { params, layout, optimizer: optimizer.state(), counters });
 * const { counters } = await loadCheckpoint("runs/pong/latest", { params, layout, optimizer });
 * ```
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import type { Optimizer, OptimizerState, Segment } from "../algorithms/optimizers.ts";
import { writeFileAtomic } from "./atomic_file.ts";
import { formatShape } from "../autograd/tensor.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
  SafetensorsError,
} from "./safetensors.ts";

/** One parameter tensor of a flat parameter vector (what a parameter store's `layout()` lists). */
export interface ParameterLayoutEntry {
  /** Name as in the model, e.g. `conv1.weight`. */
  name: string;
  /** Dimensions. */
  shape: readonly number[];
  /** Index of the first element in the flat vector. */
  offset: number;
  /** Number of elements (the product of `shape`). */
  size: number;
}

/** What a checkpoint holds. */
export interface Checkpoint {
  /** The flat parameter vector (under Hogwild, saved as a snapshot while workers write). */
  params: Float32Array;
  /** Where each named tensor lives in `params`. */
  layout: readonly ParameterLayoutEntry[];
  /** Run configuration; anything `JSON.stringify` keeps. */
  config?: unknown;
  /** Optimizer state from `Optimizer.state()`. */
  optimizer?: OptimizerState;
  /** Counters such as frames, updates and episodes. */
  counters?: Record<string, number>;
  /** Observation / reward normalisation statistics; anything `JSON.stringify` keeps. */
  normalisation?: unknown;
}

/** The two files of a checkpoint. */
export interface CheckpointPaths {
  /** `<name>.safetensors`. */
  weights: string;
  /** `<name>.json`. */
  json: string;
}

/** A checkpoint that cannot be saved or loaded; the message names the file and the problem. */
export class CheckpointError extends Error {
  /** The file concerned. */
  readonly path: string;

  /** @param path the file; @param problem what is wrong; @param cause the underlying error. */
  constructor(path: string, problem: string, cause?: unknown) {
    super(`checkpoint ${path}: ${problem}`, cause === undefined ? undefined : { cause });
    this.name = "CheckpointError";
    this.path = path;
  }
}

/** The JSON file's `format` value. */
export const CHECKPOINT_FORMAT = "a3g.checkpoint";
/** The JSON file's `version` this package writes and reads. */
export const CHECKPOINT_VERSION = 1;
/** Prefix of the optimizer's tensors in the safetensors file. */
const OPTIMIZER_PREFIX = "optimizer.";

/**
 * The two files of checkpoint `name` (`runs/pong/latest` → `runs/pong/latest.safetensors` and
 * `runs/pong/latest.json`); a trailing `.safetensors` or `.json` is ignored.
 */
export function checkpointPaths(name: string): CheckpointPaths {
  const base = name.replace(/\.(safetensors|json)$/, "");
  return { weights: `${base}.safetensors`, json: `${base}.json` };
}

/** A test hook of {@link saveCheckpoint}: awaited before each step of the write. */
export interface SaveHooks {
  /** Called before the weights are replaced, before the JSON file is, and when both are done. */
  stage?: (stage: "weights" | "json" | "done") => Promise<void> | void;
}

/**
 * Saves a checkpoint, creating its directory if needed. Everything is checked before anything is
 * written, and each file is replaced atomically: an existing checkpoint of the same name stays
 * intact until the new one is complete.
 */
export async function saveCheckpoint(
  name: string,
  checkpoint: Checkpoint,
  hooks?: SaveHooks,
): Promise<CheckpointPaths> {
  const paths = checkpointPaths(name);
  const { params, layout, optimizer } = checkpoint;
  const fail = (problem: string) => new CheckpointError(paths.weights, problem);
  checkLayout(layout, params.length, fail);
  for (const { name } of layout) {
    if (name.startsWith(OPTIMIZER_PREFIX)) {
      throw fail(`parameter ${name} uses the prefix reserved for optimizer state`);
    }
  }
  // the model's tensors in layout order, then the optimizer's
  const tensors: [string, SafeTensor][] = layout.map(({ name, shape, offset, size }) => [
    name,
    { shape, data: params.subarray(offset, offset + size) },
  ]);
  const id = crypto.randomUUID();
  const json: Record<string, unknown> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    id,
    weights: basename(paths.weights),
    savedAt: new Date().toISOString(),
    layout: layout.map(({ name, shape, offset, size }) => ({
      name,
      shape: [...shape],
      offset,
      size,
    })),
    config: checkpoint.config ?? null,
    counters: checkpoint.counters ?? {},
    normalisation: checkpoint.normalisation ?? null,
    optimizer: null,
  };
  if (optimizer) {
    const names: Record<string, string> = {};
    for (const [key, data] of Object.entries(optimizer.tensors)) {
      names[key] = OPTIMIZER_PREFIX + key;
      tensors.push([names[key], { shape: [data.length], data }]);
    }
    json.optimizer = {
      kind: optimizer.kind,
      hyperParameters: optimizer.hyperParameters,
      segments: optimizer.segments.map(({ offset, size }) => ({ offset, size })),
      steps: [...optimizer.steps],
      tensors: names,
    };
  }
  let weightBytes: Uint8Array;
  let jsonText: string;
  try {
    weightBytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, checkpoint_id: id });
    jsonText = JSON.stringify(json, null, 2) + "\n";
  } catch (error) {
    throw fail(`cannot be encoded (${(error as Error).message})`);
  }
  await Deno.mkdir(dirname(paths.weights), { recursive: true });
  const previous = previousWeightsPath(paths.weights);
  // Keep the weights the current JSON file names (the main file's, or those a killed save left
  // under `previous`) until the new JSON file replaces it.
  const current = await readJsonId(paths.json);
  if (current !== null && await readWeightsId(paths.weights) === current) {
    await Deno.remove(previous).catch(ignoreNotFound);
    await Deno.link(paths.weights, previous).catch(() => Deno.copyFile(paths.weights, previous));
  }
  await hooks?.stage?.("weights");
  await writeFileAtomic(paths.weights, weightBytes);
  await hooks?.stage?.("json");
  await writeFileAtomic(paths.json, jsonText);
  await hooks?.stage?.("done");
  await Deno.remove(previous).catch(ignoreNotFound);
  return paths;
}

/** Where a save keeps the weights of the checkpoint it replaces until it is complete. */
function previousWeightsPath(weights: string): string {
  return join(dirname(weights), `.${basename(weights)}.previous`);
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

/** The id a checkpoint's JSON file holds, or null when it is missing or unreadable. */
async function readJsonId(path: string): Promise<string | null> {
  try {
    const id = JSON.parse(await Deno.readTextFile(path))?.id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** The checkpoint id in a safetensors file's header, or null when it has none or is unreadable. */
async function readWeightsId(path: string): Promise<string | null> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path);
    const head = new Uint8Array(8);
    if (await file.read(head) !== 8) return null;
    const length = Number(new DataView(head.buffer).getBigUint64(0, true));
    if (length > 1 << 20) return null;
    const header = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(header.subarray(read));
      if (n === null) return null;
      read += n;
    }
    const id = JSON.parse(new TextDecoder().decode(header))?.__metadata__?.checkpoint_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  } finally {
    file?.close();
  }
}

/** What {@link readCheckpoint} returns: a {@link Checkpoint} plus where it was read from. */
export interface LoadedCheckpoint extends Checkpoint {
  /** The files read. */
  paths: CheckpointPaths;
  /** The checkpoint id both files carry. */
  id: string;
  /**
   * Set when the main weights file belonged to a save that did not finish and the weights this
   * JSON file names were read from the kept previous file instead: says so, for the user.
   */
  recovered?: string;
}

/**
 * Reads and checks a checkpoint without touching any model. With `expectedLayout` (the model's),
 * every tensor must be present with the model's shape and no other parameter may be there, and
 * `params` comes back arranged by that layout; without it, by the layout saved in the JSON file.
 */
export async function readCheckpoint(
  name: string,
  expectedLayout?: readonly ParameterLayoutEntry[],
): Promise<LoadedCheckpoint> {
  const paths = checkpointPaths(name);
  const previous = previousWeightsPath(paths.weights);
  const decode = (bytes: Uint8Array) => {
    try {
      return decodeSafetensors(bytes, `checkpoint ${paths.weights}`);
    } catch (error) {
      if (error instanceof SafetensorsError) {
        throw new CheckpointError(paths.weights, error.problem, error);
      }
      throw error;
    }
  };
  const fail = (problem: string) => new CheckpointError(paths.weights, problem);
  // The weights whose id the JSON file holds: the main file's, or, while a save is under way or
  // after one was killed between its two renames, those kept beside them. Each file is read once
  // and checked by the id in its own bytes; a save that finishes meanwhile is met by reading the
  // JSON file again (a few times at most: a writer saving without pause could outrun a reader).
  let json = await readJson(paths.json);
  let file: ReturnType<typeof decodeSafetensors>;
  let fromPrevious = false;
  for (let attempt = 0;; attempt++) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(paths.weights);
    } catch (error) {
      throw new CheckpointError(
        paths.weights,
        `cannot be read (${(error as Error).message})`,
        error,
      );
    }
    file = decode(bytes);
    if (file.metadata.checkpoint_id === json.id) break;
    const kept = await Deno.readFile(previous).catch(() => null);
    if (kept !== null) {
      try {
        const old = decode(kept);
        if (old.metadata.checkpoint_id === json.id) {
          file = old;
          fromPrevious = true;
          break;
        }
      } catch {
        // not the weights this JSON file names either
      }
    }
    if (attempt < 10) {
      json = await readJson(paths.json);
      continue;
    }
    throw fail(
      `belongs to another save than ${basename(paths.json)} (checkpoint id ` +
        `${file.metadata.checkpoint_id ?? "missing"}, the JSON file has ${json.id})`,
    );
  }
  const savedLayout = json.layout as ParameterLayoutEntry[];
  const layout = expectedLayout ?? savedLayout;

  // Model tensors: names and shapes against the expected layout.
  const size = checkLayout(
    layout,
    undefined,
    (problem) =>
      new CheckpointError(expectedLayout ? paths.weights : paths.json, `layout: ${problem}`),
  );
  const params = new Float32Array(size);
  const wanted = new Set<string>();
  const expects = expectedLayout ? "the model expects" : `${basename(paths.json)} lists`;
  for (const { name, shape, offset } of layout) {
    wanted.add(name);
    const tensor = file.tensors.get(name);
    if (!tensor) throw fail(`has no tensor ${name}, ${expects} ${formatShape(shape)}`);
    if (!sameShape(tensor.shape, shape)) {
      throw fail(
        `${name} has shape ${formatShape(tensor.shape)}, ${expects} ${formatShape(shape)}`,
      );
    }
    const bad = tensor.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw fail(`${name} holds ${tensor.data[bad]} at index ${bad}, expected finite values`);
    }
    params.set(tensor.data, offset);
  }
  for (const [name, tensor] of file.tensors) {
    if (!wanted.has(name) && !name.startsWith(OPTIMIZER_PREFIX)) {
      throw fail(`has a tensor ${name} ${formatShape(tensor.shape)} that the model does not have`);
    }
  }

  // Optimizer: metadata from the JSON file, buffers from the safetensors file.
  let optimizer: OptimizerState | undefined;
  const saved = json.optimizer as Record<string, unknown> | null;
  if (saved !== null && saved !== undefined) {
    if (
      typeof saved !== "object" || typeof saved.kind !== "string" ||
      !Array.isArray(saved.segments) || !Array.isArray(saved.steps) ||
      saved.tensors === null || typeof saved.tensors !== "object"
    ) {
      throw new CheckpointError(
        paths.json,
        "optimizer is not an optimizer state (expected kind, segments, steps and tensors)",
      );
    }
    const names = saved.tensors as Record<string, string>;
    const tensors: Record<string, Float32Array> = {};
    for (const [key, tensorName] of Object.entries(names)) {
      const tensor = file.tensors.get(tensorName);
      if (!tensor) throw fail(`has no tensor ${tensorName}, which ${basename(paths.json)} lists`);
      const bad = tensor.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw fail(
          `${tensorName} holds ${tensor.data[bad]} at index ${bad}, expected finite values`,
        );
      }
      tensors[key] = tensor.data;
    }
    optimizer = {
      kind: saved.kind as OptimizerState["kind"],
      hyperParameters: saved.hyperParameters as OptimizerState["hyperParameters"],
      segments: saved.segments as Segment[],
      steps: saved.steps as number[],
      tensors,
    };
  }

  return {
    paths,
    id: json.id as string,
    ...(fromPrevious
      ? {
        recovered: `${paths.weights} is from a newer save than ${basename(paths.json)} (one ` +
          `under way, or one that did not finish); loaded the complete save before it ` +
          `(${basename(previous)})`,
      }
      : {}),
    params,
    layout: layout.map((e) => ({ ...e, shape: [...e.shape] })),
    config: json.config ?? undefined,
    counters: (json.counters ?? {}) as Record<string, number>,
    normalisation: json.normalisation ?? undefined,
    optimizer,
  };
}

/** Where {@link loadCheckpoint} puts what it reads. */
export interface CheckpointTarget {
  /** The model's flat parameters (e.g. the shared ones), written in place. */
  params: Float32Array;
  /** The model's layout: the checkpoint must match it name for name and shape for shape. */
  layout: readonly ParameterLayoutEntry[];
  /** An optimizer to restore; the checkpoint must then hold a compatible optimizer state. */
  optimizer?: Optimizer;
  /**
   * Accept a checkpoint without optimizer state (a model exported with `--model`): the optimizer
   * is then left as it is. A state that is present must still fit.
   */
  optimizerOptional?: boolean;
}

/**
 * Loads a checkpoint into a model's parameters (and optionally an optimizer), in place, after
 * checking all of it: on any error nothing has been written. Returns the rest of the checkpoint
 * (config, counters, normalisation statistics, ...).
 */
export async function loadCheckpoint(
  name: string,
  target: CheckpointTarget,
): Promise<LoadedCheckpoint> {
  const loaded = await readCheckpoint(name, target.layout);
  const { paths } = loaded;
  if (loaded.params.length > target.params.length) {
    throw new CheckpointError(
      paths.weights,
      `the model's layout needs ${loaded.params.length} parameters, its vector has ${target.params.length}`,
    );
  }
  if (target.optimizer && (loaded.optimizer || !target.optimizerOptional)) {
    if (!loaded.optimizer) throw new CheckpointError(paths.json, "has no optimizer state");
    try {
      // checks everything before writing, so a refusal leaves the optimizer as it was
      target.optimizer.loadState(loaded.optimizer);
    } catch (error) {
      throw new CheckpointError(
        paths.json,
        `optimizer state does not fit: ${(error as Error).message}`,
        error,
      );
    }
  }
  for (const { offset, size } of target.layout) {
    target.params.set(loaded.params.subarray(offset, offset + size), offset);
  }
  return loaded;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CheckpointError(path, `cannot be read (${(error as Error).message})`, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(path, `is not valid JSON (${(error as Error).message})`, error);
  }
  const fail = (problem: string) => new CheckpointError(path, problem);
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw fail("is not a checkpoint description (expected a JSON object)");
  }
  const obj = json as Record<string, unknown>;
  if (obj.format !== CHECKPOINT_FORMAT) {
    throw fail(
      `is not an a3g checkpoint (format is ${
        JSON.stringify(obj.format)
      }, expected "${CHECKPOINT_FORMAT}")`,
    );
  }
  if (obj.version !== CHECKPOINT_VERSION) {
    throw fail(
      `has version ${JSON.stringify(obj.version)}, this package reads version ` +
        `${CHECKPOINT_VERSION} (the number ${CHECKPOINT_VERSION})`,
    );
  }
  if (typeof obj.id !== "string") throw fail("has no checkpoint id");
  if (!Array.isArray(obj.layout)) throw fail("has no parameter layout");
  const counters = obj.counters;
  if (counters !== undefined && counters !== null) {
    if (typeof counters !== "object" || Array.isArray(counters)) {
      throw fail(`counters is ${JSON.stringify(counters)}, expected an object of numbers`);
    }
    for (const [key, value] of Object.entries(counters)) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw fail(`counter ${key} is ${JSON.stringify(value)}, expected a finite number ≥ 0`);
      }
    }
  }
  return obj;
}

/** Checks a layout (and that it fits in `length` values if given); returns the vector length it needs. */
function checkLayout(
  layout: readonly ParameterLayoutEntry[],
  length: number | undefined,
  fail: (problem: string) => Error,
): number {
  const names = new Set<string>();
  let end = 0;
  for (const entry of layout) {
    const { name, shape, offset, size } = entry ?? {};
    if (typeof name !== "string" || name === "" || names.has(name)) {
      throw fail(`parameter name ${JSON.stringify(name)} is empty or repeated`);
    }
    names.add(name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw fail(`${name} has shape ${JSON.stringify(shape)}, expected non-negative integers`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (size !== count) {
      throw fail(`${name} has size ${size}, its shape ${formatShape(shape)} holds ${count}`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw fail(`${name} has offset ${offset}, expected a non-negative integer`);
    }
    if (length !== undefined && offset + size > length) {
      throw fail(`${name} ends at ${offset + size}, the parameter vector has ${length} values`);
    }
    end = Math.max(end, offset + size);
  }
  return end;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
