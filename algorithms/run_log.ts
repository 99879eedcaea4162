/**
 * A run's log files: `metrics.jsonl` (one JSON record a line, appended; a line cut short by a
 * killed process is dropped when the run resumes) and the TensorBoard event file, whose failures
 * are reported once and never stop training. Training episodes are gathered and written once a
 * second: one line when one ended, one line listing them all when several did.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const log = await RunLog.open(dir, { env: "CartPole-v1" });
 * log.episode({ worker: 0, reward: 21, length: 21 });
 * log.flushEpisodes(1.5, 21);
 * log.record({ type: "end", time: 2, frames: 21, reason: "max-frames" });
 * log.close();
 * ```
 *
 * @module
 */
import { SummaryWriter } from "../logging/tensorboard.ts";

/** A finished training episode as a worker reported it. */
export interface EndedEpisode {
  worker: number;
  reward: number;
  length: number;
}

/** The run directory's `metrics.jsonl` and TensorBoard writer. */
export class RunLog {
  #metrics: Deno.FsFile | null;
  #tensorboard: SummaryWriter;
  #tensorboardFailed = false;
  #encoder = new TextEncoder();
  #ended: EndedEpisode[] = [];

  private constructor(metrics: Deno.FsFile, tensorboard: SummaryWriter) {
    this.#metrics = metrics;
    this.#tensorboard = tensorboard;
  }

  /** Opens the logs of run directory `runDir`; `config` goes to TensorBoard as text. */
  static async open(runDir: string, config: object): Promise<RunLog> {
    const metrics = await openJsonLines(`${runDir}/metrics.jsonl`);
    const log = new RunLog(metrics, new SummaryWriter(runDir));
    log.board((w) => w.text("config", "```json\n" + JSON.stringify(config, null, 2) + "\n```", 0));
    return log;
  }

  /** Appends one record to `metrics.jsonl`. */
  record(entry: Record<string, unknown>): void {
    this.#metrics?.writeSync(this.#encoder.encode(JSON.stringify(entry) + "\n"));
  }

  /** Writes to TensorBoard; the first failure is reported and ends TensorBoard logging. */
  board(write: (w: SummaryWriter) => void): void {
    if (this.#tensorboardFailed) return;
    try {
      write(this.#tensorboard);
    } catch (error) {
      this.#tensorboardFailed = true;
      console.error(`TensorBoard logging stopped: ${(error as Error).message}`);
    }
  }

  /** Keeps a finished training episode for the next {@link flushEpisodes}. */
  episode(ended: EndedEpisode): void {
    this.#ended.push(ended);
  }

  /** Writes the episodes kept since the last flush, at run time `time` and `frames`. */
  flushEpisodes(time: number, frames: number): void {
    const ended = this.#ended;
    if (ended.length === 0) return;
    this.#ended = [];
    const reward = ended.reduce((a, e) => a + e.reward, 0) / ended.length;
    const length = ended.reduce((a, e) => a + e.length, 0) / ended.length;
    if (ended.length === 1) {
      this.record({ type: "train_episode", time, frames, ...ended[0] });
    } else {
      this.record({
        type: "train_episodes",
        time,
        frames,
        rewards: ended.map((e) => e.reward),
        lengths: ended.map((e) => e.length),
      });
    }
    this.board((w) => {
      w.scalar("train/episode_reward", reward, frames);
      w.scalar("train/episode_length", length, frames);
    });
  }

  /** Closes `metrics.jsonl` (TensorBoard stays open for the last scalars). */
  closeMetrics(): void {
    try {
      this.#metrics?.close();
    } catch {
      // already closed
    }
    this.#metrics = null;
  }

  /** Closes both files. */
  close(): void {
    this.closeMetrics();
    this.board((w) => w.close());
    this.#tensorboardFailed = true;
  }
}

/**
 * Opens a JSON-lines log for appending. A last line cut short by a killed process is dropped
 * first, so every line of the file stays one whole record.
 */
async function openJsonLines(path: string): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { create: true, read: true, append: true });
  try {
    const size = (await file.stat()).size;
    let end = size;
    const chunk = new Uint8Array(1 << 16);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      await file.seek(start, Deno.SeekMode.Start);
      let read = 0;
      while (read < end - start) {
        const n = await file.read(chunk.subarray(read, end - start));
        if (n === null) break;
        read += n;
      }
      const newline = chunk.subarray(0, read).lastIndexOf(10);
      if (newline >= 0) {
        end = start + newline + 1;
        break;
      }
      end = start;
    }
    if (end < size) await file.truncate(end);
    return file;
  } catch (error) {
    file.close();
    throw error;
  }
}
