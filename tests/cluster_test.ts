import assert from "node:assert/strict";
import {
  CHUNK,
  Cluster,
  ClusterError,
  parseClusterUrl,
  zeroCounters,
} from "../algorithms/cluster.ts";
import { ConfigError } from "../algorithms/config.ts";
import { parseTrainArgs } from "../scripts/cli.ts";
import { startRedis } from "../scripts/redis_server.ts";

Deno.test("parseClusterUrl: host, port, run; bad addresses named with what is expected", () => {
  assert.deepEqual(parseClusterUrl("redis://10.0.0.5:7000/pong-1"), {
    host: "10.0.0.5",
    port: 7000,
    run: "pong-1",
    url: "redis://10.0.0.5:7000/pong-1",
  });
  assert.equal(parseClusterUrl("redis://db/run").port, 6379);
  for (
    const bad of ["http://h:1/r", "redis://h:1/", "redis://h:1/a/b", "nonsense", "redis://u:p@h/r"]
  ) {
    assert.throws(() => parseClusterUrl(bad), (e: Error) => {
      assert.ok(e instanceof ClusterError);
      assert.match(e.message, /expected redis:\/\/host:port\/run-name/);
      return true;
    });
  }
});

Deno.test("cluster: the global parameters are what the pushes add up to", async () => {
  const redis = await startRedis();
  const size = CHUNK + 1000; // two chunks, the last one short
  const identity = { env: "CartPole-v1", size };
  const machines: { cluster: Cluster; params: Float32Array }[] = [];
  try {
    const first = new Float32Array(size).map((_, i) => (i % 17) * 0.25);
    const initial = Float32Array.from(first);
    machines.push({
      params: first,
      cluster: await Cluster.join(parseClusterUrl(redis.url("sum")), {
        params: first,
        identity,
        counters: { steps: 10, frames: 40, episodes: 1, updates: 2 },
      }),
    });
    for (let m = 1; m < 3; m++) {
      const params = new Float32Array(size).fill(99); // overwritten by the run's parameters
      const cluster = await Cluster.join(parseClusterUrl(redis.url("sum")), {
        params,
        identity,
        counters: zeroCounters(),
      });
      assert.deepEqual(params, initial, "a machine joining pulls the global parameters");
      machines.push({ params, cluster });
    }
    assert.deepEqual(machines.map((m) => m.cluster.role), ["chief", "member", "member"]);
    assert.deepEqual(machines.map((m) => m.cluster.index), [0, 1, 2]);
    // known deltas, exact in float32: machine m adds (m + 1)/8 at every index, twice, all at once
    const expected = Float32Array.from(initial);
    const rounds = 2;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(machines.map(async ({ cluster, params }, m) => {
        for (let i = 0; i < size; i++) params[i] += (m + 1) / 8;
        const own = {
          steps: 5 * (round + 1),
          frames: 20 * (round + 1),
          episodes: 0,
          updates: round + 1,
        };
        const r = await cluster.sync(own);
        assert.ok(r !== null);
      }));
    }
    for (let i = 0; i < size; i++) expected[i] += rounds * (1 + 2 + 3) / 8;
    // one more sync each (no local change) brings every machine to the same global parameters
    for (const { cluster } of machines) {
      const r = await cluster.sync({ steps: 10, frames: 40, episodes: 0, updates: 2 });
      assert.ok(r !== null);
      assert.deepEqual(r.counters, {
        steps: 10 + 30,
        frames: 40 + 120,
        episodes: 1,
        updates: 2 + 6,
      });
    }
    for (const { params } of machines) assert.deepEqual(params, expected);
  } finally {
    for (const { cluster } of machines) await cluster.close();
    await redis.stop();
  }
});

Deno.test("cluster: a mismatched config is refused naming each difference; non-finite never pushed", async () => {
  const redis = await startRedis();
  const url = parseClusterUrl(redis.url("check"));
  const params = new Float32Array(10).fill(1);
  const chief = await Cluster.join(url, {
    params,
    identity: { env: "CartPole-v1", lr: 0.001 },
    counters: zeroCounters(),
  });
  try {
    await assert.rejects(
      () =>
        Cluster.join(url, {
          params: new Float32Array(10),
          identity: { env: "CartPole-v1", lr: 0.0005 },
          counters: zeroCounters(),
        }),
      (e: Error) => {
        assert.ok(e instanceof ClusterError);
        assert.match(e.message, /lr is 0\.0005 here, 0\.001 in the run/);
        return true;
      },
    );
    await assert.rejects(
      () =>
        Cluster.join(url, {
          params: new Float32Array(10),
          identity: { env: "CartPole-v1", lr: 0.001 },
          counters: zeroCounters(),
          chief: true,
        }),
      /already has a chief/,
    );
    const lines: string[] = [];
    const other = new Float32Array(10);
    const member = await Cluster.join(url, {
      params: other,
      identity: { env: "CartPole-v1", lr: 0.001 },
      counters: zeroCounters(),
      log: (l) => lines.push(l),
    });
    other[3] = NaN;
    assert.ok(await member.sync(zeroCounters()));
    assert.deepEqual(other, new Float32Array(10).fill(1), "the global parameters replace them");
    assert.match(lines.join("\n"), /not finite; nothing pushed/);
    assert.ok(await chief.sync(zeroCounters()));
    assert.deepEqual(params, new Float32Array(10).fill(1));
    await member.close();
  } finally {
    await chief.close();
    await redis.stop();
  }
});

Deno.test("cluster: Redis gone pauses the sync with one message, and a restart is seeded again", async () => {
  const redis = await startRedis();
  const url = parseClusterUrl(redis.url("outage"));
  const params = new Float32Array(100).fill(0.5);
  const lines: string[] = [];
  const cluster = await Cluster.join(url, {
    params,
    identity: { env: "CartPole-v1" },
    counters: zeroCounters(),
    log: (l) => lines.push(l),
  });
  try {
    params[0] = 1.5;
    assert.ok(await cluster.sync({ steps: 1, frames: 1, episodes: 0, updates: 1 }));
    await redis.stop();
    params[1] = 2.5;
    assert.equal(await cluster.sync({ steps: 2, frames: 2, episodes: 0, updates: 2 }), null);
    assert.equal(await cluster.sync({ steps: 3, frames: 3, episodes: 0, updates: 3 }), null);
    assert.equal(lines.filter((l) => /cannot sync/.test(l)).length, 1, lines.join("\n"));
    await redis.restart();
    let r = null;
    for (let i = 0; i < 40 && r === null; i++) {
      await new Promise((res) => setTimeout(res, 250));
      r = await cluster.sync({ steps: 4, frames: 4, episodes: 0, updates: 4 });
    }
    assert.ok(r !== null, lines.join("\n"));
    assert.equal(r.reseeded, true);
    assert.equal(r.counters.frames, 4, "the counters go on from this machine's view");
    assert.equal(params[0], 1.5);
    assert.equal(params[1], 2.5, "the change made during the outage is kept");
    assert.match(lines.join("\n"), /Redis is back after/);
    assert.match(lines.join("\n"), /seeded it again/);
  } finally {
    await cluster.close();
    await redis.stop();
  }
});

/** A `deno task train-cluster` process whose output lines are kept as they come. */
class Trainer {
  readonly lines: string[] = [];
  readonly child: Deno.ChildProcess;
  readonly done: Promise<Deno.CommandStatus>;
  #waiters: { pattern: RegExp; resolve: () => void }[] = [];

  constructor(args: string[]) {
    const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
    const task = (config.tasks["train-cluster"] as string).split(/\s+/).slice(1); // after "deno"
    this.child = new Deno.Command(Deno.execPath(), {
      args: [...task, ...args],
      cwd: new URL("..", import.meta.url).pathname,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const line of parts) this.#add(line);
      }
      if (rest) this.#add(rest);
    };
    const reading = Promise.all([read(this.child.stdout), read(this.child.stderr)]);
    this.done = reading.then(() => this.child.status);
  }

  #add(line: string): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => !(w.pattern.test(line) && (w.resolve(), true)));
  }

  /** Resolves once a line matches (or rejects when the process ends first). */
  waitFor(pattern: RegExp): Promise<void> {
    if (this.lines.some((l) => pattern.test(l))) return Promise.resolve();
    const seen = new Promise<void>((resolve) => this.#waiters.push({ pattern, resolve }));
    return Promise.race([
      seen,
      this.done.then(() => {
        throw new Error(`ended before printing ${pattern}:\n${this.lines.join("\n")}`);
      }),
    ]);
  }

  text(): string {
    return this.lines.join("\n");
  }
}

Deno.test({
  name: "cluster: three trainer processes solve CartPole through one redis-server, " +
    "surviving a killed machine and a Redis restart",
  sanitizeResources: false,
  fn: async () => {
    const redis = await startRedis();
    const root = new URL("..", import.meta.url).pathname;
    const dir = `runs/.cluster-test-${Deno.pid}`;
    const url = redis.url("cartpole");
    const common = ["cartpole", "--workers", "1", "--cluster", url, "--max-minutes", "5"];
    const trainers: Trainer[] = [];
    try {
      const chief = new Trainer([...common, "--run-dir", `${dir}/0`, "--stop-when-solved"]);
      trainers.push(chief);
      await chief.waitFor(/started the run as chief/);
      for (let i = 1; i <= 2; i++) {
        trainers.push(new Trainer([...common, "--run-dir", `${dir}/${i}`]));
      }
      await Promise.all(trainers.slice(1).map((t) => t.waitFor(/joined the run as member/)));
      const [, survivor, victim] = trainers;
      // one machine dies mid-run, then Redis dies and comes back empty a moment later
      victim.child.kill("SIGKILL");
      await victim.done;
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.restart();
      const [c, s] = await Promise.all([chief.done, survivor.done]);
      assert.equal(c.code, 0, chief.text());
      assert.equal(s.code, 0, survivor.text());
      const solved = /solved: 100-episode mean ([\d.]+)/.exec(chief.text());
      assert.ok(solved !== null, chief.text());
      assert.ok(Number(solved[1]) >= 475, solved[0]);
      assert.match(survivor.text(), /the chief stopped the run \(solved\)/);
      for (const t of [chief, survivor]) {
        // each noticed the outage once, went on, and synced again after it
        assert.equal(t.lines.filter((l) => /cannot sync with Redis/.test(l)).length, 1, t.text());
        assert.match(t.text(), /Redis is back after/);
      }
      assert.match(chief.text() + survivor.text(), /seeded it again/);
      // the chief's checkpoint holds parameters that still play CartPole well
      const { evaluateCheckpoint } = await import("../algorithms/evaluate_checkpoint.ts");
      const r = await evaluateCheckpoint("cartpole", `${root}${dir}/0/solved`, 20, 1);
      assert.ok(r.mean >= 475, `solved checkpoint: mean ${r.mean} over 20 episodes`);
    } finally {
      for (const t of trainers) {
        try {
          t.child.kill("SIGKILL");
        } catch {
          // already ended
        }
        await t.done.catch(() => {});
      }
      await redis.stop().catch(() => {});
      await Deno.remove(`${root}${dir}`, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("train flags: --cluster takes a redis:// address, --chief and --sync-every are checked", () => {
  const c = parseTrainArgs([
    "cartpole",
    "--cluster",
    "redis://127.0.0.1:6379/cp",
    "--sync-every",
    "5",
  ]);
  assert.equal(c.cluster, "redis://127.0.0.1:6379/cp");
  assert.equal(c.syncEvery, 5);
  assert.equal(c.chief, false);
  assert.throws(() => parseTrainArgs(["cartpole", "--chief"]), (e: Error) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /--chief only with --cluster/);
    return true;
  });
  assert.throws(
    () => parseTrainArgs(["cartpole", "--cluster", "http://127.0.0.1/x"]),
    /not a redis:\/\/ address; expected redis:\/\/host:port\/run-name/,
  );
  assert.throws(() => parseTrainArgs(["cartpole", "--sync-every", "0"]), /sync-every/);
});

Deno.test("cluster: a chief that stops hands its role on at once; the next chief pulls the run", async () => {
  const redis = await startRedis();
  const url = parseClusterUrl(redis.url("handover"));
  const identity = { env: "CartPole-v1" };
  try {
    const first = new Float32Array(8).fill(2);
    const a = await Cluster.join(url, { params: first, identity, counters: zeroCounters() });
    assert.equal(a.role, "chief");
    first[0] = 3;
    assert.ok(await a.sync({ steps: 8, frames: 8, episodes: 1, updates: 1 }));
    await a.close();
    // a new machine resuming with --load and --chief: the run's parameters win over its own
    const loaded = new Float32Array(8).fill(-1);
    const b = await Cluster.join(url, {
      params: loaded,
      identity,
      counters: { steps: 1, frames: 1, episodes: 0, updates: 0 },
      chief: true,
    });
    assert.equal(b.role, "chief");
    assert.equal(b.started, false);
    assert.deepEqual(Array.from(loaded), [3, 2, 2, 2, 2, 2, 2, 2]);
    assert.equal(b.counters.frames, 8);
    await b.close();
  } finally {
    await redis.stop();
  }
});
