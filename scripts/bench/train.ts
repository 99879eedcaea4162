/**
 * `deno task bench train [--preset pong] [--seconds 60] [--json]`: training frames per second of
 * the A3C trainer with 1 and with 2 workers (no evaluation worker), and the Hogwild scaling ratio.
 * Each run is measured after a warm-up of a quarter of its duration.
 *
 * @module
 */
import { option, trainingRate } from "./_args.ts";
import { resolveConfig } from "../../algorithms/config.ts";

/** Frames per second of one run with `workers` workers over `seconds` (after warm-up). */
function measure(preset: string, workers: number, seconds: number): Promise<number> {
  return trainingRate(resolveConfig(preset, { workers, evaluate: false }), seconds);
}

/** Runs the suite. */
export async function run(args: string[], quiet: boolean): Promise<Record<string, unknown>> {
  const preset = option(args, "--preset", "pong");
  const seconds = Number(option(args, "--seconds", "60"));
  if (!(seconds > 0)) throw new RangeError(`bench train: --seconds must be > 0, got ${seconds}`);
  const one = await measure(preset, 1, seconds);
  if (!quiet) console.log(`${preset}: 1 worker  ${one.toFixed(0)} frames/s`);
  const two = await measure(preset, 2, seconds);
  const ratio = two / one;
  if (!quiet) {
    console.log(
      `${preset}: 2 workers ${two.toFixed(0)} frames/s (${ratio.toFixed(2)}× one worker)`,
    );
  }
  return {
    preset,
    frames_per_s: { "1": one, "2": two },
    ratio,
  };
}
