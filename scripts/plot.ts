/**
 * `deno task plot runs/<name> [--out <dir>] [--scale n]`: draws a run's reward curves from its
 * `metrics.jsonl` into `rewards.svg` and `rewards.png` (in the run directory unless `--out` names
 * another). The chart has two panels, reward against frames and against wall time, each with the
 * evaluation episodes, their running mean and the running mean of the training episodes; the title
 * names the env (from the run's `config.json`) and the run.
 *
 * @module
 */
import { InvalidArgumentError } from "npm:@commander-js/extra-typings@14.0.0";
import { describeTime, PlotError, plotRun } from "../logging/plot/mod.ts";
import { requireAccess } from "./permissions.ts";
import { runTask, taskCommand } from "./_task.ts";

function scale(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0 && n <= 8)) {
    throw new InvalidArgumentError("expected a number in (0, 8]");
  }
  return n;
}

if (import.meta.main) {
  const cmd = taskCommand(
    "plot",
    "Plot a run's reward curves to rewards.svg and rewards.png.",
    "<run-dir>",
    "run directory holding metrics.jsonl (runs/<name>)",
  )
    .option("--out <dir>", "directory to write into instead of the run directory")
    .option("--scale <n>", "PNG pixels per SVG pixel, up to 8", scale, 2)
    .option("--svg-only", "write the SVG alone");
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
