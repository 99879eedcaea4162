/**
 * A private redis-server for the tests and `deno task bench cluster`: Debian's binary on
 * 127.0.0.1 and a free port, without persistence, stopped (or restarted on the same port) by its
 * caller.
 *
 * @module
 */

/** A running redis-server. */
export interface RedisServer {
  port: number;
  url(run: string): string;
  /** Stops it (SIGKILL: its data is gone, as after a crash). */
  stop(): Promise<void>;
  /** Stops it and starts a new, empty one on the same port. */
  restart(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number, up: boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      if (up) return;
    } catch {
      if (!up) return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server on port ${port} did not ${up ? "start" : "stop"}`);
}

/** Starts a redis-server on a free loopback port. */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  let child: Deno.ChildProcess;
  const spawn = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--protected-mode",
        "yes",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitForPort(port, true);
  };
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await waitForPort(port, false);
  };
  await spawn();
  return {
    port,
    url: (run) => `redis://127.0.0.1:${port}/${run}`,
    stop: kill,
    restart: async () => {
      await kill();
      await spawn();
    },
  };
}
