/**
 * A run's checkpoint writes, one at a time: two never interleave, a save waiting behind another
 * is replaced by a newer one of the same name (evaluations faster than the disk never queue up
 * stale checkpoints), and parameters or optimizer state that are no longer finite are never
 * written, so the last good checkpoint stays.
 *
 * @module
 */
import { type Checkpoint, saveCheckpoint } from "../io/checkpoint.ts";

/** Writes `<runDir>/<name>` checkpoints in order; see the module documentation. */
export class CheckpointWriter {
  #writes: Promise<unknown> = Promise.resolve();
  readonly #waiting = new Map<string, Checkpoint>();

  constructor(readonly runDir: string) {}

  /** Queues `c` as `<runDir>/<name>`; false (nothing queued) when it holds a non-finite value. */
  save(name: string, c: Checkpoint): boolean {
    if (!allFinite(c.params)) return false;
    if (c.optimizer && !Object.values(c.optimizer.tensors).every(allFinite)) return false;
    const queued = this.#waiting.has(name);
    this.#waiting.set(name, c);
    if (queued) return true;
    this.#writes = this.#writes.then(() => {
      const newest = this.#waiting.get(name)!;
      this.#waiting.delete(name);
      return saveCheckpoint(`${this.runDir}/${name}`, newest);
    }).catch((e) =>
      console.error(`could not save ${this.runDir}/${name}: ${(e as Error).message}`)
    );
    return true;
  }

  /** Resolves when every queued write has finished. */
  flush(): Promise<unknown> {
    return this.#writes;
  }
}

/** Whether every value is finite. */
export function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}
