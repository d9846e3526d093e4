"""Checks a results file written by test_results (Store.RoundTripTwoRunsThreeEpochs) the way analysts read it:
with h5py 3. Strings must come back as str, datasets with the documented shapes, dtypes and values.

Usage: h5py_roundtrip.py FILE.h5   (the values mirror tests/results/records.h)
"""
import os
import re
import sys

import h5py
import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
RUNS = {"resnet18-full-s7": 0, "vgg16-linear_probe-s8": 1}
STRING_ATTRS = ["run_id", "model", "strategy", "weights", "weights_file", "weights_sha256", "weights_load", "backend",
                "device", "devices", "config_toml", "ftbench_version", "torch_version", "nccl_version",
                "mpi_version", "hdf5_version", "git_commit", "hostnames", "start_time", "end_time", "status", "error"]
INT_ATTRS = ["seed", "world_size", "params_total", "params_trainable", "input_size", "global_batch"]
SERIES = ["train_loss", "train_acc", "test_loss", "test_acc", "test_acc5", "lr", "epoch_seconds", "data_seconds",
          "compute_seconds", "comm_seconds", "images_per_second"]
INT_SERIES = ["peak_memory_bytes", "comm_bytes", "trainable_params"]


def expected_rows(k):
    """Recomputes tests/results/records.h:epoch_row for epochs 1..3 of run k."""
    e = np.arange(1, 4, dtype=np.float64)
    series = {
        "train_loss": 2.0 / e + 0.1 * k,
        "train_acc": 0.5 + 0.1 * e + 0.01 * k,
        "test_loss": 2.5 / e + 0.1 * k,
        "test_acc": 0.4 + 0.1 * e + 0.02 * k,
        "lr": 0.01 / e,
        "epoch_seconds": 10.0 * e + k,
        "images_per_second": 1000.0 + e + 100.0 * k,
        "test_acc5": 0.9 + 0.01 * e + 0.001 * k,
        "data_seconds": 1.0 * e + 0.5 * k,
        "compute_seconds": 7.0 * e + 0.25 * k,
        "comm_seconds": 0.5 * e + 0.125 * k,
    }
    n = np.arange(1, 4, dtype=np.int64)
    int_series = {
        "peak_memory_bytes": (1 << 30) + 1000 * n + k,
        "comm_bytes": 44727208 * n + k,
        "trainable_params": 11181642 - 1000 * k - n,
    }
    t, p = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    confusion = np.stack([np.where(t == p, 50 + 10 * epoch + t + k, (t + p + epoch + k) % 3) for epoch in (1, 2, 3)])
    return series, int_series, confusion


def check_analysis_load(path):
    """results.analysis.load: the same file as a tidy table, one row per run x epoch."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from results.analysis import load, load_per_class

    df = load(path)
    assert len(df) == 6, len(df)
    for run_id, k in RUNS.items():
        rows = df[df.run == run_id].sort_values("epoch")
        series, int_series, confusion = expected_rows(k)
        assert list(rows.epoch) == [1, 2, 3]
        for name, values in {**series, **int_series}.items():
            np.testing.assert_array_equal(rows[name].to_numpy(), values, err_msg=name)
        np.testing.assert_array_equal(rows.cumulative_seconds.to_numpy(), np.cumsum(series["epoch_seconds"]))
        assert set(rows.experiment) == {"roundtrip"} and set(rows.seed) == {7 + k}
        assert set(rows.name) == {run_id[: -len(f"-s{7 + k}")]}, set(rows.name)
        assert set(rows.status) == {("completed", "failed")[k]}
    per_class = load_per_class(path)
    assert len(per_class) == 2 * 3 * 10, len(per_class)
    assert list(per_class.class_name[:10]) == CLASSES
    first = per_class[(per_class.run == "resnet18-full-s7") & (per_class.epoch == 1)].acc.to_numpy()
    _, _, confusion = expected_rows(0)
    np.testing.assert_allclose(first, np.diagonal(confusion[0]) / confusion[0].sum(axis=1), rtol=0, atol=1e-15)


def main(path):
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == 1 and f.attrs["schema_version"].dtype == np.int64
        for key in ("experiment", "config_toml", "created"):
            assert isinstance(f.attrs[key], str), (key, type(f.attrs[key]))
        assert f.attrs["experiment"] == "roundtrip"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", f.attrs["created"])
        names = list(f.attrs["class_names"])
        assert names == CLASSES and all(isinstance(n, str) for n in names), names

        assert list(f["runs"]) == sorted(RUNS), list(f["runs"])
        for run_id, k in RUNS.items():
            run = f["runs"][run_id]
            for key in STRING_ATTRS:
                assert isinstance(run.attrs[key], str), (run_id, key, type(run.attrs[key]))
            for key in INT_ATTRS:
                assert run.attrs[key].dtype == np.int64, (run_id, key, run.attrs[key].dtype)
            assert run.attrs["run_id"] == run_id
            assert run.attrs["seed"] == 7 + k and run.attrs["params_trainable"] == 11181642 - 1000 * k
            assert run.attrs["status"] == ("completed", "failed")[k]
            assert run.attrs["devices"] == ("2x cpu (Test CPU @ 2.0GHz)", "3x NVIDIA H200")[k]
            assert run.attrs["weights"] == ("torchvision", "none")[k]
            assert run.attrs["weights_sha256"] == ("f37072fd47e89c7ec2d3a8f1dd1a1b1d6a0f5d0f3c3e8b6c1f1b3e0a9d8c7b6a", "")[k]
            assert run.attrs["torch_version"] == "2.11.0" and run.attrs["hdf5_version"] == "1.10.10"

            series, int_series, confusion = expected_rows(k)
            assert run["epoch"].dtype == np.int64 and list(run["epoch"][()]) == [1, 2, 3]
            # Every per-epoch dataset has the same number of rows: no partial row.
            assert {run[name].shape[0] for name in SERIES + INT_SERIES + ["epoch", "per_class_acc", "confusion"]} == {3}
            for name in SERIES + INT_SERIES + ["epoch", "per_class_acc", "confusion"]:
                ds = run[name]
                assert ds.maxshape[0] is None and ds.chunks is not None, (name, ds.maxshape, ds.chunks)
                assert isinstance(ds.attrs["description"], str), name
            for name, values in series.items():
                ds = run[name]
                assert ds.shape == (3,) and ds.dtype == np.float64, (name, ds.shape, ds.dtype)
                np.testing.assert_array_equal(ds[()], values, err_msg=name)
            for name, values in int_series.items():
                ds = run[name]
                assert ds.shape == (3,) and ds.dtype == np.int64, (name, ds.shape, ds.dtype)
                np.testing.assert_array_equal(ds[()], values, err_msg=name)
            assert run["confusion"].shape == (3, 10, 10) and run["confusion"].dtype == np.int64
            np.testing.assert_array_equal(run["confusion"][()], confusion)
            per_class = run["per_class_acc"][()]
            assert per_class.shape == (3, 10) and per_class.dtype == np.float64
            diagonal = np.diagonal(confusion, axis1=1, axis2=2)
            np.testing.assert_allclose(per_class, diagonal / confusion.sum(axis=2), rtol=0, atol=1e-15)
    check_analysis_load(path)
    print(f"ok: {path} reads back in h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version})")


if __name__ == "__main__":
    main(sys.argv[1])
