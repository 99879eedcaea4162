/**
 * The reward chart of a run as a Vega-Lite spec, rendered to SVG headless with Vega (no browser or
 * canvas: Vega estimates text widths itself when no canvas is there).
 *
 * @module
 */
import * as vega from "npm:vega@6.4.0";
import { compile, type TopLevelSpec } from "npm:vega-lite@6.5.0";
import type { RunMetrics } from "./metrics.ts";

/** The font the chart names; the PNG renderer loads it from the `dejavu-fonts-ttf` package. */
export const CHART_FONT = "DejaVu Sans";

/** Series names, as the legend shows them. */
export const SERIES = {
  evalEpisode: "evaluation episode",
  evalMean: "evaluation mean of last 100",
  trainMean: "training mean of last 100 (all workers)",
} as const;

/** Axis titles of the two panels and the shared y axis. */
export const AXES = {
  frames: "frames",
  minutes: "wall time (minutes)",
  reward: "episode reward",
} as const;

/** What the chart says about the run besides its data. */
export interface ChartOptions {
  /** Title: the env id and run name, e.g. `PongNoFrameskip-v4 — runs/pong-main`. */
  title: string;
  /** A dashed line at the reward that counts as solved, if any. */
  target?: number;
  /** Width of each panel's plotting area in pixels (720). */
  width?: number;
  /** Height of each panel's plotting area in pixels (260). */
  height?: number;
}

interface Row {
  frames: number;
  minutes: number;
  reward: number;
  series: string;
}

function rows(metrics: RunMetrics): Row[] {
  const out: Row[] = [];
  const add = (series: string, points: RunMetrics["train"], mean: boolean) => {
    for (const p of points) {
      out.push({
        frames: p.frames,
        minutes: p.time / 60,
        reward: mean ? p.mean100 : p.reward,
        series,
      });
    }
  };
  add(SERIES.evalEpisode, metrics.eval, false);
  add(SERIES.evalMean, metrics.eval, true);
  add(SERIES.trainMean, metrics.train, true);
  return out;
}

function subtitle(metrics: RunMetrics): string {
  const last = (a: RunMetrics["train"]) => a[a.length - 1];
  const frames = Math.max(last(metrics.train)?.frames ?? 0, last(metrics.eval)?.frames ?? 0);
  const minutes = Math.max(last(metrics.train)?.time ?? 0, last(metrics.eval)?.time ?? 0) / 60;
  const parts = [
    `${metrics.train.length} training and ${metrics.eval.length} evaluation episodes`,
    `${(frames / 1e6).toFixed(2)}M frames in ${minutes.toFixed(1)} min`,
  ];
  const e = last(metrics.eval);
  if (e) parts.push(`last evaluation mean ${e.mean100.toFixed(2)}`);
  if (metrics.endReason) parts.push(`stopped: ${metrics.endReason}`);
  return parts.join(" · ");
}

/**
 * The Vega-Lite spec of the reward chart: two panels, reward against frames and against wall
 * time, each with the evaluation episodes as dots, their running mean and the running mean of the
 * training episodes as lines.
 */
export function rewardChartSpec(metrics: RunMetrics, options: ChartOptions): TopLevelSpec {
  // only the series the run has, so a run without evaluation shows no empty legend entries
  const present = [
    [SERIES.evalEpisode, metrics.eval.length, "#8fb8de"],
    [SERIES.evalMean, metrics.eval.length, "#1f5fa8"],
    [SERIES.trainMean, metrics.train.length, "#e6791f"],
  ].filter(([, n]) => (n as number) > 0);
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: present.map(([s]) => s), range: present.map(([, , c]) => c) },
    legend: { orient: "top", direction: "horizontal", symbolStrokeWidth: 3 },
  } as const;
  const panel = (x: "frames" | "minutes") => {
    const xEnc = {
      field: x,
      type: "quantitative",
      title: AXES[x],
      scale: { nice: false }, // end the axis at the run's last point
      // "~s" writes 1.5M; its zero would read "0M"
      axis: x === "frames"
        ? { format: "~s", labelExpr: "datum.value === 0 ? '0' : datum.label" }
        : {},
    } as const;
    const y = { field: "reward", type: "quantitative", title: AXES.reward } as const;
    const layers: unknown[] = [
      {
        transform: [{ filter: { field: "series", equal: SERIES.evalEpisode } }],
        mark: { type: "point", filled: true, size: 18, opacity: 0.8 },
        encoding: { x: xEnc, y, color },
      },
      {
        transform: [{ filter: { not: { field: "series", equal: SERIES.evalEpisode } } }],
        mark: { type: "line", strokeWidth: 2, interpolate: "linear" },
        encoding: { x: xEnc, y, color },
      },
    ];
    if (options.target !== undefined) {
      layers.push({
        data: { values: [{ target: options.target, label: `target ${options.target}` }] },
        layer: [
          {
            mark: { type: "rule", strokeDash: [6, 4], color: "#555" },
            encoding: { y: { field: "target", type: "quantitative" } },
          },
          {
            mark: { type: "text", align: "left", dx: 4, dy: -7, color: "#555", x: 0 },
            encoding: { y: { field: "target", type: "quantitative" }, text: { field: "label" } },
          },
        ],
      });
    }
    return { width: options.width ?? 720, height: options.height ?? 260, layer: layers };
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: options.title, subtitle: subtitle(metrics), anchor: "start" },
    background: "white",
    padding: 12,
    data: { values: rows(metrics) },
    vconcat: [panel("frames"), panel("minutes")],
    spacing: 28,
    config: {
      font: CHART_FONT,
      title: { fontSize: 17, subtitleFontSize: 12, subtitleColor: "#444" },
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 12, labelLimit: 400 },
    },
  } as TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG document, without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
