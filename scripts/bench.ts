/**
 * `deno task bench <suite> [options] [--json]`: prints throughput figures with the machine they came
 * from. Suites: kernels, envs, train, gpu, cluster, live; `deno task bench <suite> --help` lists a
 * suite's options, and an argument it does not take is refused. `--json` prints one JSON object
 * instead of a table.
 *
 * @module
 */
import { machineInfo } from "./bench/machine.ts";

/** A benchmark suite module: `run` returns the JSON figures and prints a table unless quiet. */
export interface BenchSuite {
  run(args: string[], quiet: boolean): Promise<Record<string, unknown>>;
}

/** Each suite's module and the options it takes besides `--json` (`<…>`: takes a value). */
const suites: Record<string, { load: () => Promise<BenchSuite>; options: string[] }> = {
  kernels: {
    load: () => import("./bench/kernels.ts"),
    options: ["--quick", "--no-peers", "--all-peers"],
  },
  envs: { load: () => import("./bench/envs.ts"), options: [] },
  train: {
    load: () => import("./bench/train.ts"),
    options: ["--preset <name>", "--seconds <s>"],
  },
  gpu: {
    load: () => import("./bench/gpu.ts"),
    options: ["--quick", "--envs <k>", "--workers <n>", "--env-groups <g>", "--seconds <s>"],
  },
  cluster: {
    load: () => import("./bench/cluster.ts"),
    options: ["--preset <name>", "--seconds <s>"],
  },
  live: { load: () => import("./bench/live.ts"), options: ["--preset <name>", "--seconds <s>"] },
};

function fail(message: string): never {
  console.error(`bench: ${message}`);
  Deno.exit(2);
}

const [name, ...rest] = Deno.args;
if (name === undefined || !(name in suites)) {
  fail(
    `${name === undefined ? "no suite given" : `unknown suite "${name}"`}; ` +
      `expected one of: ${Object.keys(suites).join(", ")}`,
  );
}
const { load, options } = suites[name];
const usage = `deno task bench ${name} ${[...options, "--json"].map((o) => `[${o}]`).join(" ")}`;
if (rest.includes("--help") || rest.includes("-h")) {
  console.log(`usage: ${usage}`);
  Deno.exit(0);
}
// every argument is an option the suite takes, and each option that takes a value has one
for (let i = 0; i < rest.length; i++) {
  const spec = [...options, "--json"].find((o) => o.split(" ")[0] === rest[i]);
  if (spec === undefined) fail(`${name}: unknown argument "${rest[i]}"; usage: ${usage}`);
  if (spec.includes("<")) {
    if (i + 1 >= rest.length || rest[i + 1].startsWith("--")) {
      fail(`${name}: ${spec} needs a value`);
    }
    i++;
  }
}
const json = rest.includes("--json");
const machine = machineInfo();
if (!json) {
  console.log(
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}, deno ${machine.deno}`,
  );
}
const suite = await load();
const figures = await suite.run(rest.filter((a) => a !== "--json"), json);
if (json) console.log(JSON.stringify({ machine, ...figures }));
