/**
 * `deno task bench <suite> [--json]`: prints throughput figures with the machine they came from.
 * Suites: kernels, envs, train, gpu, cluster, live. `--json` prints one JSON object instead of a table.
 *
 * @module
 */
import { machineInfo } from "./bench/machine.ts";

/** A benchmark suite module: `run` returns the JSON figures and prints a table unless quiet. */
export interface BenchSuite {
  run(args: string[], quiet: boolean): Promise<Record<string, unknown>>;
}

const suites: Record<string, () => Promise<BenchSuite>> = {
  kernels: () => import("./bench/kernels.ts"),
  envs: () => import("./bench/envs.ts"),
  train: () => import("./bench/train.ts"),
  gpu: () => import("./bench/gpu.ts"),
  cluster: () => import("./bench/cluster.ts"),
  live: () => import("./bench/live.ts"),
};

const [name, ...rest] = Deno.args;
if (name === undefined || !(name in suites)) {
  console.error(
    `bench: ${name === undefined ? "no suite given" : `unknown suite "${name}"`}; ` +
      `expected one of: ${Object.keys(suites).join(", ")}`,
  );
  Deno.exit(2);
}
const json = rest.includes("--json");
const machine = machineInfo();
if (!json) {
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, deno ${machine.deno}`,
  );
}
const suite = await suites[name]();
const figures = await suite.run(rest.filter((a) => a !== "--json"), json);
if (json) console.log(JSON.stringify({ machine, ...figures }));
