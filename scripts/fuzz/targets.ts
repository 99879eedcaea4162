/**
 * Fuzz targets for the loaders that read what users hand the package: safetensors files,
 * checkpoints (JSON + safetensors), TensorBoard event files, and training configurations (the
 * option objects of scripts and notebooks, and the command line). Each target mutates or
 * truncates valid inputs with fast-check and requires that the loader either accepts the input
 * (with a result that holds together) or refuses it with its own error class; any other exception
 * fails, as does a refused checkpoint that changed the model or optimizer it was loading into.
 *
 * @module
 */
import fc from "fast-check";
import { Adam } from "../../algorithms/optimizers.ts";
import { ConfigError, DEFAULTS, PRESETS, resolveConfig } from "../../algorithms/config.ts";
import {
  CheckpointError,
  loadCheckpoint,
  type ParameterLayoutEntry,
  saveCheckpoint,
} from "../../io/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../../io/safetensors.ts";
import {
  decodeEvents,
  decodeRecords,
  encodeEvent,
  encodeRecord,
  EventFileError,
  FILE_VERSION,
  makeHistogram,
} from "../../logging/tensorboard.ts";
import { parseTrainArgs } from "../cli.ts";
import { unzipSync, zipSync } from "fflate";
import { readStateDict, StateDictError } from "../../io/torch_state_dict.ts";

/** What a loader did with one input. */
export type Outcome = "accepted" | "refused";

/**
 * "refused" when `load` throws the loader's own error (`own`), "accepted" when it returns and
 * `check` (a fault if it throws) passes its result; any other error is thrown.
 */
function loadOrRefuse<T>(
  load: () => T,
  // deno-lint-ignore no-explicit-any
  own: abstract new (...args: any[]) => Error,
  check: (value: T) => void = () => {},
): Promise<Outcome> {
  let value: T;
  try {
    value = load();
  } catch (error) {
    if (error instanceof own) return Promise.resolve("refused");
    throw error;
  }
  check(value);
  return Promise.resolve("accepted");
}

/** Throws when an accepted tensor's values do not fill its shape. */
function checkTensors(
  tensors: Iterable<[string, { shape: readonly number[]; data: { length: number } }]>,
): void {
  for (const [name, t] of tensors) {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`accepted tensor ${name}: ${t.data.length} values for [${t.shape}]`);
    }
  }
}

/** One loader under fuzzing. */
export interface FuzzTarget<T> {
  name: string;
  /** Mutated or truncated versions of valid inputs. */
  inputs: fc.Arbitrary<T>;
  /** Runs the loader on one input; throws on anything but acceptance or the loader's own error. */
  run: (input: T) => Promise<Outcome>;
  /** Removes what the target created (temporary files). */
  close?: () => Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// mutations

interface ByteEdit {
  kind: "truncate" | "flip" | "set" | "insert" | "delete" | "u64";
  at: number;
  value: number;
  bytes: Uint8Array;
}

const INTERESTING_U64 = [
  0n,
  1n,
  7n,
  8n,
  255n,
  65535n,
  2n ** 31n,
  2n ** 32n,
  2n ** 63n,
  2n ** 64n - 1n,
];

const byteEdit: fc.Arbitrary<ByteEdit> = fc.record({
  kind: fc.constantFrom("truncate", "flip", "set", "insert", "delete", "u64"),
  // near the start (where the headers are) half of the time, anywhere otherwise
  at: fc.oneof(fc.integer({ min: 0, max: 96 }), fc.nat()),
  value: fc.nat(),
  bytes: fc.uint8Array({ maxLength: 12 }),
});

function applyByteEdit(data: Uint8Array, e: ByteEdit): Uint8Array {
  const at = data.length === 0 ? 0 : e.at % (data.length + 1);
  switch (e.kind) {
    case "truncate":
      return data.slice(0, at);
    case "flip": {
      const out = data.slice();
      if (at < out.length) out[at] ^= 1 << (e.value % 8);
      return out;
    }
    case "set": {
      const out = data.slice();
      if (at < out.length) out[at] = e.value % 256;
      return out;
    }
    case "insert": {
      const out = new Uint8Array(data.length + e.bytes.length);
      out.set(data.subarray(0, at));
      out.set(e.bytes, at);
      out.set(data.subarray(at), at + e.bytes.length);
      return out;
    }
    case "delete": {
      const tail = data.subarray(Math.min(data.length, at + 1 + (e.value % 64)));
      const out = new Uint8Array(at + tail.length);
      out.set(data.subarray(0, at));
      out.set(tail, at);
      return out;
    }
    case "u64": {
      const out = data.slice();
      if (at + 8 <= out.length) {
        const v = INTERESTING_U64[e.value % INTERESTING_U64.length];
        new DataView(out.buffer).setBigUint64(at, v, true);
      }
      return out;
    }
  }
}

/** `base` with one to six byte edits. */
function mutatedBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(byteEdit, { minLength: 1, maxLength: 6 }).map((edits) =>
    edits.reduce(applyByteEdit, base)
  );
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface JsonEdit {
  path: number;
  kind: "replace" | "delete" | "wrap";
  value: Json;
}

const ODD_VALUES: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  0.5,
  1e308,
  -1e308,
  2 ** 53,
  "",
  "x",
  [],
  {},
  [1, 2, 3],
  { name: "x" },
];

const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom("replace", "replace", "delete", "wrap"),
  value: fc.oneof(
    fc.constantFrom(...ODD_VALUES),
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  ),
});

/** Every path in a JSON value (the root's is empty). */
function jsonPaths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...jsonPaths(v, [...prefix, i])));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...jsonPaths(v, [...prefix, k]));
  }
  return out;
}

function applyJsonEdit(root: Json, e: JsonEdit): Json {
  const copy = structuredClone(root);
  const paths = jsonPaths(copy);
  const path = paths[e.path % paths.length];
  if (path.length === 0) return e.kind === "wrap" ? [copy] : e.value;
  let parent = copy as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (e.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (e.kind === "wrap") parent[last] = [parent[last]];
  else parent[last] = e.value;
  return copy;
}

/** `base` with one to four structural edits: values replaced, keys deleted, values wrapped. */
function editedJson(base: Json): fc.Arbitrary<Json> {
  return fc.array(jsonEdit, { minLength: 1, maxLength: 4 }).map((edits) =>
    edits.reduce(applyJsonEdit, base)
  );
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** JSON text mutated either as bytes or as a structure. */
function mutatedJsonText(base: string): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    mutatedBytes(utf8.encode(base)),
    editedJson(JSON.parse(base)).map((j) => utf8.encode(JSON.stringify(j, null, 2))),
  );
}

// ---------------------------------------------------------------------------------------------
// safetensors

/** A safetensors file with a new header (edited as JSON) over the same data. */
function withHeader(bytes: Uint8Array, header: Json): Uint8Array {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const json = utf8.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + length), 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): Json {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(text.decode(bytes.subarray(8, 8 + length)));
}

/** Safetensors bytes mutated as bytes, or with their header edited as JSON. */
function mutatedSafetensors(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    mutatedBytes(base),
    editedJson(headerOf(base)).map((h) => withHeader(base, h)),
  );
}

function safetensorsTarget(): FuzzTarget<Uint8Array> {
  const base = encodeSafetensors({
    "conv1.weight": { shape: [2, 1, 3, 3], data: new Float32Array(18).map((_, i) => i / 7) },
    "conv1.bias": { shape: [2], data: Float32Array.of(0.5, -0.5) },
    scalar: { shape: [], data: Float32Array.of(3) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
  }, { format: "a3g.checkpoint", note: "fuzz" });
  return {
    name: "safetensors",
    inputs: mutatedSafetensors(base),
    run: (bytes) =>
      loadOrRefuse(
        () => decodeSafetensors(bytes, "fuzz.safetensors"),
        SafetensorsError,
        (file) => checkTensors(file.tensors),
      ),
  };
}

// ---------------------------------------------------------------------------------------------
// checkpoints

const LAYOUT: ParameterLayoutEntry[] = [
  { name: "conv1.weight", shape: [4, 1, 3, 3], offset: 0, size: 36 },
  { name: "conv1.bias", shape: [4], offset: 36, size: 4 },
  { name: "critic.weight", shape: [1, 4], offset: 40, size: 4 },
];
const SIZE = 44;

interface CheckpointInput {
  json: Uint8Array;
  weights: Uint8Array;
}

async function checkpointTarget(tempRoot?: string): Promise<FuzzTarget<CheckpointInput>> {
  const dir = await Deno.makeTempDir({ dir: tempRoot, prefix: ".fuzz-" });
  const params = new Float32Array(SIZE).map((_, i) => Math.sin(i));
  const optimizer = new Adam(LAYOUT, { lr: 0.01 });
  optimizer.step(params, new Float32Array(SIZE).map((_, i) => Math.cos(i)));
  const paths = await saveCheckpoint(`${dir}/base`, {
    params,
    layout: LAYOUT,
    optimizer: optimizer.state(),
    config: { env: "CartPole-v1", numSteps: 20 },
    counters: { frames: 1000, updates: 10 },
    normalisation: { mean: [0, 1], var: [1, 2], count: 3 },
  });
  const json = await Deno.readTextFile(paths.json);
  const weights = await Deno.readFile(paths.weights);
  const unchanged = <T>(a: fc.Arbitrary<T>, value: T) => fc.oneof(fc.constant(value), a);
  return {
    name: "checkpoint",
    inputs: fc.record({
      json: unchanged(mutatedJsonText(json), utf8.encode(json)),
      weights: unchanged(mutatedSafetensors(weights), weights),
    }),
    run: async (input) => {
      const name = `${dir}/case`;
      await Deno.writeFile(`${name}.json`, input.json);
      await Deno.writeFile(`${name}.safetensors`, input.weights);
      const target = new Float32Array(SIZE).fill(7);
      const into = new Adam(LAYOUT, { lr: 0.01 });
      const before = into.state();
      let outcome: Outcome = "accepted";
      try {
        await loadCheckpoint(name, { params: target, layout: LAYOUT, optimizer: into });
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw error;
        outcome = "refused";
        if (!target.every((x) => x === 7)) throw new Error("a refused load changed the model");
        const after = into.state();
        if (JSON.stringify(after.steps) !== JSON.stringify(before.steps)) {
          throw new Error("a refused load changed the optimizer's steps");
        }
        for (const [k, v] of Object.entries(after.tensors)) {
          if (!v.every((x, i) => Object.is(x, before.tensors[k][i]))) {
            throw new Error(`a refused load changed the optimizer's ${k}`);
          }
        }
      }
      // loading writes nothing
      const same = (a: Uint8Array, b: Uint8Array) =>
        a.length === b.length && a.every((x, i) => x === b[i]);
      if (
        !same(await Deno.readFile(`${name}.json`), input.json) ||
        !same(await Deno.readFile(`${name}.safetensors`), input.weights)
      ) throw new Error("loading changed the checkpoint's files");
      return outcome;
    },
    close: () => Deno.remove(dir, { recursive: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// TensorBoard event files

function frame(records: Uint8Array[]): Uint8Array {
  const framed = records.map(encodeRecord);
  const out = new Uint8Array(framed.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of framed) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

function tensorboardTarget(): FuzzTarget<Uint8Array> {
  const events = [
    encodeEvent({ wallTime: 1.5, step: 0, fileVersion: FILE_VERSION }),
    encodeEvent({
      wallTime: 2,
      step: 10,
      summary: { value: [{ tag: "train/episode_reward", simpleValue: -21 }] },
    }),
    encodeEvent({
      wallTime: 3,
      step: 20,
      summary: { value: [{ tag: "parameters/w", histo: makeHistogram([0.1, -0.2, 0.3, 5]) }] },
    }),
    encodeEvent({
      wallTime: 4,
      step: 0,
      summary: {
        value: [{
          tag: "config",
          metadata: { pluginData: { pluginName: "text", content: new Uint8Array(0) } },
          tensor: { dtype: 7, stringVal: [utf8.encode("hello")], tensorShape: { dim: [] } },
        }],
      },
    }),
  ];
  const base = frame(events);
  // an event's bytes mutated and framed again with correct CRCs, so the decoder sees them
  const payload = fc.tuple(fc.nat(), fc.array(byteEdit, { minLength: 1, maxLength: 6 })).map(
    ([i, edits]) => {
      const records = decodeRecords(base);
      const k = i % records.length;
      records[k] = edits.reduce(applyByteEdit, records[k]);
      return frame(records);
    },
  );
  return {
    name: "tensorboard",
    inputs: fc.oneof(mutatedBytes(base), payload),
    run: (bytes) => loadOrRefuse(() => decodeEvents(bytes, "fuzz.tfevents"), EventFileError),
  };
}

// ---------------------------------------------------------------------------------------------
// configurations: option objects (scripts, notebooks) and command lines

const FLAGS = [
  "--workers",
  "--lr",
  "--lr-final",
  "--gamma",
  "--tau",
  "--entropy-coef",
  "--max-grad-norm",
  "--num-steps",
  "--distributed-step-size",
  "--optimizer",
  "--amsgrad",
  "--optimizer-eps",
  "--seed",
  "--model",
  "--hidden-size",
  "--max-frames",
  "--max-minutes",
  "--target-reward",
  "--eval-duty",
  "--envs-per-worker",
  "--env-groups",
  "--a3g",
  "--no-eval",
  "--run-dir",
  "--load",
];
const ARG_VALUES = [
  "1",
  "0",
  "-1",
  "2.5",
  "1e-4",
  "nan",
  "Infinity",
  "none",
  "",
  "x",
  "small",
  "mlp",
];

type ConfigInput =
  | { kind: "object"; name: string; overrides: Record<string, unknown> }
  | { kind: "argv"; argv: string[] };

function configTarget(): FuzzTarget<ConfigInput> {
  const names = [...Object.keys(PRESETS), "CartPole-v1", "PongNoFrameskip-v4"];
  const keys = [...Object.keys(DEFAULTS), "learningRate", "__proto__", "constructor"];
  const valid: Record<string, unknown> = { workers: 2, lr: 1e-3, numSteps: 20, model: "small" };
  const value = fc.oneof(
    fc.constantFrom(...ODD_VALUES),
    fc.jsonValue({ maxDepth: 1 }),
    fc.double(),
    fc.constantFrom(undefined, NaN, Infinity, 10n, Symbol("x")),
  );
  const object = fc.record({
    kind: fc.constant("object" as const),
    name: fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 8 })),
    overrides: fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 }).map((d) => ({
      ...valid,
      ...d,
    })),
  });
  const argv = fc.record({
    kind: fc.constant("argv" as const),
    argv: fc.tuple(
      fc.constantFrom(...names),
      fc.array(
        fc.oneof(fc.constantFrom(...FLAGS), fc.constantFrom(...ARG_VALUES), fc.string()),
        { maxLength: 8 },
      ),
    ).map(([name, rest]) => [name, ...rest.filter((a) => !/^-(h|-help|V|-version)$/.test(a))]),
  });
  return {
    name: "config",
    inputs: fc.oneof(object, argv),
    run: (input) => {
      try {
        const config = input.kind === "object"
          ? resolveConfig(input.name, input.overrides)
          : parseTrainArgs(input.argv);
        // an accepted configuration survives the trip through config.json
        const again = JSON.parse(JSON.stringify(config));
        resolveConfig(config.preset ?? config.env, again);
        return Promise.resolve("accepted");
      } catch (error) {
        if (error instanceof ConfigError) return Promise.resolve("refused");
        throw error;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// PyTorch state_dicts (the pickle reader)

async function torchTarget(): Promise<FuzzTarget<Uint8Array>> {
  const fixtures = new URL("../../tests/fixtures/torch/", import.meta.url);
  const legacy = await Deno.readFile(new URL("small_legacy.pt", fixtures));
  const zip = await Deno.readFile(new URL("small_zip.pt", fixtures));
  // the archive's pickle mutated and the archive written again, so the pickle reader sees it
  const files = unzipSync(zip);
  const pkl = Object.keys(files).find((f) => f.endsWith("/data.pkl"))!;
  const repacked = mutatedBytes(files[pkl]).map((p) =>
    zipSync({ ...files, [pkl]: p }, { level: 0 })
  );
  return {
    name: "torch",
    inputs: fc.oneof(mutatedBytes(legacy), mutatedBytes(zip), repacked),
    run: (bytes) =>
      loadOrRefuse(() => readStateDict(bytes, "fuzz.pt"), StateDictError, checkTensors),
  };
}

/**
 * Every target, created fresh; the checkpoint target makes a temporary directory in `tempRoot`
 * (the system's by default).
 */
export async function fuzzTargets(tempRoot?: string): Promise<FuzzTarget<unknown>[]> {
  return [
    safetensorsTarget(),
    await checkpointTarget(tempRoot),
    tensorboardTarget(),
    configTarget(),
    await torchTarget(),
  ] as FuzzTarget<unknown>[];
}

/** What {@link fuzz} saw. */
export interface FuzzReport {
  name: string;
  runs: number;
  accepted: number;
  refused: number;
  /** The slowest single input, in milliseconds. */
  slowestMs: number;
}

/**
 * Runs `runs` inputs of `target` from `seed`. Throws fast-check's report (the input, shrunk, and
 * the seed to replay it) on the first input that gives anything but acceptance or the loader's
 * own error.
 */
export async function fuzz<T>(
  target: FuzzTarget<T>,
  runs: number,
  seed: number,
): Promise<FuzzReport> {
  const report: FuzzReport = { name: target.name, runs, accepted: 0, refused: 0, slowestMs: 0 };
  await fc.assert(
    fc.asyncProperty(target.inputs, async (input) => {
      const started = performance.now();
      const outcome = await target.run(input);
      report.slowestMs = Math.max(report.slowestMs, performance.now() - started);
      report[outcome]++;
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  return report;
}
