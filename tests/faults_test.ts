import assert from "node:assert/strict";
import { resolveConfig } from "../algorithms/config.ts";
import { MAX_RESTARTS, train } from "../algorithms/trainer.ts";
import { readCheckpoint } from "../io/checkpoint.ts";

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "a3g_faults_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every line of a metrics file, parsed (a line that is not JSON fails the test). */
async function records(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), `${path} ends with a whole line`);
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

const small = { workers: 2, hiddenSize: 16, evaluate: false };

Deno.test("trainer: a worker that throws is restarted and the run goes on", async () => {
  await withTempDir(async (dir) => {
    const config = resolveConfig("cartpole", { ...small, maxFrames: 30_000, runDir: dir });
    const result = await train(config, {
      print: false,
      injectFailure: { worker: 1, afterUpdates: 20, times: 2 },
    });
    assert.equal(result.reason, "max-frames");
    assert.equal(result.restarts, 2);
    assert.ok(result.frames >= 30_000);
    const lines = await records(`${dir}/metrics.jsonl`);
    const restarts = lines.filter((r) => r.type === "restart");
    assert.deepEqual(restarts.map((r) => [r.worker, r.restarts]), [[1, 1], [1, 2]]);
    assert.match(String(restarts[0].message), /injected failure after 20 updates/);
    // the third start of worker 1 trains: its losses come after its last restart
    const last = lines.indexOf(restarts[1]);
    assert.ok(lines.slice(last).some((r) => r.type === "losses" && r.worker === 1));
    const saved = await readCheckpoint(`${dir}/latest`);
    assert.equal(saved.counters?.updates, result.updates);
  });
});

Deno.test("trainer: a worker failing again and again stops the run with a message and a checkpoint", async () => {
  await withTempDir(async (dir) => {
    const config = resolveConfig("cartpole", { ...small, maxFrames: 1e9, runDir: dir });
    const result = await train(config, {
      print: false,
      injectFailure: { worker: 0, afterUpdates: 3, times: 1000 },
    });
    assert.equal(result.reason, "error");
    assert.equal(result.restarts, MAX_RESTARTS);
    assert.match(
      result.error ?? "",
      new RegExp(`train worker 0 failed ${MAX_RESTARTS + 1} times within 10 minutes .*injected`),
    );
    const saved = await readCheckpoint(`${dir}/latest`);
    assert.equal(saved.counters?.frames, result.frames);
    const lines = await records(`${dir}/metrics.jsonl`);
    assert.equal(lines.filter((r) => r.type === "restart").length, MAX_RESTARTS);
    assert.deepEqual(lines.at(-1), { ...lines.at(-1), type: "end", reason: "error" });
  });
});

function trainChild(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/train.ts", import.meta.url).pathname, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch {
    return null;
  }
}

Deno.test("train: killed with SIGKILL and resumed with --load, a run loses at most one checkpoint interval", async () => {
  await withTempDir(async (dir) => {
    const run = `${dir}/run`;
    // The evaluator saves `latest` after each game, one every half second at least: the
    // checkpoint interval. (Kills during a save are tested step by step in checkpoint_test.ts.)
    const common = ["cartpole", "--workers", "1", "--hidden-size", "16", "--eval-wait", "0.5"];
    const child = trainChild([...common, "--max-frames", "1e9", "--run-dir", run]);
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const json = await readJson(`${run}/latest.json`);
      if (((json?.counters as Record<string, number>)?.frames ?? 0) >= 30_000) break;
    }
    child.kill("SIGKILL");
    assert.equal((await child.status).signal, "SIGKILL");
    await child.stderr.cancel();

    const killed = await readCheckpoint(`${run}/latest`);
    const at = killed.counters as Record<string, number>;
    assert.ok(at.frames >= 30_000, `checkpoint at ${at.frames} frames`);
    // Every whole line of the log is a record; the checkpoint is no older than the evaluation
    // before the last one (each evaluation is followed by a save).
    const text = await Deno.readTextFile(`${run}/metrics.jsonl`);
    const whole = text.slice(0, text.lastIndexOf("\n") + 1).trimEnd().split("\n");
    const evals = whole.map((l) => JSON.parse(l)).filter((r) => r.type === "eval_episode");
    assert.ok(evals.length >= 2);
    assert.ok(at.frames >= evals.at(-2).frames, `${at.frames} < ${evals.at(-2).frames}`);
    // A line cut short by the kill (made certain here) is dropped when the run resumes.
    await Deno.writeTextFile(`${run}/metrics.jsonl`, '{"type":"losses","ti', { append: true });

    const resumed = trainChild([
      ...common,
      "--load",
      `${run}/latest`,
      "--max-frames",
      String(at.frames + 20_000),
    ]);
    const { code, stderr } = await resumed.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const after = await readCheckpoint(`${run}/latest`);
    const now = after.counters as Record<string, number>;
    assert.ok(now.frames >= at.frames + 20_000);
    assert.ok(now.updates > at.updates && now.episodes > at.episodes);
    assert.ok(now.seconds > at.seconds);
    after.optimizer!.steps.forEach((s, i) => assert.ok(s > killed.optimizer!.steps[i]));
    const lines = await records(`${run}/metrics.jsonl`);
    assert.equal(lines.at(-1)?.type, "end");
  });
});
