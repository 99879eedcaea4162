/**
 * EpisodicLife: a life lost ends the episode for the learner; the game only restarts when it is
 * really over.
 *
 * @module
 */
import type { Action, ResetOptions, ResetResult, StepResult } from "../core.ts";
import { EnvError } from "../core.ts";
import { Wrapper } from "./wrapper.ts";

/**
 * Reads the lives count from `info.lives`. A step that loses a life while lives remain
 * (`0 < lives < previous`) returns `terminated`; `wasRealDone` (also in `info.wasRealDone`) says
 * whether the game itself ended. The next `reset` then takes one NOOP step instead of a real reset
 * unless the game really ended (or that NOOP ends it). Envs without `info.lives` pass through.
 */
export class EpisodicLife extends Wrapper {
  #lives = 0;
  #wasRealDone = true;
  #ended = false;

  /** Whether the last episode end was a real game over (or a time limit), not a lost life. */
  get wasRealDone(): boolean {
    return this.#wasRealDone;
  }

  override reset(options?: ResetOptions): ResetResult {
    let result: ResetResult;
    if (this.#wasRealDone || options?.seed !== undefined) {
      result = this.env.reset(options);
    } else {
      const step = this.env.step(0);
      result = step.terminated || step.truncated ? this.env.reset(options) : step;
    }
    this.#lives = lives(result.info);
    this.#wasRealDone = false;
    this.#ended = false;
    return { observation: result.observation, info: result.info };
  }

  override step(action: Action): StepResult {
    if (this.#ended) {
      throw new EnvError(
        `${this.id}: step() called after the episode ended (a life was lost); call reset() first`,
      );
    }
    const result = this.env.step(action);
    this.#wasRealDone = result.terminated || result.truncated;
    const now = lives(result.info);
    if (now < this.#lives && now > 0) result.terminated = true;
    this.#lives = now;
    result.info.wasRealDone = this.#wasRealDone;
    this.#ended = result.terminated || result.truncated;
    return result;
  }
}

function lives(info: Record<string, unknown>): number {
  return typeof info.lives === "number" ? info.lives : 0;
}
