import assert from "node:assert/strict";
import { Rng } from "../autograd/random.ts";
import { EnvError } from "../envs/core.ts";
import {
  AtariEnv,
  atariEnvSpecs,
  Breakout,
  BREAKOUT_BRICK_VALUES,
  BREAKOUT_COLOURS,
  type Colour,
  makeAtari,
  makeBreakout,
  makePong,
  playGames,
  Pong,
  PONG_COLOURS,
  pongInterceptPolicy,
  pongTrackingPolicy,
  randomPolicy,
  Screen,
} from "../envs/atari/mod.ts";
import { atariPipeline, unwrap } from "../envs/wrappers/mod.ts";

function pixel(obs: Uint8Array, row: number, col: number): number[] {
  const i = (row * 160 + col) * 3;
  return [obs[i], obs[i + 1], obs[i + 2]];
}

function rgb(c: Colour): number[] {
  return [c.r, c.g, c.b];
}

function pong(env: AtariEnv): Pong {
  return env.game as Pong;
}

function breakout(env: AtariEnv): Breakout {
  return env.game as Breakout;
}

// the frame a fresh full paint of the game state gives, to check the incremental drawing
function freshPaint(env: AtariEnv): Uint8Array {
  const s = new Screen(3);
  env.game.paintBase(s);
  s.commitAll();
  env.game.drawSprites(s);
  return s.obs;
}

Deno.test("atari: spaces of Pong and Breakout, minimal and full, RGB and grayscale", () => {
  const p = makePong();
  assert.equal(p.observationSpace.kind, "box");
  assert.deepEqual(p.observationSpace.shape, [210, 160, 3]);
  assert.equal(p.observationSpace.dtype, "uint8");
  assert.equal(p.observationSpace.low[0], 0);
  assert.equal(p.observationSpace.high[100_799], 255);
  assert.deepEqual(p.actionSpace, { kind: "discrete", n: 6 });
  assert.deepEqual(p.getActionMeanings(), [
    "NOOP",
    "FIRE",
    "RIGHT",
    "LEFT",
    "RIGHTFIRE",
    "LEFTFIRE",
  ]);
  const b = makeBreakout();
  assert.deepEqual(b.actionSpace, { kind: "discrete", n: 4 });
  assert.deepEqual(b.getActionMeanings(), ["NOOP", "FIRE", "RIGHT", "LEFT"]);
  assert.equal(makePong({ fullActionSpace: true }).actionSpace.n, 18);
  const g = makePong({ obsType: "grayscale" });
  assert.deepEqual(g.observationSpace.shape, [210, 160]);
  assert.equal(g.reset({ seed: 0 }).observation.length, 210 * 160);
});

Deno.test("atari: registry entries, aliases and variant settings", () => {
  const ids = atariEnvSpecs.map((s) => s.id).sort();
  assert.deepEqual(
    ids,
    [
      "ALE/Breakout-v5",
      "ALE/Pong-v5",
      "Breakout-v0",
      "Breakout-v4",
      "BreakoutDeterministic-v4",
      "BreakoutNoFrameskip-v4",
      "Pong-v0",
      "Pong-v4",
      "PongDeterministic-v4",
      "PongNoFrameskip-v4",
    ],
  );
  assert.deepEqual(atariEnvSpecs.find((s) => s.id === "PongNoFrameskip-v4")!.aliases, ["pong"]);
  assert.equal(makeAtari("breakout").id, "BreakoutNoFrameskip-v4");
  const settings = (id: string) => {
    const e = makeAtari(id);
    return [e.frameskip, e.repeatActionProbability, e.maxNumFramesPerEpisode];
  };
  assert.deepEqual(settings("PongNoFrameskip-v4"), [[1, 2], 0, 0]);
  assert.deepEqual(settings("PongDeterministic-v4"), [[4, 5], 0, 0]);
  assert.deepEqual(settings("Pong-v0"), [[2, 5], 0.25, 0]);
  assert.deepEqual(settings("Pong-v4"), [[2, 5], 0, 0]);
  assert.deepEqual(settings("ALE/Pong-v5"), [[4, 5], 0.25, 108_000]);
  assert.deepEqual(settings("ALE/Breakout-v5"), [[4, 5], 0.25, 108_000]);
  assert.equal(makeAtari("ALE/Pong-v5", { maxNumFrames: 50 }).maxNumFramesPerEpisode, 50);
});

Deno.test("atari: Pong frame layout — walls, score digits, paddles, ball", () => {
  const env = makePong();
  const { observation: obs } = env.reset({ seed: 3 });
  const white = rgb(PONG_COLOURS.wall);
  assert.deepEqual(pixel(obs, 24, 80), white, "top wall");
  assert.deepEqual(pixel(obs, 33, 5), white, "top wall");
  assert.deepEqual(pixel(obs, 194, 80), white, "bottom wall");
  assert.deepEqual(pixel(obs, 209, 159), white, "bottom wall");
  assert.deepEqual(pixel(obs, 120, 80), rgb(PONG_COLOURS.background), "playfield");
  assert.deepEqual(pixel(obs, 23, 80), rgb(PONG_COLOURS.background), "score area");
  // the "0"s: CPU score in orange ending at x 52, agent score in green ending at x 132
  assert.deepEqual(pixel(obs, 2, 40), rgb(PONG_COLOURS.cpu));
  assert.deepEqual(pixel(obs, 10, 44), rgb(PONG_COLOURS.background), "hole of the 0");
  assert.deepEqual(pixel(obs, 2, 120), rgb(PONG_COLOURS.agent));
  const p = pong(env);
  assert.deepEqual(pixel(obs, (p.cpuY >> 4) + 8, 17), rgb(PONG_COLOURS.cpu));
  assert.deepEqual(pixel(obs, (p.agentY >> 4) + 8, 141), rgb(PONG_COLOURS.agent));
  assert.deepEqual(pixel(obs, (p.agentY >> 4) + 8, 144), rgb(PONG_COLOURS.background));
  // the ball appears after the serve pause and moving it changes the frame
  let r = env.step(0);
  for (let i = 0; i < 80 && !p.ballInPlay; i++) r = env.step(0);
  assert.ok(p.ballInPlay);
  const [bx, by] = [p.ballX >> 4, p.ballY >> 4];
  assert.deepEqual(pixel(r.observation, by + 1, bx), white, "ball");
  const before = r.observation.slice();
  r = env.step(0);
  assert.notDeepEqual(r.observation, before);
  assert.equal(r.observation, obs, "the observation buffer is reused");
});

Deno.test("atari: RIGHT moves the agent's paddle up, LEFT down, with lag", () => {
  const env = makePong();
  env.reset({ seed: 1 });
  const p = pong(env);
  const y0 = p.agentY;
  env.step(2);
  assert.equal(p.agentY, y0, "the game reads the knob a frame late");
  for (let i = 0; i < 5; i++) env.step(2);
  const y1 = p.agentY;
  assert.ok(y1 < y0 - 10 * 16, `RIGHT moved the paddle from ${y0 >> 4} to ${y1 >> 4}`);
  env.step(0);
  env.step(0);
  assert.ok(p.agentY < y1, "the paddle keeps gliding after the knob stops");
  for (let i = 0; i < 20; i++) env.step(5); // LEFTFIRE
  assert.ok(p.agentY > y0, "LEFT moves it down");
  // the full action space's UP does nothing on a paddle controller; RIGHT does
  const full = makePong({ fullActionSpace: true });
  full.reset({ seed: 1 });
  for (let i = 0; i < 5; i++) full.step(2);
  assert.equal(pong(full).agentY, y0);
  for (let i = 0; i < 5; i++) full.step(3);
  assert.ok(pong(full).agentY < y0);
});

Deno.test("atari: Pong scores +1 and −1 per point and ends at 21", () => {
  const env = makePong();
  env.reset({ seed: 2 });
  const p = pong(env);
  // a ball the agent paddle cannot reach goes past it: −1
  p.agentY = 28 * 16;
  p.placeBall(130, 180, 32, 0);
  let r = env.step(0);
  let total = 0;
  for (let i = 0; i < 20 && r.reward === 0; i++) r = env.step(0);
  total += r.reward;
  assert.equal(total, -1);
  assert.equal(p.cpuScore, 1);
  assert.equal(p.ballInPlay, false);
  // a ball past the CPU paddle: +1, and the agent's new score is drawn
  p.cpuY = 28 * 16;
  p.placeBall(24, 180, -32, 0);
  r = env.step(0);
  for (let i = 0; i < 20 && r.reward === 0; i++) r = env.step(0);
  assert.equal(r.reward, 1);
  assert.equal(p.agentScore, 1);
  assert.deepEqual(pixel(r.observation, 10, 120), rgb(PONG_COLOURS.background), "a 1, not a 0");
  // the 21st point ends the game; stepping on is an error
  p.cpuScore = 20;
  p.agentY = 28 * 16;
  p.placeBall(130, 180, 32, 0);
  r = env.step(0);
  for (let i = 0; i < 20 && !r.terminated; i++) r = env.step(0);
  assert.equal(r.terminated, true);
  assert.equal(r.reward, -1);
  assert.equal(r.info.lives, 0);
  assert.throws(() => env.step(0), /called after the episode ended/);
  env.reset();
  assert.equal(p.cpuScore, 0);
});

Deno.test("atari: a NOOP game of Pong runs to 21 and counts frames", () => {
  const env = makePong();
  env.reset({ seed: 4 });
  let total = 0, steps = 0;
  let r;
  do {
    r = env.step(0);
    total += r.reward;
    steps++;
  } while (!r.terminated && steps < 100_000);
  assert.equal(r.terminated, true);
  const p = pong(env);
  assert.equal(Math.max(p.agentScore, p.cpuScore), 21);
  assert.equal(total, p.agentScore - p.cpuScore);
  assert.equal(r.info.episode_frame_number, steps);
  env.reset({ seed: 4 });
  const s = env.step(0);
  assert.equal(s.info.episode_frame_number, 1);
  assert.equal(s.info.frame_number, steps + 1, "frame_number runs across episodes");
});

Deno.test("atari: the same seed replays an episode step for step", () => {
  for (const id of ["PongNoFrameskip-v4", "Pong-v0", "ALE/Breakout-v5"]) {
    const run = (seed: number) => {
      const env = makeAtari(id);
      env.reset({ seed });
      const rng = new Rng(9);
      const trace: number[] = [];
      let last: Uint8Array = new Uint8Array();
      for (let i = 0; i < 1500; i++) {
        const r = env.step(rng.int(env.actionSpace.n));
        trace.push(r.reward, r.info.episode_frame_number as number);
        last = r.observation;
        if (r.terminated || r.truncated) break;
      }
      return { trace, last: last.slice(), ball: (env.game as Pong).ballY };
    };
    const a = run(11), b = run(11), c = run(12);
    assert.deepEqual(a.trace, b.trace, id);
    assert.deepEqual(a.last, b.last, id);
    assert.notDeepEqual([a.trace, a.last], [c.trace, c.last], `${id}: another seed`);
  }
});

Deno.test("atari: incremental drawing matches a full repaint, in RGB and grayscale", () => {
  for (const env of [makePong(), makeBreakout(), makeAtari("BreakoutDeterministic-v4")]) {
    env.reset({ seed: 5 });
    const rng = new Rng(5);
    for (let i = 0; i < 3000; i++) {
      const r = env.step(rng.int(env.actionSpace.n));
      if (r.terminated) env.reset();
      if (i % 500 === 499) assert.deepEqual(r.observation, freshPaint(env), env.id);
    }
  }
  for (const make of [makePong, makeBreakout]) {
    const colour = make(), gray = make({ obsType: "grayscale" });
    colour.reset({ seed: 6 });
    gray.reset({ seed: 6 });
    const rng = new Rng(6);
    let c = colour.step(0), g = gray.step(0);
    for (let i = 0; i < 500; i++) {
      const a = rng.int(colour.actionSpace.n);
      c = colour.step(a);
      g = gray.step(a);
      if (c.terminated) break;
    }
    assert.deepEqual(gray.render().data, c.observation, "grayscale env renders the same RGB frame");
    const o = c.observation;
    for (let k = 0; k < 210 * 160; k += 97) {
      const y = Math.round(0.299 * o[3 * k] + 0.587 * o[3 * k + 1] + 0.114 * o[3 * k + 2]);
      assert.equal(g.observation[k], y);
    }
    const copy = colour.render();
    copy.data[0] = 99;
    assert.notEqual(c.observation[0], 99, "render() returns a copy");
    assert.equal(copy.width, 160);
    assert.equal(copy.height, 210);
  }
});

Deno.test("atari: Deterministic-v4 sums the rewards of 4 frames and returns the 4th frame", () => {
  const det = makeAtari("PongDeterministic-v4"), raw = makePong();
  det.reset({ seed: 8 });
  raw.reset({ seed: 8 });
  const rng = new Rng(8);
  let nonzero = 0;
  for (let i = 0; i < 2000; i++) {
    const a = rng.int(6);
    const d = det.step(a);
    let sum = 0, r;
    for (let k = 0; k < 4; k++) {
      r = raw.step(a);
      sum += r.reward;
      if (r.terminated) break;
    }
    assert.equal(d.reward, sum);
    if (d.reward !== 0) nonzero++;
    assert.equal(d.info.episode_frame_number, r!.info.episode_frame_number);
    if (i % 100 === 0) assert.deepEqual(d.observation, r!.observation);
    if (d.terminated) {
      assert.equal(r!.terminated, true);
      break;
    }
  }
  assert.ok(nonzero >= 15, `saw ${nonzero} scoring steps`);
});

Deno.test("atari: v0/v4 draw the skip from {2,3,4} each step", () => {
  const env = makeAtari("Pong-v4");
  env.reset({ seed: 1 });
  const seen = new Set<number>();
  let prev = 0;
  for (let i = 0; i < 200; i++) {
    const f = env.step(0).info.episode_frame_number as number;
    seen.add(f - prev);
    prev = f;
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4]);
});

Deno.test("atari: v5 sticky actions repeat the previous frame's action with p 0.25", () => {
  // one frame a step so every frame is visible; alternate RIGHT and LEFT around the middle
  const env = makeAtari("ALE/Pong-v5", { frameskip: 1 });
  env.reset({ seed: 13 });
  const p = pong(env);
  let executed = 0, changes = 0, kept = 0;
  for (let i = 0; i < 8000; i++) {
    const a = i % 2 === 0 ? 2 : 3;
    const before = p.pot;
    if (env.step(a).terminated) {
      env.reset();
      executed = 0;
      continue;
    }
    const moved = p.pot - before;
    if (moved === 0) continue; // clamped at an end of the knob
    const did = moved < 0 ? 2 : 3;
    if (executed !== 0 && executed !== a) {
      changes++;
      if (did === executed) kept++;
    }
    executed = did;
  }
  const rate = kept / changes;
  assert.ok(changes > 3000);
  assert.ok(Math.abs(rate - 0.25) < 0.03, `kept the old action ${rate} of the time`);
  // with the default skip of 4 the draw is per frame: some steps mix old and new actions
  const v5 = makeAtari("ALE/Pong-v5");
  v5.reset({ seed: 14 });
  const q = pong(v5);
  let mixed = 0;
  for (let i = 0; i < 400; i++) {
    const before = q.pot;
    if (v5.step(i % 2 === 0 ? 2 : 3).terminated) break;
    const frames = Math.abs(q.pot - before) / 23000;
    if (frames !== 0 && frames !== 4 && q.pot > 30000 && q.pot < 780000) mixed++;
  }
  assert.ok(mixed > 20, `${mixed} steps mixed actions`);
  // no stickiness without the option
  const plain = makePong();
  plain.reset({ seed: 1 });
  const before = pong(plain).pot;
  plain.step(2);
  plain.step(3);
  assert.equal(pong(plain).pot, before);
});

Deno.test("atari: the frame cap truncates v5 episodes", () => {
  const env = makeAtari("ALE/Pong-v5", { maxNumFramesPerEpisode: 40 });
  env.reset({ seed: 0 });
  let r;
  for (let i = 0; i < 10; i++) {
    r = env.step(0);
    assert.equal(r.truncated, i === 9);
  }
  assert.equal(r!.terminated, false);
  assert.equal(r!.info.episode_frame_number, 40);
  assert.throws(() => env.step(0), EnvError);
  env.reset();
  assert.equal(env.step(0).truncated, false);
  // a skip that overshoots the cap stops at it
  const odd = makeAtari("ALE/Breakout-v5", { maxNumFrames: 6 });
  odd.reset({ seed: 0 });
  odd.step(0);
  const s = odd.step(0);
  assert.equal(s.truncated, true);
  assert.equal(s.info.episode_frame_number, 6);
});

Deno.test("atari: Breakout layout — walls, brick colours by row, paddle", () => {
  const env = makeBreakout();
  const { observation: obs } = env.reset({ seed: 0 });
  const grey = rgb(BREAKOUT_COLOURS.wall);
  assert.deepEqual(pixel(obs, 20, 80), grey, "top wall");
  assert.deepEqual(pixel(obs, 100, 3), grey, "left wall");
  assert.deepEqual(pixel(obs, 100, 156), grey, "right wall");
  assert.deepEqual(pixel(obs, 150, 80), [0, 0, 0], "background");
  for (let row = 0; row < 6; row++) {
    assert.deepEqual(pixel(obs, 57 + 6 * row + 3, 12), rgb(BREAKOUT_COLOURS.bricks[row]));
  }
  assert.deepEqual(pixel(obs, 93, 12), [0, 0, 0], "below the bricks");
  const b = breakout(env);
  assert.deepEqual(pixel(obs, 190, (b.paddleX >> 4) + 1), rgb(BREAKOUT_COLOURS.paddle));
  assert.equal(b.paddleWidth, 16);
  // a "0" of the score in grey, lives "5"
  assert.deepEqual(pixel(obs, 5, 60), grey);
});

Deno.test("atari: Breakout bricks are worth 7, 7, 4, 4, 1, 1 from the top", () => {
  const env = makeBreakout();
  for (let row = 0; row < 6; row++) {
    env.reset({ seed: row });
    const b = breakout(env);
    for (let above = 0; above < row; above++) b.bricks[above * 18 + 5] = 0;
    // column 5 spans x 48–55; drop the ball into it from above the wall of bricks
    b.placeBall(51, 40, 0, 24);
    let r = env.step(0);
    for (let i = 0; i < 60 && r.reward === 0; i++) r = env.step(0);
    assert.equal(r.reward, BREAKOUT_BRICK_VALUES[row], `row ${row}`);
    assert.equal(b.bricks[row * 18 + 5], 0);
    assert.deepEqual(pixel(r.observation, 57 + 6 * row + 3, 49), [0, 0, 0], "brick erased");
    assert.ok(b.ballVy < 0, "the ball turns back");
  }
  assert.deepEqual(BREAKOUT_BRICK_VALUES, [7, 7, 4, 4, 1, 1]);
});

Deno.test("atari: Breakout needs FIRE to serve, loses 5 balls, then ends", () => {
  const env = makeBreakout();
  const r = env.reset({ seed: 2 });
  assert.equal(r.info.lives, 5);
  assert.equal(env.lives(), 5);
  const b = breakout(env);
  for (let i = 0; i < 200; i++) env.step(0);
  assert.equal(b.ballInPlay, false, "no serve without FIRE");
  const lives: number[] = [];
  let last;
  for (let ball = 0; ball < 5; ball++) {
    let i = 0;
    while (!b.ballInPlay && i++ < 200) env.step(1);
    assert.ok(b.ballInPlay, "FIRE serves");
    // send the ball down far from the paddle
    const px = b.paddleX >> 4;
    b.placeBall(px > 80 ? 20 : 130, 150, 0, 24);
    do last = env.step(0); while (b.ballInPlay);
    lives.push(last.info.lives as number);
  }
  assert.deepEqual(lives, [4, 3, 2, 1, 0]);
  assert.equal(last!.terminated, true);
  assert.throws(() => env.step(1), /episode ended/);
});

Deno.test("atari: Breakout keeps a FIRE pressed during the pause after a lost ball", () => {
  const env = makeBreakout();
  env.reset({ seed: 4 });
  const b = breakout(env);
  for (let i = 0; i < 40 && !b.ballInPlay; i++) env.step(1);
  assert.ok(b.ballInPlay, "FIRE serves the first ball");
  b.placeBall(b.paddleX >> 4 > 80 ? 20 : 130, 150, 0, 24);
  while (b.ballInPlay) env.step(0);
  // one FIRE right after the loss, then NOOPs only: the ball comes when the pause ends
  env.step(1);
  let waited = 1;
  while (!b.ballInPlay && waited < 100) {
    env.step(0);
    waited++;
  }
  assert.ok(b.ballInPlay, "the FIRE pressed during the pause served the ball");
  assert.ok(waited >= 30, `served after the 30-frame pause, not before (${waited} frames)`);
  // a FIRE before the ball was lost does not count for the next one
  b.placeBall(b.paddleX >> 4 > 80 ? 20 : 130, 150, 0, 24);
  while (b.ballInPlay) env.step(1);
  for (let i = 0; i < 100; i++) env.step(0);
  assert.equal(b.ballInPlay, false, "no serve without a FIRE after the loss");
});

Deno.test("atari: Breakout through the training pipeline serves after each lost life", () => {
  // EpisodicLife ends the episode at a lost life; FireReset's FIRE on the next reset must serve,
  // or a policy that never presses FIRE stalls until the time limit
  const env = atariPipeline(makeAtari("BreakoutNoFrameskip-v4"), { seed: 3 });
  const game = breakout(unwrap(env) as AtariEnv);
  env.reset({ seed: 3 });
  let lostLives = 0;
  for (let t = 0; t < 5000 && lostLives < 3; t++) {
    const r = env.step(0);
    if (!r.terminated && !r.truncated) continue;
    assert.equal(r.info.wasRealDone, false, "a lost life, not the game's end");
    lostLives++;
    env.reset();
    let steps = 0;
    while (!game.ballInPlay && steps < 10) {
      env.step(0);
      steps++;
    }
    assert.ok(game.ballInPlay, `served within 10 NOOP steps after life ${lostLives} was lost`);
  }
  assert.equal(lostLives, 3, "NOOP play loses lives (it does not stall)");
});

Deno.test("atari: Breakout paddle halves once the ball reaches the top wall", () => {
  const env = makeBreakout();
  env.reset({ seed: 3 });
  const b = breakout(env);
  b.bricks.fill(0);
  b.placeBall(80, 50, 0, -24);
  for (let i = 0; i < 20; i++) env.step(0);
  assert.equal(b.paddleWidth, 8);
  assert.ok(b.ballVy > 0);
});

Deno.test("atari: bad input gives clear EnvErrors", () => {
  const env = makePong();
  assert.throws(() => env.step(0), /PongNoFrameskip-v4: step\(\) called before reset\(\)/);
  env.reset({ seed: 0 });
  assert.throws(
    () => env.step(7),
    (e: Error) =>
      e instanceof EnvError &&
      e.message ===
        "PongNoFrameskip-v4: action 7 is outside Discrete(6); expected an integer 0..5",
  );
  assert.throws(() => env.step(NaN), /action NaN is outside Discrete\(6\)/);
  assert.throws(() => env.step(1.5), /action 1.5 is outside/);
  assert.throws(() => env.step(-1), /action -1 is outside/);
  assert.throws(() => env.step([1]), /action \[1\] is outside/);
  assert.throws(
    () => makePong({ frameSkip: 4 }),
    /unknown option "frameSkip"; expected one of frameskip/,
  );
  assert.throws(() => makePong({ frameskip: 0 }), /frameskip 0 is invalid/);
  assert.throws(() => makePong({ frameskip: [4, 2] }), /frameskip \[4,2\] is invalid/);
  assert.throws(() => makePong({ repeatActionProbability: 1.5 }), /repeatActionProbability 1.5/);
  assert.throws(() => makePong({ obsType: "ram" }), /obsType "ram" is not supported/);
  assert.throws(() => makePong({ maxNumFramesPerEpisode: -1 }), /maxNumFramesPerEpisode -1/);
  assert.throws(() => makePong({ fullActionSpace: "yes" }), /fullActionSpace yes/);
  assert.throws(() => makeAtari("Pong-v9"), /unknown id "Pong-v9"/);
  assert.throws(() => env.reset({ seed: NaN }), /seed NaN is invalid/);
});

Deno.test("atari: random Pong loses almost every point; ball tracking does better", async () => {
  const random = await playGames(makePong(), randomPolicy, 3);
  const tracking = await playGames(makePong(), pongTrackingPolicy, 3);
  assert.ok(random.meanScore < -19, `random mean ${random.meanScore}`);
  assert.ok(random.meanFrames > 2000, `random games last ${random.meanFrames} frames`);
  assert.ok(
    tracking.meanScore > random.meanScore + 10,
    `tracking mean ${tracking.meanScore} vs random ${random.meanScore}`,
  );
});

Deno.test("atari: Pong can be won: a player that meets the ball where it will arrive wins", async () => {
  const everyFrame = await playGames(makePong(), pongInterceptPolicy(), 3);
  const skip4 = await playGames(makePong(), pongInterceptPolicy(4), 3);
  assert.ok(everyFrame.scores.every((s) => s >= 15), `scores ${everyFrame.scores}`);
  assert.ok(everyFrame.meanScore >= 19, `mean ${everyFrame.meanScore}`);
  assert.ok(skip4.meanScore >= 15, `acting every 4 frames: mean ${skip4.meanScore}`);
});

Deno.test("atari: the Pong interceptor seeing positions on a coarse grid loses points", async () => {
  const exact = await playGames(makePong(), pongInterceptPolicy(4), 5);
  // a grid finer than the game's 1/16 px changes nothing it sees
  const fine = await playGames(makePong(), pongInterceptPolicy(4, 10, 1 / 32), 5);
  assert.deepEqual(fine.scores, exact.scores);
  // an 8 px grid (a 20×20 frame) misplaces the paddle
  const coarse = await playGames(makePong(), pongInterceptPolicy(4, 10, 8), 5);
  assert.ok(
    coarse.meanScore < exact.meanScore - 3,
    `8 px grid: mean ${coarse.meanScore}, exact: ${exact.meanScore}`,
  );
});

Deno.test("atari: random Breakout scores a few points over 5 balls", async () => {
  const { meanScore } = await playGames(makeBreakout(), randomPolicy, 20);
  assert.ok(meanScore > 0.5 && meanScore < 5, `random mean ${meanScore}`);
});
