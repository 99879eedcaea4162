/**
 * `deno task bench cluster [--preset pong] [--seconds 40] [--json]`: a cluster run's global
 * frames per second and sync latency with 1, 2 and 4 trainers of 1 worker each against one
 * private redis-server on this machine, and the bytes one sync moves for the `small` and `large`
 * Atari models. The trainers run in this process (each has its own worker isolates; only their
 * main loops share a thread), with no evaluation worker.
 *
 * @module
 */
import { inScratchRun, option } from "./_args.ts";
import { resolveConfig } from "../../algorithms/config.ts";
import { train, type TrainStatus } from "../../algorithms/trainer.ts";
import { makeTrainingEnv } from "../../algorithms/training_env.ts";
import { modelDefinition } from "../../models/mod.ts";
import { startRedis } from "../redis_server.ts";

/** Parameters of a model family on Pong. */
function parameterCount(model: "small" | "large"): number {
  const config = resolveConfig("pong", { model });
  const env = makeTrainingEnv(config, 1);
  const d = modelDefinition(model, env.observationSpace, env.actionSpace, config.hiddenSize);
  env.close();
  return d.specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}

interface Figures {
  trainers: number;
  frames_per_s: number;
  sync_ms: number;
  syncs_per_s: number;
}

/** `n` trainers of one run for `seconds` after a warm-up of a quarter of that. */
async function measure(
  url: string,
  preset: string,
  n: number,
  seconds: number,
): Promise<Figures> {
  return await inScratchRun(".bench-cluster-", async (dir, controller) => {
    const warmup = seconds / 4;
    const last: (TrainStatus | null)[] = Array(n).fill(null);
    let start: { t: number; frames: number; syncs: number[]; ms: number[] } | null = null;
    let result: Figures | null = null;
    const onStatus = (i: number) => (s: TrainStatus) => {
      last[i] = s;
      if (i !== 0 || last.some((x) => x === null)) return;
      const all = last as TrainStatus[];
      const syncs = all.map((x) => x.cluster!.syncs);
      const ms = all.map((x) => (x.cluster!.syncMs ?? 0) * x.cluster!.syncs);
      if (start === null && s.seconds >= warmup) {
        start = { t: s.seconds, frames: s.frames, syncs, ms };
      }
      if (start !== null && result === null && s.seconds >= start.t + seconds) {
        const count = syncs.reduce((a, b) => a + b, 0) - start.syncs.reduce((a, b) => a + b, 0);
        const total = ms.reduce((a, b) => a + b, 0) - start.ms.reduce((a, b) => a + b, 0);
        result = {
          trainers: n,
          frames_per_s: (s.frames - start.frames) / (s.seconds - start.t),
          sync_ms: count > 0 ? total / count : NaN,
          syncs_per_s: count / (s.seconds - start.t),
        };
        controller.abort();
      }
    };
    const runs = [];
    for (let i = 0; i < n; i++) {
      const config = resolveConfig(preset, {
        workers: 1,
        evaluate: false,
        runDir: `${dir}/${i}`,
        cluster: url,
      });
      runs.push(train(config, { print: false, signal: controller.signal, onStatus: onStatus(i) }));
      // the first one starts the run; the others join it
      if (i === 0) await new Promise((r) => setTimeout(r, 3000));
    }
    await Promise.all(runs);
    if (result === null) throw new Error("bench cluster: the run ended before it was measured");
    return result;
  });
}

/** Runs the suite. */
export async function run(args: string[], quiet: boolean): Promise<Record<string, unknown>> {
  const preset = option(args, "--preset", "pong");
  const seconds = Number(option(args, "--seconds", "40"));
  if (!(seconds > 0)) throw new RangeError(`bench cluster: --seconds must be > 0, got ${seconds}`);
  const redis = await startRedis();
  const rows: Figures[] = [];
  try {
    for (const n of [1, 2, 4]) {
      const figures = await measure(redis.url(`bench-${n}`), preset, n, seconds);
      rows.push(figures);
      if (!quiet) {
        console.log(
          `${preset}: ${n} trainer(s) × 1 worker  ${figures.frames_per_s.toFixed(0)} frames/s, ` +
            `sync ${figures.sync_ms.toFixed(1)} ms mean, ${figures.syncs_per_s.toFixed(1)} syncs/s`,
        );
      }
    }
  } finally {
    await redis.stop();
  }
  const bytes = Object.fromEntries(
    (["small", "large"] as const).map((m) => [m, 2 * 4 * parameterCount(m)]),
  );
  if (!quiet) {
    for (const [m, b] of Object.entries(bytes)) {
      console.log(
        `bytes per sync, ${m} model: ${(b / 2 ** 20).toFixed(2)} MiB (its float32 change up, ` +
          `the global parameters down)`,
      );
    }
  }
  return { preset, rows, bytes_per_sync: bytes };
}
