/**
 * A run's reward curves from its `metrics.jsonl`, drawn as `rewards.svg` and `rewards.png`: two
 * panels, reward against frames and against wall time, each with the evaluation episodes, their
 * running mean and the running mean of the training episodes; the title names the env (from the
 * run's `config.json`) and the run. `deno task plot` is its command line.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../io/atomic_file.ts";
import { renderSvg, rewardChartSpec } from "./chart.ts";
import { describeTime, PlotError, readMetrics, type TimeBreakdown } from "./metrics.ts";
import { svgToPng } from "./png.ts";

export { describeTime, PlotError, type TimeBreakdown };

/** Options of {@link plotRun}. */
export interface PlotOptions {
  /** Directory for `rewards.svg` and `rewards.png` (created if missing); the run directory by default. */
  out?: string;
  /** PNG pixels per SVG pixel (2). */
  scale?: number;
  /** Skip the PNG. */
  svgOnly?: boolean;
}

/** The files {@link plotRun} wrote, and where the run's time went (null for older runs). */
export interface PlotResult {
  svg: string;
  png?: string;
  time: TimeBreakdown | null;
}

async function readConfig(runDir: string): Promise<{ env?: string; targetReward?: number }> {
  try {
    const config = JSON.parse(await Deno.readTextFile(join(runDir, "config.json")));
    return {
      env: typeof config.env === "string" ? config.env : undefined,
      targetReward: typeof config.targetReward === "number" ? config.targetReward : undefined,
    };
  } catch {
    return {}; // a run without a readable config is still plotted, titled by its directory
  }
}

/**
 * Plots the run in `runDir` and writes `rewards.svg` and `rewards.png`. Everything is read and
 * drawn before anything is written, and each file is replaced atomically, so a bad metrics file
 * leaves earlier plots as they were.
 */
export async function plotRun(runDir: string, options: PlotOptions = {}): Promise<PlotResult> {
  const metrics = await readMetrics(join(runDir, "metrics.jsonl"));
  if (metrics.truncatedLastLine) {
    console.error(
      `warning: the last line of ${join(runDir, "metrics.jsonl")} is cut short (the run was ` +
        `killed while writing it); it is skipped`,
    );
  }
  const config = await readConfig(runDir);
  const name = runDir.replace(/\/+$/, "");
  const spec = rewardChartSpec(metrics, {
    title: config.env ? `${config.env} — ${name}` : name,
    target: config.targetReward,
  });
  const svg = await renderSvg(spec);
  const png = options.svgOnly ? undefined : await svgToPng(svg, options.scale ?? 2);
  const out = options.out ?? runDir;
  await Deno.mkdir(out, { recursive: true });
  const result: PlotResult = { svg: join(out, "rewards.svg"), time: metrics.time };
  await writeFileAtomic(result.svg, svg);
  if (png) {
    result.png = join(out, "rewards.png");
    await writeFileAtomic(result.png, png);
  }
  return result;
}

/**
 * PNG pixels per SVG pixel, at most 8 (a 720×260 chart becomes about 12 megapixels; far larger
 * scales exhaust the PNG renderer's memory).
 */
