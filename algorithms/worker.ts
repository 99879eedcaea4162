/**
 * The Deno Worker isolate behind every training and evaluation worker.
 *
 * A training worker attaches to the shared parameters and optimizer state, runs `Learner.update`
 * (on the CPU, or with `--a3g` on its own WebGPU device) until the shared stop flag is set, and
 * counts its steps in its own slot of the shared counters
 * (one writer per slot, so no atomics are needed). The evaluation worker plays greedy episodes with
 * the latest shared parameters, waiting between episodes so it does not starve training, and runs
 * the confirming 100-episode test of `--stop-when-solved`. Results go to the main isolate by
 * `postMessage`; nothing here touches files.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { Parameters } from "../autograd/parameters.ts";
import { wasmGemm } from "../autograd/backends/cpu/wasm_gemm.ts";
import type { Env } from "../envs/core.ts";
import { ActorCritic } from "../models/actor_critic.ts";
import { modelDefinition } from "../models/mod.ts";
import { GpuBackend, requestGpu } from "../autograd/backends/webgpu/mod.ts";
import { GpuActorCritic } from "../models/gpu_actor_critic.ts";
import { greedyPolicy } from "./a3c.ts";
import { evaluatePolicy, playEpisode, type Policy } from "../envs/evaluate.ts";
import { GpuPolicy } from "./a3g.ts";
import { CpuPolicy, Learner } from "./learner.ts";
import { attachOptimizer } from "./optimizers.ts";
import { configAtFrames, framesPerStep, makeTrainingEnv } from "./training_env.ts";
import { RunningMeanStd } from "../envs/wrappers/running_mean_std.ts";
import { learningRate, type TrainConfig } from "./config.ts";
import {
  CONTROL_STOP,
  CONTROL_VIEWERS,
  COUNTER_FRAMES,
  COUNTERS_PER_SLOT,
  FRAME_INTERVAL_MS,
  UpdateReporter,
  type WorkerMessage,
  type WorkerSetup,
} from "./worker_protocol.ts";

/** Seed offset per restart of a worker: far beyond the seeds of any other worker's envs. */
const RESTART_SEED_STRIDE = 1_000_003;

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

function stopRequested(control: Int32Array): boolean {
  return Atomics.load(control, CONTROL_STOP) !== 0;
}

/**
 * The run's env for this worker as it plays with configuration `config` (the run's, its frame
 * skip as of now), normalising with the run's shared statistics (walkers).
 */
function buildEnv(setup: WorkerSetup, seed: number, config = setup.config): Env {
  if (setup.normalisation === null) return makeTrainingEnv(config, seed);
  const storage = new Float64Array(setup.normalisation);
  const rms = new RunningMeanStd((storage.length - 1) / 2, 1e-4, storage);
  return makeTrainingEnv(config, seed, rms);
}

/**
 * The training frames of every slot (slot 0 holds a resumed run's; the evaluator's slot, after
 * the workers', is left out): the clock of the learning-rate schedule and the frame-skip switch.
 */
function trainingFrames(setup: WorkerSetup): () => number {
  const counters = new Float64Array(setup.counters);
  const workers = setup.config.workers;
  return () => {
    let sum = 0;
    for (let slot = 0; slot <= workers; slot++) {
      sum += counters[slot * COUNTERS_PER_SLOT + COUNTER_FRAMES];
    }
    return sum;
  };
}

function buildModel(setup: WorkerSetup, env: Env): ActorCritic {
  const { config } = setup;
  const definition = modelDefinition(
    config.model,
    env.observationSpace,
    env.actionSpace,
    config.hiddenSize,
  );
  // A private store of the same layout: the learner's local copy of the shared parameters. It
  // lives in the wasm GEMM's memory where there is one, so products read the weights (and write
  // the weight gradients) in place instead of copying them in and out on every call: 10–20% more
  // steps per second for the walker and Atari learners in A/B runs.
  const wasm = wasmGemm();
  const size = setup.layout.size;
  const storage = wasm === null ? {} : { data: wasm.alloc(size), grad: wasm.alloc(size) };
  return new ActorCritic(definition, Parameters.fromLayout(setup.layout, storage));
}

/**
 * A training worker: `--env-groups` learners (A3G; 1 on the CPU) of `--envs-per-worker` envs
 * each. A3G workers open their own WebGPU device and keep every group in flight at once: while one
 * group waits for its readback, the others step their envs. The device is destroyed before the
 * isolate closes itself.
 */
async function train(setup: WorkerSetup): Promise<void> {
  const { config, index } = setup;
  const { shared, control, optimizer, numSteps, reporter } = attach(setup);
  const frames = trainingFrames(setup);
  // the configuration as played at the start (a resumed run may be past its frame-skip switch)
  const playing = configAtFrames(config, frames());
  const K = config.envsPerWorker;
  const groups = config.a3g ? config.envGroups : 1;
  // A restarted worker plays new episodes rather than the ones it played before its failure.
  const seedOf = (g: number) =>
    config.seed + (index * groups + g) * K + setup.restarts * RESTART_SEED_STRIDE;
  const envsOf = (g: number, as = playing) =>
    Array.from({ length: K }, (_, b) => buildEnv(setup, seedOf(g) + b, as));
  let backend: GpuBackend | null = null;
  const learners: Learner[] = [];
  try {
    if (config.a3g) {
      const context = await requestGpu();
      if (context === null) throw new Error("A3G: this worker found no WebGPU adapter");
      backend = new GpuBackend(context);
      for (let g = 0; g < groups; g++) {
        const envs = envsOf(g);
        const definition = modelDefinition(
          config.model,
          envs[0].observationSpace,
          envs[0].actionSpace,
          config.hiddenSize,
        );
        const model = new GpuActorCritic(backend, definition, setup.layout);
        learners.push(new Learner(envs, new GpuPolicy(model, K), config, seedOf(g)));
      }
    } else {
      const envs = envsOf(0);
      const policy = new CpuPolicy(buildModel(setup, envs[0]), K);
      learners.push(new Learner(envs, policy, config, seedOf(0)));
    }
    let updates = 0;
    await Promise.all(learners.map(async (learner, g) => {
      let plays = playing;
      while (!stopRequested(control)) {
        if (setup.failAfterUpdates !== undefined && updates >= setup.failAfterUpdates) {
          throw new Error(`injected failure after ${updates} updates (test hook)`);
        }
        const now = frames();
        optimizer.lr = learningRate(config, now);
        const due = configAtFrames(config, now);
        if (due.skipRate !== plays.skipRate) {
          // the frame-skip switch (`--skip-rate-final`): this learner's envs are rebuilt at the
          // new skip between two updates, and their games start anew
          plays = due;
          learner.replaceEnvs(envsOf(g, plays), seedOf(g));
        }
        const update = await learner.update(numSteps, optimizer, shared);
        reporter.record(update, framesPerStep(plays));
        updates++;
      }
    }));
    // The last partial second of statistics, so a short run reports its losses too.
    reporter.flush();
    for (const learner of learners) for (const env of learner.envs) env.close();
  } finally {
    backend?.destroy();
  }
}

/**
 * What every training worker attaches to: the shared parameters, control words and optimizer, its
 * rollout length (`--distributed-step-size` list[i mod length], else `--num-steps`) and the
 * reporter of its updates.
 */
function attach(setup: WorkerSetup) {
  const { config, index } = setup;
  const list = config.distributedStepSize;
  return {
    shared: new Float32Array(setup.params),
    control: new Int32Array(setup.control),
    optimizer: attachOptimizer(setup.optimizer!),
    numSteps: list?.[index % list.length] ?? config.numSteps,
    reporter: new UpdateReporter(
      index,
      setup.counters,
      setup.slot,
      framesPerStep(config),
      post,
      () => ({
        heap: Deno.memoryUsage().heapUsed,
        wasm: wasmGemm()?.usedBytes ?? 0,
      }),
    ),
  };
}

async function evaluate(setup: WorkerSetup): Promise<void> {
  const { config } = setup;
  const shared = new Float32Array(setup.params);
  const control = new Int32Array(setup.control);
  const seed = config.seed + 100_000 + setup.restarts * RESTART_SEED_STRIDE;
  const frames = trainingFrames(setup);
  let plays = configAtFrames(config, frames());
  let env = buildEnv(setup, seed, plays);
  const model = buildModel(setup, env);
  const policy = greedyPolicy(model);
  const threshold = setup.solvedThreshold;
  const recent: number[] = [];
  let first = true;
  // While a live page is open, the game being played is sent to it, at most ~30 frames a second.
  let lastFrame = 0;
  const sendFrame = (from: Env) => {
    if (Atomics.load(control, CONTROL_VIEWERS) === 0) return;
    const now = performance.now();
    if (now - lastFrame < FRAME_INTERVAL_MS) return;
    lastFrame = now;
    const frame = from.render();
    const rgb = Uint8Array.from(frame.data);
    self.postMessage({ type: "frame", rgb, width: frame.width, height: frame.height }, [
      rgb.buffer,
    ]);
  };
  const show = new ShowGame(setup, model, shared, control, sendFrame);
  show.follow(plays);
  while (!stopRequested(control)) {
    const due = configAtFrames(config, frames());
    if (due.skipRate !== plays.skipRate) {
      // the training switched its frame skip: the evaluator's games follow it
      plays = due;
      env.close();
      env = buildEnv(setup, seed, plays);
      first = true;
      show.follow(plays);
    }
    model.parameters.copyFrom(shared);
    const snapshot = Float32Array.from(model.parameters.data);
    const started = performance.now();
    const episode = await playEpisode(env, policy, {
      seed: first ? seed : undefined,
      onStep: () => sendFrame(env),
    });
    const busy = (performance.now() - started) / 1000;
    first = false;
    recent.push(episode.reward);
    if (recent.length > 100) recent.shift();
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    post({
      type: "eval",
      reward: episode.reward,
      length: episode.length,
      mean,
      seconds: busy,
      params: snapshot,
    });
    if (
      config.stopWhenSolved && threshold !== null && episode.reward >= threshold &&
      recent.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, recent.length) >= threshold
    ) {
      // The confirming test: 100 episodes back to back with these frozen weights.
      const test = await evaluatePolicy(env, policy, {
        episodes: 100,
        stopped: () => stopRequested(control),
      });
      if (test.episodes === 100) {
        post({
          type: "confirm",
          episodes: 100,
          mean: test.mean,
          std: test.std,
          min: test.min,
          max: test.max,
          passed: test.mean >= threshold,
          params: snapshot,
        });
      }
    }
    // Wait between episodes, so evaluation uses at most `evalDuty` of a core; a stop request
    // wakes the wait at once.
    const wait = Math.max(config.evalWait, busy * (1 - config.evalDuty) / config.evalDuty);
    if (wait > 0) await show.wait(wait * 1000);
  }
  env.close();
  show.close();
}

/**
 * What the evaluator does between its games while a live page is open: it plays a game for the
 * page at the game's own pace (Atari at 60 emulated frames a second; others at ~30 steps a
 * second), in an env of its own, so the evaluation games stay whole and honest. It is not an
 * evaluation: nothing of it is recorded. At that pace it costs a few percent of one core. With no
 * page open, the wait is a plain sleep.
 */
class ShowGame {
  #setup: WorkerSetup;
  #model: ActorCritic;
  #policy: Policy;
  #shared: Float32Array;
  #control: Int32Array;
  #sendFrame: (from: Env) => void;
  #env: Env | null = null;
  #paceMs: number;
  #plays: TrainConfig;

  constructor(
    setup: WorkerSetup,
    model: ActorCritic,
    shared: Float32Array,
    control: Int32Array,
    sendFrame: (from: Env) => void,
  ) {
    this.#setup = setup;
    this.#model = model;
    this.#policy = greedyPolicy(model);
    this.#shared = shared;
    this.#control = control;
    this.#sendFrame = sendFrame;
    this.#plays = setup.config;
    this.#paceMs = Math.max(FRAME_INTERVAL_MS, (framesPerStep(setup.config) * 1000) / 60);
  }

  /** Plays at configuration `plays` from now on (the frame skip the training has reached). */
  follow(plays: TrainConfig): void {
    if (plays.skipRate === this.#plays.skipRate) return;
    this.#plays = plays;
    this.#paceMs = Math.max(FRAME_INTERVAL_MS, (framesPerStep(plays) * 1000) / 60);
    this.#env?.close();
    this.#env = null;
  }

  /** Waits `ms` (a stop request ends it at once), playing for an open page meanwhile. */
  async wait(ms: number): Promise<void> {
    const until = performance.now() + ms;
    const control = this.#control;
    const watched = () => Atomics.load(control, CONTROL_VIEWERS) > 0;
    while (!stopRequested(control) && performance.now() < until) {
      if (!watched()) {
        Atomics.wait(control, CONTROL_STOP, 0, Math.min(until - performance.now(), 250));
        continue;
      }
      // a game for the page, paced step by step, left where it is when the wait ends (the next
      // one goes on with it: a reset after no game over only steps on)
      const env = this.#env ??= buildEnv(
        this.#setup,
        this.#setup.config.seed + 200_000,
        this.#plays,
      );
      this.#model.parameters.copyFrom(this.#shared);
      await playEpisode(env, this.#policy, {
        onStep: () => {
          this.#sendFrame(env);
          const left = until - performance.now();
          if (left > 0) Atomics.wait(control, CONTROL_STOP, 0, Math.min(left, this.#paceMs));
          return !stopRequested(control) && performance.now() < until && watched();
        },
      });
    }
  }

  close(): void {
    this.#env?.close();
  }
}

self.onmessage = async (event: MessageEvent<WorkerSetup>) => {
  const setup = event.data;
  try {
    if (setup.role === "eval") await evaluate(setup);
    else await train(setup);
    post({ type: "stopped", worker: setup.index, role: setup.role });
  } catch (error) {
    const e = error as Error;
    post({
      type: "error",
      worker: setup.index,
      role: setup.role,
      message: e?.message ?? String(error),
      stack: e?.stack,
    });
  }
  self.close();
};
