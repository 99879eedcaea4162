/**
 * The models shipped in `models/pretrained/`: each is a checkpoint without optimizer state whose
 * configuration names its env and model, and which `deno task eval` plays. The solved CartPole
 * model must still solve it.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { readCheckpoint } from "../io/checkpoint.ts";
import { checkpointModel, evaluateCheckpoint } from "../algorithms/evaluate_checkpoint.ts";

const dir = fileURLToPath(new URL("../models/pretrained/", import.meta.url));
const names = [...Deno.readDirSync(dir)]
  .filter((e) => e.name.endsWith(".json"))
  .map((e) => e.name.replace(/\.json$/, ""))
  .sort();

Deno.test("pretrained: Pong, Breakout, BipedalWalker, its Hardcore course and CartPole ship", () => {
  for (
    const name of ["bipedal", "bipedal-hardcore", "breakout", "cartpole", "pong", "pong-skip2"]
  ) {
    assert.ok(names.includes(name), name);
  }
});

for (const name of names) {
  Deno.test(`pretrained: ${name} loads into its model and env, without optimizer state`, async () => {
    const saved = await readCheckpoint(`${dir}${name}`);
    assert.equal(saved.optimizer, undefined, "a shipped model carries no optimizer state");
    const config = saved.config as { env: string; model: string };
    const { env, model } = await checkpointModel(`${dir}${name}`);
    try {
      assert.equal(model.name, config.model);
      assert.ok(model.parameters.data.every(Number.isFinite));
      assert.ok(saved.counters!.frames > 0, "trained");
    } finally {
      env.close();
    }
  });
}

Deno.test("pretrained: the CartPole model still solves CartPole-v1", async () => {
  const result = await evaluateCheckpoint("cartpole", `${dir}cartpole`, 10, 7);
  assert.ok(result.mean >= 475, `mean ${result.mean} over 10 greedy episodes`);
});

Deno.test("pretrained: the Pong model beats the built-in opponent (random play loses about −20.7)", async () => {
  // one seeded game (seed 1: +15 when the model shipped; its 100-game mean is +16.00, min 7)
  const result = await evaluateCheckpoint("pong", `${dir}pong`, 1, 1);
  assert.ok(result.mean >= 5, `score ${result.mean} in one greedy game`);
  // the skip-2 model: seed 1 +18 when it shipped; its 100-game mean is +17.75, min 10
  const skip2 = await evaluateCheckpoint("pong", `${dir}pong-skip2`, 1, 1);
  assert.ok(skip2.mean >= 5, `the skip-2 model's score ${skip2.mean} in one greedy game`);
});

Deno.test("pretrained: the Pong model wins on the registered ALE/Pong-v5, sticky actions and all", async () => {
  // two seeded games (10 and 17 when the model shipped; its 100-game mean is +12.19, min 2); the
  // models trained on the max over 3 frames lost there (about −10)
  const result = await evaluateCheckpoint("ALE/Pong-v5", `${dir}pong`, 2, 1);
  assert.ok(result.mean >= 5, `scores ${result.rewards.join(", ")} in two greedy games`);
});

Deno.test("pretrained: the Breakout model breaks bricks (random play scores about 1.7 a game)", async () => {
  // two seeded games (146 and 66 when the model shipped; its 100-game mean is 100.43, min 6)
  const result = await evaluateCheckpoint("breakout", `${dir}breakout`, 2, 1);
  assert.ok(result.mean >= 30, `scores ${result.rewards.join(", ")} in two greedy games`);
});

Deno.test("pretrained: the BipedalWalker model still walks the course (solved is 300)", async () => {
  // two seeded episodes (316.3 and 316.5 when the model shipped); falling scores −100 or less
  const result = await evaluateCheckpoint("bipedal", `${dir}bipedal`, 2, 1);
  assert.ok(result.min >= 300, `episode returns ${result.rewards.join(", ")}`);
});

Deno.test("pretrained: the Hardcore model crosses the obstacle course (a crossing scores over 300)", async () => {
  // two seeded episodes (329.3 and 330.7 when the model shipped; its 100-episode mean is 302.07);
  // a fall scores −100 or less
  const result = await evaluateCheckpoint("bipedal-hardcore", `${dir}bipedal-hardcore`, 2, 1);
  assert.ok(result.min >= 300, `episode returns ${result.rewards.join(", ")}`);
});
