"""Read ftbench results files (HDF5, schema v1; see results/SCHEMA.md) into tidy tables, and plot them.

    from results.analysis import load
    df = load("results/quickstart.h5")          # a file, a directory of *.h5, or a list of either
    df.groupby("run").test_acc.max()

    python -m results.analysis.plot results/quickstart.h5 --out plots/

Needs h5py and numpy; pandas makes load() return a DataFrame (without it, a dict of numpy columns);
matplotlib is needed only for plotting.
"""
from .load import load, load_per_class, expand, METRIC_COLUMNS, RUN_COLUMNS

__all__ = ["load", "load_per_class", "expand", "METRIC_COLUMNS", "RUN_COLUMNS"]
