/**
 * `deno task fuzz [--runs n] [--seed s] [target ...]`: feeds each loader (safetensors,
 * checkpoint, tensorboard, config) `n` mutated or truncated inputs (10,000 by default) and prints,
 * per target, how many were accepted and how many refused with the loader's own error, and the
 * slowest input. Any other exception stops with fast-check's report: the input and the seed that
 * replays it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fuzz, fuzzTargets } from "./fuzz/targets.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "10000" }, seed: { type: "string", default: "1" } },
  allowPositionals: true,
});
const runs = Number(values.runs), seed = Number(values.seed);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error(`fuzz: --runs ${values.runs} --seed ${values.seed}: expected integers, runs ≥ 1`);
  Deno.exit(2);
}
// temporary files under runs/, the one directory `deno task fuzz` may write
await Deno.mkdir("runs", { recursive: true });
const targets = await fuzzTargets("runs");
const unknown = positionals.filter((p) => !targets.some((t) => t.name === p));
if (unknown.length > 0) {
  console.error(
    `fuzz: no target ${unknown.join(", ")} (targets: ${targets.map((t) => t.name).join(", ")})`,
  );
  Deno.exit(2);
}
let failed = false;
console.log(`seed ${seed}, ${runs} inputs per target`);
for (const target of targets) {
  if (positionals.length > 0 && !positionals.includes(target.name)) continue;
  const started = performance.now();
  try {
    const r = await fuzz(target, runs, seed);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${r.name.padEnd(12)} ${r.runs} inputs: ${r.accepted} accepted, ${r.refused} refused ` +
        `with the loader's own error; slowest input ${r.slowestMs.toFixed(1)} ms; ` +
        `${seconds.toFixed(1)} s`,
    );
  } catch (error) {
    failed = true;
    console.error(`${target.name}: ${(error as Error).message}`);
  }
}
for (const target of targets) await target.close?.();
Deno.exit(failed ? 1 : 0);
