"""load(): one row per run x epoch from ftbench results files.

Files written by ftbench are replaced atomically on every change (results/SCHEMA.md, "How the file is
written"), so they can be opened at any time, also while an experiment runs, without SWMR and without file
locks; each open is a consistent snapshot.
"""
import os

import h5py
import numpy as np

try:
    import pandas as pd
except ImportError:  # optional: load() then returns a dict of numpy arrays
    pd = None

# Run attributes copied onto every row.
RUN_COLUMNS = ["experiment", "file", "run", "name", "model", "strategy", "weights", "seed", "status", "world_size",
               "backend", "devices", "params_total", "params_trainable", "input_size", "global_batch"]
# Per-epoch datasets, in schema order.
METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_acc5", "lr", "epoch_seconds",
                  "data_seconds", "compute_seconds", "comm_seconds", "images_per_second", "peak_memory_bytes",
                  "comm_bytes", "trainable_params"]
INT_COLUMNS = {"epoch", "peak_memory_bytes", "comm_bytes", "trainable_params"}
# Derived: wall time from the run's start to the end of this epoch (cumulative epoch_seconds).
DERIVED_COLUMNS = ["cumulative_seconds"]


def expand(paths):
    """Files and directories (every *.h5 directly inside, sorted) into a list of files."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            found = sorted(os.path.join(path, n) for n in os.listdir(path)
                           if n.endswith(".h5") and os.path.isfile(os.path.join(path, n)))
            if not found:
                raise FileNotFoundError(f"{path} holds no .h5 files; pass results files or their directory")
            files += found
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return files


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _run_name(run_id, seed):
    suffix = f"-s{seed}"
    return run_id[: -len(suffix)] if run_id.endswith(suffix) and len(run_id) > len(suffix) else run_id


def _runs(path):
    """Yields (root attrs, run id, run attrs, {dataset: array}) for each run of one file, complete rows only."""
    with h5py.File(path, "r", locking=False) as f:
        if f.attrs.get("schema_version") != 1 or "runs" not in f:
            raise ValueError(f"{path} is not an ftbench results file of schema version 1")
        root = {k: f.attrs[k] for k in f.attrs}
        for run_id, run in f["runs"].items():
            if "status" not in run.attrs:  # cut short while being created: no run yet
                continue
            data = {name: run[name][()] for name in METRIC_COLUMNS + ["per_class_acc", "confusion"] if name in run}
            rows = min(len(v) for v in data.values())
            for name in METRIC_COLUMNS:  # columns that files written before they existed lack (SCHEMA.md)
                if name not in data:
                    data[name] = np.zeros(rows, np.int64) if name in INT_COLUMNS else np.full(rows, np.nan)
            yield root, run_id, dict(run.attrs), {k: v[:rows] for k, v in data.items()}


def _table(columns):
    if pd is None:
        return {k: np.asarray(v) for k, v in columns.items()}
    return pd.DataFrame(columns)


def load(paths):
    """One row per run x epoch over results files (a path, a directory, or a list of them).

    Columns: RUN_COLUMNS, then METRIC_COLUMNS, then cumulative_seconds. Units as in results/SCHEMA.md
    (fractions for accuracies, seconds, bytes). Runs without epochs contribute no rows.
    """
    columns = {k: [] for k in RUN_COLUMNS + METRIC_COLUMNS + DERIVED_COLUMNS}
    for path in expand(paths):
        for root, run_id, attrs, data in _runs(path):
            n = len(data["epoch"])
            info = {
                "experiment": _text(root["experiment"]), "file": path, "run": run_id,
                "name": _run_name(run_id, int(attrs["seed"])),
            }
            for key in RUN_COLUMNS:
                value = info[key] if key in info else attrs.get(key, "")
                value = _text(value) if isinstance(value, (str, bytes)) else value
                columns[key] += [value] * n
            for key in METRIC_COLUMNS:
                columns[key] += list(data[key])
            columns["cumulative_seconds"] += list(np.cumsum(data["epoch_seconds"]))
    return _table(columns)


def load_per_class(paths):
    """One row per run x epoch x class: experiment, file, run, epoch, class_index, class_name, acc."""
    columns = {k: [] for k in ["experiment", "file", "run", "epoch", "class_index", "class_name", "acc"]}
    for path in expand(paths):
        for root, run_id, _, data in _runs(path):
            names = [_text(c) for c in root.get("class_names", [])]
            for epoch, accs in zip(data["epoch"], data["per_class_acc"]):
                for c, acc in enumerate(accs):
                    columns["experiment"].append(_text(root["experiment"]))
                    columns["file"].append(path)
                    columns["run"].append(run_id)
                    columns["epoch"].append(int(epoch))
                    columns["class_index"].append(c)
                    columns["class_name"].append(names[c] if c < len(names) else str(c))
                    columns["acc"].append(float(acc))
    return _table(columns)
