"""Checks a results file written by test_results (Store.RoundTripTwoRunsThreeEpochs) the way analysts read it:
with h5py 3. Strings must come back as str, datasets with the documented shapes, dtypes and values.

Usage: h5py_roundtrip.py FILE.h5   (the values mirror tests/results/records.h)
"""
import re
import sys

import h5py
import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
RUNS = {"resnet18-full-s7": 0, "vgg16-linear_probe-s8": 1}
STRING_ATTRS = ["run_id", "model", "strategy", "weights", "backend", "device", "config_toml", "ftbench_version",
                "git_commit", "hostnames", "start_time", "end_time", "status", "error"]
INT_ATTRS = ["seed", "world_size", "params_total", "params_trainable", "input_size", "global_batch"]
SERIES = ["train_loss", "train_acc", "test_loss", "test_acc", "lr", "epoch_seconds", "images_per_second"]


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
    }
    t, p = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    confusion = np.stack([np.where(t == p, 50 + 10 * epoch + t + k, (t + p + epoch + k) % 3) for epoch in (1, 2, 3)])
    return series, confusion


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

            series, confusion = expected_rows(k)
            assert run["epoch"].dtype == np.int64 and list(run["epoch"][()]) == [1, 2, 3]
            for name in SERIES + ["epoch", "per_class_acc", "confusion"]:
                ds = run[name]
                assert ds.maxshape[0] is None and ds.chunks is not None, (name, ds.maxshape, ds.chunks)
                assert isinstance(ds.attrs["description"], str), name
            for name, values in series.items():
                ds = run[name]
                assert ds.shape == (3,) and ds.dtype == np.float64, (name, ds.shape, ds.dtype)
                np.testing.assert_array_equal(ds[()], values, err_msg=name)
            assert run["confusion"].shape == (3, 10, 10) and run["confusion"].dtype == np.int64
            np.testing.assert_array_equal(run["confusion"][()], confusion)
            per_class = run["per_class_acc"][()]
            assert per_class.shape == (3, 10) and per_class.dtype == np.float64
            diagonal = np.diagonal(confusion, axis1=1, axis2=2)
            np.testing.assert_allclose(per_class, diagonal / confusion.sum(axis=2), rtol=0, atol=1e-15)
    print(f"ok: {path} reads back in h5py {h5py.__version__} (HDF5 {h5py.version.hdf5_version})")


if __name__ == "__main__":
    main(sys.argv[1])
