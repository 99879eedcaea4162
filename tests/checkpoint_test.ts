import assert from "node:assert/strict";
import { join } from "node:path";
import { Adam, RMSprop } from "../algorithms/optimizers.ts";
import {
  CheckpointError,
  checkpointPaths,
  loadCheckpoint,
  type ParameterLayoutEntry,
  readCheckpoint,
  saveCheckpoint,
} from "../io/checkpoint.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "../io/safetensors.ts";
import { writeFileAtomic } from "../io/atomic_file.ts";
import { withTempDir as withTempDirIn } from "./_assert.ts";

const withTempDir = (fn: (dir: string) => Promise<void>) =>
  withTempDirIn(fn, "a3g_checkpoint_test_");

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** A file's bytes, or null when it does not exist. */
function readIfThere(path: string): Promise<Uint8Array | null> {
  return Deno.readFile(path).catch(() => null);
}

function bits(x: Float32Array): number[] {
  return Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
}

// ---------------------------------------------------------------------------------------------
// safetensors

Deno.test("safetensors: header of a tiny tensor, byte by byte", () => {
  const bytes = encodeSafetensors({ a: { shape: [2], data: Float32Array.of(1, 2) } });
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes
  const expected = [
    ...[56, 0, 0, 0, 0, 0, 0, 0], // header length 56 = 54 padded to a multiple of 8, u64 LE
    ...new TextEncoder().encode(json),
    0x20, // padding with spaces
    0x20,
    ...[0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
    ...[0x00, 0x00, 0x00, 0x40], // 2.0f
  ];
  assert.deepEqual(Array.from(bytes), expected);
});

Deno.test("safetensors: round trip is bit-exact, with metadata, scalars and empty tensors", () => {
  const special = Float32Array.of(
    0,
    -0,
    1e-45,
    -3.4028234663852886e38,
    Infinity,
    -Infinity,
    Math.PI,
  );
  const u = new Uint32Array(special.buffer);
  const nan = new Float32Array(2);
  new Uint32Array(nan.buffer).set([0x7fc00001, 0xffa00000]); // NaNs with payloads
  const random = new Float32Array(1000).map((_, i) => Math.sin(i * 12.9898) * 43758.5453);
  const tensors = new Map([
    ["conv1.weight", { shape: [10, 1, 10, 10], data: random }],
    ["special", { shape: [u.length], data: special }],
    ["nan", { shape: [2, 1], data: nan }],
    ["scalar", { shape: [], data: Float32Array.of(0.1) }],
    ["empty", { shape: [0, 3], data: new Float32Array(0) }],
  ]);
  const metadata = { format: "pt", note: "ünïcode ✓" };
  const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.deepEqual(decoded.metadata, metadata);
  assert.deepEqual([...decoded.tensors.keys()], [...tensors.keys()]);
  for (const [name, { shape, data }] of tensors) {
    const got = decoded.tensors.get(name)!;
    assert.deepEqual(got.shape, shape, name);
    assert.deepEqual(bits(got.data), bits(data), name);
  }
  // the data section starts 8-byte aligned
  const bytes = encodeSafetensors(tensors);
  assert.equal(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0);
});

Deno.test("safetensors: subarray views are written from their own offset", () => {
  const flat = Float32Array.of(1, 2, 3, 4, 5);
  const bytes = encodeSafetensors({ b: { shape: [2], data: flat.subarray(2, 4) } });
  assert.deepEqual(Array.from(decodeSafetensors(bytes).tensors.get("b")!.data), [3, 4]);
});

Deno.test("safetensors: truncated files are named as such", () => {
  const bytes = encodeSafetensors({ w: { shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 5), "w.st"), {
    name: "SafetensorsError",
    message: "w.st: truncated: 5 bytes, a safetensors file starts with an 8-byte header length",
  });
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, 30), "w.st"),
    /w.st: truncated: the header needs \d+ bytes/,
  );
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, bytes.length - 3), "w.st"),
    /w.st: truncated: w ends at data byte 16, the file has 13 bytes of data/,
  );
});

Deno.test("safetensors: foreign and malformed files are refused", () => {
  const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13);
  assert.throws(
    () => decodeSafetensors(png, "x"),
    /x: not a safetensors file \(its first 8 bytes give a header length/,
  );
  const text = new TextEncoder().encode('{"weights": [1, 2, 3]}');
  assert.throws(() => decodeSafetensors(text, "x"), /x: not a safetensors file/);
  const withHeader = (header: string, data = 0) => {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + h.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  assert.throws(
    () => decodeSafetensors(withHeader("[1,2,3]   ")),
    /its header does not start with '\{'/,
  );
  assert.throws(() => decodeSafetensors(withHeader("{not json}")), /its header is not valid JSON/);
  assert.throws(
    () =>
      decodeSafetensors(withHeader('{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}', 4)),
    /h has dtype F16, expected F32/,
  );
  assert.throws(
    () =>
      decodeSafetensors(withHeader('{"h":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8)),
    /h has data_offsets \[0, 8\] \(8 bytes\), its shape \[3\] needs 12 bytes/,
  );
  assert.throws(
    () =>
      decodeSafetensors(withHeader('{"h":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)),
    /h starts at data byte 4, expected 0/,
  );
  assert.throws(
    () =>
      decodeSafetensors(withHeader('{"h":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 8)),
    /4 bytes follow the last tensor's data/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } }),
    /w has 2 values, its shape \[3\] needs 3/,
  );
});

Deno.test("safetensors: files are written atomically and read back", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "policy.safetensors");
    await writeSafetensors(path, {
      "actor.weight": { shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) },
    });
    await writeSafetensors(path, {
      "actor.weight": { shape: [2, 2], data: Float32Array.of(5, 6, 7, 8) },
    });
    assert.deepEqual(await listDir(dir), ["policy.safetensors"], "no temporary file left");
    assert.deepEqual(Array.from((await readSafetensors(path)).tensors.get("actor.weight")!.data), [
      5,
      6,
      7,
      8,
    ]);
    await assert.rejects(readSafetensors(join(dir, "missing.safetensors")), SafetensorsError);
  });
});

Deno.test("writeFileAtomic: a failed rename leaves no temporary file and the target as it was", async () => {
  await withTempDir(async (dir) => {
    const target = join(dir, "occupied");
    await Deno.mkdir(target); // renaming a file over a directory fails
    await assert.rejects(writeFileAtomic(target, "data"));
    assert.deepEqual(await listDir(dir), ["occupied"]);
    assert.equal((await Deno.stat(target)).isDirectory, true);
  });
});

// ---------------------------------------------------------------------------------------------
// checkpoints

const layout: ParameterLayoutEntry[] = [
  { name: "conv1.weight", shape: [4, 1, 3, 3], offset: 0, size: 36 },
  { name: "conv1.bias", shape: [4], offset: 36, size: 4 },
  { name: "critic.weight", shape: [1, 4], offset: 40, size: 4 },
];
const SIZE = 44;

function model(seed: number) {
  const params = new Float32Array(SIZE).map((_, i) => Math.sin(seed * 1000 + i));
  const optimizer = new Adam(layout, { lr: 0.01, amsgrad: true });
  for (let k = 0; k < 3; k++) {
    optimizer.step(params, new Float32Array(SIZE).map((_, i) => Math.cos(seed + k * SIZE + i)));
  }
  return { params, optimizer };
}

Deno.test("checkpoint: save and load round trip restores parameters, optimizer and metadata", async () => {
  await withTempDir(async (dir) => {
    const { params, optimizer } = model(1);
    const name = join(dir, "runs", "pong", "latest");
    const paths = await saveCheckpoint(name, {
      params,
      layout,
      optimizer: optimizer.state(),
      config: { env: "pong", gamma: 0.99, numSteps: 20 },
      counters: { frames: 123456, updates: 789 },
      normalisation: { mean: [0.1, 0.2], var: [1.5, 2.5], count: 1e-4 },
    });
    assert.deepEqual(paths, checkpointPaths(name));
    assert.deepEqual(await listDir(join(dir, "runs", "pong")), [
      "latest.json",
      "latest.safetensors",
    ]);

    // the weights file is a plain safetensors file with the model's names
    const file = await readSafetensors(paths.weights);
    assert.deepEqual([...file.tensors.keys()], [
      "conv1.weight",
      "conv1.bias",
      "critic.weight",
      "optimizer.m",
      "optimizer.v",
      "optimizer.v_hat",
    ]);
    assert.deepEqual(file.tensors.get("conv1.weight")!.shape, [4, 1, 3, 3]);

    const fresh = new Float32Array(SIZE);
    const freshOptimizer = new Adam(layout, { lr: 0.01, amsgrad: true });
    const loaded = await loadCheckpoint(name + ".safetensors", {
      params: fresh,
      layout,
      optimizer: freshOptimizer,
    });
    assert.deepEqual(bits(fresh), bits(params));
    assert.deepEqual(freshOptimizer.state(), optimizer.state());
    assert.deepEqual(freshOptimizer.steps(), [3, 3, 3]);
    assert.deepEqual(loaded.config, { env: "pong", gamma: 0.99, numSteps: 20 });
    assert.deepEqual(loaded.counters, { frames: 123456, updates: 789 });
    assert.deepEqual(loaded.normalisation, { mean: [0.1, 0.2], var: [1.5, 2.5], count: 1e-4 });

    // without a model: arranged by the saved layout
    const read = await readCheckpoint(name);
    assert.deepEqual(bits(read.params), bits(params));
    assert.deepEqual(read.layout, layout);
  });
});

/** Saves model(1) as `dir/latest`, then runs `corrupt` and checks that loading fails with `message`
 * and leaves the target parameters, the optimizer and the files on disk as they were. */
async function assertLoadFails(
  corrupt: (paths: { weights: string; json: string }, dir: string) => Promise<void>,
  message: RegExp | ((dir: string) => string),
  options: { layout?: ParameterLayoutEntry[]; optimizer?: Adam | RMSprop } = {},
) {
  await withTempDir(async (dir) => {
    const saved = model(1);
    const paths = await saveCheckpoint(join(dir, "latest"), {
      params: saved.params,
      layout,
      optimizer: saved.optimizer.state(),
    });
    await corrupt(paths, dir);
    const before = {
      weights: await readIfThere(paths.weights),
      json: await readIfThere(paths.json),
    };
    const target = model(2);
    const optimizer = options.optimizer ?? target.optimizer;
    const paramsBefore = target.params.slice(), stateBefore = optimizer.state();
    const error = await loadCheckpoint(join(dir, "latest"), {
      params: target.params,
      layout: options.layout ?? layout,
      optimizer,
    }).then(() => null, (e) => e);
    assert.ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
    if (typeof message === "function") assert.equal(error.message, message(dir));
    else assert.match(error.message, message);
    assert.deepEqual(target.params, paramsBefore, "parameters untouched");
    assert.deepEqual(optimizer.state(), stateBefore, "optimizer untouched");
    assert.deepEqual(await readIfThere(paths.weights), before.weights, "weights file untouched");
    assert.deepEqual(await readIfThere(paths.json), before.json, "json file untouched");
  });
}

Deno.test("checkpoint: a shape mismatch names the tensor, both shapes and the file", async () => {
  // the model now takes 2 input channels where the checkpoint has 1
  const other: ParameterLayoutEntry[] = [
    { name: "conv1.weight", shape: [4, 2, 3, 3], offset: 0, size: 72 },
    { name: "conv1.bias", shape: [4], offset: 72, size: 4 },
    { name: "critic.weight", shape: [1, 4], offset: 76, size: 4 },
  ];
  await assertLoadFails(
    async () => {},
    (dir) =>
      `checkpoint ${
        join(dir, "latest.safetensors")
      }: conv1.weight has shape [4,1,3,3], the model expects [4,2,3,3]`,
    { layout: other },
  );
});

Deno.test("checkpoint: missing and extra tensors are named", async () => {
  const extra = [...layout, { name: "actor.weight", shape: [2, 4], offset: 44, size: 8 }];
  await assertLoadFails(
    async () => {},
    /latest.safetensors: has no tensor actor.weight, the model expects \[2,4\]/,
    { layout: extra },
  );
  await assertLoadFails(
    async () => {},
    /latest.safetensors: has a tensor critic.weight \[1,4\] that the model does not have/,
    { layout: layout.slice(0, 2) },
  );
});

Deno.test("checkpoint: a truncated weights file fails and changes nothing", async () => {
  await assertLoadFails(
    async ({ weights }) => {
      const bytes = await Deno.readFile(weights);
      await Deno.writeFile(weights, bytes.subarray(0, bytes.length - 10));
    },
    /^checkpoint .*latest.safetensors: truncated: optimizer.v_hat ends at data byte \d+, the file has \d+ bytes of data$/,
  );
  await assertLoadFails(async ({ weights }) => {
    await Deno.writeFile(weights, new Uint8Array(0));
  }, /latest.safetensors: truncated: 0 bytes/);
});

Deno.test("checkpoint: foreign files fail and change nothing", async () => {
  await assertLoadFails(async ({ weights }) => {
    await Deno.writeTextFile(weights, "PK\x03\x04 this is a zip archive, not tensors");
  }, /^checkpoint .*latest.safetensors: not a safetensors file/);
  await assertLoadFails(async ({ json }) => {
    await Deno.writeTextFile(json, "{ truncated");
  }, /^checkpoint .*latest.json: is not valid JSON/);
  await assertLoadFails(
    async ({ json }) => {
      await Deno.writeTextFile(json, JSON.stringify({ format: "something-else" }));
    },
    /latest.json: is not an a3g checkpoint \(format is "something-else", expected "a3g.checkpoint"\)/,
  );
  await assertLoadFails(async ({ json }) => {
    await Deno.remove(json);
  }, /latest.json: cannot be read/);
});

Deno.test("checkpoint: files from two different saves are detected", async () => {
  await assertLoadFails(async ({ json }, dir) => {
    const first = await Deno.readFile(json);
    const again = model(3);
    await saveCheckpoint(join(dir, "latest"), {
      params: again.params,
      layout,
      optimizer: again.optimizer.state(),
    });
    await Deno.writeFile(json, first); // as if a crash came between the two renames
  }, /latest.safetensors: belongs to another save than latest.json/);
});

Deno.test("checkpoint: an incompatible optimizer is refused before anything is written", async () => {
  await assertLoadFails(
    async () => {},
    /latest.json: optimizer state does not fit: RMSprop.loadState: state is for adam, expected rmsprop/,
    { optimizer: new RMSprop(layout) },
  );
  // saved without AMSGrad, loaded into an AMSGrad optimizer (the target's)
  await assertLoadFails(
    async (_, dir) => {
      const plain = model(1);
      await saveCheckpoint(join(dir, "latest"), {
        params: plain.params,
        layout,
        optimizer: new Adam(layout).state(),
      });
    },
    /latest.json: optimizer state does not fit: Adam.loadState: state has no tensor v_hat \(it has m, v\)/,
  );
  // saved without any optimizer state
  await assertLoadFails(async (_, dir) => {
    await saveCheckpoint(join(dir, "latest"), { params: model(1).params, layout });
  }, /latest.json: has no optimizer state/);
});

Deno.test("checkpoint: a failed save leaves the previous checkpoint intact and no temporary files", async () => {
  await withTempDir(async (dir) => {
    const good = model(1);
    const name = join(dir, "latest");
    const paths = await saveCheckpoint(name, {
      params: good.params,
      layout,
      optimizer: good.optimizer.state(),
    });
    const before = {
      weights: await Deno.readFile(paths.weights),
      json: await Deno.readFile(paths.json),
    };
    // a layout that does not fit the vector is refused before anything is written
    await assert.rejects(
      saveCheckpoint(name, { params: new Float32Array(10), layout }),
      /checkpoint .*latest.safetensors: conv1.weight ends at 36, the parameter vector has 10 values/,
    );
    // a write that fails at the rename (the target is a directory) cleans up after itself
    await Deno.mkdir(join(dir, "blocked.safetensors"));
    await assert.rejects(saveCheckpoint(join(dir, "blocked"), { params: good.params, layout }));
    assert.deepEqual(await listDir(dir), [
      "blocked.safetensors",
      "latest.json",
      "latest.safetensors",
    ]);
    assert.deepEqual(await Deno.readFile(paths.weights), before.weights);
    assert.deepEqual(await Deno.readFile(paths.json), before.json);
  });
});

/** Starts `checkpoint_kill_child.ts` with `args` (name, value, and a stage or `loop`). */
function savingChild(args: string[], stdout: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      new URL("./checkpoint_kill_child.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout,
    stderr: "inherit",
  }).spawn();
}

/** Runs the saving child; with a stage, kills it with SIGKILL once it reports reaching that stage. */
async function saveInChild(name: string, value: number, killAt?: "weights" | "json" | "done") {
  const child = savingChild([name, String(value), ...(killAt ? [killAt] : [])], "piped");
  if (killAt === undefined) {
    await child.stdout.cancel();
    assert.equal((await child.status).code, 0);
    return;
  }
  let seen = "";
  const reader = child.stdout.getReader();
  while (!seen.includes(`at ${killAt}`)) {
    const { value: chunk, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(chunk);
  }
  child.kill("SIGKILL");
  reader.releaseLock();
  await child.stdout.cancel();
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL", `the child ended by itself (${seen})`);
}

Deno.test("checkpoint: a save killed with SIGKILL at any step leaves the old or the new checkpoint", async () => {
  await withTempDir(async (dir) => {
    const name = join(dir, "latest");
    const loaded = async () => {
      const c = await readCheckpoint(name);
      assert.ok(c.params.every((x) => x === c.params[0]), "parameters from one save only");
      assert.equal(c.counters?.frames, c.params[0]);
      return c.params[0];
    };
    await saveInChild(name, 1);
    assert.equal(await loaded(), 1);
    await saveInChild(name, 2, "weights");
    assert.equal(await loaded(), 1);
    // killed between the two renames: the weights are new, the JSON file is the old one's
    await saveInChild(name, 3, "json");
    assert.equal(await loaded(), 1);
    assert.match(
      (await readCheckpoint(name)).recovered ?? "",
      /is from a newer save than latest\.json/,
    );
    // a save starting from that state, killed at each step, still leaves the first checkpoint
    await saveInChild(name, 4, "weights");
    assert.equal(await loaded(), 1);
    await saveInChild(name, 5, "json");
    assert.equal(await loaded(), 1);
    await saveInChild(name, 6, "done");
    assert.equal(await loaded(), 6);
    await saveInChild(name, 7);
    assert.equal(await loaded(), 7);
    // nothing left behind but the two files (and no temporary file)
    assert.deepEqual(await listDir(dir), ["latest.json", "latest.safetensors"]);
  });
});

Deno.test("checkpoint: loading while another process saves again and again always reads one whole save", async () => {
  await withTempDir(async (dir) => {
    const name = join(dir, "latest");
    const child = savingChild([name, "1", "loop"], "null");
    try {
      while (await Deno.stat(`${name}.json`).then(() => false, () => true)) {
        await new Promise((r) => setTimeout(r, 20));
      }
      let last = 0;
      for (let i = 0; i < 200; i++) {
        const c = await readCheckpoint(name);
        assert.ok(c.params.every((x) => x === c.params[0]), "parameters from one save only");
        assert.equal(c.counters?.frames, c.params[0]);
        assert.ok(c.params[0] >= last, "never an older save than one already read");
        last = c.params[0];
      }
      assert.ok(last > 1, "the saves went on while loading");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  });
});
