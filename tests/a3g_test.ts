/**
 * A3G against A3C: the GPU program's forward, loss gradient, backward and optimizer step against
 * the CPU model and autograd on the same weights, observations, actions and rewards; then the A3G
 * learner and trainer end to end. Runs on whatever WebGPU adapter is present (llvmpipe in CI).
 *
 * Tolerances, each relative to the largest magnitude of the CPU tensor: outputs and every
 * parameter's gradient within 1e-4 (llvmpipe's worst was 2.7e-6: the GPU sums in other orders over
 * thousands of terms, so float32 rounding differs), the parameter change of one Adam step within
 * 1e-3 (worst 1.5e-4: Adam divides by √v, which magnifies the rounding of gradients near zero).
 * A wrong index, gate or mask gives errors of order 1.
 */
import assert from "node:assert/strict";
import { GpuBackend, requestGpu } from "../autograd/backends/webgpu/mod.ts";
import { Parameters } from "../autograd/parameters.ts";
import { Rng } from "../autograd/random.ts";
import { GpuPolicy } from "../algorithms/a3g.ts";
import { assertClose } from "./_assert.ts";
import {
  CpuPolicy,
  Learner,
  type PolicyBackend,
  type Rollout,
  rolloutLoss,
} from "../algorithms/learner.ts";
import { resolveConfig } from "../algorithms/config.ts";
import { readCheckpoint } from "../io/checkpoint.ts";
import { Adam } from "../algorithms/optimizers.ts";
import { train } from "../algorithms/trainer.ts";
import { makeTrainingEnv } from "../algorithms/training_env.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { largeAtari, smallAtari } from "../models/families.ts";
import { GpuActorCritic } from "../models/gpu_actor_critic.ts";
import { modelDefinition } from "../models/mod.ts";

const context = await requestGpu();
const backend = context ? new GpuBackend(context) : null;
globalThis.addEventListener("unload", () => backend?.destroy());

function gpuTest(name: string, fn: (gpu: GpuBackend) => Promise<void>): void {
  Deno.test({
    name: `a3g: ${name}`,
    fn: () => {
      if (backend === null) throw new Error("a3g tests need a WebGPU adapter (see webgpu_test.ts)");
      return fn(backend);
    },
  });
}

const hp = {
  gamma: 0.99,
  tau: 0.95,
  entropyCoef: 0.01,
  valueCoef: 0.5,
  maxGradNorm: null,
  clipRewards: true,
  shapeRewards: false,
};

/**
 * Plays fixed rollouts (observations, reset masks, actions, rewards, episode ends) through a
 * learner backend, one after the other, and returns each rollout's acting outputs and gradient.
 */
async function playFixed(
  backend: PolicyBackend,
  shared: Float32Array,
  rollouts: { obs: Float32Array; resets: (Float32Array | null)[]; rollout: Rollout }[],
) {
  const results = [];
  for (const { obs, resets, rollout } of rollouts) {
    const K = rollout.batch, T = rollout.steps, size = backend.observationSize;
    backend.begin(shared, T);
    const logits: number[] = [], values: number[] = [];
    for (let t = 0; t < T; t++) {
      const out = await backend.act(
        obs.subarray(t * K * size, (t + 1) * K * size),
        resets[t],
        true,
      );
      logits.push(...out.logits!);
      values.push(...out.values);
    }
    let loss = 0;
    const params = await backend.gradient(rollout, (outputs) => {
      const l = rolloutLoss(outputs, rollout, backend.policy, hp).loss;
      loss = l.item();
      return l;
    });
    results.push({ logits, values, loss, grad: Float32Array.from(params.grad) });
  }
  return results;
}

const CASES: ["small" | "large", number | undefined][] = [["small", undefined], [
  "large",
  undefined,
], [
  "small",
  3,
]];
for (const [family, chunkRows] of CASES) {
  const chunks = chunkRows === undefined ? "" : `, the conv stack in chunks of ${chunkRows} rows`;
  gpuTest(
    `${family}: two updates equal the CPU A3C updates (K = 2, episode ends, resets${chunks})`,
    async (gpu) => {
      const [T, K, A, H] = [4, 2, 6, 32];
      const size = family === "small" ? 42 : 80;
      const options = {
        observationShape: [1, size, size],
        policy: { kind: "categorical" as const, actions: A },
        hiddenSize: H,
      };
      const definition = family === "small" ? smallAtari(options) : largeAtari(options);
      const cpu = new ActorCritic(definition);
      cpu.parameters.initialize(new Rng(3));
      const shared = Float32Array.from(cpu.parameters.data);
      const rng = new Rng(11);
      const obsSize = size * size;
      // Two rollouts in a row, so the second starts from the first's (non-zero) LSTM state. In the
      // second, env 1's episode ends at step 1 and its state is zeroed before step 2.
      const rollouts = [0, 1].map((i) => {
        const dones = new Uint8Array(T * K);
        const resets: (Float32Array | null)[] = Array(T).fill(null);
        if (i === 1) {
          dones[1 * K + 1] = 1;
          resets[2] = Float32Array.of(1, 0);
        }
        const rollout: Rollout = {
          steps: T,
          batch: K,
          discrete: Int32Array.from({ length: T * K }, () => rng.int(A)),
          continuous: new Float32Array(0),
          rewards: Float32Array.from({ length: T * K }, () => [-1, 0, 1][rng.int(3)]),
          dones,
          successes: null,
          bootstrap: Float32Array.of(0.3, -0.2),
        };
        const obs = Float32Array.from({ length: T * K * obsSize }, () => rng.uniform(0, 1));
        return { obs, resets, rollout };
      });

      const model = new GpuActorCritic(gpu, definition, cpu.parameters.layout(), { chunkRows });
      const onGpu = await playFixed(new GpuPolicy(model, K), shared, rollouts);
      const onCpu = await playFixed(new CpuPolicy(cpu, K), shared, rollouts);
      for (let i = 0; i < 2; i++) {
        const [g, c] = [onGpu[i], onCpu[i]];
        assertClose(g.logits, c.logits, 1e-4, `${family} rollout ${i} logits`);
        assertClose(g.values, c.values, 1e-4, `${family} rollout ${i} values`);
        assert.ok(Math.abs(g.loss - c.loss) < 1e-3 * Math.max(1, Math.abs(c.loss)));
        for (const slot of cpu.parameters.layout().slots) {
          const range = [slot.offset, slot.offset + slot.size] as const;
          assertClose(
            g.grad.subarray(...range),
            c.grad.subarray(...range),
            1e-4,
            `${family} rollout ${i} ∂${slot.name}`,
          );
        }
      }

      // The parameter change of one shared-Adam step from each gradient.
      const step = (g: Float32Array) => {
        const params = Float32Array.from(shared);
        const adam = new Adam(cpu.parameters.layout().slots, { lr: 1e-4, eps: 1e-3 }, {
          shared: false,
          size: cpu.parameters.layout().size,
        });
        adam.step(params, g);
        return params.map((p, i) => p - shared[i]);
      };
      assertClose(
        step(onGpu[1].grad),
        step(onCpu[1].grad),
        1e-3,
        `${family} Adam parameter change`,
      );
      model.destroy();
    },
  );
}

gpuTest("learner: K = 3 Pong envs, counted steps, finite changed parameters", async (gpu) => {
  const config = resolveConfig("pong", { hiddenSize: 32 });
  const envs = [0, 1, 2].map((b) => makeTrainingEnv(config, 5 + b));
  const definition = modelDefinition("small", envs[0].observationSpace, envs[0].actionSpace, 32);
  const params = new Parameters(definition.specs);
  params.initialize(new Rng(1));
  const shared = Float32Array.from(params.data);
  const model = new GpuActorCritic(gpu, definition, params.layout());
  const policy = new GpuPolicy(model, 3);
  const learner = new Learner(envs, policy, config, 5);
  const adam = new Adam(params.layout().slots, { lr: 1e-3, eps: 1e-3 }, {
    shared: false,
    size: params.layout().size,
  });
  for (let i = 0; i < 2; i++) {
    const stats = await learner.update(5, adam, shared);
    assert.equal(stats.steps, 15);
    assert.ok(Number.isFinite(stats.policyLoss) && Number.isFinite(stats.valueLoss));
    assert.ok(stats.entropy > 0 && stats.entropy <= Math.log(6) + 1e-6);
    assert.ok(stats.gradNorm > 0 && Number.isFinite(stats.gradNorm));
  }
  assert.ok(shared.every(Number.isFinite));
  assert.ok(shared.some((p, i) => p !== params.data[i]), "the update changed the parameters");
  policy.dispose();
  model.destroy();
  for (const env of envs) env.close();
});

gpuTest("trainer: --a3g runs its workers on the GPU and counts every update", async () => {
  const runDir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("pong", {
      a3g: true,
      workers: 1,
      envsPerWorker: 2,
      envGroups: 2,
      numSteps: 5,
      hiddenSize: 32,
      maxFrames: 400,
      evaluate: false,
      runDir,
    });
    const result = await train(config, { print: false });
    assert.equal(result.reason, "max-frames", result.error ?? "");
    assert.ok(result.frames >= 400);
    // every update is 5 steps × 2 envs × 4 frames
    assert.equal(result.frames, result.updates * 5 * 2 * 4);
    const saved = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
    assert.equal(saved.a3g, true);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
});

gpuTest(
  "Ctrl-C: A3G workers finish their update, free their devices and the task exits 0",
  async () => {
    if (Deno.build.os === "windows") return; // no SIGINT to send
    const dir = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../scripts/train.ts", import.meta.url).pathname, "pong"]
        .concat(["--a3g", "--workers", "2", "--envs-per-worker", "2", "--env-groups", "1"])
        .concat(["--num-steps", "5", "--hidden-size", "32", "--no-eval", "--run-dir", dir]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Wait until both workers have reported updates, then interrupt.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const text = await Deno.readTextFile(`${dir}/metrics.jsonl`).catch(() => "");
      const workers = new Set(
        text.trim().split("\n").filter((l) => l.includes('"losses"')).map((l) =>
          JSON.parse(l).worker
        ),
      );
      if (workers.size === 2) break;
      assert.ok(Date.now() < deadline, "A3G training did not start within two minutes");
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGINT");
    const { code, stdout, stderr } = await child.output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 130, output);
    assert.doesNotMatch(output, /WebGPU error|failed|crashed/, output);
    const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
    assert.equal(JSON.parse(lines.at(-1)!).reason, "interrupted");
    const saved = await readCheckpoint(`${dir}/latest`);
    assert.ok(saved.counters!.updates >= 2);
    assert.ok(saved.params.every(Number.isFinite));
    await Deno.remove(dir, { recursive: true });
  },
);
