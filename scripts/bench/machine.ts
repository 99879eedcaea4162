/**
 * Describes the machine a benchmark ran on.
 *
 * @module
 */
import { cpus } from "node:os";

/** CPU model, logical cores, OS and Deno/V8 versions. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  os: string;
  deno: string;
  v8: string;
}

/**
 * Reads the machine description. The CPU model comes from `node:os` (system information `cpus`,
 * which `deno task bench` is granted; Deno lets only `--allow-all` read `/proc/cpuinfo`).
 */
export function machineInfo(): MachineInfo {
  let cpu = "unknown";
  try {
    cpu = cpus()[0]?.model?.trim() || cpu;
  } catch {
    // not granted
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os}-${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** Runs `fn` repeatedly for at least `minMs` and returns the best time per call in ms. */
export function bestTime(fn: () => void, minMs = 500, minRuns = 3): number {
  fn(); // warm-up (JIT)
  let best = Infinity;
  const start = performance.now();
  let runs = 0;
  while (runs < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    runs++;
  }
  return best;
}
