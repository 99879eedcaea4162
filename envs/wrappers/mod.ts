/**
 * Env wrappers (frame skip and max-pool, no-op and fire resets, episodic life, sticky actions,
 * reward clipping, Atari rescaling, running normalisation, frame stacking, time limits) and the
 * seeds' pipelines built from them.
 *
 * @module
 */
export { findWrapper, ObservationWrapper, unwrap, Wrapper } from "./wrapper.ts";
export { TimeLimit } from "./time_limit.ts";
export { NoopReset, type NoopResetOptions } from "./noop_reset.ts";
export { MaxAndSkip, type MaxAndSkipOptions } from "./max_and_skip.ts";
export { EpisodicLife } from "./episodic_life.ts";
export { actionMeanings, FireReset } from "./fire_reset.ts";
export { ClipReward, type ClipRewardOptions } from "./clip_reward.ts";
export { StickyActions, type StickyActionsOptions } from "./sticky_actions.ts";
export {
  AreaResizer,
  type AreaTaps,
  areaTaps,
  AtariRescale,
  type AtariRescaleOptions,
  GREY_WEIGHTS,
  roundHalfEven,
} from "./atari_rescale.ts";
export { NormalizedEnv, type NormalizedEnvOptions } from "./normalized_env.ts";
export {
  NormalizeObservation,
  RunningMeanStd,
  type RunningMeanStdState,
} from "./running_mean_std.ts";
export { FrameStack } from "./frame_stack.ts";
export { type EpisodeStatistics, RecordEpisodeStatistics } from "./record_episode_statistics.ts";
export {
  ATARI_CROPS,
  type AtariCrop,
  atariCrop,
  atariPipeline,
  type AtariPipelineOptions,
  walkerPipeline,
  type WalkerPipelineOptions,
} from "./presets.ts";
