import assert from "node:assert/strict";
import { parseTrainArgs } from "../scripts/cli.ts";
import { DEFAULTS, type FieldRule, FIELDS, PRESETS, resolveConfig } from "../algorithms/config.ts";
import { makeTrainingEnv } from "../algorithms/training_env.ts";
import { evalConfig } from "../algorithms/evaluate_checkpoint.ts";
import { MaxAndSkip } from "../envs/wrappers/max_and_skip.ts";
import { findWrapper } from "../envs/wrappers/wrapper.ts";

Deno.test("train CLI: presets and flags named as in the seeds", () => {
  const c = parseTrainArgs([
    "cartpole",
    "--workers",
    "3",
    "--distributed-step-size",
    "16",
    "32",
    "64",
    "--no-shared-optimizer",
    "--max-grad-norm",
    "none",
    "--optimizer",
    "rmsprop",
    "--amsgrad",
    "--tau",
    "0.92",
  ]);
  assert.equal(c.env, "CartPole-v1");
  assert.equal(c.preset, "cartpole");
  assert.equal(c.workers, 3);
  assert.deepEqual(c.distributedStepSize, [16, 32, 64]);
  assert.equal(c.sharedOptimizer, false);
  assert.equal(c.maxGradNorm, null);
  assert.equal(c.optimizer, "rmsprop");
  assert.equal(c.amsgrad, true);
  assert.equal(c.tau, 0.92);
  assert.equal(c.lr, PRESETS.cartpole.lr, "unset flags keep the preset's value");
});

Deno.test("train CLI: --a3g with its env groups", () => {
  const c = parseTrainArgs(["pong", "--a3g", "--envs-per-worker", "16", "--env-groups", "3"]);
  assert.equal(c.a3g, true);
  assert.equal(c.envsPerWorker, 16);
  assert.equal(c.envGroups, 3);
  const plain = parseTrainArgs(["pong"]);
  assert.equal(plain.a3g, false);
  assert.equal(plain.envsPerWorker, PRESETS.pong.envsPerWorker, "the preset's batched learner");
  const schedule = parseTrainArgs(["pong", "--lr-final", "5e-5", "--lr-anneal-frames", "1e6"]);
  assert.equal(schedule.lrFinal, 5e-5);
  assert.equal(schedule.lrAnnealFrames, 1e6);
});

Deno.test("train CLI: --max-pool-frames reaches the learners' envs and the checkpoint's evaluation", () => {
  const pooled = (config: ReturnType<typeof resolveConfig>) => {
    const env = makeTrainingEnv(config, 1);
    try {
      return findWrapper(env, MaxAndSkip)?.maxPoolFrames;
    } finally {
      env.close();
    }
  };
  const last = parseTrainArgs(["pong", "--max-pool-frames", "1"]);
  assert.equal(last.maxPoolFrames, 1);
  assert.equal(pooled(last), 1, "the last raw frame alone");
  assert.equal(pooled(parseTrainArgs(["pong"])), 1, "the pong preset: the last frame alone");
  assert.equal(pooled(parseTrainArgs(["pong", "--max-pool-frames", "3"])), 3);
  assert.equal(pooled(parseTrainArgs(["breakout"])), 3, "rl_a3c_pytorch's max over 3 by default");
  assert.equal(evalConfig("pong", { maxPoolFrames: 1 }).maxPoolFrames, 1, "eval plays as trained");
  assert.equal(evalConfig("pong", {}).maxPoolFrames, 3, "older checkpoints name none: 3");
  const registered = parseTrainArgs(["ALE/Pong-v5", "--model", "small"]);
  assert.equal(registered.maxPoolFrames, 3, "the default, which the emulator-side skip ignores");
  assert.equal(pooled(registered), undefined, "no max-pool in the chain: the last frame");
  assert.equal(
    evalConfig("pong", registered).maxPoolFrames,
    1,
    "a model trained on ALE/Pong-v5 plays PongNoFrameskip-v4 on the last frame, as it saw",
  );
  assert.throws(
    () => parseTrainArgs(["pong", "--max-pool-frames", "0"]),
    /--max-pool-frames <n>.*'0' is invalid\. expected a positive integer/,
  );
});

Deno.test("train CLI: an env id without a preset takes the defaults", () => {
  const c = parseTrainArgs(["Acrobot-v1", "--model", "mlp"]);
  assert.equal(c.env, "Acrobot-v1");
  assert.equal(c.preset, null);
  assert.equal(c.gamma, DEFAULTS.gamma);
  assert.equal(c.sharedOptimizer, true);
});

Deno.test("train CLI: each bad value names the flag and what it accepts", () => {
  const cases: [string[], RegExp | null][] = [
    [["pong", "--lr", "abc"], /--lr <x>.*'abc' is invalid\. expected a positive number/],
    [["pong", "--workers", "0"], /--workers <n>.*'0' is invalid\. expected an integer 1\.\.256/],
    [["pong", "--gamma", "1.5"], /--gamma <x>.*expected a number in \(0, 1\]/],
    [
      ["pong", "--optimizer", "sgd"],
      /--optimizer.*'sgd' is invalid\. Allowed choices are adam, rmsprop/,
    ],
    [["pong", "--model", "huge"], /--model.*Allowed choices are small, small-ff, small-80, large,/],
    [["pong", "--distributed-step-size", "16", "x"], /--distributed-step-size.*'x' is invalid/],
    [["pong", "--bogus"], /unknown option '--bogus'/],
    [
      ["pong", "--a3g", "--envs-per-worker", "0"],
      /--envs-per-worker <k>.*expected an integer 1\.\.1024/,
    ],
    [
      ["pong", "--a3g", "--envs-per-worker", "2000"],
      /--envs-per-worker <k>.*'2000' is invalid\. expected an integer 1\.\.1024/,
    ],
    [["pong", "--max-frames", "none"], null],
    [["pong", "--serve", "70000"], /--serve \[port\].*expected a port 0\.\.65535/],
    [
      ["bipedal", "--a3g"],
      /model: got "mlp-lstm", expected one of small, small-ff, small-80, large, large-ff with --a3g/,
    ],
    [[], /missing required argument/],
  ];
  for (const [args, pattern] of cases) {
    if (pattern === null) parseTrainArgs(args); // accepted
    else assert.throws(() => parseTrainArgs(args), pattern, args.join(" "));
  }
});

Deno.test("config: each number field's message names every bound of its rule", () => {
  const rules = Object.entries(FIELDS).map(([field, spec]) => [field, spec.rule] as const)
    .filter(([, rule]) => rule.type === "number" || rule.type === "integer");
  assert.ok(rules.length > 20, `${rules.length} number fields`);
  const names = (rule: FieldRule, bound: number | undefined, words: string) =>
    bound === undefined || rule.expected.includes(words);
  for (const [field, rule] of rules) {
    const { min, max, above, expected } = rule;
    const message = `${field}: "${expected}"`;
    // an integer ≥ 1 with no upper bound is "a positive integer"
    const positive = min === 1 && max === undefined && rule.type === "integer";
    assert.ok(names(rule, min, positive ? "positive" : `${min}`), message);
    assert.ok(names(rule, max, `${max}`), message);
    assert.ok(
      names(rule, above, above === 0 && max === undefined ? "positive" : `${above}`),
      message,
    );
  }
});

Deno.test("config: validation names the field and the accepted values", () => {
  assert.throws(
    () => resolveConfig("pong", { numSteps: 0 }),
    /num-steps: got 0, expected a positive integer/,
  );
  assert.throws(
    () => resolveConfig("pong", { distributedStepSize: [16, -1] }),
    /distributed-step-size: got \[16,-1\], expected a list of positive integers/,
  );
});

Deno.test("runDirectory: resuming a run writes to it; starting from a shipped model starts a new run", async () => {
  const { runDirectory } = await import("../algorithms/run_directory.ts");
  const dir = await Deno.makeTempDir({ prefix: "a3g_rundir_" });
  try {
    await Deno.writeTextFile(`${dir}/metrics.jsonl`, "");
    assert.equal(runDirectory(resolveConfig("cartpole", { load: `${dir}/latest` })), dir);
    const fresh = runDirectory(resolveConfig("cartpole", { load: "models/pretrained/cartpole" }));
    assert.match(fresh, /^runs\/cartpole-\d{4}-/);
    assert.equal(
      runDirectory(resolveConfig("cartpole", { load: `${dir}/latest`, runDir: "runs/x" })),
      "runs/x",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench CLI: --help lists a suite's options; an argument it does not take is refused", async () => {
  const bench = async (...args: string[]) => {
    const script = new URL("../scripts/bench.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, text };
  };
  const help = await bench("train", "--help");
  assert.equal(help.code, 0, help.text);
  assert.match(help.text, /usage: deno task bench train \[--preset <name>\] \[--seconds <s>\]/);
  const typo = await bench("train", "--sec", "3");
  assert.equal(typo.code, 2, typo.text);
  assert.match(typo.text, /bench: train: unknown argument "--sec"; usage: /);
  const unknown = await bench("kernels", "--quick", "--json", "--no-peer");
  assert.equal(unknown.code, 2, unknown.text);
  assert.match(unknown.text, /unknown argument "--no-peer"/);
  const noValue = await bench("cluster", "--seconds");
  assert.equal(noValue.code, 2, noValue.text);
  assert.match(noValue.text, /--seconds <s> needs a value/);
});
