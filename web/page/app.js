// The live page of an a3g run: curves from the run's metrics stream, the status line, the
// configuration and, for a trainer's own page, the evaluator's game on a canvas.
// uPlot, served by the run's server from its npm package (a name the type checker leaves alone)
const CHART_MODULE = "/uplot.js";
const { default: uPlot } = await import(CHART_MODULE);

const MAX_POINTS = 20000;

/** A chart over its own x values, with `names.length` series. */
class Chart {
  constructor(id, names, { scales = {}, points = false, xLabel = "frames" } = {}) {
    this.el = document.getElementById(id);
    this.data = [[], ...names.map(() => [])];
    this.dirty = false;
    const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    this.plot = new uPlot(
      {
        width: Math.max(300, this.el.clientWidth - 14),
        height: 200,
        scales: { x: { time: false }, ...scales },
        axes: [
          { label: xLabel },
          { scale: names[0].scale ?? "y", size: 64 },
          ...(names.some((n) => n.scale === "r") ? [{ scale: "r", side: 1, size: 64 }] : []),
        ],
        series: [
          { label: xLabel },
          ...names.map((n, i) => ({
            label: n.label,
            scale: n.scale ?? "y",
            stroke: colors[i],
            width: points ? 0 : 1.5,
            spanGaps: true,
            points: points ? { show: true, size: 3, fill: colors[i] } : { show: false },
          })),
        ],
      },
      this.data,
      this.el,
    );
  }

  /** Adds a point: x and one value (or null) per series. */
  push(x, values) {
    this.data[0].push(x);
    values.forEach((v, i) => this.data[i + 1].push(v ?? null));
    if (this.data[0].length > MAX_POINTS) {
      // thin the oldest half: every other point
      const half = MAX_POINTS / 2;
      this.data = this.data.map((s) =>
        s.slice(0, half).filter((_, j) => j % 2 === 0).concat(s.slice(half))
      );
    }
    this.dirty = true;
  }

  get points() {
    return this.data[0].length;
  }

  redraw() {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data);
    this.el.dataset.points = String(this.points);
  }
}

const returns = new Chart("returns", [{ label: "train" }, { label: "evaluation" }], {
  points: true,
});
const speed = new Chart("speed", [{ label: "frames/s" }], { xLabel: "minutes" });
const losses = new Chart("losses", [{ label: "policy" }, { label: "value", scale: "r" }], {
  scales: { r: {} },
});
const entropy = new Chart("entropy", [{ label: "entropy" }]);
const charts = [returns, speed, losses, entropy];

let last = null; // last losses record: frames and time, for frames/s from the records
let live = false;
let lastStatus = 0;

function fmt(x, digits = 2) {
  return x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits);
}

function onRecord(r) {
  switch (r.type) {
    case "train_episode":
      returns.push(r.frames, [r.reward, null]);
      break;
    case "train_episodes":
      for (const reward of r.rewards) returns.push(r.frames, [reward, null]);
      break;
    case "eval_episode":
      returns.push(r.frames, [null, r.reward]);
      break;
    case "losses":
      losses.push(r.frames, [r.policy_loss, r.value_loss]);
      entropy.push(r.frames, [r.entropy]);
      // frames/s between records at least a second apart (the status gives it live)
      if (!live || Date.now() - lastStatus > 5000) {
        if (last !== null && r.time - last.time >= 1 && r.frames >= last.frames) {
          speed.push(r.time / 60, [(r.frames - last.frames) / (r.time - last.time)]);
          last = r;
        } else if (last === null || r.time < last.time) {
          last = r;
        }
      }
      break;
    case "end":
      document.getElementById("status").textContent += `\nrun ended (${r.reason})`;
      break;
  }
}

function onStatus(s) {
  lastStatus = Date.now();
  speed.push(s.seconds / 60, [s.framesPerSecond]);
  const m = Math.floor(s.seconds / 60), sec = Math.floor(s.seconds % 60);
  document.getElementById("status").textContent =
    `${m}:${String(sec).padStart(2, "0")}  frames ${s.frames}  (${fmt(s.framesPerSecond, 0)}/s)` +
    `  updates ${s.updates}  episodes ${s.episodes}\n` +
    `train ${fmt(s.trainMean)}  eval ${fmt(s.evalMean)}  best ${fmt(s.evalBest)}` +
    `  |  π ${fmt(s.policyLoss, 3)}  v ${fmt(s.valueLoss, 3)}  H ${fmt(s.entropy, 3)}`;
}

const events = new EventSource("/events");
events.addEventListener("hello", (e) => {
  const hello = JSON.parse(e.data);
  live = hello.live;
  document.getElementById("title").textContent = `a3g run · ${hello.runDir}`;
  if (!live) {
    document.getElementById("status").textContent = "from the run directory (curves only)";
    document.getElementById("game-panel").style.display = "none";
  } else {
    connectFrames();
  }
});
events.addEventListener("config", (e) => {
  const config = JSON.parse(e.data);
  document.getElementById("config").textContent = JSON.stringify(config, null, 2);
  if (config?.env) document.title = `a3g · ${config.env}`;
});
events.addEventListener("records", (e) => {
  for (const line of e.data.split("\n")) {
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      continue; // a line cut by a crash
    }
    onRecord(record);
  }
});
events.addEventListener("status", (e) => onStatus(JSON.parse(e.data)));

function connectFrames() {
  const canvas = document.getElementById("game");
  const note = document.getElementById("game-note");
  const ctx = canvas.getContext("2d");
  let frames = 0;
  const socket = new WebSocket(
    `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/frames`,
  );
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => {
    const bytes = new Uint8Array(e.data);
    const width = bytes[0] | (bytes[1] << 8), height = bytes[2] | (bytes[3] << 8);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const image = ctx.createImageData(width, height);
    const rgba = image.data;
    for (let i = 0, j = 4; i < rgba.length; i += 4, j += 3) {
      rgba[i] = bytes[j];
      rgba[i + 1] = bytes[j + 1];
      rgba[i + 2] = bytes[j + 2];
      rgba[i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    frames++;
    canvas.dataset.frames = String(frames);
    note.textContent = `${frames} frames received`;
  };
  socket.onclose = () => {
    note.textContent = "the game stream has closed";
    setTimeout(connectFrames, 3000);
  };
}

// one redraw per animation frame at most, only of charts that changed
function frame() {
  for (const c of charts) c.redraw();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
