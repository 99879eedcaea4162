/**
 * One owner per run directory. A trainer takes an exclusive lock on `<run>/.lock` (an OS file lock,
 * so it goes with the process however the process ends: no stale locks) and writes its pid, host
 * and start time there for the message another trainer gets. A new run refuses a directory that
 * already holds a run; only resuming that run's own checkpoint (`--load <run>/latest`) writes there.
 * {@link runDirectory} says where a configuration's run goes.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import type { TrainConfig } from "./config.ts";

/** A run directory that cannot be used; the message names it and what to do. */
export class RunDirectoryError extends Error {
  override name = "RunDirectoryError";
}

/** The lock of a claimed run directory. */
export interface RunLock {
  /** Releases the lock (also released when the process ends). */
  release(): void;
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "this host";
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Claims `dir` for a run: creates it, locks it, and refuses it when another trainer holds it or,
 * unless `load` is a checkpoint inside it (resuming), when it already holds a run.
 */
export async function claimRunDirectory(dir: string, load: string | null): Promise<RunLock> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) {
      throw new RunDirectoryError(`run directory ${dir}: is a file, expected a directory`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!(await file.tryLock(true))) {
    file.close();
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim() || "another process";
    throw new RunDirectoryError(
      `run directory ${dir}: in use by another trainer (${holder}); wait for it to stop, or give ` +
        `another --run-dir`,
    );
  }
  const release = () => {
    try {
      file.unlockSync();
      file.close();
    } catch {
      // already released
    }
  };
  const resuming = load !== null && resolve(dirname(load)) === resolve(dir);
  if (!resuming && await exists(`${dir}/latest.json`)) {
    release();
    throw new RunDirectoryError(
      `run directory ${dir}: already holds a run; resume it with --load ${dir}/latest, or give ` +
        `another --run-dir (or none, for a new one under runs/)`,
    );
  }
  if (!resuming && await exists(`${dir}/metrics.jsonl`)) {
    release();
    throw new RunDirectoryError(
      `run directory ${dir}: already holds the logs of a run that saved no checkpoint; remove ` +
        `the directory, or give another --run-dir (or none, for a new one under runs/)`,
    );
  }
  const note = `pid ${Deno.pid} on ${hostname()}, since ${new Date().toISOString()}`;
  await file.truncate(0);
  await file.write(new TextEncoder().encode(note + "\n"));
  return { release };
}

/**
 * Where a run is written: `--run-dir`; else, resuming a run's checkpoint (its directory holds
 * `metrics.jsonl`), that run's directory; else a new `runs/<preset or env>-<time>` (so starting
 * from a shipped model never writes beside it).
 */
export function runDirectory(config: TrainConfig): string {
  if (config.runDir !== null) return config.runDir;
  if (config.load !== null) {
    const dir = dirname(config.load);
    try {
      if (Deno.statSync(join(dir, "metrics.jsonl")).isFile) return dir;
    } catch {
      // not a run's directory
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  return `runs/${(config.preset ?? config.env).replace(/[^A-Za-z0-9_-]+/g, "_")}-${stamp}`;
}
