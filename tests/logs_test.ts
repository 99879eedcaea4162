import assert from "node:assert/strict";
import { resolveConfig } from "../algorithms/config.ts";
import { train } from "../algorithms/trainer.ts";
import { readMetrics } from "../logging/plot/metrics.ts";

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    total += entry.isDirectory ? await bytesUnder(path) : (await Deno.stat(path)).size;
  }
  return total;
}

Deno.test("logs: a 60-second CartPole run writes under 5 MB, every episode still counted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "a3g_logs_" });
  try {
    const config = resolveConfig("cartpole", {
      workers: 2,
      maxMinutes: 1,
      evalWait: 0,
      runDir: dir,
    });
    const result = await train(config, { print: false, handleSignals: false });
    assert.equal(result.reason, "max-minutes");
    const bytes = await bytesUnder(dir);
    assert.ok(bytes < 5 * 2 ** 20, `${(bytes / 2 ** 20).toFixed(2)} MB written`);
    // short episodes are logged several to a line, none lost
    const text = await Deno.readTextFile(`${dir}/metrics.jsonl`);
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.type === "train_episodes" && l.rewards.length > 1));
    const metrics = await readMetrics(`${dir}/metrics.jsonl`);
    assert.equal(metrics.train.length, result.episodes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
