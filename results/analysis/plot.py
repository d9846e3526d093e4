"""Figures from ftbench results files, written as PNG without a display (matplotlib's Agg backend).

    python -m results.analysis.plot FILE.h5|DIR... --out DIR [--metric test_acc] [--dpi 100]

Writes, and prints the path of:
    accuracy_vs_epoch.png    the metric per epoch, one line per run
    accuracy_vs_time.png     the metric against cumulative wall time (training + evaluation)
    accuracy_vs_params.png   final metric against parameter count (log scale); bubble area ~ mean img/s
    per_class_accuracy.png   heatmap of each run's per-class test accuracy in its last epoch
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display needed, also on cluster login nodes
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .load import load, load_per_class  # noqa: E402

FIGURES = ["accuracy_vs_epoch.png", "accuracy_vs_time.png", "accuracy_vs_params.png", "per_class_accuracy.png"]
LABELS = {"test_acc": "test accuracy (top-1)", "test_acc5": "test accuracy (top-5)", "train_acc": "train accuracy",
          "test_loss": "test loss", "train_loss": "train loss"}


def _columns(table):
    """A DataFrame or a dict of arrays, as a dict of numpy arrays."""
    return {k: np.asarray(table[k]) for k in (table.columns if hasattr(table, "columns") else table)}


def _runs(cols):
    """Run keys (file, run) in order of first appearance, with the row mask of each."""
    keys = list(dict.fromkeys(zip(cols["file"], cols["run"])))
    return [(run, (cols["file"] == f) & (cols["run"] == run)) for f, run in keys]


def _scale(metric, values):
    return 100.0 * values if metric.endswith("acc") or metric.endswith("acc5") else values


def _finish(fig, ax, path, title, legend=True, marker_size=None):
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        shown = ax.legend(fontsize="small", loc="best")
        if marker_size is not None:  # bubbles: a legend entry of one small size, not the bubble's
            for handle in shown.legend_handles:
                handle.set_sizes([marker_size])
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def metric_vs_epoch(cols, metric, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for run, rows in _runs(cols):
        ax.plot(cols["epoch"][rows], _scale(metric, cols[metric][rows]), marker="o", label=run)
    ax.set_xlabel("epoch")
    ax.set_ylabel(LABELS.get(metric, metric) + (" (%)" if "acc" in metric else ""))
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _finish(fig, ax, path, f"{LABELS.get(metric, metric)} per epoch")


def metric_vs_time(cols, metric, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for run, rows in _runs(cols):
        ax.plot(cols["cumulative_seconds"][rows], _scale(metric, cols[metric][rows]), marker="o", label=run)
    ax.set_xlabel("cumulative wall time, training + evaluation (s)")
    ax.set_ylabel(LABELS.get(metric, metric) + (" (%)" if "acc" in metric else ""))
    return _finish(fig, ax, path, f"{LABELS.get(metric, metric)} against time")


def metric_vs_params(cols, metric, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    runs = _runs(cols)
    speeds = [float(np.mean(cols["images_per_second"][rows])) for _, rows in runs]
    largest = max(speeds) if speeds else 1.0
    for (run, rows), speed in zip(runs, speeds):
        final = _scale(metric, cols[metric][rows])[-1]
        params = cols["params_total"][rows][0]
        ax.scatter([params], [final], s=60 + 1500 * speed / largest, alpha=0.5, label=f"{run} ({speed:.0f} img/s)")
        ax.annotate(run, (params, final), fontsize="x-small", ha="center", va="center")
    ax.set_xscale("log")
    ax.margins(x=0.3, y=0.15)
    ax.set_xlabel("parameters")
    ax.set_ylabel("final " + LABELS.get(metric, metric) + (" (%)" if "acc" in metric else ""))
    return _finish(fig, ax, path, f"final {LABELS.get(metric, metric)} against size (bubble area ~ img/s)",
                   marker_size=40)


def per_class_heatmap(per_class, path):
    cols = _columns(per_class)
    runs = list(dict.fromkeys(zip(cols["file"], cols["run"])))
    classes = list(dict.fromkeys(zip(cols["class_index"], cols["class_name"])))
    grid = np.full((len(runs), len(classes)), np.nan)
    for i, (f, run) in enumerate(runs):
        rows = (cols["file"] == f) & (cols["run"] == run)
        last = rows & (cols["epoch"] == cols["epoch"][rows].max())
        for c, acc in zip(cols["class_index"][last], cols["acc"][last]):
            grid[i, int(c)] = 100.0 * acc
    fig, ax = plt.subplots(figsize=(8, max(3.0, 1.8 + 0.45 * len(runs))))
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(classes)), [name for _, name in classes], rotation=45, ha="right")
    ax.set_yticks(range(len(runs)), [run for _, run in runs])
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.0f}", ha="center", va="center", fontsize="x-small",
                        color="white" if grid[i, j] < 60 else "black")
    fig.colorbar(image, ax=ax, label="test accuracy (%)")
    return _finish(fig, ax, path, "per-class test accuracy, last epoch", legend=False)


def plot(paths, out, metric="test_acc", dpi=100):
    """Writes the four figures into `out` (created if needed); returns their paths."""
    cols = _columns(load(paths))
    if not len(cols["run"]):
        raise ValueError(f"no epochs in {paths}: nothing to plot yet")
    if metric not in cols:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(LABELS)}")
    os.makedirs(out, exist_ok=True)
    with matplotlib.rc_context({"figure.dpi": dpi, "savefig.dpi": dpi}):
        return [
            metric_vs_epoch(cols, metric, os.path.join(out, FIGURES[0])),
            metric_vs_time(cols, metric, os.path.join(out, FIGURES[1])),
            metric_vs_params(cols, metric, os.path.join(out, FIGURES[2])),
            per_class_heatmap(load_per_class(paths), os.path.join(out, FIGURES[3])),
        ]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m results.analysis.plot", description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="results files (.h5) or directories holding them")
    parser.add_argument("--out", required=True, help="directory for the PNG files")
    parser.add_argument("--metric", default="test_acc", choices=sorted(LABELS), help="what the y axes show")
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args(argv)
    try:
        for path in plot(args.inputs, args.out, args.metric, args.dpi):
            print(path)
    except (OSError, ValueError) as e:
        print(f"plot: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
