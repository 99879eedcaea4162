/**
 * The live page of a run: a small read-only HTTP server over one run directory. It serves the
 * page (`web/page/`, static HTML and an ES module), uPlot from npm, and two streams:
 *
 * - `/events` (Server-Sent Events): the run's configuration, then every line of its
 *   `metrics.jsonl` from the start (so a page opened late or reloaded gets the history), then new
 *   lines as they are written; a trainer serving its own run adds its status once a second;
 * - `/frames` (WebSocket, a trainer's server only): the evaluator's game as RGB frames, sent only
 *   while a page is open.
 *
 * Nothing else is served (any other path is 404), no request changes the run, and a slow or gone
 * client never holds the trainer up: each client has a bounded queue, and what does not fit is
 * dropped and counted.
 *
 * @example
 * ```ts
 * const server = await serveRun({ runDir: "runs/cartpole" });
 * console.log(server.url); // http://127.0.0.1:<port>/
 * await server.close();
 * ```
 *
 * @module
 */

/** Options of {@link serveRun}. */
export interface ServeRunOptions {
  /** The run directory whose `config.json` and `metrics.jsonl` are shown. */
  runDir: string;
  /** Address to listen on (127.0.0.1). */
  hostname?: string;
  /** Port (0 picks a free one). */
  port?: number;
  /** Served by the trainer of the run: status lines and frames come from it. */
  live?: boolean;
  /** Called with the number of open frame streams whenever it changes. */
  onViewers?: (viewers: number) => void;
  /** How often the metrics file is read for new lines (ms, default 500). */
  pollMs?: number;
}

/** A running page server. */
export interface RunServer {
  /** The page's address, e.g. `http://127.0.0.1:8123/`. */
  url: string;
  /** Sends a status to every open page (trainer only). */
  status(status: Record<string, unknown>): void;
  /** Sends one RGB frame (height × width × 3) to every open frame stream (trainer only). */
  frame(rgb: Uint8Array, width: number, height: number): void;
  /** Events and frames dropped because a client was too slow. */
  readonly dropped: { events: number; frames: number };
  /** Stops serving. */
  close(): Promise<void>;
}

/** Largest number of event messages queued for one client before new ones are dropped. */
const MAX_QUEUED_EVENTS = 256;
/** Bytes a frame socket may have buffered before frames are dropped. */
const MAX_BUFFERED_FRAME_BYTES = 1 << 20;

const PAGE_FILES: Record<string, { file: URL; type: string }> = {
  "/": { file: new URL("./page/index.html", import.meta.url), type: "text/html; charset=utf-8" },
  "/app.js": { file: new URL("./page/app.js", import.meta.url), type: "text/javascript" },
};

/** The chart library's package, a full `npm:` specifier (this module is reachable from `mod.ts`). */
const CHART_PACKAGE = "npm:uplot@1.6.32";

/**
 * uPlot's ES module and style sheet, read from the npm package's files (loaded first so Deno
 * installs it). That needs the package on disk, in `node_modules/` as a checkout of a3g has it.
 */
async function chartFiles(): Promise<Record<string, { file: URL; type: string }>> {
  await import(CHART_PACKAGE);
  const entry = import.meta.resolve(CHART_PACKAGE);
  if (!entry.startsWith("file:")) {
    throw new Error(
      `the live page serves uPlot from its npm package's files, which are not on disk here ` +
        `(${entry}); serve it from a checkout of a3g, whose deno.json keeps npm packages in ` +
        `node_modules/`,
    );
  }
  const dist = new URL(".", entry);
  return {
    "/uplot.js": { file: new URL("uPlot.esm.js", dist), type: "text/javascript" },
    "/uplot.css": { file: new URL("uPlot.min.css", dist), type: "text/css" },
  };
}

/** One SSE client: a stream with a bounded queue. */
class EventClient {
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  readonly stream: ReadableStream<Uint8Array>;
  #encoder = new TextEncoder();
  closed = false;

  constructor(onCancel: () => void) {
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        this.closed = true;
        onCancel();
      },
    }, { highWaterMark: MAX_QUEUED_EVENTS, size: () => 1 });
  }

  /** Queues one event; false (dropped) when the client's queue is full. */
  send(event: string, data: string): boolean {
    const c = this.#controller;
    if (c === null || this.closed) return false;
    if ((c.desiredSize ?? 0) <= 0) return false;
    const lines = data.split("\n").map((l) => `data: ${l}`).join("\n");
    c.enqueue(this.#encoder.encode(`event: ${event}\n${lines}\n\n`));
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.#controller?.close();
    } catch {
      // already closed by the client
    }
  }
}

/**
 * Serves the live page of run directory `runDir`. Listens on `hostname` (127.0.0.1) and `port`
 * (0: a free one).
 */
export async function serveRun(options: ServeRunOptions): Promise<RunServer> {
  const runDir = options.runDir.replace(/\/+$/, "");
  const hostname = options.hostname ?? "127.0.0.1";
  const files = { ...PAGE_FILES, ...(await chartFiles()) };
  const metricsPath = `${runDir}/metrics.jsonl`;
  const clients = new Set<EventClient>();
  const sockets = new Set<WebSocket>();
  const dropped = { events: 0, frames: 0 };
  const live = options.live ?? false;

  // The metrics file is read from where the last read stopped; only whole lines are sent, and
  // kept for pages that open later.
  let history: string[] = [];
  let offset = 0;
  let partial = "";
  const decoder = new TextDecoder();
  const readNew = async (): Promise<string[]> => {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(metricsPath, { read: true });
    } catch {
      return []; // not written yet
    }
    try {
      const size = (await file.stat()).size;
      if (size < offset) {
        // a new file (the run started again): read it from the start
        offset = 0;
        partial = "";
        history = [];
      }
      if (size === offset) return [];
      await file.seek(offset, Deno.SeekMode.Start);
      const buffer = new Uint8Array(size - offset);
      let read = 0;
      while (read < buffer.length) {
        const n = await file.read(buffer.subarray(read));
        if (n === null) break;
        read += n;
      }
      offset += read;
      const text = partial + decoder.decode(buffer.subarray(0, read), { stream: true });
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      return lines.filter((l) => l.trim() !== "");
    } finally {
      file.close();
    }
  };
  let polling = false;
  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const lines = await readNew();
      if (lines.length === 0) return;
      for (const line of lines) history.push(line);
      for (const c of clients) if (!c.send("records", lines.join("\n"))) dropped.events++;
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), options.pollMs ?? 500);

  const readConfig = async (): Promise<string> => {
    try {
      return JSON.stringify(JSON.parse(await Deno.readTextFile(`${runDir}/config.json`)));
    } catch {
      return "null";
    }
  };

  const viewersChanged = () => options.onViewers?.(sockets.size);

  const handler = async (request: Request): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("only GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    // the path as sent, undecoded: only the fixed routes match, so no path reaches the disk
    const path = new URL(request.url).pathname;
    const page = files[path];
    if (page !== undefined) {
      return new Response(await Deno.readFile(page.file), {
        headers: { "content-type": page.type, "cache-control": "no-cache" },
      });
    }
    if (path === "/events") {
      await poll();
      const client: EventClient = new EventClient(() => clients.delete(client));
      client.send("hello", JSON.stringify({ live, runDir }));
      client.send("config", await readConfig());
      // the history in slices, so a long run's first message is not one huge line
      for (let i = 0; i < history.length; i += 2000) {
        client.send("records", history.slice(i, i + 2000).join("\n"));
      }
      clients.add(client);
      return new Response(client.stream, {
        headers: {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
        },
      });
    }
    if (path === "/frames" && live) {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("a WebSocket endpoint\n", { status: 426 });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        sockets.add(socket);
        viewersChanged();
      };
      const gone = () => {
        if (sockets.delete(socket)) viewersChanged();
      };
      socket.onclose = gone;
      socket.onerror = gone;
      socket.onmessage = () => {}; // the page sends nothing the run would act on
      return response;
    }
    return new Response("not found\n", { status: 404 });
  };

  const server = Deno.serve({
    hostname,
    port: options.port ?? 0,
    onListen: () => {},
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  return {
    url: `http://${host}:${addr.port}/`,
    dropped,
    status(status) {
      const data = JSON.stringify(status);
      for (const c of clients) if (!c.send("status", data)) dropped.events++;
    },
    frame(rgb, width, height) {
      if (sockets.size === 0) return;
      const message = new Uint8Array(4 + rgb.length);
      message[0] = width & 0xff;
      message[1] = width >> 8;
      message[2] = height & 0xff;
      message[3] = height >> 8;
      message.set(rgb, 4);
      for (const s of sockets) {
        if (s.readyState !== WebSocket.OPEN || s.bufferedAmount > MAX_BUFFERED_FRAME_BYTES) {
          dropped.frames++;
          continue;
        }
        s.send(message);
      }
    },
    async close() {
      clearInterval(timer);
      await poll().catch(() => {});
      for (const c of clients) c.close();
      for (const s of sockets) s.close();
      sockets.clear();
      await server.shutdown();
    },
  };
}
