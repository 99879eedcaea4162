/**
 * The A3C trainer's main isolate: it creates the shared parameters, optimizer state and counters,
 * starts N training workers and one evaluation worker, collects their reports, writes
 * `runs/<name>/` (config.json, metrics.jsonl, checkpoints), prints a status line, and stops
 * everything cleanly on a limit, on solving, on a worker error or on Ctrl-C.
 *
 * @module
 */
import { requestGpu } from "../autograd/backends/webgpu/device.ts";
import { rewardThreshold } from "../envs/registry.ts";
import type { Checkpoint } from "../io/checkpoint.ts";
import type { SummaryWriter } from "../logging/tensorboard.ts";
import { RunLog } from "./run_log.ts";
import { createSharedState, restoreSharedState } from "./shared_state.ts";
import { allFinite, CheckpointWriter } from "./checkpoint_writer.ts";
import { RESTART_WINDOW_SECONDS, WorkerPool } from "./worker_pool.ts";
import { learningRate, type TrainConfig } from "./config.ts";
import { claimRunDirectory, runDirectory, type RunLock } from "./run_directory.ts";
import { configAtFrames, framesPerStep, resolveModel } from "./training_env.ts";
import { Cluster, parseClusterUrl } from "./cluster.ts";
import { type RunServer, serveRun } from "../web/server.ts";
import {
  CONTROL_STOP,
  CONTROL_VIEWERS,
  COUNTER_FRAMES,
  type WorkerMessage,
  type WorkerSetup,
} from "./worker_protocol.ts";

/** Why a run ended. */
export type StopReason =
  | "max-frames"
  | "max-minutes"
  | "solved"
  | "interrupted"
  | "non-finite"
  | "error";

/** What `train` returns. */
export interface TrainResult {
  runDir: string;
  reason: StopReason;
  frames: number;
  steps: number;
  episodes: number;
  updates: number;
  /** Updates skipped because their loss or gradient was not finite. */
  skippedUpdates: number;
  /** Workers restarted after a failure. */
  restarts: number;
  seconds: number;
  /** Mean of the last (up to) 100 evaluation episodes, or null. */
  evalMean: number | null;
  /** The confirming 100-episode test, when one passed. */
  solved: { mean: number; std: number; min: number; max: number } | null;
  /** The first worker error, if the run ended on one. */
  error?: string;
  /** The signal that stopped the run, if one did. */
  signal?: StopSignal;
}

/** Signals that stop a run cleanly. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** The exit code of `deno task train` after a run stopped by each signal: 128 + its number. */
export const SIGNAL_EXIT_CODES: Record<StopSignal, number> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

/** Options of `train` beside the configuration. */
export interface TrainOptions {
  /** Called once a second with the status (a notebook can plot it). */
  onStatus?: (status: TrainStatus) => void;
  /** Print the status line (default true). */
  print?: boolean;
  /** Aborting stops the run cleanly, like Ctrl-C. */
  signal?: AbortSignal;
  /**
   * A test hook: training worker `worker` throws after `afterUpdates` updates in each of its
   * first `times` starts, to show that failed workers are restarted (or, failing too often, stop
   * the run).
   */
  injectFailure?: { worker: number; afterUpdates: number; times: number };
  /**
   * A test hook: once the run has this many frames, one shared parameter is set to NaN, as an
   * overflow in a Hogwild update would leave it.
   */
  injectNonFiniteAfterFrames?: number;
  /** Called with the live page's address once it is served (`config.serve`). */
  onServe?: (url: string) => void;
  /** Stop cleanly on SIGINT, SIGTERM and SIGHUP (default true). */
  handleSignals?: boolean;
  /**
   * Exit the process at a second signal (the command line's choice; default false, so a notebook
   * kernel interrupted twice is not killed).
   */
  secondSignalExits?: boolean;
}

/** A snapshot of the run for the status line and `onStatus`. */
export interface TrainStatus {
  seconds: number;
  frames: number;
  framesPerSecond: number;
  steps: number;
  updates: number;
  /** Updates skipped because their loss or gradient was not finite. */
  skippedUpdates: number;
  /** Workers restarted after a failure. */
  restarts: number;
  episodes: number;
  /** The live page's address, when the run serves one. */
  url?: string;
  /**
   * In a cluster run: this machine's role and number, whether Redis is unreachable, and its syncs
   * so far (count, mean duration in ms, parameter bytes sent and received).
   */
  cluster?: {
    role: "chief" | "member";
    index: number;
    offline: boolean;
    syncs: number;
    syncMs: number | null;
    bytes: number;
  };
  trainMean: number | null;
  evalMean: number | null;
  evalBest: number | null;
  policyLoss: number | null;
  valueLoss: number | null;
  entropy: number | null;
}

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Trains with A3C until a limit, solving, an error or an interrupt; returns where the run was
 * written and what it reached.
 *
 * @example
 * ```ts
 * const result = await train(resolveConfig("cartpole", { maxFrames: 200_000, workers: 2 }));
 * ```
 */
export async function train(
  config: TrainConfig,
  options: TrainOptions = {},
): Promise<TrainResult> {
  // What a run holds until it ends, released here even when it throws part-way (a notebook's next
  // run into the same directory must not find it locked by this process).
  const held: Held = {};
  try {
    return await runTraining(config, options, held);
  } finally {
    held.removeListeners?.();
    held.runLog?.close();
    held.lock?.release();
    await held.cluster?.close();
    await held.server?.close();
  }
}

interface Held {
  cluster?: Cluster;
  server?: RunServer;
  lock?: RunLock;
  runLog?: RunLog;
  removeListeners?: () => void;
}

async function runTraining(
  config: TrainConfig,
  options: TrainOptions,
  held: Held,
): Promise<TrainResult> {
  const print = options.print ?? true;
  const log = (line: string) => print && console.log(line);
  // a model family that fits the env (`auto` picks one), refused before anything is written
  config = resolveModel(config);
  if (config.a3g) {
    // One adapter check here, so a machine without one says so once and trains on the CPU.
    const gpu = await requestGpu();
    if (gpu === null) {
      config = { ...config, a3g: false };
    } else {
      const info = gpu.adapterInfo;
      log(
        `A3G: ${config.workers} worker(s) × ${config.envGroups} group(s) × ` +
          `${config.envsPerWorker} env(s) on ${
            info.description || info.vendor || "a WebGPU adapter"
          }`,
      );
      gpu.device.destroy();
    }
  }

  // ---- the model, its shared parameters, optimizer state and counters ----
  const state = createSharedState(config);
  const { params, layout, optimizer, counters } = state;
  const sharedStatistics = state.statistics;
  const workers = config.workers;
  // ---- resume: everything checked before anything is written ----
  const previousSeconds = config.load === null
    ? 0
    : await restoreSharedState(state, { ...config, load: config.load }, log);
  // ---- cluster: the global parameters and counters replace this machine's own ----
  let cluster: Cluster | null = null;
  if (config.cluster !== null) {
    cluster = held.cluster = await Cluster.join(parseClusterUrl(config.cluster), {
      params: params.data,
      identity: clusterIdentity(config, layout.slots),
      counters: counters.base(),
      chief: config.chief ? true : "auto",
      log,
    });
    if (config.load !== null && !cluster.started) {
      log(
        `--load ${config.load}: the run's global parameters and counters replace the loaded ones`,
      );
    }
    counters.setBase(cluster.counters);
    // members only train; each machine's envs take their own seeds
    config = {
      ...config,
      seed: config.seed + 1000 * cluster.index,
      evaluate: config.evaluate && cluster.role === "chief",
    };
  }
  const runDir = runDirectory(config);
  const lock = held.lock = await claimRunDirectory(runDir, config.load);
  if (previousSeconds > 0) {
    log(
      `resuming at ${si(counters.total(COUNTER_FRAMES))} frames after ${
        (previousSeconds / 60).toFixed(1)
      } minutes of training` +
        (config.maxMinutes !== null ? ` (--max-minutes ${config.maxMinutes} counts them)` : ""),
    );
  }
  if (configAtFrames(config, counters.total(COUNTER_FRAMES)) !== config) {
    log(
      `frame skip ${config.skipRateFinal} from the start: the run is past --skip-switch-frames ` +
        `${si(config.skipSwitchFrames)}`,
    );
  }
  await Deno.writeTextFile(`${runDir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  const runLog = held.runLog = await RunLog.open(runDir, config);
  const record = (entry: Record<string, unknown>) => runLog.record(entry);
  const board = (write: (w: SummaryWriter) => void) => runLog.board(write);
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  // ---- the live page: the evaluator draws its game only while a page is open ----
  let server: RunServer | null = null;
  if (config.serve !== null) {
    server = held.server = await serveRun({
      runDir,
      hostname: config.serveHost,
      port: config.serve,
      live: true,
      onViewers: (n) => Atomics.store(control, CONTROL_VIEWERS, n),
    });
    log(`live page: ${server.url}`);
    options.onServe?.(server.url);
  }

  const total = (k: number) => counters.total(k);
  const started = performance.now();
  const seconds = () => previousSeconds + (performance.now() - started) / 1000;
  const countersNow = () => ({ ...counters.totals(), seconds: seconds() });
  const checkpoint = (snapshot: Float32Array, withOptimizer: boolean): Checkpoint => ({
    params: snapshot,
    layout: layout.slots,
    // the frame skip it was playing at, so that `deno task eval` plays it so
    config: configAtFrames(config, total(COUNTER_FRAMES)),
    optimizer: withOptimizer ? optimizer.state() : undefined,
    counters: countersNow(),
    normalisation: sharedStatistics?.export(),
  });
  const writer = new CheckpointWriter(runDir);
  let lastSave = seconds();
  const save = (name: string, c: Checkpoint) => {
    // in a cluster only the chief writes checkpoints
    if (cluster !== null && cluster.role !== "chief") return;
    if (writer.save(name, c) && name === "latest") lastSave = seconds();
  };

  // ---- workers ----
  const solvedThreshold = config.targetReward ?? rewardThreshold(config.env) ?? null;
  const setup = (
    role: "train" | "eval",
    index: number,
    slot: number,
    restarts = 0,
  ): WorkerSetup => ({
    role,
    index,
    slot,
    restarts,
    failAfterUpdates: role === "train" && options.injectFailure?.worker === index &&
        restarts < options.injectFailure.times
      ? options.injectFailure.afterUpdates
      : undefined,
    config,
    layout,
    params: params.data.buffer as SharedArrayBuffer,
    optimizer: role === "train" ? optimizer.describe() : null,
    counters: counters.buffer,
    control: control.buffer as SharedArrayBuffer,
    solvedThreshold,
    normalisation: (sharedStatistics?.storage.buffer as SharedArrayBuffer | undefined) ?? null,
  });
  // training episodes go to the log once a second (see RunLog)
  const logEpisodes = () => runLog.flushEpisodes(seconds(), total(COUNTER_FRAMES));
  let lastHistograms = -Infinity;
  // each training worker's last reported heap and WebAssembly memory, for the memory records
  const workerMemory = new Map<number, { heap: number; wasm: number }>();
  let restarts = 0;
  const trainRewards: number[] = [];
  const evalRewards: number[] = [];
  let evalBest: number | null = null;
  let losses: { policyLoss: number; valueLoss: number; entropy: number; gradNorm: number } | null =
    null;
  let reason: StopReason | null = null;
  let skippedUpdates = 0;
  let solved: TrainResult["solved"] = null;
  let firstError: string | undefined;

  const requestStop = (why: StopReason) => {
    if (reason !== null) return;
    reason = why;
    Atomics.store(control, CONTROL_STOP, 1);
    Atomics.notify(control, CONTROL_STOP);
  };

  const onMessage = (m: WorkerMessage) => {
    const t = seconds(), frames = total(COUNTER_FRAMES);
    switch (m.type) {
      case "episode":
        trainRewards.push(m.reward);
        if (trainRewards.length > 100) trainRewards.shift();
        runLog.episode({ worker: m.worker, reward: m.reward, length: m.length });
        break;
      case "stats": {
        if (m.memory !== undefined) workerMemory.set(m.worker, m.memory);
        skippedUpdates += m.skipped;
        if (m.skipped > 0) {
          board((w) => w.scalar("train/skipped_updates", skippedUpdates, frames));
        }
        // A second of skipped updates only has no finite losses to show.
        const finite = Number.isFinite(m.policyLoss);
        if (finite) losses = m;
        record({
          type: "losses",
          time: t,
          frames,
          worker: m.worker,
          policy_loss: m.policyLoss,
          value_loss: m.valueLoss,
          entropy: m.entropy,
          grad_norm: m.gradNorm,
          skipped: m.skipped,
          time_ms: roundTimes(m.time),
        });
        if (finite) {
          board((w) => {
            w.scalar("loss/policy", m.policyLoss, frames);
            w.scalar("loss/value", m.valueLoss, frames);
            w.scalar("loss/entropy", m.entropy, frames);
            w.scalar("loss/grad_norm", m.gradNorm, frames);
          });
        }
        break;
      }
      case "eval": {
        evalRewards.push(m.reward);
        if (evalRewards.length > 100) evalRewards.shift();
        record({
          type: "eval_episode",
          time: t,
          frames,
          reward: m.reward,
          length: m.length,
          mean100: m.mean,
          seconds: Math.round(m.seconds * 1000) / 1000,
        });
        board((w) => {
          w.scalar("eval/episode_reward", m.reward, frames);
          w.scalar("eval/episode_length", m.length, frames);
          w.scalar("eval/mean100", m.mean, frames);
          // rl_a3c_pytorch logs a histogram of every parameter with each test game; here at most
          // once per --histogram-every seconds, so short games do not fill the disk
          if (t - lastHistograms >= config.histogramEvery) {
            lastHistograms = t;
            for (const { name, offset, size } of layout.slots) {
              w.histogram(`parameters/${name}`, m.params.subarray(offset, offset + size), frames);
            }
          }
        });
        save("latest", checkpoint(Float32Array.from(params.data), true));
        if (evalBest === null || m.reward >= evalBest) {
          evalBest = m.reward;
          if (config.saveMax) save("best", checkpoint(m.params, false));
        }
        break;
      }
      case "confirm":
        record({
          type: "confirm",
          time: t,
          frames,
          episodes: m.episodes,
          mean: m.mean,
          std: m.std,
          min: m.min,
          max: m.max,
          passed: m.passed,
        });
        log(
          `\nconfirming test: ${m.episodes} episodes, mean ${m.mean.toFixed(2)} ± ${
            m.std.toFixed(2)
          }`,
        );
        if (m.passed) {
          solved = { mean: m.mean, std: m.std, min: m.min, max: m.max };
          save("solved", checkpoint(m.params, false));
          requestStop("solved");
          void cluster?.stopRun("solved");
        }
        break;
      case "frame":
        server?.frame(m.rgb, m.width, m.height);
        break;
    }
  };
  const pool = new WorkerPool(new URL("./worker.ts", import.meta.url).href, {
    onMessage,
    seconds,
    stopping: () => reason !== null,
    restart(s, message) {
      restarts++;
      record({
        type: "restart",
        time: seconds(),
        frames: total(COUNTER_FRAMES),
        worker: s.index,
        role: s.role,
        restarts: s.restarts + 1,
        message,
      });
      board((w) => w.scalar("train/worker_restarts", restarts, total(COUNTER_FRAMES)));
      return setup(s.role, s.index, s.slot, s.restarts + 1);
    },
    gaveUp(s, failures, message) {
      firstError ??= `${s.role} worker ${s.index} failed ${failures} times within ` +
        `${RESTART_WINDOW_SECONDS / 60} minutes (last: ${message}); the run stops`;
      console.error(firstError);
      requestStop("error");
    },
    failedWhileStopping(s, message) {
      firstError ??= `${s.role} worker ${s.index} failed while the run was stopping: ${message}`;
    },
  });
  if (config.evaluate) pool.start(setup("eval", 0, counters.evalSlot));
  for (let i = 0; i < workers; i++) pool.start(setup("train", i, counters.workerSlot(i)));

  // ---- signals (Ctrl-C, SIGTERM from docker/systemd/timeout, SIGHUP) and abort ----
  // The first stops the run cleanly; with `secondSignalExits`, a second one exits at once (every
  // file is written whole or not at all, so nothing is corrupted; the last checkpoint stays).
  let signalled: StopSignal | undefined;
  const signals: StopSignal[] = Deno.build.os === "windows" ? ["SIGINT"] : [
    "SIGINT",
    "SIGTERM",
    "SIGHUP",
  ];
  // A terminal's Ctrl-C reaches the whole process group, and `deno task` forwards it to the script
  // as well: one press arrives twice within milliseconds. A repeat that soon is the same press.
  const SAME_PRESS_MS = 500;
  let signalsSeen = 0;
  let firstSignalAt = 0;
  const onSignal = (signal: StopSignal) => () => {
    if (signalsSeen > 0 && performance.now() - firstSignalAt < SAME_PRESS_MS) return;
    signalsSeen++;
    if (signalsSeen === 1) firstSignalAt = performance.now();
    if (signalsSeen > 1) {
      if (!options.secondSignalExits) return;
      console.error(`\n${signal} again: exiting now; the last checkpoint stays`);
      Deno.exit(SIGNAL_EXIT_CODES[signalled ?? signal]);
    }
    // already stopping at a limit, solved or on an error: the signal changes nothing
    if (reason !== null) return;
    signalled = signal;
    log(
      `\n${signal}: stopping workers and saving a final checkpoint` +
        (options.secondSignalExits ? ` (${signal} again exits now)` : ""),
    );
    requestStop("interrupted");
  };
  const listeners = signals.map((signal) => [signal, onSignal(signal)] as const);
  if (options.handleSignals ?? true) {
    for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
    held.removeListeners = () => {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    };
  }
  options.signal?.addEventListener("abort", () => requestStop("interrupted"));

  // ---- cluster sync: after every `syncEvery` of this machine's updates ----
  // This machine's own counts are its workers' slots; the base slot holds the rest of the run's
  // (what was restored, and the other machines' work as of the last sync), so totals are global.
  const own = () => counters.own();
  const syncStats = { syncs: 0, seconds: 0, bytes: 0 };
  let syncing: Promise<void> | null = null;
  let lastSyncUpdates = 0;
  const syncNow = (): Promise<void> => {
    const mine = own();
    lastSyncUpdates = mine.updates;
    const t0 = performance.now();
    return cluster!.sync(mine).then((r) => {
      if (r === null) return;
      syncStats.syncs++;
      syncStats.seconds += (performance.now() - t0) / 1000;
      syncStats.bytes += r.bytes;
      counters.setBase({
        steps: r.counters.steps - mine.steps,
        frames: r.counters.frames - mine.frames,
        episodes: r.counters.episodes - mine.episodes,
        updates: r.counters.updates - mine.updates,
      });
      if (r.stop !== null && reason === null) {
        log(`\ncluster: the chief stopped the run (${r.stop})`);
        requestStop(r.stop === "solved" ? "solved" : "interrupted");
      }
    });
  };
  const syncTick = cluster === null ? undefined : setInterval(() => {
    if (syncing !== null || reason !== null) return;
    if (own().updates - lastSyncUpdates < config.syncEvery) return;
    syncing = syncNow().finally(() => syncing = null);
  }, 50);

  // ---- status line and limits, once a second ----
  const tty = Deno.stdout.isTerminal();
  let printing = print;
  let lastMemory = seconds();
  let lastFrames = total(COUNTER_FRAMES), lastTime = performance.now(), fps = 0, lastPrint = 0;
  const status = (): TrainStatus => {
    const c = countersNow();
    return {
      seconds: c.seconds,
      frames: c.frames,
      framesPerSecond: fps,
      steps: c.steps,
      updates: c.updates,
      skippedUpdates,
      restarts,
      episodes: c.episodes,
      url: server?.url,
      cluster: cluster === null ? undefined : {
        role: cluster.role,
        index: cluster.index,
        offline: cluster.offline,
        syncs: syncStats.syncs,
        syncMs: syncStats.syncs ? (1000 * syncStats.seconds) / syncStats.syncs : null,
        bytes: syncStats.bytes,
      },
      trainMean: mean(trainRewards),
      evalMean: mean(evalRewards),
      evalBest,
      policyLoss: losses?.policyLoss ?? null,
      valueLoss: losses?.valueLoss ?? null,
      entropy: losses?.entropy ?? null,
    };
  };
  let framesPerStepNow = framesPerStep(configAtFrames(config, total(COUNTER_FRAMES)));
  const tick = setInterval(() => {
    logEpisodes();
    const now = performance.now(), frames = total(COUNTER_FRAMES);
    const perStep = framesPerStep(configAtFrames(config, frames));
    if (perStep !== framesPerStepNow) {
      log(
        `frame skip ${framesPerStepNow} → ${perStep} at ${si(frames)} frames (--skip-rate-final)`,
      );
      record({ type: "skip", time: seconds(), frames, skip_rate: perStep });
      framesPerStepNow = perStep;
    }
    fps = (frames - lastFrames) / ((now - lastTime) / 1000);
    lastFrames = frames;
    lastTime = now;
    const s = status();
    options.onStatus?.(s);
    server?.status({ ...s, dropped: server.dropped });
    // The workers anneal their own copies; this one is logged and saved with checkpoints.
    optimizer.lr = learningRate(config, frames);
    board((w) => {
      w.scalar("train/frames_per_s", fps, frames);
      w.scalar("train/lr", optimizer.lr, frames);
    });
    if (printing && (tty || now - lastPrint > 30_000)) {
      const line = formatStatus(s);
      try {
        if (tty) Deno.stdout.writeSync(new TextEncoder().encode(`\r\x1b[2K${line}`));
        else console.log(line);
      } catch {
        // the terminal has gone (SIGHUP): training goes on without a status line
        printing = false;
      }
      lastPrint = now;
    }
    if (config.maxFrames !== null && frames >= config.maxFrames) requestStop("max-frames");
    const injectAt = options.injectNonFiniteAfterFrames;
    if (injectAt !== undefined && frames >= injectAt && Number.isFinite(params.data[0])) {
      params.data[0] = NaN;
    }
    if (!allFinite(params.data)) {
      firstError ??= "the shared parameters are no longer finite; the run stops and keeps " +
        "its last checkpoint";
      console.error(firstError);
      requestStop("non-finite");
    }
    if (config.maxMinutes !== null && s.seconds >= config.maxMinutes * 60) {
      if (reason === null && s.seconds - previousSeconds < 2 && previousSeconds > 0) {
        log(
          `--max-minutes ${config.maxMinutes}: the resumed run already has ` +
            `${(previousSeconds / 60).toFixed(1)} minutes of training; it stops at once`,
        );
      }
      requestStop("max-minutes");
    }
    // memory once a minute (soak checks read it): the process's resident set and the main
    // isolate's heap (each worker has its own, inside the resident set)
    if (s.seconds - lastMemory >= 60) {
      lastMemory = s.seconds;
      const m = Deno.memoryUsage();
      record({
        type: "memory",
        time: s.seconds,
        frames: s.frames,
        rss: m.rss,
        heap_used: m.heapUsed,
        external: m.external,
        workers_heap: [...workerMemory.values()].reduce((a, w) => a + w.heap, 0),
        workers_wasm: [...workerMemory.values()].reduce((a, w) => a + w.wasm, 0),
      });
      if (cluster !== null) {
        record({
          type: "cluster",
          time: s.seconds,
          frames: s.frames,
          role: cluster.role,
          machine: cluster.index,
          syncs: syncStats.syncs,
          sync_ms_mean: syncStats.syncs ? (1000 * syncStats.seconds) / syncStats.syncs : null,
          bytes: syncStats.bytes,
          offline: cluster.offline,
        });
      }
    }
    if (reason === null && s.seconds - lastSave >= config.saveEvery) {
      save("latest", checkpoint(Float32Array.from(params.data), true));
    }
  }, 1000);

  // ---- stop: wait for the workers, then the final checkpoint ----
  await pool.stopped;
  clearInterval(tick);
  clearInterval(syncTick);
  if (cluster !== null) {
    // the last of this machine's work goes to the run before the final checkpoint
    await syncing;
    await syncNow();
  }
  logEpisodes();
  save("latest", checkpoint(Float32Array.from(params.data), true));
  await writer.flush();
  const final = status();
  // The run's average speed as the last point, so even a run shorter than a tick logs one.
  const ranSeconds = (performance.now() - started) / 1000;
  const startFrames = counters.base().frames;
  board((w) =>
    w.scalar("train/frames_per_s", (final.frames - startFrames) / ranSeconds, final.frames)
  );
  record({
    type: "end",
    time: final.seconds,
    frames: final.frames,
    reason,
    ...(signalled ? { signal: signalled } : {}),
  });
  runLog.closeMetrics();
  if (server !== null) {
    const d = server.dropped;
    if (d.events + d.frames > 0) {
      log(`live page: ${d.events} events and ${d.frames} frames dropped for slow clients`);
    }
    await server.close();
    held.server = undefined;
  }
  runLog.close();
  held.runLog = undefined;
  held.removeListeners?.();
  held.removeListeners = undefined;
  lock.release();
  if (tty && print) console.log();
  log(`${formatStatus(final)}\nstopped (${reason}); run written to ${runDir}`);
  return {
    runDir,
    reason: reason ?? "error",
    frames: final.frames,
    steps: final.steps,
    episodes: final.episodes,
    updates: final.updates,
    skippedUpdates: final.skippedUpdates,
    restarts: final.restarts,
    seconds: final.seconds,
    evalMean: final.evalMean,
    solved,
    error: firstError,
    signal: signalled,
  };
}

function fmt(x: number | null, digits = 2): string {
  return x === null ? "–" : x.toFixed(digits);
}

function si(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`;
}

/**
 * What every machine of a cluster run must share: the env and model (the parameter layout) and
 * the learner's settings. Workers, envs per worker, seeds, limits and logging are each machine's.
 */
function clusterIdentity(
  config: TrainConfig,
  slots: readonly { name: string; size: number }[],
): Record<string, unknown> {
  const keys: (keyof TrainConfig)[] = [
    "env",
    "model",
    "hiddenSize",
    "stackFrames",
    "skipRate",
    "skipRateFinal",
    "skipSwitchFrames",
    "maxPoolFrames",
    "maxEpisodeLength",
    "clipRewards",
    "shapeRewards",
    "lr",
    "lrFinal",
    "lrAnnealFrames",
    "gamma",
    "tau",
    "entropyCoef",
    "valueCoef",
    "maxGradNorm",
    "numSteps",
    "distributedStepSize",
    "optimizer",
    "amsgrad",
    "optimizerEps",
    "sharedOptimizer",
  ];
  return {
    ...Object.fromEntries(keys.map((k) => [k, config[k]])),
    parameters: slots.map((s) => `${s.name}:${s.size}`).join(","),
  };
}

/** A worker's phase times in whole milliseconds (metrics records stay short). */
function roundTimes(time: object): Record<string, number> {
  return Object.fromEntries(Object.entries(time).map(([k, v]) => [k, Math.round(v)]));
}

/** One status line: frames, speed, updates, episodes, recent means, losses. */
export function formatStatus(s: TrainStatus): string {
  const m = Math.floor(s.seconds / 60), sec = Math.floor(s.seconds % 60);
  return `${m}:${String(sec).padStart(2, "0")} frames ${si(s.frames)} (${
    s.framesPerSecond.toFixed(0)
  }/s)` +
    ` updates ${si(s.updates)}${s.skippedUpdates ? ` (${s.skippedUpdates} skipped)` : ""}` +
    (s.restarts ? ` restarts ${s.restarts}` : "") +
    ` episodes ${s.episodes}` +
    (s.url ? ` | ${s.url}` : "") +
    (s.cluster
      ? ` | cluster ${s.cluster.role} #${s.cluster.index}${s.cluster.offline ? " offline" : ""}`
      : "") +
    ` | train ${fmt(s.trainMean)} eval ${fmt(s.evalMean)} best ${fmt(s.evalBest)}` +
    ` | π ${fmt(s.policyLoss, 3)} v ${fmt(s.valueLoss, 3)} H ${fmt(s.entropy, 3)}`;
}
