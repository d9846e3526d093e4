"""End-to-end tests of the real ftbench binary: real MPI ranks (mpiexec), real HDF5 files read back by h5py.

    e2e.py CASE --ftbench build/ftbench --mpiexec /usr/bin/mpiexec --workdir DIR

Each CASE is one CTest test (tests/e2e/CMakeLists.txt). A case raises AssertionError with what it saw.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import textwrap

import h5py
import numpy as np

TRAIN, TEST = 200, 90  # small, and neither divides evenly by 2 or 3 ranks nor by the batch

MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none"]


def experiment(name, data_dir, **over):
    """A tiny experiment on synthetic data; `over` replaces "table.key" values (TOML literals)."""
    values = {
        "experiment.name": f'"{name}"',
        "data.dataset": '"synthetic"',
        "data.path": json.dumps(data_dir),
        "data.train_size": str(TRAIN),
        "data.test_size": str(TEST),
        "data.input_size": "32",
        "data.augment": "true",
        "train.epochs": "2",
        "train.batch_size": "48",
        "train.lr": "0.02",
        "train.threads": "1",
        "matrix.models": '["resnet18"]',
        "experiment.seeds": "[0, 1]",
    }
    values.update(over)
    tables = {}
    for key, value in values.items():
        table, k = key.split(".")
        tables.setdefault(table, []).append(f"{k} = {value}")
    return "".join(f"[{t}]\n" + "\n".join(lines) + "\n\n" for t, lines in tables.items())


class Case:
    def __init__(self, args):
        self.ftbench = args.ftbench
        self.mpiexec = args.mpiexec
        self.dir = args.workdir
        shutil.rmtree(self.dir, ignore_errors=True)  # every case starts from nothing
        os.makedirs(self.dir)
        self.data = os.path.join(self.dir, "synthetic")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, args, ranks=None, expect=0, timeout=300, env=None):
        cmd = [self.ftbench] + args
        if ranks is not None:
            cmd = [self.mpiexec, "-n", str(ranks)] + MPI_FLAGS
            for key in env or {}:
                cmd += ["-x", key]  # export to every rank
            cmd += [self.ftbench] + args
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir,
                              env={**os.environ, **(env or {})})
        if expect is not None and proc.returncode != expect:
            raise AssertionError(
                f"{' '.join(cmd)}: exit {proc.returncode}, expected {expect}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc

    def train(self, name, ranks=None, **over):
        config = self.write(f"{name}.toml", experiment(name, self.data, **over))
        out = os.path.join(self.dir, f"{name}.h5")
        proc = self.run(["run", config, "--output", out], ranks=ranks)
        return out, proc


# Every per-epoch dataset of schema v1 (results/SCHEMA.md).
FLOAT_SERIES = ["train_loss", "train_acc", "test_loss", "test_acc", "test_acc5", "lr", "epoch_seconds", "data_seconds",
                "compute_seconds", "comm_seconds", "images_per_second"]
INT_SERIES = ["peak_memory_bytes", "comm_bytes", "trainable_params"]
ALL_SERIES = ["epoch"] + FLOAT_SERIES + INT_SERIES + ["per_class_acc", "confusion"]


def steps_per_epoch(batch=48, ranks=1):
    """Training steps per epoch of the default experiment: the last partial batch is kept when every rank
    gets at least 2 of its images (runner/train/trainer.cpp, usable_batches)."""
    full, last = divmod(TRAIN, batch)
    return full + (1 if last and last // ranks >= 2 else 0)


def check_measurements(run, world_size, epochs):
    """The timing, memory and communication columns and the provenance attributes of one run."""
    for key in ["devices", "torch_version", "nccl_version", "mpi_version", "hdf5_version"]:
        assert isinstance(run.attrs[key], str) and run.attrs[key], (key, run.attrs[key])
    assert run.attrs["devices"].startswith(f"{world_size}x cpu"), run.attrs["devices"]
    assert run.attrs["torch_version"] == "2.11.0", run.attrs["torch_version"]
    assert "MPI" in run.attrs["mpi_version"], run.attrs["mpi_version"]
    assert run.attrs["hdf5_version"].count(".") == 2, run.attrs["hdf5_version"]
    acc, acc5 = run["test_acc"][:], run["test_acc5"][:]
    assert np.all((acc5 >= acc) & (acc5 <= 1)), (acc, acc5)
    data, compute, comm = run["data_seconds"][:], run["compute_seconds"][:], run["comm_seconds"][:]
    total = run["epoch_seconds"][:]
    assert np.all(data > 0) and np.all(compute > 0) and np.all(comm >= 0), (data, compute, comm)
    # The three phases are parts of the training time, which is part of the epoch.
    assert np.all(data + compute + comm <= total * 1.001), (data, compute, comm, total)
    assert np.all(run["peak_memory_bytes"][:] > 50 * 2**20), run["peak_memory_bytes"][:]  # at least the model
    np.testing.assert_array_equal(run["trainable_params"][:], np.full(epochs, run.attrs["params_trainable"]))
    # Each step all-reduces every trainable parameter once, as fp32; nothing at world size 1 (no reducer).
    per_step = 4 * run.attrs["params_trainable"] if world_size > 1 else 0
    np.testing.assert_array_equal(run["comm_bytes"][:], np.full(epochs, per_step * steps_per_epoch(48, world_size)))
    if world_size == 1:
        assert np.all(comm == 0), comm


def check_results(path, name, world_size, epochs=2, seeds=(0, 1)):
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == 1
        assert f.attrs["experiment"] == name, f.attrs["experiment"]
        assert "[experiment]" in f.attrs["config_toml"]
        runs = sorted(f["runs"].keys())
        assert runs == [f"resnet18-full-s{s}" for s in seeds], runs
        for run_id in runs:
            run = f["runs"][run_id]
            assert run.attrs["status"] == "completed", dict(run.attrs)
            assert run.attrs["world_size"] == world_size
            assert run.attrs["model"] == "resnet18"
            assert run.attrs["params_total"] == 11181642
            assert run.attrs["backend"] == "mpi"
            assert "[[runs]]" in run.attrs["config_toml"]
            np.testing.assert_array_equal(run["epoch"][:], np.arange(1, epochs + 1))
            for key in ALL_SERIES:
                assert run[key].shape[0] == epochs, (key, run[key].shape)
            for key in FLOAT_SERIES:
                assert np.all(np.isfinite(run[key][:])), (key, run[key][:])
            check_measurements(run, world_size, epochs)
            assert np.all((run["test_acc"][:] >= 0) & (run["test_acc"][:] <= 1))
            assert np.all(run["images_per_second"][:] > 0)
            confusion = run["confusion"][:]
            assert confusion.shape == (epochs, 10, 10), confusion.shape
            # Every test image evaluated exactly once across ranks: no padding duplicates, none missed.
            assert np.all(confusion.sum(axis=(1, 2)) == TEST), confusion.sum(axis=(1, 2))
            # Accuracy is the confusion matrix's trace, so the two records agree.
            trace = np.trace(confusion, axis1=1, axis2=2) / TEST
            np.testing.assert_allclose(run["test_acc"][:], trace)
            # Cosine schedule: the first epoch starts at the base lr, then decays.
            assert abs(run["lr"][0] - 0.02) < 1e-12 and run["lr"][1] < run["lr"][0]
        return {r: f["runs"][r]["test_loss"][:] for r in runs}


def case_single_rank(c):
    out, proc = c.train("single")  # a plain process: MPI singleton, world size 1
    check_results(out, "single", world_size=1)
    assert "| resnet18-full-s0" in proc.stdout and "best_test_acc" in proc.stdout, proc.stdout


def case_two_ranks(c):
    out, proc = c.train("two", ranks=2)
    check_results(out, "two", world_size=2)
    # Only rank 0 prints: one line per epoch per run, not one per rank.
    lines = [l for l in proc.stdout.splitlines() if "epoch 1/2" in l]
    assert len(lines) == 2, proc.stdout


def case_three_ranks(c):
    out, _ = c.train("three", ranks=3, **{"experiment.seeds": "[0]"})
    check_results(out, "three", world_size=3, seeds=(0,))


def case_report_formats(c):
    out, _ = c.train("report", **{"train.epochs": "1"})
    # The comparison: one row for resnet18-full, its two seeds together.
    md = c.run(["report", out]).stdout
    assert md.splitlines()[0].startswith("| experiment"), md
    assert len([l for l in md.splitlines() if l.startswith("| report")]) == 1, md
    csv = c.run(["report", out, "--format", "csv"]).stdout.splitlines()
    assert len(csv) == 2 and csv[0].startswith("experiment,name,model,strategy,weights,"), csv
    rows = json.loads(c.run(["report", out, "--format", "json"]).stdout)
    assert len(rows) == 1 and rows[0]["n"] == 2 and rows[0]["seeds"] == [0, 1], rows
    # One row per run with --runs.
    md = c.run(["report", out, "--runs"]).stdout
    assert len([l for l in md.splitlines() if l.startswith("| report")]) == 2, md
    csv = c.run(["report", out, "--runs", "--format", "csv"]).stdout.splitlines()
    assert len(csv) == 3 and "best_test_acc" in csv[0], csv
    rows = json.loads(c.run(["report", out, "--runs", "--format", "json"]).stdout)
    assert {r["run"] for r in rows} == {"resnet18-full-s0", "resnet18-full-s1"}, rows
    with h5py.File(out, "r") as f:
        best = {r: float(np.max(f["runs"][r]["test_acc"][:])) for r in f["runs"]}
    for row in rows:
        assert abs(row["best_test_acc"] - best[row["run"]]) < 1e-12, (row, best)
    # A directory works as an input too, and an unknown format or metric is bad input.
    assert "report" in c.run(["report", c.dir]).stdout
    bad = c.run(["report", out, "--format", "xml"], expect=2)
    assert "xml" in bad.stderr, bad.stderr
    bad = c.run(["report", out, "--metric", "test_accc"], expect=2)
    assert "did you mean 'test_acc'" in bad.stderr, bad.stderr
    epochs = c.run(["report", out, "--epochs", "resnet18-full-s1"]).stdout
    assert "| 1 " in epochs or "|     1 |" in epochs or "1" in epochs.splitlines()[2], epochs


def case_bad_config_every_rank_exits_2(c):
    text = experiment("bad", c.data).replace("lr = 0.02", "learning_rate = 0.02")
    path = c.write("bad.toml", text)
    proc = c.run(["run", path], ranks=2, expect=2, timeout=60)
    errors = [l for l in proc.stderr.splitlines() if "error" in l]
    assert len(errors) == 1, proc.stderr  # printed once, not once per rank
    line_no = text.splitlines().index("learning_rate = 0.02") + 1
    assert f"bad.toml:{line_no}:1: unknown key 'train.learning_rate'" in errors[0], errors[0]
    assert "did you mean 'train.lr'" in errors[0], errors[0]


def case_batch_smaller_than_world(c):
    path = c.write("tiny.toml", experiment("tiny", c.data, **{"train.batch_size": "1"}))
    proc = c.run(["run", path], ranks=2, expect=2, timeout=60)
    assert "batch_size" in proc.stderr and "world size (2)" in proc.stderr, proc.stderr


def case_missing_data(c):
    path = c.write("nodata.toml", experiment("nodata", c.data, **{
        "data.dataset": '"cifar10"', "data.path": json.dumps(os.path.join(c.dir, "no-such-dir"))}))
    proc = c.run(["run", path], ranks=2, expect=2, timeout=60)
    assert "no-such-dir" in proc.stderr, proc.stderr


def case_refuses_other_experiments_file(c):
    out, _ = c.train("owner", **{"train.epochs": "1", "experiment.seeds": "[0]"})
    before = hashlib.sha256(open(out, "rb").read()).hexdigest()
    path = c.write("intruder.toml", experiment("intruder", c.data))
    proc = c.run(["run", path, "--output", out], ranks=2, expect=2, timeout=60)
    assert "owner" in proc.stderr and out in proc.stderr, proc.stderr
    assert hashlib.sha256(open(out, "rb").read()).hexdigest() == before, "the file was modified"


def case_rerun_skips_completed(c):
    out, _ = c.train("again", **{"train.epochs": "1", "experiment.seeds": "[0]"})
    with h5py.File(out, "r") as f:
        before = f["runs/resnet18-full-s0/test_loss"][:]
    proc = c.run(["run", os.path.join(c.dir, "again.toml"), "--output", out])
    assert "already completed" in proc.stdout, proc.stdout
    with h5py.File(out, "r") as f:
        np.testing.assert_array_equal(f["runs/resnet18-full-s0/test_loss"][:], before)


def case_divergence_fails_the_job(c):
    # A training-time failure: every rank stops, the job exits 1, and the run is marked failed with the
    # message, its completed epochs kept.
    config = c.write("diverge.toml", experiment("diverge", c.data, **{
        "train.lr": "1e12", "train.schedule": '"constant"', "experiment.seeds": "[0]"}))
    out = os.path.join(c.dir, "diverge.h5")
    proc = c.run(["run", config, "--output", out], ranks=2, expect=1, timeout=120)
    assert "diverged" in proc.stderr and "lower train.lr" in proc.stderr, proc.stderr
    with h5py.File(out, "r") as f:
        run = f["runs/resnet18-full-s0"]
        assert run.attrs["status"] == "failed", run.attrs["status"]
        assert "diverged" in run.attrs["error"], run.attrs["error"]
        assert run["epoch"].shape == (1,), run["epoch"].shape


def case_world_size_invariance(c):
    # The same experiment at world sizes 1, 2 and 3 (frozen BatchNorm, augmentation on, a global batch of 48
    # that divides neither the 200 training images nor 3 ranks evenly) gives the same per-epoch numbers: only
    # the order of floating-point sums differs.
    over = {"experiment.deterministic": "true", "train.batchnorm": '"frozen"', "experiment.seeds": "[0]",
            "train.epochs": "2", "train.lr": "0.05"}
    curves = {}
    for ranks in (1, 2, 3):
        out, _ = c.train(f"ws{ranks}", ranks=ranks, **over)
        with h5py.File(out, "r") as f:
            run = f["runs/resnet18-full-s0"]
            curves[ranks] = {k: run[k][:] for k in ("train_loss", "test_loss", "test_acc", "train_acc")}
    worst = 0.0
    for ranks in (2, 3):
        for key in ("train_loss", "test_loss"):
            rel = np.max(np.abs(curves[ranks][key] - curves[1][key]) / np.abs(curves[1][key]))
            worst = max(worst, rel)
            assert rel <= 1e-4, (ranks, key, curves[ranks][key], curves[1][key])
        np.testing.assert_array_equal(curves[ranks]["test_acc"], curves[1]["test_acc"])
    print(f"world-size invariance: worst relative loss difference {worst:.2e}")


def run_with_fault(c, name, fault, timeout_s=10):
    """Runs 2 ranks with FTBENCH_FAULT; returns (proc, seconds). The job must end non-zero within the
    collective timeout + 30 s and leave no ftbench process behind."""
    config = c.write(f"{name}.toml", experiment(name, c.data, **{"experiment.seeds": "[0]"}))
    start = time.monotonic()
    proc = c.run(["run", config, "--set", f"dist.timeout_s={timeout_s}"], ranks=2, expect=None,
                 timeout=timeout_s + 60, env={"FTBENCH_FAULT": fault})
    seconds = time.monotonic() - start
    assert proc.returncode != 0, proc
    assert seconds < timeout_s + 30, seconds
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", config], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left behind: {left}"
    return proc, seconds


def case_watchdog_hang(c):
    # Rank 1 hangs at its 3rd step; rank 0 waits in the gradient all-reduce, times out, and ends the job.
    proc, seconds = run_with_fault(c, "hang", "rank:1,step:3,kind:hang", timeout_s=10)
    assert "timed out after 10 s" in proc.stderr and "all_reduce" in proc.stderr, proc.stderr
    print(f"hung rank detected; job ended in {seconds:.1f} s")


def case_fault_throw(c):
    proc, _ = run_with_fault(c, "throw", "rank:1,step:2,kind:throw")
    assert proc.returncode == 1, proc.returncode
    assert "[rank 1@" in proc.stderr and "injected fault on rank 1" in proc.stderr, proc.stderr


def case_fault_kill(c):
    # A rank that dies without a word: mpirun notices and ends the job.
    run_with_fault(c, "kill", "rank:1,step:2,kind:kill")


def case_ranks_must_agree_on_config(c):
    # Two ranks launched with different overrides (MPMD): the start-of-run check names the rank that
    # differs, and the job ends before training.
    config = c.write("agree.toml", experiment("agree", c.data, **{"experiment.seeds": "[0]"}))
    cmd = [c.mpiexec] + MPI_FLAGS + ["-n", "1", c.ftbench, "run", config, ":",
                                     "-n", "1", c.ftbench, "run", config, "--set", "train.lr=0.03"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=c.dir)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "rank 1 disagrees with rank 0 on the resolved config" in proc.stderr, proc.stderr


def save_torchvision_state_dict(path, name="resnet18"):
    """A torchvision model's ImageNet-shaped state dict with random weights, saved by torch itself."""
    import torch
    import torchvision
    torch.manual_seed(0)
    torch.save(torchvision.models.get_model(name, weights=None).state_dict(), path)
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def case_pretrained_weights_from_a_path(c):
    pth = os.path.join(c.dir, "r18.pth")
    sha = save_torchvision_state_dict(pth)
    out, proc = c.train("pre", ranks=2, **{"matrix.weights": json.dumps(pth), "experiment.seeds": "[0]",
                                            "train.epochs": "1"})
    assert "head re-initialised" in proc.stdout, proc.stdout
    with h5py.File(out, "r") as f:
        run = f["runs/resnet18-full-s0"]
        assert run.attrs["status"] == "completed"
        assert run.attrs["weights"] == pth and run.attrs["weights_file"] == pth, dict(run.attrs)
        assert run.attrs["weights_sha256"] == sha, (run.attrs["weights_sha256"], sha)


def case_weights_that_do_not_fit(c):
    pth = os.path.join(c.dir, "r34.pth")
    save_torchvision_state_dict(pth, "resnet34")
    over = {"matrix.weights": json.dumps(pth), "experiment.seeds": "[0]", "train.epochs": "1"}
    path = c.write("misfit.toml", experiment("misfit", c.data, **over))
    proc = c.run(["run", path], ranks=2, expect=2, timeout=120)
    assert "r34.pth" in proc.stderr and "unexpected" in proc.stderr and "layer1.2" in proc.stderr, proc.stderr
    # Not strict: what matches loads, the rest is reported, and the run trains.
    out, proc = c.train("lenient", ranks=2, **over, **{"matrix.strict_weights": "false"})
    with h5py.File(out, "r") as f:
        run = f["runs/resnet18-full-s0"]
        assert run.attrs["status"] == "completed"
        assert "unexpected" in run.attrs["weights_load"], run.attrs["weights_load"]  # recorded, not lost


def case_torchvision_weights_lookup(c):
    home = os.path.join(c.dir, "torch-home")
    env = {"TORCH_HOME": home, "XDG_CACHE_HOME": os.path.join(c.dir, "xdg"), "HOME": c.dir}
    over = {"matrix.weights": '"torchvision"', "experiment.seeds": "[0]", "train.epochs": "1"}
    path = c.write("tv.toml", experiment("tv", c.data, **over))
    # Missing: the exact file name, where it looked, and the command that fetches it; every rank exits 2.
    proc = c.run(["run", path], ranks=2, expect=2, timeout=60, env=env)
    assert "resnet18-f37072fd.pth" in proc.stderr and home in proc.stderr, proc.stderr
    assert "scripts/fetch_weights.sh resnet18" in proc.stderr, proc.stderr
    # Present under torchvision's name but not torchvision's bytes: the name's hash prefix refuses it.
    os.makedirs(os.path.join(home, "hub", "checkpoints"))
    save_torchvision_state_dict(os.path.join(home, "hub", "checkpoints", "resnet18-f37072fd.pth"))
    proc = c.run(["run", path], ranks=2, expect=2, timeout=120, env=env)
    assert "f37072fd" in proc.stderr and "sha256" in proc.stderr, proc.stderr


def case_version(c):
    text = c.run(["--version"]).stdout
    for part in ["ftbench", "LibTorch 2.11.0", "Open MPI", "HDF5", "NCCL"]:
        assert part in text, text


def read_snapshot(path, epochs):
    """Opens a results file as an analyst would (plain h5py, default locking, no SWMR, no retry) and checks
    that it holds whole epochs only: every dataset of every run has the same number of rows, and each row is
    complete. Returns {run_id: (rows, status)}."""
    state = {}
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == 1
        for run_id, run in f["runs"].items():
            assert "status" in run.attrs, f"{run_id}: a run group without status"
            lengths = {k: run[k].shape[0] for k in ALL_SERIES}
            assert len(set(lengths.values())) == 1, (run_id, lengths)
            n = lengths["epoch"]
            np.testing.assert_array_equal(run["epoch"][:], np.arange(1, n + 1))
            confusion = run["confusion"][:]
            assert np.all(confusion.sum(axis=(1, 2)) == TEST), confusion.sum(axis=(1, 2))
            np.testing.assert_allclose(run["test_acc"][:], np.trace(confusion, axis1=1, axis2=2) / TEST)
            for key in FLOAT_SERIES:
                assert np.all(np.isfinite(run[key][:])), (run_id, key, run[key][:])
            assert np.all(run["peak_memory_bytes"][:] > 0) and np.all(run["trainable_params"][:] > 0)
            status = run.attrs["status"]
            assert status in ("running", "completed"), status
            assert status != "completed" or n == epochs, (run_id, n, status)
            state[run_id] = (n, status)
    return state


def case_live_reader_sees_complete_epochs(c):
    # While `ftbench run` trains (2 ranks), this process polls the file with plain h5py and must see whole
    # epochs only, every time, without retrying; meanwhile a second `ftbench run` on the same file is refused.
    epochs = 4
    config = c.write("live.toml", experiment("live", c.data, **{"train.epochs": str(epochs)}))
    out = os.path.join(c.dir, "live.h5")
    cmd = [c.mpiexec, "-n", "2"] + MPI_FLAGS + [c.ftbench, "run", config, "--output", out]
    writer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=c.dir)
    snapshots, states, second = 0, set(), None
    try:
        deadline = time.monotonic() + 500
        while writer.poll() is None and time.monotonic() < deadline:
            if os.path.exists(out):
                state = read_snapshot(out, epochs)
                snapshots += 1
                states.add(tuple(sorted(state.items())))
                if second is None and any(n >= 1 for n, _ in state.values()):
                    second = c.run(["run", config, "--output", out], expect=2, timeout=120)
            time.sleep(0.02)
        stdout, stderr = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, (writer.returncode, stdout, stderr)
    final = read_snapshot(out, epochs)
    assert final == {"resnet18-full-s0": (epochs, "completed"), "resnet18-full-s1": (epochs, "completed")}, final
    check_results(out, "live", world_size=2, epochs=epochs)
    # The reader really read while training went on: states with a run part-way through its epochs.
    partial = {s for s in states if any(0 < n < epochs and st == "running" for _, (n, st) in s)}
    assert len(partial) >= 3, (snapshots, sorted(states))
    assert second is not None and "is being written by another ftbench process" in second.stderr, second
    print(f"live reader: {snapshots} snapshots, {len(states)} distinct states, all whole epochs")


def case_killed_writer_leaves_a_readable_file(c):
    # Rank 0, the writer, is SIGKILLed in epoch 3 (5 steps per epoch). The file must open in plain h5py
    # (no h5clear) with the 2 finished epochs, whole; and a re-run resumes the run and completes it.
    config = c.write("killed.toml", experiment("killed", c.data, **{"train.epochs": "3", "experiment.seeds": "[0]"}))
    out = os.path.join(c.dir, "killed.h5")
    assert steps_per_epoch(48, 2) == 5
    proc = c.run(["run", config, "--output", out], ranks=2, expect=None, timeout=300,
                 env={"FTBENCH_FAULT": "rank:0,step:12,kind:kill"})
    assert proc.returncode != 0, proc
    assert read_snapshot(out, 3) == {"resnet18-full-s0": (2, "running")}
    report = json.loads(c.run(["report", out, "--runs", "--format", "json"]).stdout)
    assert report[0]["status"] == "running" and report[0]["epochs"] == 2, report
    c.run(["run", config, "--output", out], ranks=2)  # the dead writer's lock went with it
    assert read_snapshot(out, 3) == {"resnet18-full-s0": (3, "completed")}


def case_injected_failure_marks_run_failed(c):
    # Rank 0 throws in epoch 2 (step 7): the job exits 1 and the run is recorded as failed, with the message
    # and its one finished epoch.
    config = c.write("failing.toml", experiment("failing", c.data, **{"experiment.seeds": "[0]"}))
    out = os.path.join(c.dir, "failing.h5")
    proc = c.run(["run", config, "--output", out], ranks=2, expect=1, timeout=300,
                 env={"FTBENCH_FAULT": "rank:0,step:7,kind:throw"})
    assert "injected fault on rank 0" in proc.stderr, proc.stderr
    with h5py.File(out, "r") as f:
        run = f["runs/resnet18-full-s0"]
        assert run.attrs["status"] == "failed", run.attrs["status"]
        assert "injected fault on rank 0" in run.attrs["error"], run.attrs["error"]
        assert run.attrs["end_time"].endswith("Z"), run.attrs["end_time"]
        assert run["epoch"].shape == (1,) and run["confusion"].shape == (1, 10, 10)
    md = c.run(["report", out]).stdout
    assert "1 failed" in md, md


def case_report_seeds_and_files(c):
    # As a Slurm array leaves them: one experiment, seeds 0 and 1 in one file and seed 2 in another, in one
    # directory. The comparison has one row, n = 3, with mean and std equal to numpy's over the files.
    results = os.path.join(c.dir, "array")
    os.makedirs(results)
    for task, seeds in enumerate(["[0, 1]", "[2]"]):
        config = c.write(f"task{task}.toml", experiment("array", c.data, **{"experiment.seeds": seeds}))
        c.run(["run", config, "--output", os.path.join(results, f"array-{task}.h5")], ranks=2)
    best, final, to_best, total, loss = [], [], [], [], []
    for task in range(2):
        with h5py.File(os.path.join(results, f"array-{task}.h5"), "r") as f:
            for run_id in sorted(f["runs"]):
                run = f["runs"][run_id]
                acc, seconds = run["test_acc"][:], run["epoch_seconds"][:]
                b = int(np.argmax(acc))
                best.append(acc[b])
                final.append(acc[-1])
                to_best.append(seconds[: b + 1].sum())
                total.append(seconds.sum())
                loss.append(run["test_loss"][:].min())
    rows = json.loads(c.run(["report", results, "--format", "json"]).stdout)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["experiment"], row["name"], row["model"], row["strategy"], row["weights"]) == \
        ("array", "resnet18-full", "resnet18", "full", "none"), row
    assert row["n"] == 3 and row["runs"] == 3 and row["seeds"] == [0, 1, 2], row
    assert row["files"] == [os.path.join(results, "array-0.h5"), os.path.join(results, "array-1.h5")], row
    for key, values in [("best", best), ("final", final), ("time_to_best_s", to_best), ("train_time_s", total)]:
        assert abs(row[key] - np.mean(values)) < 1e-9, (key, row[key], values)
        assert abs(row[key + "_std"] - np.std(values, ddof=1)) < 1e-9, (key, row[key + "_std"], values)
    assert row["peak_memory_bytes"] > 0 and row["img_per_s"] > 0, row
    # The same from two file arguments, as CSV and Markdown.
    files = [os.path.join(results, "array-0.h5"), os.path.join(results, "array-1.h5")]
    csv = c.run(["report"] + files + ["--format", "csv"]).stdout.splitlines()
    assert len(csv) == 2 and ",3,3,0;1;2," in csv[1], csv
    md = c.run(["report"] + files).stdout.splitlines()
    assert len(md) == 3 and "±" in md[2] and "| 3 |" in md[2].replace(" ", "").replace("|3|", "| 3 |"), md
    loss_rows = json.loads(c.run(["report", results, "--format", "json", "--metric", "test_loss"]).stdout)
    assert abs(loss_rows[0]["best"] - np.mean(loss)) < 1e-9 and loss_rows[0]["metric"] == "test_loss", loss_rows
    epochs = c.run(["report", results, "--epochs", "resnet18-full-s2", "--format", "csv"]).stdout.splitlines()
    assert len(epochs) == 3 and "trainable_params" in epochs[0] and epochs[1].startswith("array,resnet18-full-s2,1,"), epochs


def case_analysis_plots(c):
    # results/analysis on a real experiment's file: the tidy table matches the file, and the four PNGs are
    # written headless, of a reasonable size, and not blank.
    out, _ = c.train("plots", ranks=2, **{"train.epochs": "3"})
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root, "MPLBACKEND": "", "DISPLAY": ""}
    code = ("import sys, json; from results.analysis import load; df = load(sys.argv[1]); "
            "print(json.dumps({'rows': len(df), 'runs': sorted(set(df.run)), "
            "'acc': df.sort_values(['run', 'epoch']).test_acc.tolist(), 'cols': list(df.columns)}))")
    table = json.loads(subprocess.run([sys.executable, "-c", code, out], capture_output=True, text=True, env=env,
                                      check=True).stdout)
    assert table["rows"] == 6 and table["runs"] == ["resnet18-full-s0", "resnet18-full-s1"], table
    with h5py.File(out, "r") as f:
        expected = np.concatenate([f["runs"][r]["test_acc"][:] for r in sorted(f["runs"])])
    np.testing.assert_array_equal(table["acc"], expected)
    for column in ["experiment", "run", "model", "epoch", "test_acc", "test_acc5", "comm_seconds",
                   "peak_memory_bytes", "cumulative_seconds", "params_total"]:
        assert column in table["cols"], (column, table["cols"])

    plots = os.path.join(c.dir, "plots")
    proc = subprocess.run([sys.executable, "-m", "results.analysis.plot", out, "--out", plots], capture_output=True,
                          text=True, env=env, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr
    import matplotlib.image
    names = ["accuracy_vs_epoch.png", "accuracy_vs_time.png", "accuracy_vs_params.png", "per_class_accuracy.png"]
    assert proc.stdout.split() == [os.path.join(plots, n) for n in names], proc.stdout
    for name in names:
        path = os.path.join(plots, name)
        assert os.path.getsize(path) > 10_000, (name, os.path.getsize(path))
        image = matplotlib.image.imread(path)
        assert image.shape[0] >= 250 and image.shape[1] >= 500, (name, image.shape)
        rgb = image[..., :3]
        non_white = np.mean(np.any(rgb < 0.9, axis=-1))
        colours = len(np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0))
        assert non_white > 0.02 and rgb.std() > 0.05 and colours > 20, (name, non_white, rgb.std(), colours)
        print(f"{name}: {image.shape[1]}x{image.shape[0]} px, {os.path.getsize(path)} bytes, "
              f"{100 * non_white:.1f}% ink, {colours} colours")
    # Bad input: an unknown metric is refused by argparse (exit 2).
    bad = subprocess.run([sys.executable, "-m", "results.analysis.plot", out, "--out", plots, "--metric", "x"],
                         capture_output=True, text=True, env=env, cwd=root)
    assert bad.returncode == 2 and "--metric" in bad.stderr, bad.stderr


def main(cases=None, suite="e2e"):
    """Runs the case named on the command line; `cases`: the calling module's globals (default: this one's)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--ftbench", required=True)
    parser.add_argument("--mpiexec", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    (cases or globals())["case_" + args.case](Case(args))
    print(f"{suite} {args.case}: ok")


if __name__ == "__main__":
    sys.exit(main())
