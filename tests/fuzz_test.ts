import assert from "node:assert/strict";
import { fuzz, fuzzTargets } from "../scripts/fuzz/targets.ts";

// A seeded few hundred inputs per loader; `deno task fuzz` runs 10,000 each.
const RUNS = 300;

for (const target of await fuzzTargets()) {
  Deno.test(`fuzz: ${target.name} accepts or refuses ${RUNS} mutated inputs with its own error`, async () => {
    try {
      const report = await fuzz(target, RUNS, 20261206);
      assert.equal(report.accepted + report.refused, RUNS);
      // the mutations reach past the first check: some inputs are refused, some still load
      assert.ok(report.refused > 0, `${target.name}: nothing refused`);
      assert.ok(report.accepted > 0, `${target.name}: nothing accepted`);
    } finally {
      await target.close?.();
    }
  });
}
