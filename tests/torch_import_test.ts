import assert from "node:assert/strict";
import { Tensor } from "../autograd/tensor.ts";
import { importStateDict } from "../io/torch_import.ts";
import { readStateDict, StateDictError } from "../io/torch_state_dict.ts";
import { importFile } from "../io/torch_import.ts";
import { checkpointModel } from "../algorithms/evaluate_checkpoint.ts";
import { withTempDir } from "./_assert.ts";
import { zipSync } from "fflate";

// Written by real PyTorch: tests/fixtures/torch/make_fixtures.py (Debian's python3-torch).
const fixtures = new URL("./fixtures/torch/", import.meta.url);
const read = (name: string) => Deno.readFile(new URL(name, fixtures));
const expected = JSON.parse(await Deno.readTextFile(new URL("outputs.json", fixtures)));

function assertNear(actual: ArrayLike<number>, wanted: number[], what: string) {
  assert.equal(actual.length, wanted.length, what);
  for (let i = 0; i < wanted.length; i++) {
    assert.ok(
      Math.abs(actual[i] - wanted[i]) <= 1e-5,
      `${what}[${i}]: ${actual[i]} vs ${wanted[i]}`,
    );
  }
}

for (
  const [family, file] of [
    ["small", "small_zip.pt"],
    ["small", "small_legacy.pt"],
    ["large", "large_zip.pt"],
  ] as const
) {
  Deno.test(`torch import: ${file} (${family}) gives PyTorch's outputs within 1e-5`, async () => {
    const { model } = importStateDict(await read(file), {
      model: family,
      env: "PongNoFrameskip-v4",
      source: file,
    });
    const { size, steps } = expected[family];
    let state = model.initialState(1);
    for (let t = 0; t < steps.length; t++) {
      const x = new Float32Array(size * size).map((_, i) =>
        Math.sin(Math.fround(Math.fround(i * Math.fround(0.37)) + t))
      );
      const out = model.sequence(new Tensor(x, [1, 1, size, size]), 1, state);
      state = out.state;
      assertNear(out.outputs.value.data, steps[t].value, `${file} step ${t} value`);
      assertNear(out.outputs.logits!.data, steps[t].logits, `${file} step ${t} logits`);
      assertNear(state!.h.data, steps[t].h, `${file} step ${t} h`);
      assertNear(state!.c.data, steps[t].c, `${file} step ${t} c`);
    }
  });
}

for (const family of ["mlp-lstm", "conv1d-lstm"] as const) {
  for (const format of ["zip", "legacy"]) {
    const file = `${family}_${format}.pt`;
    Deno.test(`torch import: ${file} (a3c_continuous's walker) gives PyTorch's outputs within 1e-5`, async () => {
      const { shape, steps } = expected[family];
      const { model } = importStateDict(await read(file), {
        model: family,
        env: "BipedalWalker-v3",
        stackFrames: shape.length === 2 ? shape[0] : undefined,
        source: file,
      });
      assert.deepEqual(model.definition.observationShape, shape);
      const size = shape.reduce((a: number, b: number) => a * b, 1);
      let state = model.initialState(1);
      for (let t = 0; t < steps.length; t++) {
        const x = new Float32Array(size).map((_, i) =>
          Math.sin(Math.fround(Math.fround(i * Math.fround(0.37)) + t))
        );
        const out = model.sequence(new Tensor(x, [1, ...shape]), 1, state);
        state = out.state;
        assertNear(out.outputs.value.data, steps[t].value, `${file} step ${t} value`);
        assertNear(out.outputs.mean!.data, steps[t].mean, `${file} step ${t} mean`);
        assertNear(out.outputs.variance!.data, steps[t].variance, `${file} step ${t} variance`);
        assertNear(state!.h.data, steps[t].h, `${file} step ${t} h`);
        assertNear(state!.c.data, steps[t].c, `${file} step ${t} c`);
      }
    });
  }
}

Deno.test("torch import: the zip and legacy formats hold the same tensors", async () => {
  const zip = readStateDict(await read("small_zip.pt"));
  const legacy = readStateDict(await read("small_legacy.pt"));
  assert.deepEqual([...zip.keys()], [...legacy.keys()]);
  for (const [name, t] of zip) assert.deepEqual(legacy.get(name), t, name);
});

Deno.test("torch import: a pickle that would run os.system is refused, naming the global", async () => {
  const marker = "/tmp/a3g-pickle-ran";
  await Deno.remove(marker).catch(() => {});
  assert.throws(
    () => readStateDict(Deno.readFileSync(new URL("evil.pt", fixtures)), "evil.pt"),
    (e: Error) =>
      e instanceof StateDictError && /^evil\.pt: refers to posix\.system, which a state_dict/
        .test(e.message),
  );
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
});

Deno.test("torch import: truncated files and other globals give the reader's own error", async () => {
  const bytes = await read("small_legacy.pt");
  for (const cut of [0, 1, 10, 100, bytes.length >> 1, bytes.length - 1]) {
    assert.throws(() => readStateDict(bytes.subarray(0, cut), "cut.pt"), StateDictError);
  }
  // GLOBAL builtins eval, then REDUCE
  const evil = new TextEncoder().encode("cbuiltins\neval\n(S'1'\ntR.");
  assert.throws(() => readStateDict(evil, "eval.pt"), /refers to builtins\.eval/);
});

Deno.test("torch import: every mismatch with the model is listed in one error", () => {
  // the small state_dict read as the large family: every conv differs, the LSTM input too
  assert.throws(
    () =>
      importStateDict(Deno.readFileSync(new URL("small_zip.pt", fixtures)), {
        model: "large",
        env: "PongNoFrameskip-v4",
        source: "small_zip.pt",
      }),
    (e: Error) =>
      e instanceof StateDictError &&
      /conv1\.weight is \[32,1,3,3\], the model needs \[32,1,5,5\]; .*lstm\.weight_ih is \[64,288\], the model needs \[64,1024\]/
        .test(e.message),
  );
});

Deno.test("deno task import: the imported model is a checkpoint that eval reads", async () => {
  await withTempDir(async (dir) => {
    const name = await importFile(new URL("small_zip.pt", fixtures).pathname, {
      model: "small",
      env: "pong",
      out: dir,
    });
    const { model, env } = await checkpointModel(name);
    env.close();
    const direct = importStateDict(await read("small_zip.pt"), { model: "small", env: "pong" });
    assert.deepEqual(model.parameters.data, direct.model.parameters.data);
  });
});

/** A zip-format state_dict `{ w: tensor }` written opcode by opcode, with the given view. */
function craftedZip(shape: number[], stride: number[], numel: number): Uint8Array {
  const b: number[] = [];
  const enc = new TextEncoder();
  const str = (s: string) => {
    const e = enc.encode(s);
    b.push(0x58, e.length, 0, 0, 0, ...e); // BINUNICODE
  };
  const int = (n: number) =>
    b.push(0x4a, n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255);
  const global = (m: string, n: string) => b.push(0x63, ...enc.encode(`${m}\n${n}\n`));
  const tuple = (xs: number[]) => (b.push(0x28), xs.forEach(int), b.push(0x74));
  b.push(0x80, 2);
  global("collections", "OrderedDict"), b.push(0x29, 0x52); // OrderedDict()
  b.push(0x28), str("w");
  global("torch._utils", "_rebuild_tensor_v2"), b.push(0x28);
  b.push(0x28), str("storage"), global("torch", "FloatStorage"), str("0"), str("cpu"), int(numel);
  b.push(0x74, 0x51); // TUPLE, BINPERSID
  int(0), tuple(shape), tuple(stride), b.push(0x89);
  global("collections", "OrderedDict"), b.push(0x29, 0x52);
  b.push(0x74, 0x52, 0x75, 0x2e); // TUPLE, REDUCE, SETITEMS, STOP
  return zipSync({
    "m/data.pkl": new Uint8Array(b),
    "m/data/0": new Uint8Array(4 * numel),
  });
}

Deno.test("torch import: hostile views and lengths are refused quickly, without huge allocations", () => {
  // a plain tensor as crafted loads, so the refusals below are about the views alone
  const ok = readStateDict(craftedZip([2, 3], [3, 1], 6), "ok.pt");
  assert.deepEqual(ok.get("w")?.shape, [2, 3]);
  for (
    const [shape, stride, numel, message] of [
      [[65536, 32768], [0, 0], 1, /needs 2147483648 values, its storage holds 1/],
      [[-2, 3], [3, 1], 6, /expected none negative/],
      [[2, 2], [3, -1], 6, /expected none negative/],
      [[2, 3], [4, 1], 6, /reaches past its storage/],
    ] as const
  ) {
    assert.throws(
      () => readStateDict(craftedZip([...shape], [...stride], numel), "view.pt"),
      (e: Error) => e instanceof StateDictError && message.test(e.message),
    );
  }
  // BINSTRING with a negative length once looped for ever
  assert.throws(
    () => readStateDict(new Uint8Array([0x54, 0xfb, 0xff, 0xff, 0xff, 0x2e]), "neg.pt"),
    /negative length/,
  );
});
