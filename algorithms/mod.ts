/**
 * Algorithms: n-step returns and GAE, shared-memory optimizers, the training configuration and
 * presets, the A3C loss, the learner that plays K envs on the CPU or (A3G) the GPU, the trainer
 * that runs learners in workers, and a checkpoint's evaluation and export.
 *
 * @module
 */
export * from "./config.ts";
export * from "./returns.ts";
export * from "./optimizers.ts";
export * from "./learner.ts";
export { a3cLoss, greedyAction, lossFromTargets } from "./a3c.ts";
export type { A3CHyperParameters, A3CLoss, EpisodeRecord, UpdateStats, UpdateTime } from "./a3c.ts";
export { GpuPolicy } from "./a3g.ts";
export { train } from "./trainer.ts";
export type { StopReason, TrainOptions, TrainResult, TrainStatus } from "./trainer.ts";
export * from "./evaluate_checkpoint.ts";
export * from "./export_checkpoint.ts";
