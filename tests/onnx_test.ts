import assert from "node:assert/strict";
import { Rng } from "../autograd/random.ts";
import { noGrad, Tensor } from "../autograd/tensor.ts";
import { box, discrete, type Space } from "../envs/core.ts";
import { exportOnnx, OnnxError, readOnnxMetadata } from "../io/onnx.ts";
import { OnnxSession, type OnnxTensor } from "../io/onnx_runtime.ts";
import { makeModel, MODEL_NAMES } from "../models/mod.ts";
import { resolveConfig } from "../algorithms/config.ts";
import { makeTrainingEnv } from "../algorithms/training_env.ts";
import { saveCheckpoint } from "../io/checkpoint.ts";
import { train } from "../algorithms/trainer.ts";
import { evaluateCheckpoint, evaluateOnnxModel } from "../algorithms/evaluate_checkpoint.ts";
import { exportOnnxModel } from "../algorithms/export_checkpoint.ts";

/** Largest |a − b| over two arrays of the same length. */
function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  assert.equal(a.length, b.length, `${what}: lengths differ`);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

function uniform(n: number, rng: Rng, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng.random() - 1));
}

const cases: [string, string, Space, Space, number][] = [
  ["small", "small", box([1, 42, 42], -1, 1), discrete(6), 16],
  ["large", "large", box([1, 80, 80], -1, 1), discrete(4), 16],
  ["small-ff", "small-ff", box([1, 42, 42], -1, 1), discrete(5), 16],
  ["large-ff", "large-ff", box([1, 80, 80], -1, 1), discrete(3), 8],
  ["small-80", "small-80", box([1, 80, 80], -1, 1), discrete(6), 8],
  ["mlp-lstm", "mlp-lstm", box([24], -1, 1), box([4], -1, 1), 16],
  ["conv1d-lstm", "conv1d-lstm", box([4, 24], -1, 1), box([4], -1, 1), 16],
  ["mlp (discrete)", "mlp", box([4], -1, 1), discrete(2), 16],
  ["mlp (continuous)", "mlp", box([3], -1, 1), box([2], -1, 1), 16],
];

Deno.test("onnx: every model family in the registry is tested below", () => {
  assert.deepEqual([...new Set(cases.map((c) => c[1]))].sort(), [...MODEL_NAMES].sort());
});

for (const [label, family, obsSpace, actSpace, hidden] of cases) {
  Deno.test(`onnx: ${label} matches the model's own forward in onnxruntime`, async () => {
    const model = makeModel(family, obsSpace, actSpace, hidden);
    const rng = new Rng(7);
    model.parameters.initialize(rng);
    // perturb the biases too (most initialise to zero) so every parameter is exercised
    for (const name of model.parameters.names) {
      if (name.includes("bias")) {
        const data = model.parameters.get(name).data;
        for (let k = 0; k < data.length; k++) data[k] += 0.1 * (2 * rng.random() - 1);
      }
    }
    const bytes = exportOnnx(model);
    const info = readOnnxMetadata(bytes);
    assert.equal(info.family, family);
    assert.deepEqual(info.policy, model.policy);
    assert.deepEqual(info.observationShape, [...model.definition.observationShape]);
    assert.equal(info.hiddenSize, model.recurrent ? hidden : null);

    const rows = 3;
    const shape = model.definition.observationShape;
    const obs = uniform(rows * shape.reduce((a, b) => a * b, 1), rng, 1);
    const feeds: Record<string, OnnxTensor> = { obs: { data: obs, dims: [rows, ...shape] } };
    let state = null;
    if (model.recurrent) {
      const h = uniform(rows * hidden, rng, 0.5), c = uniform(rows * hidden, rng, 1);
      feeds.h = { data: h, dims: [rows, hidden] };
      feeds.c = { data: c, dims: [rows, hidden] };
      state = {
        h: new Tensor(h.slice(), [rows, hidden]),
        c: new Tensor(c.slice(), [rows, hidden]),
      };
    }
    const expected = noGrad(() =>
      model.sequence(new Tensor(obs.slice(), [rows, ...shape]), 1, state)
    );

    const session = await OnnxSession.create(bytes);
    try {
      assert.deepEqual([...session.inputNames], Object.keys(feeds));
      const got = await session.run(feeds);
      const want: Record<string, Tensor> = {
        value: expected.outputs.value,
        ...(expected.outputs.logits ? { logits: expected.outputs.logits } : {}),
        ...(expected.outputs.mean ? { mean: expected.outputs.mean } : {}),
        ...(expected.outputs.variance ? { variance: expected.outputs.variance } : {}),
        ...(expected.state ? { h_out: expected.state.h, c_out: expected.state.c } : {}),
      };
      assert.deepEqual([...session.outputNames].sort(), Object.keys(want).sort());
      const diffs: string[] = [];
      for (const [name, tensor] of Object.entries(want)) {
        assert.deepEqual(got[name].dims, [...tensor.shape], `${name} dims`);
        const d = maxAbsDiff(got[name].data, tensor.data, name);
        diffs.push(`${name} ${d.toExponential(2)}`);
        assert.ok(d <= 1e-4, `${label}: ${name} differs by ${d}`);
        const scale = maxAbsDiff(tensor.data, new Float32Array(tensor.data.length), name);
        assert.ok(scale > 1e-3, `${label}: ${name} is all but zero (${scale}), a weak check`);
      }
      console.log(`${label}: max abs diff ${diffs.join(", ")}`);
    } finally {
      await session.close();
    }
  });
}

Deno.test("onnx: an unknown layer or activation, or a file without a3g metadata, is refused by name", () => {
  const model = makeModel("mlp", box([4], -1, 1), discrete(2), 4);
  const [fc1, fc2] = model.definition.encoder;
  const withLayers = (encoder: unknown[]) =>
    ({ ...model, definition: { ...model.definition, encoder } }) as unknown as typeof model;
  assert.throws(
    () => exportOnnx(withLayers([fc1, { ...fc2, op: "attention", name: "mystery" }])),
    (e: Error) => e instanceof OnnxError && /layer 'mystery' is a 'attention'/.test(e.message),
  );
  assert.throws(
    () => exportOnnx(withLayers([fc1, { ...fc2, activation: "gelu" }])),
    (e: Error) => e instanceof OnnxError && /layer 'fc2' has activation 'gelu'/.test(e.message),
  );
  assert.throws(
    () => readOnnxMetadata(new Uint8Array([0xff, 0xff, 0xff]), "x.onnx"),
    (e: Error) => e instanceof OnnxError && e.message.startsWith("x.onnx: is not an ONNX model"),
  );
});

Deno.test("onnx: eval --backend onnx plays the same episodes as the ts backend", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await train(
      resolveConfig("cartpole", { workers: 1, maxFrames: 5_000, evaluate: false, runDir: dir }),
      { print: false },
    );
    const checkpoint = `${dir}/latest`;
    const ts = await evaluateCheckpoint("cartpole", checkpoint, 3, 5);
    const onnx = await evaluateCheckpoint("cartpole", checkpoint, 3, 5, { backend: "onnx" });
    assert.deepEqual(onnx, ts);
    assert.equal(ts.rewards.length, 3);

    // the exported file plays the same, with the env settings from its own metadata
    const file = `${dir}/policy.onnx`;
    assert.ok(await exportOnnxModel(checkpoint, file) > 0);
    const info = readOnnxMetadata(await Deno.readFile(file));
    assert.equal(info.family, "mlp");
    assert.equal(info.metadata["a3g.env"], "CartPole-v1");
    assert.deepEqual(await evaluateOnnxModel("cartpole", file, 3, 5), ts);

    // the command line: same numbers, same format
    const run = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../scripts/eval.ts", import.meta.url).pathname, ...args],
        env: { NO_COLOR: "1" },
      }).output();
      const text = new TextDecoder();
      assert.equal(out.code, 0, text.decode(out.stderr));
      return JSON.parse(text.decode(out.stdout));
    };
    const { env, episodes, mean, std, min, max } = ts;
    const summary = { env, episodes, mean, std, min, max };
    const common = ["cartpole", "--episodes", "3", "--seed", "5", "--json"];
    assert.deepEqual(
      await run(...common, "--checkpoint", checkpoint, "--backend", "onnx"),
      summary,
    );
    assert.deepEqual(await run(...common, "--onnx-model", file), summary);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onnx: eval --backend onnx carries the LSTM state and plays Gaussian means (Pendulum)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("pendulum", { hiddenSize: 16 });
    const env = makeTrainingEnv(config, 1);
    const model = makeModel(config.model, env.observationSpace, env.actionSpace, 16);
    env.close();
    model.parameters.initialize(new Rng(3));
    await saveCheckpoint(`${dir}/random`, {
      params: model.parameters.data,
      layout: model.parameters.layout().slots,
      config,
    });
    const ts = await evaluateCheckpoint("pendulum", `${dir}/random`, 2, 9);
    const onnx = await evaluateCheckpoint("pendulum", `${dir}/random`, 2, 9, { backend: "onnx" });
    assert.deepEqual(onnx.lengths, ts.lengths);
    // actions agree to float rounding, so the returns do to well under a thousandth
    for (let k = 0; k < 2; k++) {
      const d = Math.abs(onnx.rewards[k] - ts.rewards[k]);
      assert.ok(d <= 1e-3 * Math.max(1, Math.abs(ts.rewards[k])), `episode ${k} differs by ${d}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
