/**
 * `deno task plot runs/<name> [--out <dir>] [--scale n]`: draws a run's reward curves from its
 * `metrics.jsonl` into `rewards.svg` and `rewards.png` (in the run directory unless `--out` names
 * another). The chart has two panels, reward against frames and against wall time, each with the
 * evaluation episodes, their running mean and the running mean of the training episodes; the title
 * names the env (from the run's `config.json`) and the run.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "npm:@commander-js/extra-typings@14.0.0";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic_file.ts";
import { renderSvg, rewardChartSpec } from "./plot/chart.ts";
import { describeTime, PlotError, readMetrics, type TimeBreakdown } from "./plot/metrics.ts";
import { svgToPng } from "./plot/png.ts";
import { requireAccess } from "./permissions.ts";
import { quiet, runTask } from "./_task.ts";

export { PlotError } from "./plot/metrics.ts";

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
function scale(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n <= 8)) {
    throw new InvalidArgumentError("expected a number in (0, 8]");
  }
  return n;
}

if (import.meta.main) {
  const cmd = quiet(
    new Command("plot")
      .description("Plot a run's reward curves to rewards.svg and rewards.png.")
      .argument("<run-dir>", "run directory holding metrics.jsonl (runs/<name>)")
      .option("--out <dir>", "directory to write into instead of the run directory")
      .option("--scale <n>", "PNG pixels per SVG pixel, up to 8", scale, 2)
      .option("--svg-only", "write the SVG alone"),
  );
  await runTask("plot", [PlotError], async () => {
    cmd.parse(Deno.args, { from: "user" });
    const o = cmd.opts();
    requireAccess("plot", "read", cmd.args[0], "run directory");
    requireAccess(
      "plot",
      "write",
      o.out ?? cmd.args[0],
      o.out !== undefined ? "--out" : "run directory",
    );
    const r = await plotRun(cmd.args[0], { out: o.out, scale: o.scale, svgOnly: o.svgOnly });
    console.log(`wrote ${r.svg}${r.png ? ` and ${r.png}` : ""}`);
    if (r.time !== null) console.log(describeTime(r.time));
  });
}
