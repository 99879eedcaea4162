/**
 * What the bench suites share: reading an option, a scratch run directory, and measuring a training
 * run's frames per second.
 *
 * @module
 */
import type { TrainConfig } from "../../algorithms/config.ts";
import { train } from "../../algorithms/trainer.ts";

/** The value after `name` in `args` (`--seconds 30`), or `fallback`. */
export function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * Training frames per second of a run of `config` (its run directory a scratch one under `runs/`,
 * the one directory `deno task bench` may write), measured from the first status after a warm-up
 * of a quarter of `seconds` that has counted frames (A3G compiles its shaders in the first ones),
 * until `seconds` later with more frames counted.
 */
export async function trainingRate(
  config: Omit<TrainConfig, "runDir">,
  seconds: number,
): Promise<number> {
  return await inScratchRun(".bench-", async (dir, controller) => {
    const warmup = seconds / 4;
    let start: { t: number; frames: number } | null = null;
    let rate = 0;
    await train({ ...config, runDir: dir } as TrainConfig, {
      print: false,
      signal: controller.signal,
      onStatus: (s) => {
        if (start === null && s.seconds >= warmup && s.frames > 0) {
          start = { t: s.seconds, frames: s.frames };
        }
        if (start !== null && s.seconds >= start.t + seconds && s.frames > start.frames) {
          rate = (s.frames - start.frames) / (s.seconds - start.t);
          controller.abort();
        }
      },
    });
    return rate;
  });
}

/**
 * `body` given a scratch run directory under `runs/` (the one directory `deno task bench` may
 * write), named `prefix…`, and the controller that stops the runs in it; the directory is removed
 * however `body` ends.
 */
export async function inScratchRun<T>(
  prefix: string,
  body: (dir: string, controller: AbortController) => Promise<T>,
): Promise<T> {
  await Deno.mkdir("runs", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "runs", prefix });
  try {
    return await body(dir, new AbortController());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
