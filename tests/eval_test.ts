/**
 * Greedy evaluation in several envs at once: the same episodes, with the same results, as playing
 * each one alone from its seed (an LSTM model, so a missed state reset would show).
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../algorithms/config.ts";
import { train } from "../algorithms/trainer.ts";
import { evaluateCheckpoint } from "../algorithms/evaluate_checkpoint.ts";

Deno.test("eval --envs: batched episodes equal the same episodes played one by one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("pendulum", {
      workers: 1,
      maxFrames: 600,
      evaluate: false,
      runDir: dir,
    });
    await train(config, { print: false });
    const checkpoint = `${dir}/latest`;
    // 5 episodes in 3 envs: env 0 and 1 play two each, env 2 one (lengths 200 and then a reset).
    const batched = await evaluateCheckpoint("pendulum", checkpoint, 5, 7, { envs: 3 });
    assert.equal(batched.episodes, 5);
    const alone = [];
    for (const seed of [7, 8, 9]) {
      alone.push((await evaluateCheckpoint("pendulum", checkpoint, 1, seed)).rewards[0]);
    }
    // Each env's first episode is the one played alone from its seed.
    for (const r of alone) {
      assert.ok(
        batched.rewards.some((b) => Math.abs(b - r) < 1e-6 * Math.max(1, Math.abs(r))),
        `episode ${r} is missing from ${batched.rewards}`,
      );
    }
    await assert.rejects(
      evaluateCheckpoint("pendulum", checkpoint, 2, 1, { envs: 2, backend: "onnx" }),
      /--envs above 1 plays with a3g's forward/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
