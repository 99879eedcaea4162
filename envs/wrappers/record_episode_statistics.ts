/**
 * Gymnasium's `RecordEpisodeStatistics`, for games with lives: the return and length of each
 * whole game, put in `info.episode` of its last step. A lost life that ends only an
 * `EpisodicLife` episode (`info.wasRealDone` false) goes on counting the same game.
 *
 * @example
 * ```ts
 * import { makeEnv } from "../registry.ts";
 * const env = new RecordEpisodeStatistics(makeEnv("CartPole-v1"));
 * env.reset({ seed: 1 });
 * for (;;) {
 *   const r = env.step(0);
 *   if (r.terminated || r.truncated) {
 *     console.log(r.info.episode); // { reward: 9, length: 9 }
 *     break;
 *   }
 * }
 * ```
 *
 * @module
 */
import type { Action, Observation, ResetOptions, ResetResult, StepResult } from "../core.ts";
import { Wrapper } from "./wrapper.ts";

/** What `info.episode` holds at a game's last step. */
export interface EpisodeStatistics {
  /** The game's return (unclipped, unshaped). */
  reward: number;
  /** Its length in steps. */
  length: number;
}

/** Puts each whole game's return and length in `info.episode` of its last step. */
export class RecordEpisodeStatistics<O extends Observation = Observation> extends Wrapper<O> {
  #reward = 0;
  #length = 0;
  #over = true;

  override reset(options?: ResetOptions): ResetResult<O> {
    // after a lost life the game goes on: its counts too (a seed always starts a new game)
    if (this.#over || options?.seed !== undefined) {
      this.#reward = 0;
      this.#length = 0;
    }
    this.#over = false;
    return this.env.reset(options) as ResetResult<O>;
  }

  override step(action: Action): StepResult<O> {
    const result = this.env.step(action) as StepResult<O>;
    this.#reward += result.reward;
    this.#length++;
    if ((result.terminated || result.truncated) && result.info.wasRealDone !== false) {
      result.info.episode = { reward: this.#reward, length: this.#length } as EpisodeStatistics;
      this.#over = true;
    }
    return result;
  }
}
