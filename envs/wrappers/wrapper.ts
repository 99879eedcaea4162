/**
 * The wrapper base: an env around an env, delegating everything it does not change.
 *
 * @module
 */
import type {
  Action,
  Env,
  Observation,
  ResetOptions,
  ResetResult,
  RgbFrame,
  Space,
  StepResult,
} from "../core.ts";

/**
 * An env that wraps another and by default passes every call through. Subclasses override what
 * they change; `env` is the wrapped env.
 */
export class Wrapper<O extends Observation = Observation> implements Env<O> {
  constructor(readonly env: Env) {}

  /** The wrapped env's id. */
  get id(): string {
    return this.env.id;
  }

  /** The wrapped env's observation space unless overridden. */
  get observationSpace(): Space {
    return this.env.observationSpace;
  }

  /** The wrapped env's action space unless overridden. */
  get actionSpace(): Space {
    return this.env.actionSpace;
  }

  /** Resets the wrapped env. */
  reset(options?: ResetOptions): ResetResult<O> {
    return this.env.reset(options) as ResetResult<O>;
  }

  /** Steps the wrapped env. */
  step(action: Action): StepResult<O> {
    return this.env.step(action) as StepResult<O>;
  }

  /** Renders the wrapped env. */
  render(): RgbFrame {
    return this.env.render();
  }

  /** Closes the wrapped env. */
  close(): void {
    this.env.close();
  }
}

/**
 * A wrapper that changes only the observations (as Gymnasium's `ObservationWrapper`):
 * {@link observation} maps each one after a step, {@link resetObservation} the first of an episode
 * (by default the same map). Rewards, ends and info pass through.
 */
export abstract class ObservationWrapper<O extends Observation = Float32Array> extends Wrapper<O> {
  /** The observation after a step, made from the wrapped env's. */
  abstract observation(x: Observation): O;

  /** The observation after a reset (default: {@link observation}). */
  resetObservation(x: Observation): O {
    return this.observation(x);
  }

  override reset(options?: ResetOptions): ResetResult<O> {
    const result = this.env.reset(options);
    return { observation: this.resetObservation(result.observation), info: result.info };
  }

  override step(action: Action): StepResult<O> {
    const r = this.env.step(action) as StepResult<Observation>;
    r.observation = this.observation(r.observation);
    return r as StepResult<O>;
  }
}

/** The innermost env under any number of wrappers. */
export function unwrap(env: Env): Env {
  while (env instanceof Wrapper) env = env.env;
  return env;
}

/** The outermost wrapper of the given class in the chain, if any. */
export function findWrapper<W extends Wrapper>(
  env: Env,
  // deno-lint-ignore no-explicit-any
  cls: abstract new (...args: any[]) => W,
): W | undefined {
  for (let e: Env = env; e instanceof Wrapper; e = e.env) {
    if (e instanceof cls) return e;
  }
  return undefined;
}

/** A seed for a wrapper's own generator, derived from a reset seed so wrappers differ from the env. */
export function deriveSeed(seed: number, salt: number): number {
  return (Math.imul(Math.trunc(seed) ^ 0x5bd1e995, 0x27d4eb2d) + salt) >>> 0;
}
