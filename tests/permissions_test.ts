import assert from "node:assert/strict";
import { join } from "node:path";
import { allowedPaths } from "../scripts/permissions.ts";

const root = new URL("..", import.meta.url).pathname;
const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(join(root, "deno.json")),
).tasks;

/** A task's `deno run` flags, as `deno.json` gives them. */
function flags(task: string): string[] {
  const words = tasks[task].split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], task);
  return words.slice(2, -1);
}

async function denoIn(cwd: string, args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/**
 * The network, program and environment grants a task has, each for one reason: `bench cluster`
 * runs a private redis-server on the loopback, and a cluster run reaches the Redis server its
 * `--cluster` address names (which no task can know in advance); `train --serve` and `watch`
 * serve a page on the loopback. The Redis client's logging module lists the environment when it
 * loads.
 */
const NET_RUN_ENV: Record<string, string[]> = {
  bench: ["--allow-run=redis-server", "--allow-net=127.0.0.1", "--allow-env"],
  // the live page on the loopback; scripts/train.ts drops it at start without --serve, and once
  // the page listens with it
  train: ["--allow-net=127.0.0.1"],
  "train-cluster": ["--allow-net", "--allow-env"],
  watch: ["--allow-net=127.0.0.1"],
};

Deno.test("tasks: each task but test names its permissions instead of -A", () => {
  for (const task of Object.keys(tasks)) {
    if (task === "test") continue; // it installs packages and runs the whole suite
    const f = flags(task);
    const granted = f.filter((flag) => /^--allow-(net|run|env)/.test(flag));
    assert.deepEqual(granted, NET_RUN_ENV[task] ?? [], `${task}: network, programs, environment`);
    for (const flag of f) {
      assert.ok(!/^(-A|--allow-all)$/.test(flag), `${task}: ${flag}`);
      // every grant of files, system information or FFI is scoped to paths or names
      if (flag.startsWith("--allow-") && !granted.includes(flag)) {
        assert.match(flag, /=/, `${task}: ${flag} is unscoped`);
      }
    }
    assert.deepEqual(allowedPaths(tasks[task], "read")?.[0], ".", task);
    if (task === "watch") {
      assert.equal(allowedPaths(tasks[task], "write"), null, "watch writes nothing");
    } else assert.ok(allowedPaths(tasks[task], "write")?.includes("runs"), task);
  }
  assert.ok(!flags("train").some((f) => f.startsWith("--allow-ffi")), "train needs no FFI");
});

Deno.test("tasks: with a task's permissions a process cannot write outside what it was given", async () => {
  const outside = await Deno.makeTempDir({ prefix: "a3g_permissions_" });
  try {
    for (const task of ["train", "eval", "export", "plot", "bench", "fuzz", "import"]) {
      const inside = `runs/.permissions-probe-${task}`;
      await Deno.mkdir(join(root, "runs"), { recursive: true });
      const probe = join(root, "tests/permissions_probe.ts");
      const r = await denoIn(root, [
        "run",
        "--no-prompt",
        ...flags(task),
        probe,
        join(outside, "x"),
        inside,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const seen = JSON.parse(r.stdout);
      await Deno.remove(join(root, inside));
      assert.deepEqual(seen, {
        writeOutside: false,
        writeInside: true,
        readRepo: true,
        readOutside: false,
        netLoopback: ["bench", "train"].includes(task),
        netOutside: false,
        run: false,
        runRedis: task === "bench",
        env: task === "bench",
        ffi: false,
      }, task);
    }
    assert.deepEqual([...Deno.readDirSync(outside)], []);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("tasks: a path outside a task's permissions gets one error naming it and the way out", async () => {
  const outside = await Deno.makeTempDir({ prefix: "a3g_permissions_" });
  try {
    const cases: [string[], RegExp][] = [
      [
        ["train", "cartpole", "--run-dir", `${outside}/run`, "--max-frames", "100"],
        /^train: --run-dir .*\/run: `deno task train` may write only under runs\/ .*--allow-write=runs,\//,
      ],
      [
        [
          "eval",
          "cartpole",
          "--checkpoint",
          "models/pretrained/cartpole",
          "--gif",
          `${outside}/a.gif`,
        ],
        /^eval: --gif .*\/a\.gif: `deno task eval` may write only under runs\//,
      ],
      [
        ["export", "models/pretrained/cartpole", "--model", `${outside}/model`],
        /^export: --model .*\/model\.safetensors: `deno task export` may write only under runs\/, models\//,
      ],
      [
        ["train", "cartpole", "--load", `${outside}/latest`],
        /^train: --load .*\/latest\.safetensors: `deno task train` may read only under \.\//,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await denoIn(root, ["task", "-q", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.deepEqual([...Deno.readDirSync(outside)], []);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});
