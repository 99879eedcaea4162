import assert from "node:assert/strict";
import { checkOp } from "../autograd/check.ts";
import { tensor } from "../autograd/tensor.ts";
import { a3cLoss } from "../algorithms/a3c.ts";
import { resolveConfig } from "../algorithms/config.ts";
import { train } from "../algorithms/trainer.ts";
import { readCheckpoint } from "../io/checkpoint.ts";
import { categoricalLogProbEntropy } from "../models/heads.ts";
import {
  checkpointModel,
  evaluateCheckpoint,
  recordCheckpointGif,
} from "../algorithms/evaluate_checkpoint.ts";
import { observationStatistics } from "../envs/pipeline.ts";
import { exportModel, exportWeights } from "../algorithms/export_checkpoint.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { readEvents } from "../logging/tensorboard.ts";

const hp = { gamma: 0.9, tau: 1, entropyCoef: 0.01, valueCoef: 0.5 };

Deno.test("a3c loss: hand-computed value for a two-step rollout", () => {
  // R_1 = 0 + .9·1 = .9, R_0 = 1 + .9·.9 = 1.81; τ = 1 so A = R − V = [1.31, .7]
  // policy = −(−1·1.31 − 2·.7) − .01·(1 + .5) = 2.695; value = ½(1.31² + .7²) = 1.10305
  const out = a3cLoss(
    {
      logProb: tensor([-1, -2], [2]),
      entropy: tensor([1, 0.5], [2]),
      values: tensor([0.5, 0.2], [2], { requiresGrad: true }),
    },
    [1, 0],
    1,
    2,
    hp,
  );
  assert.ok(Math.abs(out.policyLoss.item() - 2.695) < 1e-5);
  assert.ok(Math.abs(out.valueLoss.item() - 1.10305) < 1e-5);
  assert.ok(Math.abs(out.loss.item() - (2.695 + 0.5 * 1.10305)) < 1e-5);
  out.loss.backward();
});

Deno.test("a3c loss: gradients w.r.t. logits match finite differences", () => {
  const actions = Int32Array.of(2, 0, 1);
  const rewards = [0.5, -1, 1];
  for (const horizon of [3, 2]) { // 2: a dropped last transition must not reach the loss
    checkOp(`a3cLoss(horizon ${horizon})`, (logits) => {
      const { logProb, entropy } = categoricalLogProbEntropy(logits, actions);
      const values = tensor([0.2, -0.3, 0.4], [3], { dtype: logits.dtype });
      return a3cLoss({ logProb, entropy, values }, rewards, 0.3, horizon, { ...hp, tau: 0.8 })
        .loss;
    }, [{ shape: [3, 3], values: [0.1, -0.4, 0.7, 0.3, 0.2, -0.5, -0.1, 0.6, 0.05] }]);
  }
});

Deno.test("a3c loss: the value gradient is −valueCoef·(R − V) with the targets held fixed", () => {
  // Targets and advantages are constants of the loss (rl_a3c_pytorch detaches them).
  const values = tensor([0.5, 0.2], [2], { requiresGrad: true, dtype: "float64" });
  const zero = tensor([0, 0], [2], { dtype: "float64" });
  a3cLoss({ logProb: zero, entropy: zero, values }, [1, 0], 1, 2, hp).loss.backward();
  assert.ok(Math.abs(values.grad![0] - -0.5 * (1.81 - 0.5)) < 1e-12);
  assert.ok(Math.abs(values.grad![1] - -0.5 * (0.9 - 0.2)) < 1e-12);
});

const quiet = { print: false };

Deno.test("hogwild: two workers update one shared model; every update is counted", async () => {
  const dir = await Deno.makeTempDir();
  const config = resolveConfig("cartpole", {
    workers: 2,
    maxFrames: 20_000,
    evaluate: false,
    runDir: dir,
  });
  const result = await train(config, quiet);
  assert.equal(result.reason, "max-frames");
  assert.ok(result.frames >= 20_000);
  const saved = await readCheckpoint(`${dir}/latest`);
  assert.equal(saved.counters!.updates, result.updates);
  // The shared optimizer counted each worker's steps: one per update per parameter tensor.
  for (const n of saved.optimizer!.steps) assert.equal(n, result.updates);
  assert.ok(saved.params.every(Number.isFinite));
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
  assert.ok(lines.some((l) => JSON.parse(l).type.startsWith("train_episode")));
  assert.equal(JSON.parse(lines.at(-1)!).type, "end");
  const evaluation = await evaluateCheckpoint("cartpole", `${dir}/latest`, 3, 1);
  assert.equal(evaluation.env, "CartPole-v1");
  assert.equal(evaluation.rewards.length, 3);
  // CartPole pays 1 a step: each episode's return is its length
  assert.deepEqual(evaluation.rewards, evaluation.lengths);
  assert.equal(evaluation.mean, evaluation.rewards.reduce((a, b) => a + b, 0) / 3);
  assert.ok(evaluation.max <= 500, "CartPole-v1 episodes are cut at 500 steps");
  // a GIF of one greedy episode, drawn from the env's own frames
  const gif = await recordCheckpointGif("cartpole", `${dir}/latest`, `${dir}/play.gif`, 1);
  assert.equal(gif.frames, gif.steps + 1);
  assert.equal(new TextDecoder().decode((await Deno.readFile(gif.path)).subarray(0, 6)), "GIF89a");
  // TensorBoard: the config as text and the training scalars
  const eventsFile = [...Deno.readDirSync(dir)].find((e) =>
    e.name.startsWith("events.out.tfevents")
  );
  assert.ok(eventsFile, "an events file in the run directory");
  const tags = new Set(
    (await readEvents(`${dir}/${eventsFile.name}`)).flatMap((e) =>
      e.summary?.value.map((v) => v.tag) ?? []
    ),
  );
  for (const tag of ["config", "train/episode_reward", "loss/policy", "train/frames_per_s"]) {
    assert.ok(tags.has(tag), `TensorBoard tag ${tag}`);
  }
  // export: the weights alone, bit for bit, under the model's names
  assert.equal(await exportWeights(`${dir}/latest`, `${dir}/policy.safetensors`), 8);
  const exported = await readSafetensors(`${dir}/policy.safetensors`);
  for (const { name, offset, size } of saved.layout) {
    assert.deepEqual(
      exported.tensors.get(name)!.data,
      saved.params.subarray(offset, offset + size),
      name,
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resume: --load continues parameters, optimizer state and counters", async () => {
  const dir = await Deno.makeTempDir();
  const base = { workers: 1, evaluate: false, runDir: dir };
  const first = await train(resolveConfig("cartpole", { ...base, maxFrames: 5_000 }), quiet);
  const saved = await readCheckpoint(`${dir}/latest`);
  const second = await train(
    resolveConfig("cartpole", { ...base, maxFrames: first.frames + 5_000, load: `${dir}/latest` }),
    quiet,
  );
  assert.ok(second.frames >= first.frames + 5_000);
  assert.ok(second.updates > first.updates);
  const resumed = await readCheckpoint(`${dir}/latest`);
  assert.equal(resumed.optimizer!.steps[0], second.updates, "optimizer steps continue");
  assert.notDeepEqual(resumed.params, saved.params, "training went on from the loaded weights");
  // Resumed at a tiny learning rate, each weight stays within about lr·updates of what was saved
  // (an Adam step is a few lr at most); weights initialised again (another seed) would not.
  const lr = 1e-8;
  const third = await train(
    resolveConfig("cartpole", {
      ...base,
      lr,
      seed: 2,
      maxFrames: second.frames + 2_000,
      load: `${dir}/latest`,
    }),
    quiet,
  );
  const steps = third.updates - second.updates;
  const again = await readCheckpoint(`${dir}/latest`);
  let moved = 0;
  for (let i = 0; i < again.params.length; i++) {
    moved = Math.max(moved, Math.abs(again.params[i] - resumed.params[i]));
  }
  assert.ok(steps >= 1 && moved <= 10 * lr * steps, `a weight moved ${moved} in ${steps} updates`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("export --model: a checkpoint without optimizer state that eval and --load read", async () => {
  const dir = await Deno.makeTempDir();
  const base = { workers: 1, evaluate: false, runDir: `${dir}/run` };
  await train(resolveConfig("cartpole", { ...base, maxFrames: 3_000 }), quiet);
  const full = await readCheckpoint(`${dir}/run/latest`);
  const bytes = await exportModel(`${dir}/run/latest`, `${dir}/model`);
  const shipped = await readCheckpoint(`${dir}/model`);
  assert.equal(shipped.optimizer, undefined);
  assert.deepEqual(shipped.params, full.params);
  assert.deepEqual(shipped.counters, full.counters);
  assert.ok(bytes < (await Deno.stat(full.paths.weights)).size / 2, "no Adam moments");
  const evaluation = await evaluateCheckpoint("cartpole", `${dir}/model`, 2, 1);
  assert.equal(evaluation.rewards.length, 2);
  // Fine-tuning from a shipped model starts a fresh optimizer.
  const tuned = await train(
    resolveConfig("cartpole", {
      ...base,
      runDir: `${dir}/tuned`,
      maxFrames: full.counters!.frames + 2_000,
      load: `${dir}/model`,
    }),
    quiet,
  );
  const after = await readCheckpoint(`${dir}/tuned/latest`);
  assert.equal(after.optimizer!.steps[0], tuned.updates - full.counters!.updates);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resume: a missing or foreign checkpoint fails before anything is written", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/x.json`, "{}");
  await Deno.writeFile(`${dir}/x.safetensors`, new Uint8Array([1, 2, 3]));
  for (const load of [`${dir}/missing`, `${dir}/x`]) {
    await assert.rejects(
      () => train(resolveConfig("cartpole", { workers: 1, load, runDir: `${dir}/run` }), quiet),
      (e: Error) => e.name === "CheckpointError" && e.message.includes(load),
    );
  }
  await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("learning: CartPole-v1 with 2 workers reaches an evaluation mean ≥ 475 within 400k steps", async () => {
  const dir = await Deno.makeTempDir();
  const result = await train(
    resolveConfig("cartpole", {
      workers: 2,
      seed: 1,
      maxFrames: 400_000, // the step budget (CartPole: one frame per step)
      stopWhenSolved: true,
      runDir: dir,
    }),
    quiet,
  );
  assert.equal(result.reason, "solved", `stopped by ${result.reason} at ${result.frames} steps`);
  assert.ok(result.solved!.mean >= 475, `confirming test mean ${result.solved!.mean}`);
  assert.ok(result.steps <= 400_000 + 2 * 20);
  const eventsFile = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("events.out"))!;
  const tags = new Set(
    (await readEvents(`${dir}/${eventsFile.name}`)).flatMap((e) =>
      e.summary?.value.map((v) => v.tag) ?? []
    ),
  );
  for (const tag of ["eval/episode_reward", "eval/mean100", "parameters/fc1.weight"]) {
    assert.ok(tags.has(tag), `TensorBoard tag ${tag}`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Ctrl-C: the train task stops its workers, writes a final checkpoint and exits 130", async () => {
  if (Deno.build.os === "windows") return; // no SIGINT to send
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/train.ts", import.meta.url).pathname, "cartpole"]
      .concat(["--workers", "2", "--run-dir", dir]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until training is under way (episodes logged), then interrupt.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await Deno.readTextFile(`${dir}/metrics.jsonl`).catch(() => "");
    if (text.includes("train_episode")) break;
    assert.ok(Date.now() < deadline, "training did not start within a minute");
    await new Promise((r) => setTimeout(r, 200));
  }
  // one Ctrl-C through `deno task` arrives twice, milliseconds apart (the process group's and the
  // task runner's forwarded copy): still one clean stop with a final checkpoint, not an abrupt exit
  child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 10));
  try {
    child.kill("SIGINT");
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // it had already stopped: fine
  }
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 130, new TextDecoder().decode(stdout));
  assert.doesNotMatch(new TextDecoder().decode(stderr), /again: exiting now/);
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
  assert.deepEqual(
    { type: JSON.parse(lines.at(-1)!).type, reason: JSON.parse(lines.at(-1)!).reason },
    { type: "end", reason: "interrupted" },
  );
  const saved = await readCheckpoint(`${dir}/latest`);
  assert.ok(saved.counters!.updates > 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("walker: one set of observation statistics for all workers, saved and evaluated frozen", async () => {
  const dir = await Deno.makeTempDir();
  const result = await train(
    resolveConfig("bipedal", { workers: 2, maxFrames: 3000, evalWait: 0, runDir: dir }),
    quiet,
  );
  const saved = await readCheckpoint(`${dir}/latest`);
  const stats = saved.normalisation as { mean: number[]; var: number[]; count: number };
  assert.equal(stats.mean.length, 24, "BipedalWalker has 24 observation dimensions");
  // Both workers (and the evaluator) added every observation to the same shared statistics.
  assert.ok(stats.count >= result.steps, `count ${stats.count} < ${result.steps} steps`);
  const { env } = await checkpointModel(`${dir}/latest`, "bipedal");
  const rms = observationStatistics(env)!;
  assert.ok(rms.frozen, "evaluation uses frozen statistics");
  assert.deepEqual(Array.from(rms.mean), Array.from(Float64Array.from(stats.mean)));
  env.close();
  await Deno.remove(dir, { recursive: true });
});
