import assert from "node:assert/strict";
import { serveRun } from "../web/server.ts";

const root = new URL("..", import.meta.url).pathname;

/** The part of puppeteer-core this test drives. */
interface Puppeteer {
  launch(options: Record<string, unknown>): Promise<{
    newPage(): Promise<Page>;
    close(): Promise<void>;
  }>;
}
interface Page {
  setViewport(viewport: { width: number; height: number }): Promise<void>;
  goto(url: string, options: Record<string, unknown>): Promise<unknown>;
  evaluate(source: string): Promise<unknown>;
  waitForFunction(source: string, options: Record<string, unknown>): Promise<unknown>;
  screenshot(options: { path: string }): Promise<unknown>;
}

/** One raw HTTP request (the path exactly as given, never normalised); the status code. */
async function rawStatus(port: number, method: string, path: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(256);
    const n = await conn.read(buffer);
    const head = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    return Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

/** Reads server-sent events until `until` says enough (or the time runs out). */
async function readEvents(
  url: string,
  until: (events: { event: string; data: string }[]) => boolean,
  ms = 10_000,
): Promise<{ event: string; data: string }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  const events: { event: string; data: string }[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal });
    let text = "";
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join("\n");
        events.push({ event, data });
      }
      if (until(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

Deno.test("live page: only the page and the run's data, read-only; traversal gets 404", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ env: "CartPole-v1" }));
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, "");
  const server = await serveRun({ runDir: dir });
  try {
    const port = Number(new URL(server.url).port);
    assert.equal(new URL(server.url).hostname, "127.0.0.1", "the loopback by default");
    for (const path of ["/", "/app.js", "/uplot.js", "/uplot.css"]) {
      assert.equal(await rawStatus(port, "GET", path), 200, path);
    }
    for (
      const path of [
        "/../deno.json",
        "/%2e%2e/deno.json",
        "/%2E%2E%2Fdeno.json",
        "/..%2fdeno.json",
        "/app.js/../../deno.json",
        "/web/page/app.js",
        "/metrics.jsonl",
        "/config.json",
        `/${dir}/config.json`,
        "/%2F..%2F..%2Fetc%2Fpasswd",
        "//etc/passwd",
        "/frames", // a trainer's page only
      ]
    ) {
      assert.equal(await rawStatus(port, "GET", path), 404, path);
    }
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      assert.equal(await rawStatus(port, method, "/events"), 405, method);
    }
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("live page: a run directory's history, then the lines written after the page opened", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ env: "CartPole-v1" }));
  const line = (i: number) =>
    JSON.stringify({ type: "train_episode", time: i, frames: 100 * i, reward: i, length: 9 }) +
    "\n";
  await Deno.writeTextFile(`${dir}/metrics.jsonl`, line(1) + line(2) + '{"type":"cut');
  const server = await serveRun({ runDir: dir, pollMs: 50 });
  try {
    const records = (events: { event: string; data: string }[]) =>
      events.filter((e) => e.event === "records").flatMap((e) => e.data.split("\n"));
    setTimeout(
      () => Deno.writeTextFile(`${dir}/metrics.jsonl`, '"}\n' + line(3), { append: true }),
      500,
    );
    const events = await readEvents(`${server.url}events`, (e) => records(e).length >= 4);
    assert.equal(events[0].event, "hello");
    assert.deepEqual(JSON.parse(events[0].data), { live: false, runDir: dir });
    assert.deepEqual(JSON.parse(events[1].data), { env: "CartPole-v1" });
    const got = records(events).map((l) => JSON.parse(l));
    assert.deepEqual(got.map((r) => r.type), [
      "train_episode",
      "train_episode",
      "cut",
      "train_episode",
    ]);
    assert.equal(got[3].reward, 3, "a line is sent once it is whole");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "live page: a CartPole run's page in headless chromium shows growing curves and the game",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // loaded by name: puppeteer-core's types bring Node's globals, whose `Event` clashes with
    // the DOM's that the WebGPU code is typed against
    const library = "puppeteer-core";
    const { default: puppeteer } = await import(library) as { default: Puppeteer };
    const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
    const task = (config.tasks.train as string).split(/\s+/).slice(1);
    const dir = `runs/.live-test-${Deno.pid}`;
    const trainer = new Deno.Command(Deno.execPath(), {
      args: [
        ...task,
        "cartpole",
        "--workers",
        "1",
        "--serve",
        "--run-dir",
        dir,
        "--max-minutes",
        "2",
      ],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = trainer.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!/live page: (http:\S+)/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the trainer ended before serving:\n${out}`);
      out += value;
    }
    const url = /live page: (http:\S+)/.exec(out)![1];
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const drain = (async () => {
      while (!(await reader.read()).done) {
        // the status lines
      }
    })();
    const browser = await puppeteer.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(url, { waitUntil: "load" });
      // evaluated in the page (as source text: these tests are type-checked without the DOM)
      const points = () =>
        page.evaluate(`Number(document.getElementById("returns").dataset.points ?? 0)`);
      const frames = () =>
        page.evaluate(`Number(document.getElementById("game").dataset.frames ?? 0)`);
      const pixels = () =>
        page.evaluate(`(() => {
          const c = document.getElementById("game");
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          let lit = 0, sum = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i] + d[i + 1] + d[i + 2] > 0) lit++;
            sum = (sum * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) % 1000000007;
          }
          return { lit, sum };
        })()`) as Promise<{ lit: number; sum: number }>;
      await page.waitForFunction(
        `Number(document.getElementById("returns").dataset.points ?? 0) > 0`,
        { timeout: 30_000 },
      );
      await page.waitForFunction(
        `Number(document.getElementById("game").dataset.frames ?? 0) > 0`,
        { timeout: 30_000 },
      );
      const first = {
        points: await points() as number,
        frames: await frames() as number,
        pixels: await pixels(),
      };
      await new Promise((r) => setTimeout(r, 3000));
      const second = {
        points: await points() as number,
        frames: await frames() as number,
        pixels: await pixels(),
      };
      assert.ok(second.points > first.points, `curve points ${first.points} → ${second.points}`);
      assert.ok(second.frames > first.frames, `frames ${first.frames} → ${second.frames}`);
      assert.ok(first.pixels.lit > 0 && second.pixels.lit > 0, "the canvas is not blank");
      assert.notEqual(first.pixels.sum, second.pixels.sum, "the frames change");
      await Deno.mkdir(`${root}runs`, { recursive: true });
      await page.screenshot({ path: `${root}runs/live-page-cartpole.png` });
    } finally {
      await browser.close();
      trainer.kill("SIGINT");
      await trainer.status;
      await drain.catch(() => {});
      await Deno.remove(`${root}${dir}`, { recursive: true }).catch(() => {});
    }
  },
});
