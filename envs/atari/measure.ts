/**
 * Helpers to measure the Atari envs: play whole games with a policy (calibration against the ALE's
 * random baselines) and count raw emulated frames per second (for the env bench).
 *
 * @module
 */
import { Rng } from "../../autograd/random.ts";
import type { AtariEnv } from "./ale_env.ts";
import { playEpisode } from "../evaluate.ts";
import type { Pong } from "./pong.ts";

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
