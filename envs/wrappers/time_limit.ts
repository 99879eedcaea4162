/**
 * TimeLimit: truncates an episode after a number of steps, like Gymnasium's wrapper.
 *
 * @module
 */
import type { Action, Env, ResetOptions, ResetResult, StepResult } from "../core.ts";
import { EnvError } from "../core.ts";
import { Wrapper } from "./wrapper.ts";

/**
 * Sets `truncated` once `maxEpisodeSteps` steps have been taken since the last reset (both flags can
 * be set on the same step). Stepping after the episode ended, without a reset, throws.
 */
export class TimeLimit extends Wrapper {
  readonly maxEpisodeSteps: number;
  #elapsed = 0;
  #ended = false;

  constructor(env: Env, maxEpisodeSteps: number) {
    super(env);
    if (!(Number.isInteger(maxEpisodeSteps) && maxEpisodeSteps > 0)) {
      throw new EnvError(
        `${env.id}: TimeLimit maxEpisodeSteps is ${maxEpisodeSteps}; expected a positive integer`,
      );
    }
    this.maxEpisodeSteps = maxEpisodeSteps;
  }

  /** Steps taken since the last reset. */
  get elapsedSteps(): number {
    return this.#elapsed;
  }

  override reset(options?: ResetOptions): ResetResult {
    this.#elapsed = 0;
    this.#ended = false;
    return this.env.reset(options);
  }

  override step(action: Action): StepResult {
    if (this.#ended) {
      throw new EnvError(
        `${this.id}: step() called after the episode ended (terminated or truncated at ` +
          `${this.#elapsed} steps); call reset() first`,
      );
    }
    const result = this.env.step(action);
    this.#elapsed++;
    if (this.#elapsed >= this.maxEpisodeSteps) result.truncated = true;
    this.#ended = result.terminated || result.truncated;
    return result;
  }
}
