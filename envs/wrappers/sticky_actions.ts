/**
 * StickyActions: with probability p the previous action is repeated instead of the chosen one.
 *
 * @module
 */
import { Rng } from "../../autograd/random.ts";
import type { Action, Env, ResetOptions, ResetResult, StepResult } from "../core.ts";
import { EnvError } from "../core.ts";
import { entropySeed } from "../classic/base.ts";
import { checkDiscreteAction } from "../classic/actions.ts";
import { deriveSeed, Wrapper } from "./wrapper.ts";

/** Options of {@link StickyActions}. */
export interface StickyActionsOptions {
  /** Probability of repeating the previous action (0.25, as ALE v5). */
  p?: number;
  /** Seed of the wrapper's generator; `reset({seed})` reseeds it from that seed too. */
  seed?: number;
}

/**
 * Sticky actions per wrapped step (per raw frame when wrapping a frameskip-1 env, as ALE does).
 * The previous action is 0 (NOOP) after a reset. `info.stickyRepeated` says whether the step
 * repeated the previous action.
 */
export class StickyActions extends Wrapper {
  readonly p: number;
  readonly #rng: Rng;
  #last = 0;

  constructor(env: Env, options: StickyActionsOptions = {}) {
    super(env);
    this.p = options.p ?? 0.25;
    if (!(this.p >= 0 && this.p <= 1)) {
      throw new EnvError(
        `${env.id}: StickyActions p is ${this.p}; expected a probability in [0, 1]`,
      );
    }
    if (env.actionSpace.kind !== "discrete") {
      throw new EnvError(`${env.id}: StickyActions needs a discrete action space`);
    }
    this.#rng = new Rng(options.seed ?? entropySeed());
  }

  override reset(options?: ResetOptions): ResetResult {
    if (options?.seed !== undefined) this.#rng.seed(deriveSeed(options.seed, 2));
    this.#last = 0;
    return this.env.reset(options);
  }

  override step(action: Action): StepResult {
    const chosen = checkDiscreteAction(
      this.id,
      this.actionSpace as { kind: "discrete"; n: number },
      action,
    );
    const repeated = this.#rng.random() < this.p;
    const taken = repeated ? this.#last : chosen;
    this.#last = taken;
    const result = this.env.step(taken);
    result.info.stickyRepeated = repeated;
    return result;
  }
}
