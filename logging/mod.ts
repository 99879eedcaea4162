/**
 * Training logs users look at: TensorBoard event files (a writer for scalars, histograms and
 * markdown text, and a reader that checks every record), and a run's reward curves drawn from its
 * `metrics.jsonl` (`plotRun`).
 *
 * @module
 */
export * from "./tensorboard.ts";
export { PlotError, type PlotOptions, type PlotResult, plotRun } from "./plot/mod.ts";
