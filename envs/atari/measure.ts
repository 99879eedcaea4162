/**
 * Helpers to measure the Atari envs: play whole games with a policy (calibration against the ALE's
 * random baselines) and count raw emulated frames per second (for the env bench).
 *
 * @module
 */
import { Rng } from "../../autograd/random.ts";
import type { AtariEnv } from "./ale_env.ts";
import { playEpisode } from "../evaluate.ts";
import { Pong, PONG_AGENT_X, PONG_PADDLE_HEIGHT, PONG_PLAY_BOTTOM, PONG_PLAY_TOP } from "./pong.ts";

/** Picks an action index; `rng` is the measurement's own generator. */
export type AtariPolicy = (env: AtariEnv, rng: Rng) => number;

/** A uniformly random policy over the env's action space. */
export const randomPolicy: AtariPolicy = (env, rng) => rng.int(env.actionSpace.n);

/**
 * Pong's scripted ball tracker: RIGHT (up) or LEFT (down) until the paddle's centre is within
 * 2 px of the ball's, else NOOP. Needs the minimal action set.
 */
export const pongTrackingPolicy: AtariPolicy = (env) => {
  const p = env.game as Pong;
  const target = p.ballInPlay ? p.ballY + 32 : (34 + 80) * 16;
  const centre = p.agentY + 128;
  return centre > target + 32 ? 2 : centre < target - 32 ? 3 : 0;
};

/**
 * Pong's scripted interceptor, to show what the game allows a player who reads the ball well. While
 * the ball comes towards the agent it moves the paddle's centre to where the ball will meet the
 * paddle's face (bounces off the walls folded in); while the ball goes away it follows the ball's
 * height; between points it waits in the middle. It holds FIRE throughout (a hit with FIRE held
 * sends the ball back faster) and moves only when the paddle's centre is more than `deadPx` pixels
 * off (default 1.5, or 10 when `every` > 1). With `every` = 4 each choice is kept for 4 calls, as
 * an agent at frame skip 4 keeps its action for 4 frames; 4 frames of knob turn move the paddle
 * about 19 px. With `gridPx` > 0 it sees the ball's and its paddle's positions rounded to that
 * many pixels, as a network sees them in a downscaled frame (the 160 px playfield is 3.81 px a
 * pixel at 42×42, 2 px at 80×80); the ball's velocity it still reads exactly. Pong with the
 * minimal action set only.
 */
export function pongInterceptPolicy(
  every = 1,
  deadPx = every > 1 ? 10 : 1.5,
  gridPx = 0,
): AtariPolicy {
  const sub = 16, top = PONG_PLAY_TOP * sub, span = (PONG_PLAY_BOTTOM - 4 - PONG_PLAY_TOP) * sub;
  const face = (PONG_AGENT_X - 2) * sub, dead = deadPx * sub, grid = gridPx * sub;
  const seen = (v: number) => grid > 0 ? Math.round(v / grid) * grid : v;
  let calls = 0, held = 0;
  const choose = (p: Pong): number => {
    let target = (PONG_PLAY_TOP + 80) * sub;
    if (p.ballInPlay) {
      const x = seen(p.ballX);
      let y = seen(p.ballY) - top;
      if (p.ballVx > 0) {
        y += (p.ballVy * (face - x)) / p.ballVx;
        y = ((y % (2 * span)) + 2 * span) % (2 * span);
        if (y > span) y = 2 * span - y;
      }
      target = top + y + 2 * sub; // the ball's centre (it is 4 px tall)
    }
    const centre = seen(p.agentY) + (PONG_PADDLE_HEIGHT >> 1) * sub;
    // RIGHTFIRE raises the paddle, LEFTFIRE lowers it, FIRE holds it
    return centre > target + dead ? 4 : centre < target - dead ? 5 : 1;
  };
  return (env) => {
    if (!(env.game instanceof Pong) || env.actionSpace.n !== 6) {
      throw new TypeError(
        `pongInterceptPolicy: plays Pong with its 6 minimal actions, got ${env.game.name} with ` +
          `${env.actionSpace.n}`,
      );
    }
    if (calls++ % every === 0) held = choose(env.game);
    return held;
  };
}

/** What `playGames` measured. */
export interface GamesSummary {
  games: number;
  meanScore: number;
  /** Mean episode length in emulated frames. */
  meanFrames: number;
  scores: number[];
}

/**
 * Plays `games` whole episodes, game `g` reset with seed `seed + g` and the policy drawing from
 * `new Rng(1000 + seed + g)`.
 */
export async function playGames(
  env: AtariEnv,
  policy: AtariPolicy,
  games: number,
  seed = 0,
): Promise<GamesSummary> {
  const scores: number[] = [];
  let frames = 0;
  for (let g = 0; g < games; g++) {
    const rng = new Rng(1000 + seed + g);
    const game = await playEpisode(env, { reset() {}, act: () => policy(env, rng) }, {
      seed: seed + g,
      onStep: (r) => {
        if (r.terminated || r.truncated) frames += r.info.episode_frame_number as number;
      },
    });
    scores.push(game.reward);
  }
  const meanScore = scores.reduce((a, b) => a + b, 0) / games;
  return { games, meanScore, meanFrames: frames / games, scores };
}

/**
 * Raw emulated frames per second of `env` under random actions (one observation drawn per step,
 * as at frameskip 1), best of `repeats` runs of `frames` frames each.
 */
export function rawFramesPerSecond(env: AtariEnv, frames = 200_000, repeats = 3): number {
  const rng = new Rng(1);
  const n = env.actionSpace.n;
  let best = 0;
  for (let k = 0; k < repeats; k++) {
    const start = env.reset({ seed: k }).info.frame_number as number;
    let done = 0;
    const t0 = performance.now();
    while (done < frames) {
      const r = env.step(rng.int(n));
      done = (r.info.frame_number as number) - start;
      if (r.terminated || r.truncated) env.reset();
    }
    const seconds = (performance.now() - t0) / 1000;
    best = Math.max(best, done / seconds);
  }
  return best;
}
