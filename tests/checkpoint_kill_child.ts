/**
 * Saves checkpoints for `checkpoint_test.ts`: `deno run checkpoint_kill_child.ts <name> <value>
 * [stage]` writes parameters all equal to `value`; with a stage, it prints `at <stage>` when the
 * save reaches it and then waits to be killed; with `loop`, it saves again and again.
 */
import { saveCheckpoint } from "../io/checkpoint.ts";

const [name, value, stop] = Deno.args;
const v = Number(value);
// "loop": save again and again with values v, v + 1, ... until killed
for (let i = v; stop === "loop"; i++) {
  await saveCheckpoint(name, {
    params: new Float32Array(64).fill(i),
    layout: [{ name: "w", shape: [64], offset: 0, size: 64 }],
    counters: { frames: i },
  });
}
await saveCheckpoint(name, {
  params: new Float32Array(64).fill(v),
  layout: [{ name: "w", shape: [64], offset: 0, size: 64 }],
  counters: { frames: v },
}, {
  stage: async (stage) => {
    if (stage !== stop) return;
    await Deno.stdout.write(new TextEncoder().encode(`at ${stage}\n`));
    await new Promise(() => setInterval(() => {}, 1000));
  },
});
