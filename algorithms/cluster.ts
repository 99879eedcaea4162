/**
 * A3C across machines with Redis as the parameter server: asynchronous SGD in the manner of
 * Downpour SGD (Dean et al. 2012). Each machine trains as it does alone (Hogwild workers on its
 * shared memory) and, every few updates, pushes the change of its parameters since its last sync
 * to Redis, where a Lua script adds it to the global parameters atomically, then pulls the global
 * parameters back. Nothing is locked: machines see each other's work a sync late, as Hogwild
 * workers see each other's an update late.
 *
 * What a run keeps in Redis, under `a3g:<run>:`:
 * - `meta`: the run's defining configuration and parameter layout (JSON); a machine whose own
 *   differs is refused;
 * - `p:<i>`: the global parameters, float32 little-endian, in chunks of 65,536 values (so no one
 *   script blocks the server for long);
 * - `counters`: a hash of global steps, frames, episodes and updates;
 * - `chief`: the id of the machine that evaluates and writes checkpoints, a lease renewed at each
 *   sync (it lapses 30 s after its holder dies);
 * - `machines`: how many machines have joined (each takes the next number, which offsets its
 *   seeds);
 * - `stop`: set by the chief when the run is solved, so the others stop too.
 *
 * Optimizer state stays on each machine: sending Adam's two moments would triple the bytes of
 * every sync, and a machine's moments describe its own gradients.
 *
 * @example
 * ```ts
 * const cluster = await Cluster.join(parseClusterUrl("redis://127.0.0.1:6379/pong-1"), {
 *   params, identity: { env: "CartPole-v1" }, counters: zeroCounters(), log: console.log,
 * });
 * // ... after some local updates:
 * const global = await cluster.sync(ownCounters);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * The part of ioredis's client used here. Its own types are left out on purpose: they bring
 * Node's global types, whose `Event` clashes with the DOM's that the WebGPU code is typed against.
 */
interface Redis {
  connect(): Promise<void>;
  disconnect(): void;
  on(event: "error", listener: (error: Error) => void): void;
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  pipeline(): Pipeline;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...options: (string | number)[]): Promise<string | null>;
  del(...keys: string[]): Promise<number>;
  incr(key: string): Promise<number>;
  pttl(key: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
}

/** A batch of commands sent at once; `exec` gives each one's error or reply. */
interface Pipeline {
  getBuffer(key: string): Pipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * The client's module, loaded only when a run joins a cluster (see `connect`); a full `npm:`
 * specifier, as everything reachable from `mod.ts` (which users may import from a URL).
 */
const CLIENT_MODULE = "npm:ioredis@6.1.0";

/** A cluster address, a mismatched run or an unusable server. */
export class ClusterError extends Error {
  override name = "ClusterError";
}

/** The parts of `redis://host:port/run-name`. */
export interface ClusterAddress {
  host: string;
  port: number;
  run: string;
  /** The address as given. */
  url: string;
}

/** Run names: letters, digits, `.`, `_` and `-`. */
const RUN_NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Parses `redis://host[:port]/run-name` (port 6379 by default). */
export function parseClusterUrl(url: string): ClusterAddress {
  const expected = "expected redis://host:port/run-name, e.g. redis://127.0.0.1:6379/pong-1";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ClusterError(`--cluster: "${url}" is not a URL; ${expected}`);
  }
  if (u.protocol !== "redis:") {
    throw new ClusterError(`--cluster: "${url}" is not a redis:// address; ${expected}`);
  }
  if (u.username !== "" || u.password !== "" || u.search !== "" || u.hash !== "") {
    throw new ClusterError(
      `--cluster: "${url}" has a user, password, query or fragment, which a3g does not use; ` +
        expected,
    );
  }
  const run = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!RUN_NAME.test(run)) {
    throw new ClusterError(
      `--cluster: "${url}" names run "${run}"; expected a run name of 1 to 100 letters, ` +
        `digits, ".", "_" or "-" after the port (${expected})`,
    );
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new ClusterError(`--cluster: "${url}" has no host; ${expected}`);
  return { host, port: u.port === "" ? 6379 : Number(u.port), run, url };
}

/** Steps, frames, episodes and updates, as the trainer counts them. */
export interface ClusterCounters {
  steps: number;
  frames: number;
  episodes: number;
  updates: number;
}

const COUNTER_NAMES = ["steps", "frames", "episodes", "updates"] as const;

/** All four counters at zero. */
export function zeroCounters(): ClusterCounters {
  return { steps: 0, frames: 0, episodes: 0, updates: 0 };
}

/** Values per parameter chunk (256 KiB of float32). */
export const CHUNK = 65_536;
/** How long the chief's lease lasts without a sync (ms). */
export const CHIEF_LEASE_MS = 30_000;

// Adds a float32 blob to the stored one, value by value, eight at a time. Returns 0 when the key
// is missing (the server lost its data), so nothing partial is ever created.
const ADD = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local d = ARGV[1]
if #cur ~= #d then return redis.error_reply('a3g: chunk size mismatch') end
local out, i, pos, n = {}, 1, 1, #d
while pos + 31 <= n do
  local a1, a2, a3, a4, a5, a6, a7, a8 = struct.unpack('<ffffffff', cur, pos)
  local b1, b2, b3, b4, b5, b6, b7, b8 = struct.unpack('<ffffffff', d, pos)
  out[i] = struct.pack('<ffffffff', a1 + b1, a2 + b2, a3 + b3, a4 + b4, a5 + b5, a6 + b6,
    a7 + b7, a8 + b8)
  i, pos = i + 1, pos + 32
end
while pos <= n do
  local a = struct.unpack('<f', cur, pos)
  local b = struct.unpack('<f', d, pos)
  out[i] = struct.pack('<f', a + b)
  i, pos = i + 1, pos + 4
end
redis.call('SET', KEYS[1], table.concat(out))
return 1
`;

// KEYS: meta, counters, then the chunks. ARGV: meta JSON, the four counters, then the chunks.
// Writes everything only when the run has no meta yet; returns 1 when it did.
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'steps', ARGV[2], 'frames', ARGV[3], 'episodes', ARGV[4],
  'updates', ARGV[5])
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[i + 3]) end
return 1
`;

// KEYS: meta, counters, chief, stop. ARGV: the four counter increments, this machine's id, the
// lease in ms. Adds the increments, renews the lease of a chief, and returns
// [exists, steps, frames, episodes, updates, chief id or '', stop reason or ''].
const TICK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local s = redis.call('HINCRBY', KEYS[2], 'steps', ARGV[1])
local f = redis.call('HINCRBY', KEYS[2], 'frames', ARGV[2])
local e = redis.call('HINCRBY', KEYS[2], 'episodes', ARGV[3])
local u = redis.call('HINCRBY', KEYS[2], 'updates', ARGV[4])
local chief = redis.call('GET', KEYS[3])
if chief == ARGV[5] then redis.call('PEXPIRE', KEYS[3], ARGV[6]) end
if not chief then chief = '' end
local stop = redis.call('GET', KEYS[4])
if not stop then stop = '' end
return {1, s, f, e, u, chief, stop}
`;

// KEYS: chief. ARGV: this machine's id. Deletes the lease only if this machine holds it.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type ScriptedRedis = Redis & {
  a3gAdd(key: string, delta: Buffer): Promise<number>;
  a3gSeed(...args: (string | Buffer | number)[]): Promise<number>;
  a3gTick(...args: (string | number)[]): Promise<(number | string)[]>;
  a3gRelease(key: string, id: string): Promise<number>;
};

/** Options of {@link Cluster.join}. */
export interface JoinOptions {
  /** This machine's shared parameters: seeded from, or overwritten with, the global ones. */
  params: Float32Array;
  /**
   * What every machine of a run must share (the env, model, learner settings, parameter layout);
   * a machine whose identity differs from the run's is refused, naming each difference.
   */
  identity: Record<string, unknown>;
  /** This machine's counters at the start (a loaded checkpoint's); they seed a new run's. */
  counters: ClusterCounters;
  /** `true`: take the chief role or fail; `false` never; `auto` (default): if it is free. */
  chief?: boolean | "auto";
  /** One line per event (joined, outage, back). */
  log?: (line: string) => void;
  /** This machine's id (default hostname:pid). */
  machine?: string;
  /** Connection attempts' timeout in ms (default 2000). */
  connectTimeout?: number;
}

/** What a sync saw in Redis. */
export interface SyncResult {
  /** The global counters after this machine's increments. */
  counters: ClusterCounters;
  /** The chief's id ('' when none holds the lease). */
  chief: string;
  /** The reason the chief stopped the run, or null. */
  stop: string | null;
  /** Bytes sent and received for the parameters. */
  bytes: number;
  /** Whether the global state was missing and this machine seeded it again. */
  reseeded: boolean;
}

/**
 * One machine's membership of a cluster run: its Redis connection, the parameters as of its last
 * sync, and what it has pushed so far.
 */
export class Cluster {
  /** The run's address. */
  readonly address: ClusterAddress;
  /** This machine's id. */
  readonly machine: string;
  /** The chief evaluates, writes checkpoints and the run's config; members only train. */
  readonly role: "chief" | "member";
  /** This machine's number in the run (0 for the first to join). */
  readonly index: number;
  /** Whether this machine started the run (seeded it) rather than joining it. */
  readonly started: boolean;
  #redis: ScriptedRedis;
  #params: Float32Array;
  #base: Float32Array;
  #meta: string;
  #own: ClusterCounters;
  #global: ClusterCounters;
  #log: (line: string) => void;
  #outageSince: number | null = null;
  #reseeded = false;

  private constructor(
    address: ClusterAddress,
    machine: string,
    role: "chief" | "member",
    index: number,
    redis: ScriptedRedis,
    params: Float32Array,
    meta: string,
    global: ClusterCounters,
    log: (line: string) => void,
    started: boolean,
  ) {
    this.started = started;
    this.address = address;
    this.machine = machine;
    this.role = role;
    this.index = index;
    this.#redis = redis;
    this.#params = params;
    this.#base = Float32Array.from(params);
    this.#meta = meta;
    this.#own = zeroCounters();
    this.#global = { ...global };
    this.#log = log;
  }

  /** The key of `name` in this run. */
  key(name: string): string {
    return `a3g:${this.address.run}:${name}`;
  }

  /** Chunk keys of a parameter vector of `size` values. */
  #chunkKeys(size: number): string[] {
    return Array.from({ length: Math.ceil(size / CHUNK) }, (_, i) => this.key(`p:${i}`));
  }

  /**
   * Joins run `address`: seeds it with this machine's parameters and counters when it is new (or
   * its data is gone), else checks the run's identity and pulls its global parameters into
   * `params`; takes the chief role as `chief` says.
   */
  static async join(address: ClusterAddress, options: JoinOptions): Promise<Cluster> {
    const log = options.log ?? (() => {});
    const machine = options.machine ?? `${safeHostname()}:${Deno.pid}`;
    const redis = await connect(address, options.connectTimeout ?? 2000);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new ClusterError(
        `--cluster ${address.url}: cannot reach Redis at ${address.host}:${address.port} ` +
          `(${(error as Error).message}); expected a running redis-server ` +
          `(e.g. redis-server --port ${address.port})`,
      );
    }
    try {
      const meta = JSON.stringify(options.identity);
      const k = (name: string) => `a3g:${address.run}:${name}`;
      const params = options.params;
      const chunks = Array.from({ length: Math.ceil(params.length / CHUNK) }, (_, i) => i);
      const seeded = await redis.a3gSeed(
        2 + chunks.length,
        k("meta"),
        k("counters"),
        ...chunks.map((i) => k(`p:${i}`)),
        meta,
        ...COUNTER_NAMES.map((n) => options.counters[n]),
        ...chunks.map((i) => chunkBytes(params, i)),
      );
      if (seeded === 1) {
        await redis.del(k("stop"), k("machines"));
      } else {
        const theirs = await redis.get(k("meta"));
        if (theirs !== null && theirs !== meta) {
          throw new ClusterError(
            `--cluster ${address.url}: this machine's configuration differs from the run's: ` +
              describeDifferences(JSON.parse(theirs), options.identity) +
              `; a machine joining a run trains with the run's settings (or name another run)`,
          );
        }
        const stop = await redis.get(k("stop"));
        if (stop !== null) {
          throw new ClusterError(
            `--cluster ${address.url}: the run was stopped by its chief (${stop}); ` +
              `name another run to train again`,
          );
        }
        const pulled = await pullInto(redis, chunks.map((i) => k(`p:${i}`)), params);
        if (!pulled) {
          throw new ClusterError(
            `--cluster ${address.url}: the run's parameters are incomplete in Redis; ` +
              `try again, or name another run`,
          );
        }
      }
      const index = (await redis.incr(k("machines"))) - 1;
      let role: "chief" | "member" = "member";
      if (options.chief !== false) {
        const got = await redis.set(k("chief"), machine, "PX", CHIEF_LEASE_MS, "NX");
        if (got === "OK") {
          role = "chief";
        } else if (options.chief === true) {
          const holder = await redis.get(k("chief"));
          const ttl = await redis.pttl(k("chief"));
          throw new ClusterError(
            `--chief: run "${address.run}" already has a chief, ${holder ?? "(gone)"}; ` +
              `its lease lapses ${
                ttl > 0 ? `in ${(ttl / 1000).toFixed(0)} s` : "now"
              } if it has stopped (drop --chief to join as a member)`,
          );
        }
      }
      const raw = await redis.hgetall(k("counters"));
      const global = zeroCounters();
      for (const n of COUNTER_NAMES) global[n] = Number(raw[n] ?? 0);
      const cluster = new Cluster(
        address,
        machine,
        role,
        index,
        redis,
        params,
        meta,
        global,
        log,
        seeded === 1,
      );
      log(
        `cluster ${address.url}: ${seeded === 1 ? "started the run" : "joined the run"} as ` +
          `${role} (machine ${index}, ${machine}) at ${global.frames} global frames`,
      );
      return cluster;
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  /**
   * One sync: pushes the change of the parameters since the last sync (only when every value is
   * finite) and this machine's counter increments, then pulls the global parameters, keeping
   * whatever the local workers changed meanwhile. `own` is this machine's own cumulative
   * counters (its workers', without other machines'). Returns null while Redis is unreachable
   * (the run goes on locally; one message per outage).
   */
  async sync(own: ClusterCounters): Promise<SyncResult | null> {
    const params = this.#params;
    const current = Float32Array.from(params);
    const delta = new Float32Array(current.length);
    let finite = true;
    for (let i = 0; i < current.length; i++) {
      const d = current[i] - this.#base[i];
      if (!Number.isFinite(d)) finite = false;
      delta[i] = d;
    }
    const increments = COUNTER_NAMES.map((n) => own[n] - this.#own[n]);
    const keys = this.#chunkKeys(current.length);
    let bytes = 0;
    try {
      if (finite) {
        const pipeline = this.#redis.pipeline() as unknown as {
          a3gAdd(key: string, d: Buffer): void;
          exec(): Promise<[Error | null, unknown][] | null>;
        };
        keys.forEach((key, i) => pipeline.a3gAdd(key, chunkBytes(delta, i)));
        const results = (await pipeline.exec()) ?? [];
        let missing = false;
        results.forEach(([error, added], i) => {
          if (error === null && added === 1) {
            // this chunk's change is global now: it must not be sent again
            const from = i * CHUNK, to = Math.min(from + CHUNK, current.length);
            this.#base.set(current.subarray(from, to), from);
          } else if (error === null) {
            missing = true;
          }
        });
        const failed = results.find(([error]) => error !== null);
        if (failed) throw failed[0];
        bytes += current.length * 4;
        if (missing) {
          // the run's data is gone: seed it again from here, then sync as usual
          await this.#reseed(current, own);
          return this.sync(own);
        }
      } else {
        this.#log(
          `cluster ${this.address.url}: this machine's parameters are not finite; nothing ` +
            `pushed, the global ones replace them`,
        );
      }
      const reply = await this.#redis.a3gTick(
        4,
        this.key("meta"),
        this.key("counters"),
        this.key("chief"),
        this.key("stop"),
        ...increments,
        this.machine,
        CHIEF_LEASE_MS,
      );
      if (Number(reply[0]) === 0) {
        // lost between the push and now: seed again from here
        await this.#reseed(current, own);
        return this.sync(own);
      }
      this.#own = { ...own };
      COUNTER_NAMES.forEach((n, i) => this.#global[n] = Number(reply[i + 1]));
      // pull: params += global − current, so the workers' changes since `current` stay
      const global = new Float32Array(current.length);
      if (!(await pullInto(this.#redis, keys, global))) {
        throw new Error("the run's parameters are incomplete");
      }
      bytes += current.length * 4;
      for (let i = 0; i < params.length; i++) {
        params[i] = finite ? params[i] + global[i] - current[i] : global[i];
      }
      this.#base = global;
      if (this.#outageSince !== null) {
        this.#log(
          `cluster ${this.address.url}: Redis is back after ${
            ((performance.now() - this.#outageSince) / 1000).toFixed(1)
          } s; syncing again`,
        );
        this.#outageSince = null;
      }
      return {
        counters: { ...this.#global },
        chief: String(reply[5]),
        stop: reply[6] === "" ? null : String(reply[6]),
        bytes,
        reseeded: this.#takeReseeded(),
      };
    } catch (error) {
      if (this.#outageSince === null) {
        this.#outageSince = performance.now();
        this.#log(
          `cluster ${this.address.url}: cannot sync with Redis (${
            (error as Error).message
          }); training goes on locally and syncs again once it is back`,
        );
      }
      return null;
    }
  }

  /** The global counters as of the last sync (or the join). */
  get counters(): ClusterCounters {
    return { ...this.#global };
  }

  /** Whether the last sync failed (Redis unreachable). */
  get offline(): boolean {
    return this.#outageSince !== null;
  }

  #takeReseeded(): boolean {
    const r = this.#reseeded;
    this.#reseeded = false;
    return r;
  }

  // The run's data is gone (Redis restarted without persistence): this machine's parameters and
  // its view of the counters become the run's again, unless another machine did so first.
  async #reseed(current: Float32Array, own: ClusterCounters): Promise<void> {
    const counters = zeroCounters();
    for (const n of COUNTER_NAMES) counters[n] = this.#global[n] + own[n] - this.#own[n];
    const keys = this.#chunkKeys(current.length);
    const seeded = await this.#redis.a3gSeed(
      2 + keys.length,
      this.key("meta"),
      this.key("counters"),
      ...keys,
      this.#meta,
      ...COUNTER_NAMES.map((n) => counters[n]),
      ...keys.map((_, i) => chunkBytes(current, i)),
    );
    if (seeded === 1) {
      this.#log(
        `cluster ${this.address.url}: the run's data was gone from Redis; seeded it again ` +
          `from this machine's parameters at ${counters.frames} frames`,
      );
      this.#base.set(current);
      this.#own = { ...own };
      this.#global = counters;
      this.#reseeded = true;
      if (this.role === "chief") {
        await this.#redis.set(this.key("chief"), this.machine, "PX", CHIEF_LEASE_MS);
      }
      return;
    }
    // another machine seeded it first: what this one changed since its last push is lost to the
    // run, as a Hogwild update can be, and the sync that follows pulls the new global parameters
    this.#base.set(current);
    this.#own = { ...own };
  }

  /** The chief's word to the others that the run is over (e.g. "solved"). */
  async stopRun(reason: string): Promise<void> {
    try {
      await this.#redis.set(this.key("stop"), reason);
    } catch (error) {
      this.#log(
        `cluster ${this.address.url}: could not tell the others the run stopped (${
          (error as Error).message
        })`,
      );
    }
  }

  /** Gives up the chief's lease (so another machine can take it at once) and disconnects. */
  async close(): Promise<void> {
    try {
      if (this.role === "chief" && !this.offline) {
        await this.#redis.a3gRelease(this.key("chief"), this.machine);
      }
    } catch {
      // unreachable: the lease lapses by itself
    }
    this.#redis.disconnect();
  }
}

/** A connection that fails fast while Redis is away (no queue) and keeps reconnecting. */
async function connect(address: ClusterAddress, connectTimeout: number): Promise<ScriptedRedis> {
  const { Redis } = await import(CLIENT_MODULE) as {
    Redis: new (options: Record<string, unknown>) => Redis;
  };
  const redis = new Redis({
    host: address.host,
    port: address.port,
    lazyConnect: true,
    connectTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 500,
  });
  // the sync reports outages itself; without a listener the client would print every retry
  redis.on("error", () => {});
  redis.defineCommand("a3gAdd", { numberOfKeys: 1, lua: ADD });
  redis.defineCommand("a3gSeed", { lua: SEED });
  redis.defineCommand("a3gTick", { lua: TICK });
  redis.defineCommand("a3gRelease", { numberOfKeys: 1, lua: RELEASE });
  return redis as ScriptedRedis;
}

/**
 * Chunk `i` of `values` as little-endian float32 bytes, as a Buffer over the same memory (the
 * client sends Buffers as bytes; it would turn any other typed array into text).
 */
function chunkBytes(values: Float32Array, i: number): Buffer {
  const part = values.subarray(i * CHUNK, Math.min((i + 1) * CHUNK, values.length));
  return Buffer.from(part.buffer, part.byteOffset, part.byteLength);
}

/** Reads every chunk into `into`; false when any is missing or of the wrong size. */
async function pullInto(redis: Redis, keys: string[], into: Float32Array): Promise<boolean> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.getBuffer(key);
  const results = (await pipeline.exec()) ?? [];
  for (let i = 0; i < keys.length; i++) {
    const [error, value] = results[i] ?? [new Error("no reply"), null];
    if (error !== null) throw error;
    if (value === null) return false;
    const bytes = value as Uint8Array;
    const from = i * CHUNK, size = Math.min(CHUNK, into.length - from);
    if (bytes.byteLength !== size * 4) return false;
    // copied into an aligned buffer: a Buffer's offset into its pool need not be a multiple of 4
    into.set(new Float32Array(Uint8Array.from(bytes).buffer), from);
  }
  return true;
}

/** `key: ours vs theirs` for each key whose value differs. */
function describeDifferences(
  theirs: Record<string, unknown>,
  ours: Record<string, unknown>,
): string {
  const keys = [...new Set([...Object.keys(theirs), ...Object.keys(ours)])];
  return keys
    .filter((k) => JSON.stringify(theirs[k]) !== JSON.stringify(ours[k]))
    .map((k) =>
      `${k} is ${JSON.stringify(ours[k]) ?? "unset"} here, ${
        JSON.stringify(theirs[k]) ?? "unset"
      } in the run`
    )
    .join("; ");
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "host";
  }
}
