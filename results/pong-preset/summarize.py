"""Summarises the Pong preset runs: for each run directory given, the frames and wall time at
which the 100-episode running mean (over at least 50 episodes) of training (and of evaluation) episodes first reached each
threshold, and the means at the end. Usage: python3 summarize.py <run-dir>..."""
import json
import sys

THRESHOLDS = [-20, -19, -18, -15, -10, 0, 10, 18]


def running(points):
    out, window = [], []
    for p in points:
        window.append(p["reward"])
        if len(window) > 100:
            window.pop(0)
        out.append((p["frames"], p["time"], sum(window) / len(window), len(window)))
    return out


def first(series, threshold):
    for frames, time, mean, count in series:
        if count >= 50 and mean >= threshold:
            return f"{frames / 1e6:.2f}M / {time / 60:.1f} min"
    return "–"


print("| run | frames | minutes | " + " | ".join(f"train ≥ {t}" for t in THRESHOLDS) + " | train mean (last 100) | eval mean (last 100) |")
print("|" + " --- |" * (len(THRESHOLDS) + 5))
for run in sys.argv[1:]:
    records = [json.loads(line) for line in open(f"{run}/metrics.jsonl") if line.strip()]
    config = json.load(open(f"{run}/config.json"))
    train = running([r for r in records if r["type"] == "train_episode"])
    evals = running([r for r in records if r["type"] == "eval_episode"])
    last = max(r.get("frames", 0) for r in records)
    minutes = max(r.get("time", 0) for r in records) / 60
    name = f"K={config['envsPerWorker']} lr={config['lr']} T={config['numSteps']} workers={config['workers']}"
    if config.get("skipRate", 4) != 4:
        name += f" skip={config['skipRate']}"
    if config.get("lrFinal") is not None:
        name += f" (to {config['lrFinal']} over {config['lrAnnealFrames'] / 1e6:g}M frames)"
    cells = [first(train, t) for t in THRESHOLDS]
    print(f"| {name} | {last / 1e6:.2f}M | {minutes:.1f} | " + " | ".join(cells) +
          f" | {train[-1][2]:.2f} | {evals[-1][2] if evals else float('nan'):.2f} |")
