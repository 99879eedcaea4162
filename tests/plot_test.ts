import assert from "node:assert/strict";
import { join } from "node:path";
import { PlotError, plotRun } from "../logging/plot/mod.ts";
import { AXES, SERIES } from "../logging/plot/chart.ts";
import { parseMetrics } from "../logging/plot/metrics.ts";

/** A small run: config, 40 training and 12 evaluation episodes, losses and an end line. */
function syntheticMetrics(): string {
  const lines: object[] = [];
  let evals = 0;
  for (let i = 0; i < 40; i++) {
    const frames = (i + 1) * 5000, time = (i + 1) * 9;
    lines.push({
      type: "train_episode",
      time,
      frames,
      worker: i % 2,
      reward: -21 + i / 2,
      length: 800,
    });
    lines.push({
      type: "losses",
      time,
      frames,
      worker: 0,
      policy_loss: 0.1,
      value_loss: 0.2,
      entropy: 1.7,
      grad_norm: 3,
    });
    if (i % 3 === 0 && evals < 12) {
      evals++;
      lines.push({
        type: "eval_episode",
        time,
        frames,
        reward: -20 + i / 3,
        length: 900,
        mean100: -20 + i / 6,
      });
    }
  }
  lines.push({ type: "end", time: 400, frames: 200000, reason: "max-frames" });
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

async function makeRun(
  metrics: string | null,
  config = { env: "PongNoFrameskip-v4", targetReward: 18 },
) {
  const dir = await Deno.makeTempDir({ prefix: "plot_test_" });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  if (metrics !== null) await Deno.writeTextFile(join(dir, "metrics.jsonl"), metrics);
  return dir;
}

function pngSize(png: Uint8Array): [number, number] {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  assert.equal(String.fromCharCode(...png.subarray(12, 16)), "IHDR");
  const view = new DataView(png.buffer, png.byteOffset);
  return [view.getUint32(16), view.getUint32(20)];
}

Deno.test("plot: a run's metrics give an SVG with both panels' axes and every series, and its PNG", async () => {
  const dir = await makeRun(syntheticMetrics());
  try {
    const result = await plotRun(dir);
    assert.equal(result.svg, join(dir, "rewards.svg"));
    assert.equal(result.png, join(dir, "rewards.png"));
    const svg = await Deno.readTextFile(result.svg);
    assert.match(svg, /^<svg /);
    for (const text of [AXES.frames, AXES.minutes, AXES.reward, ...Object.values(SERIES)]) {
      assert(svg.includes(`>${text}</text>`), `the SVG shows "${text}"`);
    }
    assert(svg.includes("PongNoFrameskip-v4"), "the title names the env");
    assert(svg.includes("target 18"));
    assert(svg.includes("40 training and 12 evaluation episodes"));
    // the frames axis in SI units up to 200k, the minutes axis up to about 6
    assert(svg.includes(">200k</text>"));
    assert(svg.includes(">6.0</text>"));
    const width = Number(svg.match(/^<svg[^>]* width="(\d+)"/)![1]);
    const height = Number(svg.match(/^<svg[^>]* height="(\d+)"/)![1]);
    assert.deepEqual(pngSize(await Deno.readFile(result.png!)), [width * 2, height * 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plot: running means are recomputed when the file has none; a half-written last line is skipped", () => {
  const lines = [
    ...Array.from(
      { length: 150 },
      (_, i) =>
        JSON.stringify({
          type: "train_episode",
          time: i,
          frames: i * 10,
          worker: 0,
          reward: i,
          length: 1,
        }),
    ),
    JSON.stringify({ type: "eval_episode", time: 5, frames: 50, reward: 3, length: 9 }),
    '{"type":"train_episode","time":151,"fra',
  ];
  const m = parseMetrics(lines.join("\n"), "m.jsonl");
  assert.equal(m.train.length, 150);
  assert.equal(m.train[0].mean100, 0);
  assert.equal(m.train[9].mean100, 4.5);
  assert.equal(m.train[149].mean100, (50 + 149) / 2); // the last 100: 50 … 149
  assert.equal(m.eval[0].mean100, 3);
  assert.throws(() => parseMetrics(lines.join("\n") + "\n", "m.jsonl"), {
    name: "PlotError",
    message: /^m\.jsonl line 152: expected one JSON object/,
  });
});

Deno.test("plot: a missing, empty or malformed metrics file is one error naming it, and nothing is overwritten", async () => {
  const cases: [string | null, RegExp][] = [
    [null, /metrics\.jsonl: not found; expected the metrics\.jsonl of a training run/],
    ["", /metrics\.jsonl: empty/],
    ["\n\n", /metrics\.jsonl: empty/],
    [
      '{"type":"losses","time":1}\nnot json\n',
      /metrics\.jsonl line 2: expected one JSON object, got "not json"/,
    ],
    [
      '{"type":"eval_episode","time":1,"frames":"x","reward":1}\n',
      /line 1: a eval_episode needs a numeric "frames"/,
    ],
    ["[1,2]\n", /line 1: expected one JSON object/],
    ['{"time":1}\n', /line 1: expected a "type" field/],
    ['{"type":"losses","time":1,"frames":2}\n', /no "train_episode" or "eval_episode" lines yet/],
  ];
  for (const [text, message] of cases) {
    const dir = await makeRun(text);
    try {
      await Deno.writeTextFile(join(dir, "rewards.svg"), "earlier plot");
      const error = await plotRun(dir).then(() => null, (e) => e);
      assert(error instanceof PlotError, `${JSON.stringify(text)} gives a PlotError, got ${error}`);
      assert.match(error.message, message);
      assert(error.message.startsWith(join(dir, "metrics.jsonl")), error.message);
      assert.equal(await Deno.readTextFile(join(dir, "rewards.svg")), "earlier plot");
      await assert.rejects(Deno.stat(join(dir, "rewards.png")), Deno.errors.NotFound);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("plot: the command writes to --out and reports a bad run in one line with exit 2", async () => {
  const dir = await makeRun(syntheticMetrics(), { env: "CartPole-v1", targetReward: 475 });
  const out = join(dir, "elsewhere", "plots");
  try {
    const script = new URL("../scripts/plot.ts", import.meta.url).pathname;
    const run = (...args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, ...args],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await run(dir, "--out", out, "--svg-only");
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    const svg = await Deno.readTextFile(join(out, "rewards.svg"));
    assert(svg.includes("CartPole-v1"));
    await assert.rejects(Deno.stat(join(dir, "rewards.svg")), Deno.errors.NotFound);

    const bad = await run(join(dir, "missing"));
    assert.equal(bad.code, 2);
    const stderr = new TextDecoder().decode(bad.stderr).trim();
    assert.equal(
      stderr,
      `plot: ${
        join(dir, "missing", "metrics.jsonl")
      }: not found; expected the metrics.jsonl of a training run`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plot: phase times of the workers and the evaluator's playing time are summed", () => {
  const lines = [
    {
      type: "losses",
      time: 1,
      frames: 10,
      worker: 0,
      time_ms: { act: 30, env: 10, learn: 50, optimizer: 5, wall: 100 },
    },
    {
      type: "losses",
      time: 2,
      frames: 20,
      worker: 1,
      time_ms: { act: 20, env: 5, learn: 60, optimizer: 5, wall: 100 },
    },
    { type: "eval_episode", time: 3, frames: 30, reward: -21, length: 800, seconds: 0.5 },
    { type: "train_episode", time: 4, frames: 40, reward: -20, length: 700 },
  ];
  const m = parseMetrics(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", "m.jsonl");
  assert.deepEqual(m.time, {
    act: 50,
    env: 15,
    learn: 110,
    optimizer: 10,
    wall: 200,
    evalSeconds: 0.5,
    elapsed: 3,
  });
  // a run resumed into a new directory: its file starts at the training seconds it had
  const resumed = parseMetrics(
    lines.map((l) => JSON.stringify({ ...l, time: l.time + 15000 })).join("\n") + "\n",
    "m.jsonl",
  );
  assert.equal(resumed.time?.elapsed, 3);
  const older = parseMetrics(JSON.stringify(lines[3]) + "\n", "m.jsonl");
  assert.equal(older.time, null);
});
