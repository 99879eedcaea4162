/**
 * `deno task bench live [--preset pong] [--seconds 60] [--json]`: training frames per second of
 * the preset with 2 workers and the evaluator, without a live page and with one open (a client
 * reading the event stream and the game's frames, as the page does), and the frames it received.
 * Each run is measured after a warm-up of a quarter of its duration.
 *
 * @module
 */
import { option } from "./_args.ts";
import { resolveConfig } from "../../algorithms/config.ts";
import { train } from "../../algorithms/trainer.ts";

/** Reads a page's two streams until `signal` aborts; counts what arrived. */
function openPage(url: string, signal: AbortSignal): { events: number; frames: number } {
  const seen = { events: 0, frames: 0 };
  (async () => {
    try {
      const response = await fetch(`${url}events`, { signal });
      for await (const chunk of response.body!) {
        seen.events += new TextDecoder().decode(chunk).split("\n\n").length - 1;
      }
    } catch {
      // aborted at the end
    }
  })();
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}frames`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = () => seen.frames++;
  signal.addEventListener("abort", () => socket.close());
  return seen;
}

/** Frames per second of one run, with or without a page open. */
async function measure(
  preset: string,
  seconds: number,
  page: boolean,
): Promise<{ fps: number; events: number; frames: number }> {
  await Deno.mkdir("runs", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "runs", prefix: ".bench-live-" });
  const controller = new AbortController();
  const client = new AbortController();
  const warmup = seconds / 4;
  let start: { t: number; frames: number } | null = null;
  let fps = 0;
  let seen = { events: 0, frames: 0 };
  await train(resolveConfig(preset, { workers: 2, runDir: dir, serve: page ? 0 : null }), {
    print: false,
    signal: controller.signal,
    onServe: (url) => seen = openPage(url, client.signal),
    onStatus: (s) => {
      if (start === null && s.seconds >= warmup) start = { t: s.seconds, frames: s.frames };
      if (start !== null && fps === 0 && s.seconds >= warmup + seconds) {
        fps = (s.frames - start.frames) / (s.seconds - start.t);
        client.abort();
        controller.abort();
      }
    },
  });
  await Deno.remove(dir, { recursive: true });
  return { fps, ...seen };
}

/** Runs the suite. */
export async function run(args: string[], quiet: boolean): Promise<Record<string, unknown>> {
  const preset = option(args, "--preset", "pong");
  const seconds = Number(option(args, "--seconds", "60"));
  if (!(seconds > 0)) throw new RangeError(`bench live: --seconds must be > 0, got ${seconds}`);
  const without = await measure(preset, seconds, false);
  if (!quiet) {
    console.log(`${preset}: 2 workers + evaluator, no page   ${without.fps.toFixed(0)} frames/s`);
  }
  const withPage = await measure(preset, seconds, true);
  const ratio = withPage.fps / without.fps;
  if (!quiet) {
    console.log(
      `${preset}: 2 workers + evaluator, page open ${withPage.fps.toFixed(0)} frames/s ` +
        `(${(100 * ratio).toFixed(1)}% of no page; the page got ${withPage.events} events and ` +
        `${withPage.frames} game frames)`,
    );
  }
  return {
    preset,
    frames_per_s: { no_page: without.fps, page_open: withPage.fps },
    ratio,
    page: { events: withPage.events, frames: withPage.frames },
  };
}
