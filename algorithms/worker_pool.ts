/**
 * The run's worker isolates: started from their setups, their messages handed on, a failed one
 * replaced on the same slot (it reads the current shared parameters and optimizer state), and a
 * slot failing too often reported so the run can stop.
 *
 * @module
 */
import type { WorkerMessage, WorkerSetup } from "./worker_protocol.ts";

/**
 * A worker that fails more than this many times within {@link RESTART_WINDOW_SECONDS} stops the
 * run: its failure is then no accident of one update but something every restart meets again.
 */
export const MAX_RESTARTS = 3;
/** The window, in seconds of run time, over which a worker's failures are counted. */
export const RESTART_WINDOW_SECONDS = 600;

/** What the pool asks of the run. */
export interface WorkerPoolHooks {
  /** A message from a worker (not `error` or `stopped`, which the pool handles). */
  onMessage(message: WorkerMessage, setup: WorkerSetup): void;
  /** The run's clock, in seconds. */
  seconds(): number;
  /** Whether the run is stopping (a failure then restarts nothing). */
  stopping(): boolean;
  /** A worker failed and is to be restarted: count it, and give the setup of its next start. */
  restart(failed: WorkerSetup, message: string): WorkerSetup;
  /** A worker failed more than {@link MAX_RESTARTS} times in the window: stop the run. */
  gaveUp(failed: WorkerSetup, failures: number, message: string): void;
  /** A worker failed while the run was stopping. */
  failedWhileStopping(failed: WorkerSetup, message: string): void;
}

/** The run's workers; see the module documentation. */
export class WorkerPool {
  readonly #running = new Map<Worker, WorkerSetup>();
  // run times of each slot's failures, for the restart limit
  readonly #failures = new Map<number, number[]>();
  #allStopped!: () => void;
  /** Resolves once every worker has stopped (or failed for good). */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.#allStopped = resolve));

  constructor(readonly url: string, readonly hooks: WorkerPoolHooks) {}

  /** Starts a worker with `setup`. */
  start(setup: WorkerSetup): void {
    const worker = new Worker(this.url, { type: "module" });
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => this.#message(worker, event.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.#failed(worker, e.message, e.message);
    };
    this.#running.set(worker, setup);
    worker.postMessage(setup);
  }

  #message(worker: Worker, m: WorkerMessage): void {
    const setup = this.#running.get(worker);
    if (setup === undefined) return;
    if (m.type === "error") {
      this.#failed(worker, m.stack ?? m.message, m.message);
    } else if (m.type === "stopped") {
      this.#running.delete(worker);
      if (this.#running.size === 0) this.#allStopped();
    } else {
      this.hooks.onMessage(m, setup);
    }
  }

  #failed(worker: Worker, details: string, message: string): void {
    const s = this.#running.get(worker);
    if (s === undefined) return;
    this.#running.delete(worker);
    worker.terminate();
    const t = this.hooks.seconds();
    const times = [...(this.#failures.get(s.slot) ?? []), t].filter((x) =>
      x > t - RESTART_WINDOW_SECONDS
    );
    this.#failures.set(s.slot, times);
    console.error(`\n${s.role} worker ${s.index} failed: ${details}`);
    if (this.hooks.stopping()) {
      this.hooks.failedWhileStopping(s, message);
    } else if (times.length <= MAX_RESTARTS) {
      const next = this.hooks.restart(s, message);
      console.error(`${s.role} worker ${s.index} restarted with the current shared parameters`);
      this.start(next);
      return;
    } else {
      this.hooks.gaveUp(s, times.length, message);
    }
    if (this.#running.size === 0) this.#allStopped();
  }
}
