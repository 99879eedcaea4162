import assert from "node:assert/strict";
import { resolveConfig } from "../algorithms/config.ts";
import { train } from "../algorithms/trainer.ts";
import { MAX_RESTARTS } from "../algorithms/worker_pool.ts";
import { readCheckpoint } from "../io/checkpoint.ts";
import { withTempDir as withTempDirIn } from "./_assert.ts";

const withTempDir = (fn: (dir: string) => Promise<void>) => withTempDirIn(fn, "a3g_faults_test_");

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

/** Waits until the run has logged `lines` metrics lines (and, if asked, saved `latest`). */
async function waitForRun(run: string, lines: number, saved = false): Promise<void> {
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const text = await Deno.readTextFile(`${run}/metrics.jsonl`).catch(() => "");
    const ready = !saved || await Deno.stat(`${run}/latest.json`).then(() => true, () => false);
    if (text.split("\n").length > lines && ready) return;
  }
  throw new Error(`${run}: the run did not start`);
}

const quick = ["cartpole", "--workers", "1", "--hidden-size", "16", "--max-frames", "1e9"];

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`train: ${signal} stops a run cleanly: final checkpoint, end record, exit ${code}`, async () => {
    await withTempDir(async (dir) => {
      const run = `${dir}/run`;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../scripts/train.ts", import.meta.url).pathname,
          ...quick,
          "--no-eval",
          "--save-every",
          "3600",
          "--run-dir",
          run,
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitForRun(run, 5);
      child.kill(signal);
      const { code: exit, stdout } = await child.output();
      assert.equal(exit, code);
      assert.match(new TextDecoder().decode(stdout), new RegExp(`${signal}: stopping workers`));
      const lines = await records(`${run}/metrics.jsonl`);
      const end = lines.at(-1)!;
      assert.equal(end.type, "end");
      assert.equal(end.reason, "interrupted");
      assert.equal(end.signal, signal);
      // no evaluation and no periodic save: the checkpoint is the final one
      const saved = await readCheckpoint(`${run}/latest`);
      assert.equal(saved.counters?.frames, end.frames);
    });
  });
}

Deno.test("train: two signals at once stop the run with its exit code and leave a checkpoint that loads", async () => {
  await withTempDir(async (dir) => {
    const run = `${dir}/run`;
    const child = trainChild([...quick, "--save-every", "0.5", "--run-dir", run]);
    await waitForRun(run, 5, true);
    child.kill("SIGTERM");
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 143);
    await child.stderr.cancel();
    await readCheckpoint(`${run}/latest`);
  });
});

Deno.test("train: a second signal later than half a second exits at once, leaving the last checkpoint", async () => {
  await withTempDir(async (dir) => {
    const run = `${dir}/run`;
    // long Pong rollouts: the clean stop waits for the update under way, seconds away
    const args = ["pong", "--workers", "1", "--num-steps", "400", "--max-frames", "1e9"];
    const child = trainChild([...args, "--save-every", "0.5", "--run-dir", run]);
    await waitForRun(run, 2, true);
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 700));
    child.kill("SIGTERM");
    // stderr read while the child runs, so a full pipe can never hold it up
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(status.code, 143);
    assert.match(stderr, /SIGTERM again: exiting now; the last checkpoint stays/);
    await readCheckpoint(`${run}/latest`);
  });
});

Deno.test("train: one trainer per run directory, and a new run never writes over an old one", async () => {
  await withTempDir(async (dir) => {
    const run = `${dir}/run`;
    const first = trainChild([...quick, "--run-dir", run]);
    await waitForRun(run, 3);
    const refused = async (args: string[], message: RegExp) => {
      const { code, stderr } = await trainChild(args).output();
      const text = new TextDecoder().decode(stderr).trim();
      assert.equal(code, 2, text);
      assert.match(text, message);
      assert.equal(text.split("\n").length, 1, text);
    };
    // a second trainer, while the first runs, even when resuming its checkpoint
    await refused(
      [...quick, "--run-dir", run],
      /^train: run directory .*: in use by another trainer \(pid \d+ on .*\); wait for it/,
    );
    first.kill("SIGINT");
    assert.equal((await first.status).code, 130);
    await first.stderr.cancel();
    const before = await Deno.readTextFile(`${run}/metrics.jsonl`);
    // a new run in a directory that holds one
    await refused(
      [...quick, "--run-dir", run],
      /^train: run directory .*: already holds a run; resume it with --load .*\/latest, or give/,
    );
    assert.equal(await Deno.readTextFile(`${run}/metrics.jsonl`), before);
    // a file is not a run directory
    await Deno.writeTextFile(`${dir}/file`, "x");
    await refused(
      [...quick, "--run-dir", `${dir}/file`],
      /^train: run directory .*\/file: is a file, expected a directory$/,
    );
  });
});

Deno.test("train: a configuration that cannot fit in memory is refused with the figure before anything is written", async () => {
  await withTempDir(async (dir) => {
    for (const overrides of [{ hiddenSize: 100_000_000 }, { numSteps: 100_000_000_000 }]) {
      const config = resolveConfig("cartpole", { ...overrides, runDir: `${dir}/run` });
      await assert.rejects(
        train(config, { print: false, handleSignals: false }),
        /^ConfigError: this configuration needs at least [\d.]+ GiB .*; lower --hidden-size/,
      );
    }
    await assert.rejects(Deno.stat(`${dir}/run`), Deno.errors.NotFound);
  });
});

Deno.test("train: killed with SIGKILL 30 times at random moments, a run resumes every time", async () => {
  await withTempDir(async (dir) => {
    const run = `${dir}/run`;
    const args = [...quick.slice(0, -2), "--eval-wait", "0", "--save-every", "1", "--run-dir", run];
    // a seeded sequence of delays: kills land in start-up, loading, training and saves
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let frames = 0;
    for (let kill = 0; kill < 30; kill++) {
      const resume = await Deno.stat(`${run}/latest.json`).then(() => true, () => false);
      // killed before its first save, a run leaves nothing to resume: start again
      if (!resume) await Deno.remove(run, { recursive: true }).catch(() => {});
      const child = trainChild([
        ...args,
        "--max-frames",
        "1e9",
        ...(resume ? ["--load", `${run}/latest`] : []),
      ]);
      await new Promise((r) => setTimeout(r, 800 + 2200 * random()));
      child.kill("SIGKILL");
      await child.status;
      await child.stderr.cancel();
      if (await Deno.stat(`${run}/latest.json`).then(() => true, () => false)) {
        const saved = await readCheckpoint(`${run}/latest`);
        const now = (saved.counters as Record<string, number>).frames;
        assert.ok(now >= frames, `kill ${kill}: the checkpoint went back from ${frames} to ${now}`);
        frames = now;
      }
    }
    assert.ok(frames > 0, "the runs saved checkpoints");
    // and the run still finishes
    const last = trainChild([
      ...args,
      "--load",
      `${run}/latest`,
      "--max-frames",
      `${frames + 5000}`,
    ]);
    const { code, stderr } = await last.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const lines = await records(`${run}/metrics.jsonl`);
    assert.equal(lines.at(-1)?.type, "end");
  });
});
