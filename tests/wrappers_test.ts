import assert from "node:assert/strict";
import {
  type Action,
  box,
  type BoxSpace,
  discrete,
  type Env,
  EnvError,
  type Info,
  type Observation,
  type ResetOptions,
  type ResetResult,
  type StepResult,
} from "../envs/core.ts";
import {
  areaTaps,
  atariCrop,
  atariPipeline,
  AtariRescale,
  ClipReward,
  EpisodicLife,
  findWrapper,
  FireReset,
  FrameStack,
  MaxAndSkip,
  NoopReset,
  NormalizedEnv,
  NormalizeObservation,
  RecordEpisodeStatistics,
  RunningMeanStd,
  StickyActions,
  TimeLimit,
  unwrap,
  walkerPipeline,
  Wrapper,
} from "../envs/wrappers/mod.ts";
import type { AtariEnv } from "../envs/atari/mod.ts";
import { makeEnv } from "../envs/registry.ts";

/** A scripted env: frame t comes from `frame(t)` written into one reused buffer. */
class FakeEnv implements Env {
  readonly observationSpace: BoxSpace;
  readonly actionSpace;
  actions: number[] = [];
  resets = 0;
  t = 0;
  readonly buffer: Uint8Array | Float32Array;

  constructor(
    readonly id = "Fake-v0",
    shape: number[] = [2, 2, 3],
    readonly opts: {
      n?: number;
      frame?: (t: number, i: number) => number;
      doneAt?: number;
      lives?: (t: number) => number;
      reward?: (t: number) => number;
      float?: boolean;
    } = {},
  ) {
    this.actionSpace = discrete(opts.n ?? 4);
    this.observationSpace = box(shape, 0, 255, opts.float ? "float32" : "uint8");
    const size = shape.reduce((a, b) => a * b, 1);
    this.buffer = opts.float ? new Float32Array(size) : new Uint8Array(size);
  }

  #obs() {
    const f = this.opts.frame ?? ((t: number, i: number) => (t * 37 + i * 11) % 256);
    for (let i = 0; i < this.buffer.length; i++) this.buffer[i] = f(this.t, i);
    return this.buffer;
  }

  #info(): Info {
    return this.opts.lives ? { lives: this.opts.lives(this.t) } : {};
  }

  reset(_options?: ResetOptions): ResetResult {
    this.resets++;
    this.t = 0;
    return { observation: this.#obs(), info: this.#info() };
  }

  step(action: Action): StepResult {
    this.actions.push(action as number);
    this.t++;
    const terminated = this.opts.doneAt !== undefined && this.t >= this.opts.doneAt;
    const reward = this.opts.reward ? this.opts.reward(this.t) : 1;
    return { observation: this.#obs(), reward, terminated, truncated: false, info: this.#info() };
  }

  render() {
    return { width: 1, height: 1, data: new Uint8Array(3) };
  }

  close() {}
}

function throwsEnv(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof EnvError && pattern.test(e.message));
}

Deno.test("NoopReset: 1..30 NOOPs after each reset, re-resetting when an episode ends", () => {
  const fake = new FakeEnv("Fake-v0", [2, 2, 3], { doneAt: 1000 });
  const env = new NoopReset(fake, { seed: 3 });
  const counts = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    fake.actions = [];
    const { info } = env.reset();
    const n = info.noops as number;
    assert.ok(Number.isInteger(n) && n >= 1 && n <= 30);
    assert.equal(fake.actions.length, n);
    assert.ok(fake.actions.every((a) => a === 0));
    assert.equal(fake.t, n);
    counts.add(n);
  }
  assert.equal(counts.size, 30, "every count from 1 to 30 occurs");
  const short = new FakeEnv("Fake-v0", [2, 2, 3], { doneAt: 3 });
  const env2 = new NoopReset(short, { noopMax: 30, seed: 1 });
  for (let i = 0; i < 20; i++) {
    short.resets = 0;
    const n = env2.reset().info.noops as number;
    assert.equal(short.resets, 1 + Math.floor(n / 3), "one extra reset per episode ended");
  }
  const seq = (seed: number) => {
    const e = new NoopReset(new FakeEnv(), {});
    return Array.from({ length: 10 }, (_, i) => e.reset(i === 0 ? { seed } : {}).info.noops);
  };
  assert.deepEqual(seq(9), seq(9));
  throwsEnv(() => new NoopReset(fake, { noopMax: 0 }), /noopMax is 0/);
});

function expectedMax(
  frames: number[],
  size: number,
  frame = (t: number, i: number) => (t * 37 + i * 11) % 256,
) {
  return Array.from({ length: size }, (_, i) => Math.max(...frames.map((t) => frame(t, i))));
}

Deno.test("MaxAndSkip: sums rewards, max over the last 2 or 3 raw frames, copies reused buffers", () => {
  for (const shape of [[2, 2, 3], [3, 1, 3]]) {
    const size = shape.reduce((a, b) => a * b, 1);
    for (const pool of [2, 3]) {
      const fake = new FakeEnv("Fake-v0", shape, { doneAt: 6, reward: (t) => t });
      const env = new MaxAndSkip(fake, { skip: 4, maxPoolFrames: pool });
      const r0 = env.reset();
      assert.deepEqual([...r0.observation], expectedMax([0], size));
      let r = env.step(1);
      assert.equal(r.reward, 1 + 2 + 3 + 4);
      assert.deepEqual([...r.observation], expectedMax(pool === 3 ? [2, 3, 4] : [3, 4], size));
      assert.equal(fake.actions.length, 4);
      // the episode ends on raw frame 6: the step stops early; the ring still holds frame 4
      r = env.step(2);
      assert.equal(r.terminated, true);
      assert.equal(r.reward, 5 + 6);
      assert.deepEqual([...r.observation], expectedMax(pool === 3 ? [4, 5, 6] : [5, 6], size));
      // reset clears the ring
      env.reset();
      r = env.step(1);
      assert.deepEqual([...r.observation], expectedMax(pool === 3 ? [2, 3, 4] : [3, 4], size));
    }
  }
  // the first step after a reset pools over the reset frame too when skip < pool
  const fake = new FakeEnv();
  const env = new MaxAndSkip(fake, { skip: 2, maxPoolFrames: 3 });
  env.reset();
  assert.deepEqual([...env.step(0).observation], expectedMax([0, 1, 2], 12));
  throwsEnv(() => new MaxAndSkip(new FakeEnv("F", [2], { float: true })), /uint8 frames/);
});

Deno.test("EpisodicLife: a lost life ends the learner's episode; wasRealDone marks game over", () => {
  const lives = (t: number) => (t < 3 ? 3 : t < 6 ? 2 : 0);
  const fake = new FakeEnv("Fake-v0", [2, 2, 3], { lives, doneAt: 6 });
  const env = new EpisodicLife(fake);
  env.reset();
  assert.equal(fake.resets, 1);
  assert.equal(env.step(1).terminated, false);
  assert.equal(env.step(1).terminated, false);
  let r = env.step(1); // t = 3: 3 → 2 lives
  assert.equal(r.terminated, true);
  assert.equal(env.wasRealDone, false);
  assert.equal(r.info.wasRealDone, false);
  throwsEnv(() => env.step(1), /a life was lost.*reset/);
  env.reset(); // no real reset: one NOOP
  assert.equal(fake.resets, 1);
  assert.deepEqual(fake.actions, [1, 1, 1, 0]);
  assert.equal(env.step(1).terminated, false); // t = 5
  r = env.step(1); // t = 6: game over, lives 0
  assert.equal(r.terminated, true);
  assert.equal(env.wasRealDone, true);
  env.reset();
  assert.equal(fake.resets, 2);
  // games without lives pass through
  const plain = new EpisodicLife(new FakeEnv("Fake-v0", [2, 2, 3], { doneAt: 2 }));
  plain.reset();
  assert.equal(plain.step(0).terminated, false);
  assert.equal(plain.step(0).terminated, true);
  assert.equal(plain.wasRealDone, true);
});

Deno.test("FireReset: FIRE then action 2 after reset; re-resets if they end the episode", () => {
  const fake = new FakeEnv("Fake-v0", [2, 2, 3], { n: 4 });
  const env = new FireReset(fake);
  const r = env.reset();
  assert.deepEqual(fake.actions, [1, 2]);
  assert.equal(fake.t, 2);
  assert.equal(r.observation, fake.buffer);
  const dying = new FakeEnv("Fake-v0", [2, 2, 3], { n: 4, doneAt: 1 });
  new FireReset(dying).reset();
  assert.equal(dying.resets, 3);
  throwsEnv(() => new FireReset(new FakeEnv("Fake-v0", [2, 2, 3], { n: 2 })), /at least 3 actions/);
});

Deno.test("ClipReward: clip to [−1, 1] or sign, keeping the raw reward in info", () => {
  const rewards = [5, -3, 0.5, 0, -0.25];
  const run = (mode: "clip" | "sign") => {
    const env = new ClipReward(
      new FakeEnv("Fake-v0", [2, 2, 3], { reward: (t) => rewards[t - 1] }),
      { mode },
    );
    env.reset();
    return rewards.map(() => env.step(0)).map((r) => [r.reward, r.info.unclippedReward]);
  };
  assert.deepEqual(run("clip").map((x) => x[0]), [1, -1, 0.5, 0, -0.25]);
  assert.deepEqual(run("sign").map((x) => x[0]), [1, -1, 1, 0, -1]);
  assert.deepEqual(run("clip").map((x) => x[1]), rewards);
  throwsEnv(() => new ClipReward(new FakeEnv(), { mode: "round" as "clip" }), /mode is "round"/);
});

Deno.test("StickyActions: repeats the previous action with probability p", () => {
  const fake = new FakeEnv();
  const env = new StickyActions(fake, { p: 0.25, seed: 5 });
  env.reset();
  let repeats = 0, prev = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const chosen = 1 + (i % 3);
    const r = env.step(chosen);
    const taken = fake.actions[fake.actions.length - 1];
    if (r.info.stickyRepeated) {
      repeats++;
      assert.equal(taken, prev);
    } else assert.equal(taken, chosen);
    prev = taken;
  }
  assert.ok(Math.abs(repeats / n - 0.25) < 0.015, `repeat rate ${repeats / n}`);
  // after a reset the remembered action is NOOP
  const always = new StickyActions(fake, { p: 1, seed: 1 });
  always.reset();
  always.step(3);
  assert.equal(fake.actions[fake.actions.length - 1], 0);
  throwsEnv(() => env.step(4), /action 4 is outside/);
  throwsEnv(() => new StickyActions(fake, { p: 1.5 }), /p is 1.5/);
});

/** A 210×160×3 frame: rows outside the crop are noise, the crop holds constant 2×2 blocks. */
function blockFrame(color: (by: number, bx: number, c: number) => number, crop1 = 34): Uint8Array {
  const f = new Uint8Array(210 * 160 * 3);
  for (let y = 0; y < 210; y++) {
    for (let x = 0; x < 160; x++) {
      for (let c = 0; c < 3; c++) {
        const inCrop = y >= crop1 && y < crop1 + 160;
        f[(y * 160 + x) * 3 + c] = inCrop ? color((y - crop1) >> 1, x >> 1, c) : (y * 7 + x) % 256;
      }
    }
  }
  return f;
}

Deno.test("AtariRescale: crop rows [34, 194), exact 2×2 block averages, luminance grey", () => {
  const color = (by: number, bx: number, c: number) => (by * 3 + bx * 5 + c * 70) % 256;
  const frame = blockFrame(color);
  const fake = new FakeEnv("Fake-v0", [210, 160, 3], { frame: (_t, i) => frame[i] });
  const env = new AtariRescale(fake, { crop1: 34, crop2: 34, size: 80 });
  assert.deepEqual(env.observationSpace.shape, [1, 80, 80]);
  const obs = env.reset().observation;
  assert.equal(obs.length, 6400);
  for (let y = 0; y < 80; y++) {
    for (let x = 0; x < 80; x++) {
      const grey = color(y, x, 0) * 0.2989 + color(y, x, 1) * 0.587 + color(y, x, 2) * 0.114;
      assert.equal(obs[y * 80 + x], Math.fround(grey));
    }
  }
  // a 2×2 average of 0, 0, 0, 2 is 0.5: OpenCV's integer 2×2 path rounds it up to 1
  const half = new Uint8Array(210 * 160 * 3);
  half[(35 * 160 + 1) * 3] = 2;
  const halfEnv = new AtariRescale(new FakeEnv("F", [210, 160, 3], { frame: (_t, i) => half[i] }));
  assert.equal(halfEnv.reset().observation[0], Math.fround(0.2989));
});

Deno.test("AtariRescale: area taps as OpenCV computes them; 42 and 84 outputs", () => {
  const t = areaTaps(4, 3);
  assert.deepEqual([...t.start], [0, 2, 4, 6]);
  assert.deepEqual([...t.index], [0, 1, 1, 2, 2, 3]);
  const w = [...t.weight];
  [0.75, 0.25, 0.5, 0.5, 0.25, 0.75].forEach((v, i) => assert.ok(Math.abs(w[i] - v) < 1e-12));
  for (const [src, dst] of [[160, 84], [80, 42], [178, 80], [160, 42]]) {
    const taps = areaTaps(src, dst);
    for (let d = 0; d < dst; d++) {
      let sum = 0;
      for (let k = taps.start[d]; k < taps.start[d + 1]; k++) sum += taps.weight[k];
      assert.ok(Math.abs(sum - 1) < 1e-9, `${src}→${dst}: weights of ${d} sum to ${sum}`);
    }
  }
  // a horizontal ramp resized 160 → 84 equals the overlap-weighted average, rounded half to even
  const frame = blockFrame((by, bx, c) => ((bx * 2) * 3 + c * 9 + by) % 256);
  const fake = new FakeEnv("Fake-v0", [210, 160, 3], { frame: (_t, i) => frame[i] });
  const obs84 = new AtariRescale(fake, { size: 84 }).reset().observation;
  const scale = 160 / 84;
  const axis = (d: number, src: (s: number) => number) => {
    let v = 0;
    for (let s = 0; s < 160; s++) {
      const overlap = Math.min(s + 1, (d + 1) * scale) - Math.max(s, d * scale);
      if (overlap > 1e-3) v += overlap * src(s);
    }
    return v / scale;
  };
  const pixel = (y: number, x: number, c: number) => frame[((34 + y) * 160 + x) * 3 + c];
  for (const [dy, dx] of [[0, 0], [5, 17], [40, 41], [83, 83]]) {
    const rgb = [0, 1, 2].map((c) => {
      const v = axis(dy, (sy) => axis(dx, (sx) => pixel(sy, sx, c)));
      const r = Math.round(v);
      return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
    });
    const grey = rgb[0] * 0.2989 + rgb[1] * 0.587 + rgb[2] * 0.114;
    assert.ok(Math.abs(obs84[dy * 84 + dx] - grey) < 1e-3, `84: (${dy}, ${dx})`);
  }
  // constant colour stays constant through 160 → 80 → 42
  const flat = new FakeEnv("Fake-v0", [210, 160, 3], { frame: (_t, i) => [10, 200, 90][i % 3] });
  const env42 = new AtariRescale(flat, { size: 42 });
  assert.deepEqual(env42.observationSpace.shape, [1, 42, 42]);
  const o42 = env42.reset().observation;
  assert.ok(o42.every((v) => v === Math.fround(10 * 0.2989 + 200 * 0.587 + 90 * 0.114)));
  throwsEnv(() => new AtariRescale(flat, { crop1: 34, crop2: 60 }), /crop rows \[34, 220\)/);
  throwsEnv(() => new AtariRescale(flat, { size: 200 }), /size is 200/);
});

Deno.test("NormalizedEnv: running scalar mean/std with bias correction, against a direct computation", () => {
  const frameOf = (t: number, i: number) => ((t + 1) * (i + 3)) % 17 + t;
  const fake = new FakeEnv("Fake-v0", [5], { frame: frameOf, float: true });
  const env = new NormalizedEnv(fake);
  const a = 0.9999;
  const means: number[] = [], stds: number[] = [];
  let obs = env.reset().observation;
  for (let t = 0; t < 6; t++) {
    const x = Array.from({ length: 5 }, (_, i) => frameOf(t, i));
    const m = x.reduce((p, v) => p + v, 0) / 5;
    means.push(m);
    stds.push(Math.sqrt(x.reduce((p, v) => p + (v - m) ** 2, 0) / 5));
    const k = means.length;
    let mHat = 0, sHat = 0;
    for (let j = 0; j < k; j++) {
      mHat += (1 - a) * a ** (k - 1 - j) * means[j];
      sHat += (1 - a) * a ** (k - 1 - j) * stds[j];
    }
    mHat /= 1 - a ** k;
    sHat /= 1 - a ** k;
    for (let i = 0; i < 5; i++) {
      const want = (x[i] - mHat) / (sHat + 1e-8);
      assert.ok(Math.abs(obs[i] - want) < 1e-5, `t ${t} [${i}]: ${obs[i]} vs ${want}`);
    }
    obs = env.step(0).observation;
  }
  assert.equal(env.numSteps, 7);
});

Deno.test("RunningMeanStd: mean/var against a direct computation; freeze, export and import", () => {
  const xs = [[1, -2, 0.5], [3, 0, 0.5], [-1, 4, 0.5], [2, 2, 0.5]];
  const rms = new RunningMeanStd(3);
  for (const x of xs) rms.update(x);
  const eps = 1e-4, n = xs.length + eps;
  for (let d = 0; d < 3; d++) {
    // the prior (count 1e-4, mean 0, var 1) pooled with the data
    const mean = xs.reduce((p, x) => p + x[d], 0) / n;
    const m2 = eps * (1 + mean * mean) + xs.reduce((p, x) => p + (x[d] - mean) ** 2, 0);
    assert.ok(Math.abs(rms.mean[d] - mean) < 1e-9);
    assert.ok(Math.abs(rms.var[d] - m2 / n) < 1e-9);
  }
  assert.ok(Math.abs(rms.count - n) < 1e-12);
  const z = rms.normalize([100, 0, 0.5]);
  assert.equal(z[0], 20, "clipped to ±20 while live");
  assert.ok(Math.abs(z[1] - (0 - rms.mean[1]) / Math.sqrt(rms.var[1])) < 1e-6);
  assert.ok(rms.var[2] < 1e-4);
  assert.ok(Math.abs(z[2] - (0.5 - rms.mean[2]) / 0.01) < 1e-5, "var below 1e-4 divides by 0.01");
  rms.freeze();
  const saved = JSON.parse(JSON.stringify(rms.export()));
  rms.update([1000, 1000, 1000]);
  assert.equal(rms.count, saved.count, "no updates while frozen");
  assert.equal(rms.normalize([100, 0, 0.5])[0], 10, "clipped to ±10 once frozen");
  const copy = RunningMeanStd.fromState(saved);
  assert.equal(copy.frozen, true);
  assert.deepEqual([...copy.mean], [...rms.mean]);
  assert.deepEqual([...copy.normalize([1, 1, 1])], [...rms.normalize([1, 1, 1])]);
  rms.unfreeze();
  rms.capCount(2);
  assert.equal(rms.count, 2);
  throwsEnv(
    () => copy.import({ mean: [0], var: [1], count: 1, frozen: false }),
    /expected \{mean, var\} of 3/,
  );
  throwsEnv(() => copy.update([1, 2]), /has 2 values; expected 3/);
  // as a wrapper: stats updated before normalising, resets included
  const fake = new FakeEnv("Fake-v0", [2], { frame: (t, i) => t + i, float: true });
  const env = new NormalizeObservation(fake);
  env.reset();
  env.step(0);
  assert.ok(Math.abs(env.rms.count - (2 + eps)) < 1e-12);
});

Deno.test("FrameStack: oldest first, newest last; a reset repeats the first frame", () => {
  const fake = new FakeEnv("Fake-v0", [1, 2], { frame: (t, i) => t * 10 + i, float: true });
  const env = new FrameStack(fake, 3);
  assert.deepEqual(env.observationSpace.shape, [3, 2]);
  assert.deepEqual([...env.reset().observation], [0, 1, 0, 1, 0, 1]);
  assert.deepEqual([...env.step(0).observation], [0, 1, 0, 1, 10, 11]);
  assert.deepEqual([...env.step(0).observation], [0, 1, 10, 11, 20, 21]);
  assert.deepEqual([...env.step(0).observation], [10, 11, 20, 21, 30, 31]);
});

Deno.test("TimeLimit: truncates at the limit and refuses steps until reset", () => {
  const env = new TimeLimit(new FakeEnv(), 3);
  env.reset();
  assert.equal(env.step(0).truncated, false);
  assert.equal(env.step(0).truncated, false);
  const r = env.step(0);
  assert.equal(r.truncated, true);
  assert.equal(env.elapsedSteps, 3);
  throwsEnv(() => env.step(0), /Fake-v0: step\(\) called after the episode ended/);
  env.reset();
  assert.equal(env.step(0).truncated, false);
  throwsEnv(() => new TimeLimit(new FakeEnv(), 0), /maxEpisodeSteps is 0/);
});

function chain(env: Env): Wrapper[] {
  const out: Wrapper[] = [];
  for (let e: Env = env; e instanceof Wrapper; e = e.env) out.push(e);
  return out;
}

Deno.test("atariPipeline: rl_a3c_pytorch's order, limits, crops and sizes", () => {
  const fake = new FakeEnv("PongNoFrameskip-v4", [210, 160, 3], { n: 6, doneAt: 100000 });
  const env = atariPipeline(new TimeLimit(fake, 400000), { seed: 1 });
  const names = chain(env).map((w) => w.constructor.name);
  assert.deepEqual(names, [
    "NormalizedEnv",
    "AtariRescale",
    "FireReset",
    "EpisodicLife",
    "MaxAndSkip",
    "NoopReset",
    "TimeLimit",
  ]);
  const w = chain(env);
  assert.equal((w[4] as MaxAndSkip).skip, 4);
  assert.equal((w[4] as MaxAndSkip).maxPoolFrames, 3);
  assert.equal((w[5] as NoopReset).noopMax, 30);
  assert.equal((w[6] as TimeLimit).maxEpisodeSteps, 40000, "10,000 agent steps × skip 4");
  assert.equal(unwrap(env), fake);
  assert.equal((w[1] as AtariRescale).crop1, 34);
  assert.equal(env.reset({ seed: 2 }).observation.length, 80 * 80);
  const small = atariPipeline(new FakeEnv("BreakoutNoFrameskip-v4", [210, 160, 3], { n: 4 }), {
    size: 42,
    maxEpisodeLength: 100,
  });
  assert.deepEqual((small.observationSpace as BoxSpace).shape, [1, 42, 42]);
  assert.equal((chain(small)[6] as TimeLimit).maxEpisodeSteps, 400);
  const skipped = atariPipeline(new FakeEnv("PongDeterministic-v4", [210, 160, 3], { n: 6 }));
  assert.deepEqual(chain(skipped).map((x) => x.constructor.name), [
    "NormalizedEnv",
    "AtariRescale",
    "FireReset",
    "EpisodicLife",
    "TimeLimit",
  ]);
  assert.equal((chain(skipped)[4] as TimeLimit).maxEpisodeSteps, 10000);
  assert.deepEqual(atariCrop("PongNoFrameskip-v4"), { crop1: 34, crop2: 34 });
  assert.deepEqual(atariCrop("BreakoutNoFrameskip-v4"), { crop1: 34, crop2: 34 });
  assert.deepEqual(atariCrop("MsPacmanNoFrameskip-v4"), { crop1: 2, crop2: 10 });
  assert.deepEqual(atariCrop("SomethingElse-v0"), { crop1: 34, crop2: 34 });
});

Deno.test("walkerPipeline: 1600-step limit replacing the registry's, per-dimension normalisation", () => {
  const fake = new FakeEnv("BipedalWalkerHardcore-v3", [24], {
    float: true,
    frame: (t, i) => t - i,
  });
  const rms = new RunningMeanStd(24);
  const env = walkerPipeline(new TimeLimit(fake, 2000), { rms });
  const names = chain(env).map((w) => w.constructor.name);
  assert.deepEqual(names, ["NormalizeObservation", "TimeLimit"]);
  assert.equal((chain(env)[1] as TimeLimit).maxEpisodeSteps, 1600);
  assert.equal(env.rms, rms);
  env.reset();
  for (let t = 0; t < 1599; t++) assert.equal(env.step([0, 0, 0, 0]).truncated, false);
  assert.equal(env.step([0, 0, 0, 0]).truncated, true);
  assert.ok(Math.abs(rms.count - 1601) < 1e-3);
});

/**
 * An Atari-like NoFrameskip env: a fixed noisy background with sprites that move every frame
 * (some with the action), a score block that changes colour, lives lost every 97 frames and a game
 * over at `doneAt`, so episodes and lives can end inside a frame skip.
 */
class SpriteEnv implements Env<Uint8Array> {
  readonly observationSpace = box([210, 160, 3], 0, 255, "uint8");
  readonly actionSpace = discrete(4);
  readonly #background = new Uint8Array(210 * 160 * 3);
  readonly #frame = new Uint8Array(210 * 160 * 3);
  #t = 0;
  #lives = 3;
  #paddle = 80;

  constructor(readonly id = "SpriteNoFrameskip-v4", readonly doneAt = 500) {
    let s = 12345;
    for (let i = 0; i < this.#background.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      // mostly flat colours with noisy rows, so 2×2 sums hit every rounding case
      this.#background[i] = (i / 480 | 0) % 9 === 0 ? s >>> 24 : 40 + (i % 3) * 50;
    }
  }

  #rect(x: number, y: number, w: number, h: number, rgb: number[]): void {
    for (let yy = Math.max(0, y); yy < Math.min(210, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(160, x + w); xx++) {
        this.#frame.set(rgb, (yy * 160 + xx) * 3);
      }
    }
  }

  #paint(): Uint8Array {
    const t = this.#t;
    this.#frame.set(this.#background);
    this.#rect((t * 3) % 157, 20 + (t * 5) % 185, 2, 4, [236, 236, 236]);
    this.#rect(140, this.#paddle, 4, 16, [92, 186, 92]);
    this.#rect(16, 40 + (t * 7) % 150, 4, 16, [213, 130, 74]);
    this.#rect(60, 2, 24, 10, [t % 256, (t * 3) % 256, 17]);
    this.#rect(70, 190, 7, 5, [(t >> 4) % 256, 255, 1]);
    return this.#frame;
  }

  #info(): Info {
    return { lives: this.#lives };
  }

  reset(_options?: ResetOptions): ResetResult<Uint8Array> {
    this.#t = 0;
    this.#lives = 3;
    this.#paddle = 80;
    return { observation: this.#paint(), info: this.#info() };
  }

  step(action: Action): StepResult<Uint8Array> {
    this.#t++;
    this.#paddle = Math.min(200, Math.max(20, this.#paddle + [0, 0, -3, 3][action as number]));
    if (this.#t % 97 === 0) this.#lives--;
    const terminated = this.#lives === 0 || this.#t >= this.doneAt;
    return {
      observation: this.#paint(),
      reward: this.#t % 13 === 0 ? 1 : 0,
      terminated,
      truncated: false,
      info: this.#info(),
    };
  }

  render() {
    return { width: 160, height: 210, data: this.#frame.slice() };
  }

  close() {}
}

/** A pass-through wrapper the fused path does not know, so AtariRescale pools nothing itself. */
class Opaque extends Wrapper {}

/**
 * rl_a3c_pytorch's frame processing written plainly, as the package first implemented it: crop,
 * RGB area resize (exact 2×2 shrink rounding halves up; else taps, horizontal then vertical,
 * rounding ties to even), grey, float32.
 */
function referenceRescale(frame: Uint8Array, crop1: number, cropH: number, sides: number[]) {
  let img = frame.slice(crop1 * 480, (crop1 + cropH) * 480), h = cropH, w = 160;
  for (const side of sides) {
    const out = new Uint8Array(side * side * 3);
    if (h === 2 * side && w === 2 * side) {
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          for (let c = 0; c < 3; c++) {
            const at = (yy: number, xx: number) => img[(yy * w + xx) * 3 + c];
            out[(y * side + x) * 3 + c] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) +
              at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1) + 2) >> 2;
          }
        }
      }
    } else {
      const ct = areaTaps(w, side), rt = areaTaps(h, side);
      const tmp = new Float64Array(h * side * 3);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < side; x++) {
          for (let c = 0; c < 3; c++) {
            let v = 0;
            for (let k = ct.start[x]; k < ct.start[x + 1]; k++) {
              v += ct.weight[k] * img[(y * w + ct.index[k]) * 3 + c];
            }
            tmp[(y * side + x) * 3 + c] = v;
          }
        }
      }
      for (let y = 0; y < side; y++) {
        for (let i = 0; i < side * 3; i++) {
          let v = 0;
          for (let k = rt.start[y]; k < rt.start[y + 1]; k++) {
            v += rt.weight[k] * tmp[rt.index[k] * side * 3 + i];
          }
          const r = Math.round(v);
          out[y * side * 3 + i] = r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
        }
      }
    }
    img = out;
    h = w = side;
  }
  const n = h * w;
  return Float32Array.from(
    { length: n },
    (_, i) => img[3 * i] * 0.2989 + img[3 * i + 1] * 0.587 + img[3 * i + 2] * 0.114,
  );
}

/** NormalizedEnv's statistics written plainly (two passes, population std). */
function referenceNormalizer(alpha = 0.9999) {
  let mean = 0, std = 0, steps = 0;
  return (x: Float32Array) => {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i];
    const m = sum / x.length;
    let sq = 0;
    for (let i = 0; i < x.length; i++) sq += (x[i] - m) * (x[i] - m);
    steps++;
    mean = mean * alpha + m * (1 - alpha);
    std = std * alpha + Math.sqrt(sq / x.length) * (1 - alpha);
    const c = 1 - Math.pow(alpha, steps);
    return Float32Array.from(x, (v) => (v - mean / c) * (1 / (std / c + 1e-8)));
  };
}

function assertSameBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) assert.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

Deno.test("atariPipeline: the fused pool/crop/resize/grey path is bit-identical to plain processing", () => {
  const cases = [
    { size: 80, maxPoolFrames: 3, crop: { crop1: 34, crop2: 34 } },
    { size: 42, maxPoolFrames: 3, crop: { crop1: 34, crop2: 34 } },
    { size: 80, maxPoolFrames: 2, crop: { crop1: 34, crop2: 34 } },
    { size: 42, maxPoolFrames: 1, crop: { crop1: 20, crop2: 20 } },
    { size: 84, maxPoolFrames: 3, crop: { crop1: 34, crop2: 34 } },
    { size: 80, maxPoolFrames: 3, crop: { crop1: 16, crop2: 34 } },
  ];
  for (const { size, maxPoolFrames, crop } of cases) {
    const what = `size ${size}, pool ${maxPoolFrames}, crop ${crop.crop1}/${crop.crop2}`;
    const fused = atariPipeline(new SpriteEnv(), { size, maxPoolFrames, crop, seed: 5 });
    const halving = crop.crop2 + 160 - crop.crop1 === 160 && size !== 84;
    assert.equal(findWrapper(fused, MaxAndSkip)!.deferred, halving, `${what}: fused path taken`);
    // the same chain with the plain MaxAndSkip output handed to a plain reference
    const plain = new Opaque(
      new FireReset(
        new EpisodicLife(
          new MaxAndSkip(new NoopReset(new TimeLimit(new SpriteEnv(), 40000), { seed: 5 }), {
            maxPoolFrames,
          }),
        ),
      ),
    );
    const sides = size === 42 ? [80, 42] : [size];
    const cropH = crop.crop2 + 160 - crop.crop1;
    const normalize = referenceNormalizer();
    const reference = (frame: Observation) =>
      normalize(referenceRescale(frame as Uint8Array, crop.crop1, cropH, sides));
    assertSameBits(fused.reset().observation, reference(plain.reset().observation), what);
    for (let t = 0; t < 200; t++) {
      const action = (t * 7 + (t >> 4)) % 4;
      const a = fused.step(action), b = plain.step(action);
      assert.equal(a.terminated, b.terminated);
      assertSameBits(a.observation, reference(b.observation), `${what}, step ${t}`);
      if (a.terminated || a.truncated) {
        assertSameBits(fused.reset().observation, reference(plain.reset().observation), what);
      }
    }
  }
});

Deno.test("MaxAndSkip.deferPooling: keeps the given bytes; pooledFrame pools them on demand", () => {
  const fake = new FakeEnv("Fake-v0", [4, 2, 3]);
  const env = new MaxAndSkip(fake, { skip: 4, maxPoolFrames: 3 });
  env.deferPooling(6, 18);
  env.reset();
  const obs = env.step(0).observation;
  assert.equal(obs, env.observationBuffer);
  assert.equal(env.poolCount, 3);
  assert.deepEqual([...env.ringFrame(0).subarray(6, 18)], expectedMax([4], 24).slice(6, 18));
  assert.deepEqual([...env.pooledFrame().subarray(6, 18)], expectedMax([2, 3, 4], 24).slice(6, 18));
  assert.throws(() => env.deferPooling(5, 5), RangeError);
});

Deno.test("RunningMeanStd: statistics on shared storage are one set for every view", () => {
  const a = RunningMeanStd.createShared(2);
  assert.ok(a.storage.buffer instanceof SharedArrayBuffer);
  // Another isolate builds its view from the posted buffer; here, a second view of the same one.
  const b = new RunningMeanStd(2, 1e-4, new Float64Array(a.storage.buffer));
  assert.deepEqual([...b.var, b.count], [1, 1, 1e-4]);
  a.update([2, 4]);
  b.update([4, 8]);
  assert.ok(Math.abs(a.count - 2.0001) < 1e-12);
  assert.deepEqual(Array.from(a.mean), Array.from(b.mean));
  assert.ok(Math.abs(a.mean[0] - 3) < 1e-3 && Math.abs(a.mean[1] - 6) < 1e-3);
  assert.throws(
    () => new RunningMeanStd(2, 1e-4, new Float64Array(4)),
    /storage holds 4 floats; 2 dimensions need 5/,
  );
});

Deno.test("atariPipeline: an id made with frameskip 1 takes the NoFrameskip chain, sticky per frame", () => {
  const names = (env: Env) => chain(env).map((w) => w.constructor.name);
  const v5 = makeEnv("ALE/Pong-v5", { frameskip: 1 });
  const chained = atariPipeline(v5, { size: 42, seed: 3 });
  assert.deepEqual(names(chained).slice(2), [
    "FireReset",
    "EpisodicLife",
    "MaxAndSkip",
    "NoopReset",
    "TimeLimit",
  ]);
  const ale = unwrap(chained) as AtariEnv;
  assert.equal(ale.repeatActionProbability, 0.25, "v5 keeps its sticky actions");
  assert.deepEqual(ale.frameskip, [1, 2]);
  // v5 as registered skips 4 frames itself: no agent-side skip or max-pool
  assert.deepEqual(names(atariPipeline(makeEnv("ALE/Pong-v5"), { size: 42 })).slice(2), [
    "FireReset",
    "EpisodicLife",
    "TimeLimit",
  ]);
  // an agent step of the frameskip-1 chain is 4 emulated frames
  chained.reset({ seed: 3 });
  const a = chained.step(0).info.frame_number as number;
  const b = chained.step(0).info.frame_number as number;
  assert.equal(b - a, 4);
});

Deno.test("RecordEpisodeStatistics: a whole game's return and length, through lost lives", () => {
  const env = new RecordEpisodeStatistics(new EpisodicLife(makeEnv("BreakoutNoFrameskip-v4")));
  let total = 0, steps = 0, lostLives = 0, seen: unknown = undefined;
  env.reset({ seed: 4 });
  let t = 0;
  while (seen === undefined) {
    const r = env.step(t++ % 4); // NOOP, FIRE, RIGHT, LEFT
    total += r.reward;
    steps++;
    if (r.terminated || r.truncated) {
      seen = r.info.episode;
      if (seen === undefined) {
        assert.equal(r.info.wasRealDone, false, "only a game's last step carries statistics");
        lostLives++;
        env.reset();
      }
    }
  }
  assert.equal(lostLives, 4, "Breakout's 5 balls: 4 lost lives before the game ends");
  assert.deepEqual(seen, { reward: total, length: steps });
  // a new game counts from zero
  env.reset();
  const r = env.step(0);
  assert.equal(r.info.episode, undefined);
});
