/**
 * The batched learner on the CPU: a K-env update is the sum of the K environments' own A3C
 * gradients, the rollout loss with K = 1 is the seeds' A3C loss, and episode ends, LSTM resets and
 * a3c_continuous's dropped "success" transitions land on the right rows.
 */
import assert from "node:assert/strict";
import { Parameters } from "../autograd/parameters.ts";
import { Rng } from "../autograd/random.ts";
import { noGrad, Tensor } from "../autograd/tensor.ts";
import { a3cLoss } from "../algorithms/a3c.ts";
import { learningRate, resolveConfig, skipRateAt } from "../algorithms/config.ts";
import { train } from "../algorithms/trainer.ts";
import { readCheckpoint, saveCheckpoint } from "../io/checkpoint.ts";
import {
  CpuPolicy,
  Learner,
  type Rollout,
  rolloutLoss,
  rolloutTargets,
} from "../algorithms/learner.ts";
import { Adam } from "../algorithms/optimizers.ts";
import { assertClose } from "./_assert.ts";
import { gae, nStepReturns } from "../algorithms/returns.ts";
import { configAtFrames, framesPerStep, makeTrainingEnv } from "../algorithms/training_env.ts";
import { evalConfig } from "../algorithms/evaluate_checkpoint.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { mlp, smallAtari } from "../models/families.ts";
import { makeEnv } from "../envs/registry.ts";
import type { Action, Env, StepResult } from "../envs/core.ts";
import { Wrapper } from "../envs/wrappers/wrapper.ts";
import { UpdateReporter, type WorkerMessage } from "../algorithms/worker_protocol.ts";
import { categoricalLogProbEntropy } from "../models/heads.ts";

const hp = { gamma: 0.99, tau: 0.95, entropyCoef: 0.01, valueCoef: 0.5 };

function emptyRollout(T: number, K: number): Rollout {
  return {
    steps: T,
    batch: K,
    discrete: new Int32Array(T * K),
    continuous: new Float32Array(0),
    rewards: new Float32Array(T * K),
    dones: new Uint8Array(T * K),
    successes: null,
    bootstrap: new Float32Array(K),
  };
}

/**
 * Plays a fixed rollout (observations, actions, rewards, episode ends) through a `CpuPolicy` of
 * batch K, twice in a row (so the second starts from a non-zero LSTM state), and returns the
 * second rollout's gradient. `resetsAt(t)` gives the reset mask before step t, or null.
 */
function gradientOf(
  model: ActorCritic,
  K: number,
  rollouts: { obs: Float32Array; rollout: Rollout; resetsAt: (t: number) => Float32Array | null }[],
): Float32Array {
  const policy = new CpuPolicy(model, K);
  const shared = Float32Array.from(model.parameters.data);
  let grad = new Float32Array(0);
  for (const { obs, rollout, resetsAt } of rollouts) {
    const T = rollout.steps, size = policy.observationSize;
    policy.begin(shared, T);
    for (let t = 0; t < T; t++) {
      policy.act(obs.subarray(t * K * size, (t + 1) * K * size), resetsAt(t), true);
    }
    const params = policy.gradient(rollout, (o) => rolloutLoss(o, rollout, policy.policy, hp).loss);
    grad = Float32Array.from(params.grad);
  }
  return grad;
}

Deno.test("learner: one K-env CPU update is the sum of the K single-env updates", () => {
  const [T, K, A, H, size] = [5, 3, 6, 16, 42];
  const definition = smallAtari({
    observationShape: [1, size, size],
    policy: { kind: "categorical", actions: A },
    hiddenSize: H,
  });
  const init = new Parameters(definition.specs);
  init.initialize(new Rng(7));
  const rng = new Rng(3);
  // Two consecutive rollouts of K envs; env 1's episode ends at step 2 of the second rollout,
  // env 2's at the last step of the first (its state is zeroed before the second rollout starts).
  const rollouts = [0, 1].map((i) => {
    const rollout = emptyRollout(T, K);
    for (let j = 0; j < T * K; j++) {
      rollout.discrete[j] = rng.int(A);
      rollout.rewards[j] = [-1, 0, 1][rng.int(3)];
    }
    rollout.bootstrap.set([0.4, -0.3, 0.2]);
    if (i === 0) rollout.dones[(T - 1) * K + 2] = 1;
    else rollout.dones[2 * K + 1] = 1;
    const obs = Float32Array.from({ length: T * K * size * size }, () => rng.uniform(0, 1));
    return { obs, rollout };
  });
  const resets = (i: number, t: number) => {
    const m = new Float32Array(K).fill(1);
    if (i === 1 && t === 0) m[2] = 0;
    if (i === 1 && t === 3) m[1] = 0;
    return m.every((v) => v === 1) ? null : m;
  };
  const batched = gradientOf(
    new ActorCritic(definition, Parameters.fromLayout(init.layout(), { data: init.data.slice() })),
    K,
    rollouts.map(({ obs, rollout }, i) => ({ obs, rollout, resetsAt: (t) => resets(i, t) })),
  );

  const summed = new Float32Array(batched.length);
  for (let b = 0; b < K; b++) {
    const single = rollouts.map(({ obs, rollout }, i) => {
      const one = emptyRollout(T, 1);
      for (let t = 0; t < T; t++) {
        one.discrete[t] = rollout.discrete[t * K + b];
        one.rewards[t] = rollout.rewards[t * K + b];
        one.dones[t] = rollout.dones[t * K + b];
      }
      one.bootstrap[0] = rollout.bootstrap[b];
      const o = new Float32Array(T * size * size);
      for (let t = 0; t < T; t++) {
        o.set(
          obs.subarray((t * K + b) * size * size, (t * K + b + 1) * size * size),
          t * size * size,
        );
      }
      return {
        obs: o,
        rollout: one,
        resetsAt: (t: number) => {
          const m = resets(i, t);
          return m === null || m[b] === 1 ? null : Float32Array.of(0);
        },
      };
    });
    const g = gradientOf(
      new ActorCritic(
        definition,
        Parameters.fromLayout(init.layout(), { data: init.data.slice() }),
      ),
      1,
      single,
    );
    for (let j = 0; j < g.length; j++) summed[j] += g[j];
  }
  const layout = init.layout();
  for (const slot of layout.slots) {
    const range = [slot.offset, slot.offset + slot.size] as const;
    assertClose(batched.subarray(...range), summed.subarray(...range), 1e-4, `∂${slot.name}`);
  }
  assert.ok(batched.some((g) => g !== 0));
});

Deno.test("learner: the K = 1 rollout loss is the seeds' A3C loss, a success drops its step", () => {
  const T = 4, A = 3;
  const rng = new Rng(5);
  const logits = new Tensor(Float32Array.from({ length: T * A }, () => rng.uniform(-1, 1)), [T, A]);
  const value = new Tensor(Float32Array.of(0.3, -0.2, 0.5, 0.1), [T]);
  const rollout = emptyRollout(T, 1);
  rollout.discrete.set([0, 2, 1, 1]);
  rollout.rewards.set([0.5, -1, 1, 2]);
  rollout.bootstrap[0] = 0.7;
  const policy = { kind: "categorical", actions: A } as const;
  const ours = rolloutLoss({ logits, value }, rollout, policy, hp);
  const { logProb, entropy } = categoricalLogProbEntropy(logits, rollout.discrete);
  const seeds = a3cLoss({ logProb, entropy, values: value }, [...rollout.rewards], 0.7, T, hp);
  assert.ok(Math.abs(ours.loss.item() - seeds.loss.item()) < 1e-5);
  assert.ok(Math.abs(ours.valueLoss.item() - seeds.valueLoss.item()) < 1e-5);

  // a3c_continuous: the episode ends in success at the last step: that transition is dropped and
  // the step before bootstraps from V(s_3), as a3cLoss does with horizon T − 1.
  const success = { ...rollout, successes: Uint8Array.of(0, 0, 0, 1) };
  success.dones = Uint8Array.of(0, 0, 0, 1);
  const dropped = rolloutLoss({ logits, value }, success, policy, hp);
  const seedsDropped = a3cLoss(
    { logProb, entropy, values: value },
    [...rollout.rewards],
    0.1,
    T - 1,
    hp,
  );
  assert.ok(Math.abs(dropped.loss.item() - seedsDropped.loss.item()) < 1e-5);
});

Deno.test("learner: targets and advantages are cut at each env's episode end", () => {
  const [T, K] = [3, 2];
  const rollout = emptyRollout(T, K);
  rollout.rewards.set([1, 0, 0, 1, 1, 0]); // rows t·K + b
  rollout.dones[0 * K + 0] = 1; // env 0 ends at step 0
  rollout.bootstrap.set([2, 3]);
  const values = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6);
  const { targets, advantages, mask } = rolloutTargets(rollout, values, hp);
  // env 0: [step 0] ends (target 1); steps 1–2 bootstrap from 2
  const e0 = nStepReturns([0, 1], [0.3, 0.5], 2, hp.gamma).returns;
  assertClose([targets[0], targets[2], targets[4]], [1, e0[0], e0[1]], 1e-6, "env 0 targets");
  const a1 = gae([0, 1, 0], [0.2, 0.4, 0.6], 3, hp.gamma, hp.tau).advantages;
  assertClose([advantages[1], advantages[3], advantages[5]], a1, 1e-6, "env 1 advantages");
  assert.deepEqual([...mask], [1, 1, 1, 1, 1, 1]);
});

Deno.test("learner: K = 4 Pong envs on the CPU play T steps each and change the parameters", async () => {
  const config = resolveConfig("pong", { hiddenSize: 32 });
  const envs = [0, 1, 2, 3].map((b) => makeTrainingEnv(config, 5 + b));
  const definition = smallAtari({
    observationShape: [1, 42, 42],
    policy: { kind: "categorical", actions: 6 },
    hiddenSize: 32,
  });
  const model = new ActorCritic(definition);
  model.parameters.initialize(new Rng(1));
  const shared = Float32Array.from(model.parameters.data);
  const learner = new Learner(envs, new CpuPolicy(model, 4), config, 5);
  const adam = new Adam(model.parameters.layout().slots, { lr: 1e-3, eps: 1e-3 }, {
    shared: false,
    size: model.parameters.size,
  });
  const before = shared.slice();
  for (let i = 0; i < 2; i++) {
    const stats = await learner.update(6, adam, shared);
    assert.equal(stats.steps, 24);
    assert.ok(stats.entropy > 0 && stats.entropy <= Math.log(6) + 1e-6);
    assert.ok(stats.gradNorm > 0 && Number.isFinite(stats.gradNorm));
  }
  assert.ok(shared.every(Number.isFinite));
  assert.ok(shared.some((p, i) => p !== before[i]));
  for (const env of envs) env.close();
});

/** A CartPole `mlp` (hidden 16) with its shared parameters and a private Adam at rate `lr`. */
function cartPoleSetup(lr: number) {
  const config = resolveConfig("cartpole", { hiddenSize: 16 });
  const definition = mlp({
    observationShape: [4],
    policy: { kind: "categorical", actions: 2 },
    hiddenSize: 16,
  });
  const model = new ActorCritic(definition);
  model.parameters.initialize(new Rng(1));
  const shared = Float32Array.from(model.parameters.data);
  const adam = new Adam(model.parameters.layout().slots, { lr, eps: 1e-8 }, {
    shared: false,
    size: model.parameters.size,
  });
  return { config, model, shared, adam };
}

/** Counts the steps of the env it wraps and whether it was closed. */
class Counted extends Wrapper {
  steps = 0;
  closed = false;
  override step(action: Action): StepResult {
    this.steps++;
    return super.step(action);
  }
  override close(): void {
    this.closed = true;
    super.close();
  }
}

Deno.test("learner: replaceEnvs closes the old envs and plays the new ones from a fresh episode", async () => {
  const { config, model, shared, adam } = cartPoleSetup(1e-3);
  const old = [0, 1].map(() => new Counted(makeEnv("CartPole-v1")));
  const learner = new Learner(old, new CpuPolicy(model, 2), config, 3);
  await learner.update(4, adam, shared);
  assert.deepEqual(old.map((e) => e.steps), [4, 4]);
  const next = [0, 1].map(() => new Counted(makeEnv("CartPole-v1")));
  learner.replaceEnvs(next, 7);
  assert.deepEqual(old.map((e) => e.closed), [true, true], "the old envs are closed");
  const stats = await learner.update(4, adam, shared);
  assert.equal(stats.steps, 8);
  assert.deepEqual(old.map((e) => e.steps), [4, 4], "the old envs are not stepped again");
  assert.deepEqual(next.map((e) => e.steps), [4, 4], "the new envs are");
  assert.throws(
    () => learner.replaceEnvs([new Counted(makeEnv("CartPole-v1"))], 1),
    /got 1 envs, expected 2/,
  );
  for (const env of next) env.close();
});

Deno.test("framesPerStep: the skip on NoFrameskip ids, the registered one (its mean) on the others", () => {
  const pong = resolveConfig("pong");
  assert.equal(framesPerStep(pong), 4);
  assert.equal(framesPerStep({ ...pong, skipRate: 2 }), 2);
  assert.equal(framesPerStep({ ...pong, env: "ALE/Pong-v5" }), 4);
  assert.equal(framesPerStep({ ...pong, env: "BreakoutDeterministic-v4" }), 4);
  assert.equal(framesPerStep(resolveConfig("cartpole")), 1);
  const v4 = { ...pong, env: "Pong-v4" };
  assert.equal(framesPerStep(v4), 3);
  // the mean is the one the env plays: the emulator's own frame counter over 3,000 steps
  const env = makeEnv("Pong-v4");
  let steps = 0, frames = 0;
  env.reset({ seed: 3 });
  while (steps < 3000) {
    const result = env.step(steps % 6);
    steps++;
    frames = result.info.frame_number as number;
    if (result.terminated || result.truncated) env.reset();
  }
  env.close();
  assert.ok(Math.abs(frames / steps - framesPerStep(v4)) < 0.05, `${frames / steps} frames a step`);
});

Deno.test("--skip-rate-final: a run switches its frame skip at --skip-switch-frames, and resumes past it", async () => {
  const c = { skipRate: 4, skipRateFinal: 2, skipSwitchFrames: 1000 };
  assert.equal(skipRateAt(c, 999), 4);
  assert.equal(skipRateAt(c, 1000), 2);
  assert.equal(skipRateAt({ ...c, skipRateFinal: null }, 1e9), 4);
  const runDir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("pong", {
      workers: 1,
      envsPerWorker: 2,
      numSteps: 5,
      hiddenSize: 16,
      skipRateFinal: 2,
      skipSwitchFrames: 400,
      maxFrames: 1000,
      evaluate: false,
      runDir,
    });
    assert.equal(configAtFrames(config, 399), config, "nothing changes before the switch");
    assert.equal(configAtFrames(config, 400).skipRate, 2);
    const cartpole = resolveConfig("cartpole", { skipRateFinal: 2, skipSwitchFrames: 0 });
    assert.equal(configAtFrames(cartpole, 1e6), cartpole, "an env without a frame skip: no switch");
    const first = await train(config, { print: false });
    assert.equal(first.reason, "max-frames", first.error ?? "");
    // 10 updates of 5 steps × 2 envs × 4 frames reach 400; every later one is × 2 frames
    assert.ok(first.updates > 10, `${first.updates} updates`);
    assert.equal(first.frames, 400 + (first.updates - 10) * 5 * 2 * 2);
    const records = (await Deno.readTextFile(`${runDir}/metrics.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    const switched = records.filter((r) => r.type === "skip");
    assert.equal(switched.length, 1);
    assert.equal(switched[0].skip_rate, 2);
    assert.ok(switched[0].frames >= 400);
    const saved = await readCheckpoint(`${runDir}/latest`);
    const savedConfig = saved.config as typeof config;
    assert.equal(savedConfig.skipRate, 2, "the checkpoint names the skip it played at");
    assert.equal(evalConfig("pong", savedConfig).skipRate, 2, "and eval plays it so");
    const runConfig = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
    assert.equal(runConfig.skipRate, 4);
    assert.equal(runConfig.skipRateFinal, 2);
    // resumed past the switch, the workers play at skip 2 from their first update
    const second = await train(
      { ...config, load: `${runDir}/latest`, maxFrames: first.frames + 200 },
      { print: false },
    );
    assert.equal(second.reason, "max-frames", second.error ?? "");
    assert.ok(second.updates > first.updates);
    assert.equal(second.frames - first.frames, (second.updates - first.updates) * 5 * 2 * 2);
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
  assert.throws(
    () => resolveConfig("pong", { skipRateFinal: 0 }),
    /skip-rate-final: got 0, expected a positive integer \(or none\)/,
  );
});

Deno.test("learner: a reset zeroes only that env's LSTM state, before its step", () => {
  const size = 42, K = 2;
  const definition = smallAtari({
    observationShape: [1, size, size],
    policy: { kind: "categorical", actions: 6 },
    hiddenSize: 16,
  });
  const model = new ActorCritic(definition);
  model.parameters.initialize(new Rng(2));
  const rng = new Rng(4);
  const frame = () => Float32Array.from({ length: K * size * size }, () => rng.uniform(0, 1));
  const policy = new CpuPolicy(model, K);
  policy.begin(Float32Array.from(model.parameters.data), 2);
  policy.act(frame(), null, true);
  const obs = frame();
  const out = policy.act(obs, Float32Array.of(1, 0), true);
  const fresh = noGrad(() =>
    model.sequence(new Tensor(obs, [K, 1, size, size]), 1, null).outputs.logits!.data
  );
  // env 1 starts from zeros; env 0 carries its state from the first step.
  assertClose(out.logits!.subarray(6, 12), fresh.subarray(6, 12), 1e-6, "env 1 after its reset");
  let drift = 0;
  for (let j = 0; j < 6; j++) drift += Math.abs(fresh[j] - out.logits![j]);
  assert.ok(drift > 1e-6, "env 0 kept its state");
});

/** CartPole whose `at`-th step (counting from 1) returns a NaN reward. */
class PoisonedReward extends Wrapper {
  steps = 0;
  constructor(env: Env, readonly at: number) {
    super(env);
  }
  override step(action: Action): StepResult {
    const r = super.step(action);
    return ++this.steps === this.at ? { ...r, reward: NaN } : r;
  }
}

Deno.test("learner: a NaN reward skips the update; nothing shared changes", async () => {
  const { config, model, shared, adam } = cartPoleSetup(1e-2);
  const env = new PoisonedReward(makeEnv("CartPole-v1"), 3);
  const learner = new Learner([env], new CpuPolicy(model, 1), config, 2);
  const before = shared.slice(), state = JSON.stringify(adam.state());
  const poisoned = await learner.update(5, adam, shared);
  assert.equal(poisoned.skipped, true);
  assert.deepEqual(shared, before, "the shared parameters are untouched");
  assert.equal(JSON.stringify(adam.state()), state, "the optimizer's statistics are untouched");
  const clean = await learner.update(5, adam, shared);
  assert.equal(clean.skipped, false);
  assert.ok(shared.some((p, i) => p !== before[i]));
  assert.ok(shared.every(Number.isFinite));

  // The reporter counts the skipped update and keeps its NaN out of the mean losses.
  const posted: WorkerMessage[] = [];
  const reporter = new UpdateReporter(0, new SharedArrayBuffer(64), 0, 1, (m) => posted.push(m));
  reporter.record(poisoned);
  reporter.record(clean);
  reporter.flush();
  const stats = posted.find((m) => m.type === "stats");
  assert.ok(stats !== undefined && stats.type === "stats");
  assert.equal(stats.skipped, 1);
  assert.equal(stats.updates, 1);
  assert.ok(Number.isFinite(stats.policyLoss) && Number.isFinite(stats.gradNorm));
});

Deno.test("learning rate: linear annealing to --lr-final over --lr-anneal-frames, then held", async () => {
  const c = { lr: 1e-3, lrFinal: 2e-4, lrAnnealFrames: 1000 };
  assert.equal(learningRate(c, 0), 1e-3);
  assert.ok(Math.abs(learningRate(c, 500) - 6e-4) < 1e-12);
  assert.equal(learningRate(c, 5000), 2e-4);
  assert.equal(learningRate({ ...c, lrFinal: null }, 5000), 1e-3);
  assert.throws(() => resolveConfig("pong", { lrFinal: -1 }), /lr-final: got -1/);
  // A run saves the annealed rate with its optimizer state.
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("cartpole", {
      workers: 1,
      maxFrames: 3000,
      lrFinal: 1e-5,
      lrAnnealFrames: 1000,
      evaluate: false,
      runDir: dir,
    });
    await train(config, { print: false });
    const saved = await readCheckpoint(`${dir}/latest`);
    assert.equal(saved.optimizer!.hyperParameters.lr, 1e-5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: shared parameters that are not finite stop the run and keep the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("cartpole", {
      workers: 1,
      evaluate: false,
      hiddenSize: 16,
      maxFrames: 1e9,
      saveEvery: 0.5,
      runDir: dir,
    });
    // a NaN in the shared weights, as an overflow in a Hogwild update would leave it
    const result = await train(config, { print: false, injectNonFiniteAfterFrames: 200_000 });
    assert.equal(result.reason, "non-finite");
    assert.match(result.error ?? "", /no longer finite/);
    // the periodic saves before it are there and load (loading refuses non-finite weights)
    const kept = await readCheckpoint(`${dir}/latest`);
    assert.ok(kept.counters!.frames > 0 && kept.counters!.frames < result.frames);
    const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
    assert.equal(JSON.parse(lines.at(-1)!).reason, "non-finite");
    // a checkpoint holding a NaN is refused, naming the tensor
    kept.params[kept.layout[1].offset + 2] = NaN;
    await saveCheckpoint(`${dir}/bad/latest`, kept);
    await assert.rejects(
      readCheckpoint(`${dir}/bad/latest`),
      new RegExp(`${kept.layout[1].name.replace(".", "\\.")} holds NaN at index 2`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
