/**
 * The public API: `mod.ts` names what a user composes, and the examples in its documentation run
 * (`deno test --doc mod.ts` in a child process, as a user would check them).
 */
import assert from "node:assert/strict";
import * as a3g from "../mod.ts";

Deno.test("mod.ts: what a user composes is exported by name, internals are not", () => {
  for (
    const name of [
      "train",
      "resolveConfig",
      "Learner",
      "CpuPolicy",
      "GpuPolicy",
      "a3cLoss",
      "gae",
      "nStepReturns",
      "Adam",
      "RMSprop",
      "ActorCritic",
      "modelDefinition",
      "SMALL_CONV",
      "encode",
      "makePipelineEnv",
      "makeEnv",
      "EpisodicLife",
      "RecordEpisodeStatistics",
      "evaluatePolicy",
      "playEpisode",
      "greedyPolicy",
      "saveCheckpoint",
      "loadCheckpoint",
      "exportOnnx",
      "recordEpisodeGif",
      "SummaryWriter",
      "Cluster",
      "serveRun",
    ]
  ) {
    assert.ok(name in a3g, `${name} is exported`);
  }
  for (const name of ["setGemmKernels", "checkOp", "editDistance", "gemmGeneric", "crc32c"]) {
    assert.ok(!(name in a3g), `${name} is an internal`);
  }
});

Deno.test("mod.ts: the examples in its documentation run", async () => {
  const root = new URL("..", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--doc", "-A", "--no-check=remote", "mod.ts"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, out);
  assert.match(out, /ok \| 3 passed \| 0 failed/);
});
