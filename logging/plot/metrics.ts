/**
 * Reading a run's `metrics.jsonl` (the lines the trainer appends) into the episode series the
 * reward plot draws.
 *
 * @module
 */

/** The error plotting throws for a missing, empty or malformed run; the message names the file. */
export class PlotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlotError";
  }
}

/** One finished episode: when it ended and its return. */
export interface EpisodePoint {
  /** Seconds since the run started. */
  time: number;
  /** Frames played by all workers when it ended. */
  frames: number;
  /** Episode return. */
  reward: number;
  /** Mean return of the last (up to) 100 episodes of the same kind, this one included. */
  mean100: number;
}

/** The episodes of a run, in file order. */
export interface RunMetrics {
  /** Learner episodes of every worker. */
  train: EpisodePoint[];
  /** Evaluation episodes (greedy policy, full games). */
  eval: EpisodePoint[];
  /** Why the run stopped, if it has (`end` line). */
  endReason?: string;
  /**
   * Where the training workers' time went, summed over every worker (milliseconds; `wall` is
   * their wall time, so `wall` minus the phases is time outside updates), and the seconds the
   * evaluator spent playing. Null for runs written before phase times were logged.
   */
  time: TimeBreakdown | null;
  /** The last line was cut short (a run killed while writing it) and was skipped. */
  truncatedLastLine: boolean;
}

/** Summed phase times of a run's training workers and its evaluator's playing time. */
export interface TimeBreakdown {
  act: number;
  env: number;
  learn: number;
  optimizer: number;
  wall: number;
  /** Seconds the evaluator spent playing its episodes. */
  evalSeconds: number;
  /** Seconds from the first to the last record. */
  elapsed: number;
}

const WINDOW = 100;

function runningMean(points: { reward: number; mean100?: number }[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i].reward;
    if (i >= WINDOW) sum -= points[i - WINDOW].reward;
    out.push(sum / Math.min(i + 1, WINDOW));
  }
  return out;
}

/**
 * Parses the text of a metrics file. `path` only names the file in errors. A last line without its
 * newline that is not JSON is skipped (the trainer is still writing it); any other bad line is an
 * error naming the file and line.
 */
export function parseMetrics(text: string, path: string): RunMetrics {
  const lines = text.split("\n");
  const complete = text.endsWith("\n");
  const train: Omit<EpisodePoint, "mean100">[] = [];
  const evalRaw: (Omit<EpisodePoint, "mean100"> & { recorded?: number })[] = [];
  let endReason: string | undefined;
  let entries = 0;
  const time: TimeBreakdown = {
    act: 0,
    env: 0,
    learn: 0,
    optimizer: 0,
    wall: 0,
    evalSeconds: 0,
    elapsed: 0,
  };
  let timed = false;
  let first = Infinity, last = -Infinity;
  let truncatedLastLine = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "") continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      if (n === lines.length - 1 && !complete) {
        truncatedLastLine = true;
        break;
      }
      throw new PlotError(`${path} line ${n + 1}: expected one JSON object, got ${clip(line)}`);
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new PlotError(`${path} line ${n + 1}: expected one JSON object, got ${clip(line)}`);
    }
    const e = entry as Record<string, unknown>;
    if (typeof e.type !== "string") {
      throw new PlotError(`${path} line ${n + 1}: expected a "type" field, got ${clip(line)}`);
    }
    entries++;
    if (typeof e.time === "number") {
      // a run resumed into a new directory starts its file at the training seconds it had
      first = Math.min(first, e.time);
      last = Math.max(last, e.time);
    }
    if (e.type === "losses" && typeof e.time_ms === "object" && e.time_ms !== null) {
      const t = e.time_ms as Record<string, unknown>;
      for (const k of ["act", "env", "learn", "optimizer", "wall"] as const) {
        if (typeof t[k] === "number") time[k] += t[k] as number;
      }
      timed = true;
    }
    if (e.type === "eval_episode" && typeof e.seconds === "number") time.evalSeconds += e.seconds;
    if (e.type === "train_episodes") {
      // the episodes that ended within one second, on one line
      const rewards = e.rewards;
      if (
        typeof e.time !== "number" || typeof e.frames !== "number" || !Array.isArray(rewards) ||
        !rewards.every((r) => typeof r === "number" && Number.isFinite(r))
      ) {
        throw new PlotError(
          `${path} line ${n + 1}: train_episodes needs numeric "time", "frames" and a list of ` +
            `numeric "rewards", got ${clip(line)}`,
        );
      }
      for (const reward of rewards) {
        train.push({ time: e.time as number, frames: e.frames as number, reward });
      }
    } else if (e.type === "train_episode" || e.type === "eval_episode") {
      for (const field of ["time", "frames", "reward"]) {
        if (typeof e[field] !== "number" || !Number.isFinite(e[field])) {
          throw new PlotError(
            `${path} line ${n + 1}: a ${e.type} needs a numeric "${field}", got ${clip(line)}`,
          );
        }
      }
      const point = {
        time: e.time as number,
        frames: e.frames as number,
        reward: e.reward as number,
      };
      if (e.type === "train_episode") train.push(point);
      else {
        evalRaw.push({
          ...point,
          recorded: typeof e.mean100 === "number" ? e.mean100 : undefined,
        });
      }
    } else if (e.type === "end") {
      endReason = typeof e.reason === "string" ? e.reason : "ended";
    }
  }
  if (entries === 0) {
    throw new PlotError(`${path}: empty; expected the JSON lines a training run writes`);
  }
  if (train.length === 0 && evalRaw.length === 0) {
    throw new PlotError(
      `${path}: no "train_episode" or "eval_episode" lines yet; nothing to plot`,
    );
  }
  const trainMeans = runningMean(train);
  const evalMeans = runningMean(evalRaw);
  return {
    train: train.map((p, i) => ({ ...p, mean100: trainMeans[i] })),
    // Recomputed over the whole file: the evaluator's own mean restarts when a run is resumed.
    eval: evalRaw.map(({ recorded: _recorded, ...p }, i) => ({ ...p, mean100: evalMeans[i] })),
    endReason,
    time: timed ? { ...time, elapsed: last > first ? last - first : 0 } : null,
    truncatedLastLine,
  };
}

/** Reads and parses `path`; a missing or unreadable file is a {@link PlotError} naming it. */
export async function readMetrics(path: string): Promise<RunMetrics> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new PlotError(`${path}: not found; expected the metrics.jsonl of a training run`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new PlotError(`${path}: is a directory; expected the metrics.jsonl of a training run`);
    }
    throw new PlotError(`${path}: cannot be read (${(error as Error).message})`);
  }
  return parseMetrics(text, path);
}

function clip(line: string): string {
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line);
}

/** The breakdown as one line of percentages (of the training workers' wall time). */
export function describeTime(t: TimeBreakdown): string {
  const pct = (v: number) => `${(100 * v / t.wall).toFixed(1)}%`;
  const other = t.wall - t.act - t.env - t.learn - t.optimizer;
  return `training workers: acting ${pct(t.act)}, envs ${pct(t.env)}, loss and backward ${
    pct(t.learn)
  }, clip and optimizer ${pct(t.optimizer)}, outside updates ${pct(other)}; evaluator: ${
    t.evalSeconds.toFixed(0)
  } s playing in ${t.elapsed.toFixed(0)} s (${
    (100 * t.evalSeconds / t.elapsed).toFixed(1)
  }% of a core)`;
}
