import assert from "node:assert/strict";
import { EnvError } from "../envs/core.ts";
import {
  editDistance,
  envSpec,
  listEnvs,
  makeEnv,
  nearestEnvIds,
  rewardThreshold,
} from "../envs/registry.ts";
import { VectorEnv } from "../envs/vector.ts";
import { TimeLimit } from "../envs/wrappers/mod.ts";
import { CartPoleEnv } from "../envs/classic/mod.ts";

function throwsEnv(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof EnvError && pattern.test(e.message));
}

Deno.test("registry: canonical ids and aliases resolve to the same spec", () => {
  for (
    const [alias, id] of [
      ["cartpole", "CartPole-v1"],
      ["pendulum", "Pendulum-v1"],
      ["mountaincar", "MountainCarContinuous-v0"],
      ["acrobot", "Acrobot-v1"],
      ["CARTPOLE", "CartPole-v1"],
      ["cartpole-v1", "CartPole-v1"],
    ]
  ) assert.equal(envSpec(alias).id, id);
  const ids = listEnvs().map((s) => s.id);
  for (const id of ["CartPole-v1", "Pendulum-v1", "MountainCarContinuous-v0", "Acrobot-v1"]) {
    assert.ok(ids.includes(id));
  }
  // families that have landed bring their aliases
  const aliases = listEnvs().flatMap((s) => s.aliases ?? []);
  if (ids.includes("PongNoFrameskip-v4")) assert.equal(envSpec("pong").id, "PongNoFrameskip-v4");
  if (ids.includes("BreakoutNoFrameskip-v4")) {
    assert.equal(envSpec("breakout").id, "BreakoutNoFrameskip-v4");
  }
  for (const a of ["bipedal", "bipedal-hardcore", "lunar", "lunar-continuous"]) {
    if (aliases.includes(a)) assert.ok(envSpec(a).id.length > 0);
  }
});

Deno.test("registry: makeEnv applies the registered time limit, or the one given, or none", () => {
  const env = makeEnv("cartpole", { seed: 1 });
  assert.ok(env instanceof TimeLimit);
  assert.equal(env.maxEpisodeSteps, 500);
  assert.equal(env.id, "CartPole-v1");
  const short = makeEnv("CartPole-v1", { maxEpisodeSteps: 7 }) as TimeLimit;
  assert.equal(short.maxEpisodeSteps, 7);
  assert.ok(makeEnv("cartpole", { maxEpisodeSteps: null }) instanceof CartPoleEnv);
  throwsEnv(() => makeEnv("cartpole", { maxEpisodeSteps: -3 }), /maxEpisodeSteps is -3/);
  assert.equal(rewardThreshold("cartpole"), 475);
  assert.equal(rewardThreshold("acrobot"), -100);
  assert.equal(rewardThreshold("mountaincar"), 90);
  assert.equal(rewardThreshold("pendulum"), undefined);
});

Deno.test("registry: unknown ids list the nearest known ids; unknown options list the accepted", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.deepEqual(nearestEnvIds("cartpol", 1), ["cartpole"]);
  throwsEnv(() => makeEnv("cartpol"), /unknown env id "cartpol"; nearest known ids: cartpole, /);
  throwsEnv(() => makeEnv("acrobat"), /nearest known ids: acrobot/);
  throwsEnv(() => makeEnv("pendulm"), /nearest known ids: pendulum/);
  throwsEnv(
    () => makeEnv("pendulum", { seeed: 1 }),
    /makeEnv\("Pendulum-v1"\): unknown option "seeed"; accepted options: seed, g, maxEpisodeSteps/,
  );
  throwsEnv(() => makeEnv("acrobot", { g: 1 }), /accepted options: seed, maxEpisodeSteps/);
});

Deno.test("VectorEnv: batched observations, auto-reset keeping the final observation and info", () => {
  const vec = new VectorEnv(() => makeEnv("cartpole", { maxEpisodeSteps: 5 }), 3);
  const { observations } = vec.reset({ seed: 10 });
  assert.equal(observations.length, 12);
  const single = makeEnv("cartpole", { maxEpisodeSteps: 5 });
  assert.deepEqual([...observations.subarray(4, 8)], [...single.reset({ seed: 11 }).observation]);
  for (let t = 1; t <= 5; t++) {
    const r = vec.step([1, 0, 1]);
    assert.deepEqual([...r.rewards], [1, 1, 1]);
    const want = single.step(0);
    if (t < 5) {
      assert.deepEqual([...r.truncated], [0, 0, 0]);
      assert.deepEqual([...r.observations.subarray(4, 8)], [...want.observation]);
    } else {
      assert.deepEqual([...r.truncated], [1, 1, 1]);
      const info = r.infos[1];
      assert.deepEqual([...(info.finalObservation as Float32Array)], [...want.observation]);
      assert.ok("finalInfo" in info && "resetInfo" in info);
      // the row now holds the new episode's first observation, within the reset range
      assert.ok([...r.observations.subarray(4, 8)].every((v) => Math.abs(v) < 0.05));
    }
  }
  // the vector keeps going after auto-reset
  assert.deepEqual([...vec.step([0, 0, 0]).truncated], [0, 0, 0]);
  throwsEnv(() => vec.step([0, 0]), /got 2 actions for 3 envs/);
  throwsEnv(() => new VectorEnv(() => makeEnv("cartpole"), 0), /count is 0/);
  throwsEnv(() => new VectorEnv(() => makeEnv("cartpole"), 2).step([0, 0]), /before reset/);
  const cont = new VectorEnv((i) => makeEnv("pendulum", { seed: i }), 2);
  cont.reset();
  assert.equal(cont.step([[1], [-1]]).observations.length, 6);
  throwsEnv(() => cont.step([[1], [NaN]]), /Pendulum-v1: action \[NaN\]/);
});

Deno.test("train: every registered env id trains with a model that fits it, chosen by default", async () => {
  const { listEnvs } = await import("../envs/registry.ts");
  const { resolveConfig } = await import("../algorithms/config.ts");
  const { train } = await import("../algorithms/trainer.ts");
  const dir = await Deno.makeTempDir({ prefix: "a3g_every_env_" });
  try {
    for (const { id } of listEnvs()) {
      const runDir = `${dir}/${id.replace(/\W/g, "_")}`;
      const config = resolveConfig(id, {
        workers: 1,
        evaluate: false,
        hiddenSize: 16,
        maxFrames: 400,
        runDir,
      });
      const result = await train(config, { print: false, handleSignals: false });
      assert.equal(result.reason, "max-frames", `${id}: ${result.error}`);
      const saved = JSON.parse(await Deno.readTextFile(`${runDir}/config.json`));
      const expected = /Pong|Breakout/.test(id)
        ? "small"
        : /Pendulum|MountainCar|Bipedal|Continuous/.test(id)
        ? "mlp-lstm"
        : "mlp";
      assert.equal(saved.model, expected, id);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train: a model that cannot play the env is refused before anything is written, naming those that can", async () => {
  const { resolveConfig, ConfigError } = await import("../algorithms/config.ts");
  const { train } = await import("../algorithms/trainer.ts");
  const dir = await Deno.makeTempDir({ prefix: "a3g_model_fit_" });
  try {
    await assert.rejects(
      train(resolveConfig("CartPole-v1", { model: "small", runDir: `${dir}/run` }), {
        print: false,
      }),
      (e: Error) =>
        e instanceof ConfigError &&
        /^model: small does not fit CartPole-v1 \(observation \[4\], actions Discrete\(2\); .*\); models that fit: .*mlp/
          .test(e.message),
    );
    await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound);
    // presets in any letter case
    assert.equal(resolveConfig("CartPole").preset, "cartpole");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
