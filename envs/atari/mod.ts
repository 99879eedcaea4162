/**
 * Pong and Breakout, re-implemented to the ALE's observable contract (210×160×3 frames, palette,
 * minimal action sets, scoring, lives, frame-skip and sticky-action variants), and their registry
 * entries.
 *
 * @example
 * ```ts
 * import { makePong } from "./mod.ts";
 * const env = makePong(); // PongNoFrameskip-v4
 * let { observation } = env.reset({ seed: 1 });
 * const { reward, terminated } = env.step(2); // RIGHT: paddle up
 * ```
 *
 * @module
 */
import { EnvError, type EnvSpec } from "../core.ts";
import { ATARI_OPTIONS, AtariEnv } from "./ale_env.ts";
import { Pong } from "./pong.ts";
import { Breakout } from "./breakout.ts";

export {
  ALE_ACTION_MEANINGS,
  ATARI_OPTIONS,
  AtariEnv,
  type AtariGame,
  type AtariOptions,
  INPUT_FIRE,
  INPUT_LEFT,
  INPUT_RIGHT,
  type ObsType,
} from "./ale_env.ts";
export { type Colour, colour, Screen, SCREEN_HEIGHT, SCREEN_WIDTH } from "./screen.ts";
export * from "./pong.ts";
export * from "./breakout.ts";
export * from "./measure.ts";

/** The ALE variant a registry id names: its frame skip, sticky actions and frame cap. */
interface Variant {
  suffix: string;
  defaults: Record<string, unknown>;
  maxEpisodeSteps?: number;
}

// the registrations of old gym (v0, v4) and ale-py (v5)
const VARIANTS: readonly Variant[] = [
  { suffix: "NoFrameskip-v4", defaults: { frameskip: 1 }, maxEpisodeSteps: 400_000 },
  { suffix: "Deterministic-v4", defaults: { frameskip: 4 }, maxEpisodeSteps: 100_000 },
  {
    suffix: "-v0",
    defaults: { frameskip: [2, 5], repeatActionProbability: 0.25 },
    maxEpisodeSteps: 10_000,
  },
  { suffix: "-v4", defaults: { frameskip: [2, 5] }, maxEpisodeSteps: 100_000 },
  {
    suffix: "-v5",
    defaults: { frameskip: 4, repeatActionProbability: 0.25, maxNumFramesPerEpisode: 108_000 },
  },
];

function idOf(game: string, v: Variant): string {
  return v.suffix === "-v5" ? `ALE/${game}-v5` : `${game}${v.suffix}`;
}

function withDefaults(
  defaults: Record<string, unknown>,
  options: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...defaults, ...options };
  // the alias replaces the default cap rather than clashing with it
  if ("maxNumFrames" in options && !("maxNumFramesPerEpisode" in options)) {
    delete merged.maxNumFramesPerEpisode;
  }
  return merged;
}

function specs(game: string, create: () => Pong | Breakout, alias: string): EnvSpec[] {
  return VARIANTS.map((v) => {
    const id = idOf(game, v);
    return {
      id,
      ...(v.suffix === "NoFrameskip-v4" ? { aliases: [alias] } : {}),
      ...(v.maxEpisodeSteps ? { maxEpisodeSteps: v.maxEpisodeSteps } : {}),
      options: ATARI_OPTIONS,
      make: (options: Record<string, unknown>) =>
        new AtariEnv(create(), id, withDefaults(v.defaults, options)),
    };
  });
}

/**
 * Registry entries: `PongNoFrameskip-v4` (alias `pong`), `PongDeterministic-v4`, `Pong-v0`,
 * `Pong-v4`, `ALE/Pong-v5`, and the same five for Breakout (alias `breakout`).
 *
 * | variant | frameskip | sticky p | cap |
 * |---|---|---|---|
 * | NoFrameskip-v4 | 1 | 0 | 400,000 steps (registry) |
 * | Deterministic-v4 | 4 | 0 | 100,000 steps (registry) |
 * | -v0 | uniform {2,3,4} per step | 0.25 | 10,000 steps (registry) |
 * | -v4 | uniform {2,3,4} per step | 0 | 100,000 steps (registry) |
 * | ALE/-v5 | 4 | 0.25 per frame | 108,000 frames (env, truncated) |
 */
export const atariEnvSpecs: EnvSpec[] = [
  ...specs("Pong", () => new Pong(), "pong"),
  ...specs("Breakout", () => new Breakout(), "breakout"),
];

/** The registry entry of an Atari id or alias. */
function atariSpec(id: string): EnvSpec | undefined {
  return atariEnvSpecs.find((s) => s.id === id || s.aliases?.includes(id));
}

/**
 * Emulated frames one step of a registered Atari id plays, on average: 1 for NoFrameskip ids, 4
 * for Deterministic and v5 ids, 3 for v0 and v4 ids (2, 3 or 4 at random each step); undefined
 * for an id that is not an Atari one. Aliases are accepted.
 */
export function meanFrameskip(id: string): number | undefined {
  const spec = atariSpec(id);
  if (spec === undefined) return undefined;
  const variant = VARIANTS.find((v) => spec.id.endsWith(v.suffix))!;
  const skip = variant.defaults.frameskip as number | [number, number];
  return typeof skip === "number" ? skip : (skip[0] + skip[1] - 1) / 2;
}

/** Makes an Atari env by id (`PongNoFrameskip-v4`, `ALE/Breakout-v5`, `pong`, ...). */
export function makeAtari(id: string, options: Record<string, unknown> = {}): AtariEnv {
  const spec = atariSpec(id);
  if (!spec) {
    const known = atariEnvSpecs.flatMap((s) => [s.id, ...(s.aliases ?? [])]);
    throw new EnvError(`makeAtari: unknown id "${id}"; expected one of ${known.join(", ")}`);
  }
  return spec.make(options) as AtariEnv;
}

/** `PongNoFrameskip-v4` (one emulated frame a step, no sticky actions), with options. */
export function makePong(options: Record<string, unknown> = {}): AtariEnv {
  return makeAtari("PongNoFrameskip-v4", options);
}

/** `BreakoutNoFrameskip-v4` (one emulated frame a step, no sticky actions), with options. */
export function makeBreakout(options: Record<string, unknown> = {}): AtariEnv {
  return makeAtari("BreakoutNoFrameskip-v4", options);
}
