"""End-to-end reliability tests with the real ftbench binary under real mpiexec: checkpoints and exact resume,
stop signals, injected faults, kills during checkpoint and results writes, and changed settings.

    reliability.py CASE --ftbench build/ftbench --mpiexec /usr/bin/mpiexec --workdir DIR

Each CASE is one CTest test (tests/e2e/CMakeLists.txt). It reuses e2e.py's harness. tests/e2e/stress.py
repeats the kill and signal cases with random timing.
"""
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import MPI_FLAGS, experiment, main, steps_per_epoch  # noqa: E402

# Series that must repeat bit for bit between a straight run and a resumed one (not the clocks, not memory).
EXACT_SERIES = ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "test_acc5", "lr", "trainable_params",
                "comm_bytes", "per_class_acc", "confusion"]
RUN = "resnet18-full-s0"


def config_text(c, name, epochs, **over):
    values = {"experiment.seeds": "[0]", "train.epochs": str(epochs), "experiment.deterministic": "true",
              "dist.timeout_s": "20"}
    values.update(over)
    return experiment(name, c.data, **values)


def mpi_cmd(c, ranks, args, env=None):
    cmd = [c.mpiexec, "-n", str(ranks)] + MPI_FLAGS
    for key in env or {}:
        cmd += ["-x", key]
    return cmd + [c.ftbench] + args


def start_job(c, ranks, args, env=None):
    """Starts an mpiexec job in its own session (so the test can kill all of it) and returns the Popen."""
    return subprocess.Popen(mpi_cmd(c, ranks, args, env), cwd=c.dir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})})


def epochs_written(path, run=RUN):
    """Rows of `run` in the results file, or -1 while it cannot be read (not yet created)."""
    try:
        with h5py.File(path, "r") as f:
            return f["runs"][run]["epoch"].shape[0] if run in f["runs"] else 0
    except (OSError, KeyError):
        return -1


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def rank_pids(job):
    """{rank: pid} of the ftbench processes an mpiexec started (its children carry OMPI_COMM_WORLD_RANK)."""
    pids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != job.pid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
            pids[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(entry)
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return pids


def kill_job(job):
    """SIGKILL for the whole job at once: mpiexec's process group and every rank (Open MPI may start the
    ranks in process groups of their own)."""
    pids = rank_pids(job)
    try:
        os.killpg(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def assert_nothing_left(c, marker, within=10):
    """No process whose command line holds `marker` (the job's config path) is left `within` seconds on."""
    deadline = time.monotonic() + within
    while True:
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
        if not left:
            return
        assert time.monotonic() < deadline, f"processes left behind after {within} s: {left}"
        time.sleep(0.2)


def read_series(path, run=RUN):
    with h5py.File(path, "r") as f:
        group = f["runs"][run]
        return {key: group[key][:] for key in EXACT_SERIES}, dict(group.attrs)


def assert_same_series(a, b):
    for key in EXACT_SERIES:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def checkpoint_dir(c, results, run=RUN):
    return os.path.splitext(results)[0] + ".checkpoints/" + run


def marker(c, results, run=RUN):
    """The checkpoint marker as a dict (it is TOML: key = value lines)."""
    out = {}
    with open(os.path.join(checkpoint_dir(c, results, run), "latest")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                key, value = line.strip().split(" = ", 1)
                out[key] = value.strip('"')
    return out


def load_checkpoint(c, results, run=RUN):
    """The newest checkpoint, read with Python torch (a LibTorch archive is a TorchScript module)."""
    return torch.jit.load(os.path.join(checkpoint_dir(c, results, run), marker(c, results, run)["file"]))


def final_weights(c, results, run=RUN):
    ckpt = load_checkpoint(c, results, run)
    assert ckpt.final, "the newest checkpoint of a completed run is its final one"
    return dict(zip(ckpt.model_names, ckpt.model_tensors))


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def straight_run(c, name, ranks, epochs, **over):
    config = c.write(f"{name}.toml", config_text(c, name, epochs, **over))
    out = os.path.join(c.dir, f"{name}.h5")
    c.run(["run", config, "--output", out], ranks=ranks)
    return out


def case_resume_after_kill_is_bitwise_identical(c):
    """4 epochs straight vs. the whole job killed with SIGKILL after epoch 2, then the same command again: the
    metrics and the final weights are identical, and each epoch is in the file once."""
    straight = straight_run(c, "straight", 2, 4)
    config = c.write("killed.toml", config_text(c, "killed", 4))
    out = os.path.join(c.dir, "killed.h5")
    job = start_job(c, 2, ["run", config, "--output", out])
    try:
        wait_for(lambda: epochs_written(out) >= 2, 300, "epoch 2")
    finally:
        kill_job(job)  # the whole job: mpiexec and both ranks, at once
        job.communicate()
    assert_nothing_left(c, config)
    written = epochs_written(out)
    assert written >= 2, written
    c.run(["run", config, "--output", out], ranks=2)
    resumed, attrs = read_series(out)
    expected, _ = read_series(straight)
    assert_same_series(resumed, expected)
    assert attrs["status"] == "completed" and attrs["resumes"] == 1, attrs
    assert_same_weights(final_weights(c, out), final_weights(c, straight))
    print(f"killed with {written} epoch(s) in the file; resumed run identical to the straight one")


def case_signal_stops_every_rank_and_resumes_exactly(c):
    """SIGTERM to rank 1 only, mid-epoch: every rank stops at the same step, the checkpoint is saved, the run
    is marked interrupted, the job exits 75. The same command resumes mid-epoch and ends bitwise as a
    straight run."""
    ranks, epochs = 3, 3
    straight = straight_run(c, "straight", ranks, epochs)
    config = c.write("stopped.toml", config_text(c, "stopped", epochs))
    out = os.path.join(c.dir, "stopped.h5")
    job = start_job(c, ranks, ["run", config, "--output", out])
    try:
        wait_for(lambda: epochs_written(out) >= 1, 300, "epoch 1")
        time.sleep(0.4)  # into epoch 2
        pids = rank_pids(job)
        assert sorted(pids) == list(range(ranks)), pids
        os.kill(pids[1], signal.SIGTERM)
        stdout, stderr = job.communicate(timeout=120)
    finally:
        if job.poll() is None:
            kill_job(job)
    assert job.returncode == 75, (job.returncode, stdout, stderr)
    assert "interrupted: run resnet18-full-s0 stopped by SIGTERM on rank 1" in stderr, stderr
    assert stderr.count("ftbench: interrupted:") == 1, stderr  # said once, by rank 0
    with h5py.File(out, "r") as f:
        run = f["runs"][RUN]
        assert run.attrs["status"] == "interrupted", run.attrs["status"]
        assert "SIGTERM on rank 1" in run.attrs["error"], run.attrs["error"]
    m = marker(c, out)
    ckpt = load_checkpoint(c, out)
    assert ckpt.world_size == ranks and not ckpt.final
    assert int(m["epochs_done"]) == ckpt.epochs_done == epochs_written(out), (m, epochs_written(out))
    print(f"stopped at epoch {m['epoch']}, step {m['step_in_epoch']} ({m['file']})")
    assert_nothing_left(c, config)

    c.run(["run", config, "--output", out], ranks=ranks)
    resumed, attrs = read_series(out)
    expected, _ = read_series(straight)
    assert_same_series(resumed, expected)
    assert attrs["status"] == "completed" and attrs["resumes"] == 1 and attrs["error"] == "", attrs
    assert_same_weights(final_weights(c, out), final_weights(c, straight))


def case_second_signal_exits_at_once(c):
    """A second signal does not wait for the step boundary; the last end-of-epoch checkpoint still resumes."""
    config = c.write("twice.toml", config_text(c, "twice", 3, **{"experiment.deterministic": "false"}))
    out = os.path.join(c.dir, "twice.h5")
    job = start_job(c, 2, ["run", config, "--output", out])
    try:
        wait_for(lambda: epochs_written(out) >= 1, 300, "epoch 1")
        pid = rank_pids(job)[0]
        os.kill(pid, signal.SIGUSR1)
        time.sleep(0.3)  # two signals sent at once may merge into one pending signal
        os.kill(pid, signal.SIGUSR1)
        start = time.monotonic()
        _, stderr = job.communicate(timeout=60)
        seconds = time.monotonic() - start
    finally:
        if job.poll() is None:
            kill_job(job)
    assert job.returncode not in (0, 75), job.returncode
    assert "second stop signal" in stderr, stderr
    assert seconds < 20, seconds
    assert_nothing_left(c, config)
    c.run(["run", config, "--output", out], ranks=2)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2, 3])
    assert attrs["status"] == "completed", attrs


def case_changed_settings_need_restart(c):
    """A re-run with other settings for a stored run is refused on every rank (exit 2), naming the changed
    keys, and the file is untouched; --restart trains it again with the new settings. Moving the data or
    changing the threads is not a change."""
    out = straight_run(c, "changed", 2, 1)
    before = open(out, "rb").read()
    config = c.write("changed.toml", config_text(c, "changed", 1, **{"train.lr": "0.05"}))
    proc = c.run(["run", config, "--output", out], ranks=2, expect=2)
    assert "run 'resnet18-full-s0' was trained with other settings (train.lr: 0.02 -> 0.05)" in proc.stderr, \
        proc.stderr
    assert "--restart" in proc.stderr and proc.stderr.count("ftbench: error:") == 1, proc.stderr
    assert open(out, "rb").read() == before
    same = c.write("same.toml", config_text(c, "changed", 1, **{"train.threads": "2"}))
    skipped = c.run(["run", same, "--output", out], ranks=2)
    assert "already completed" in skipped.stdout, skipped.stdout
    c.run(["run", config, "--output", out, "--restart"], ranks=2)
    with h5py.File(out, "r") as f:
        run = f["runs"][RUN]
        assert "lr = 0.05" in run.attrs["config_toml"] and run.attrs["status"] == "completed"
        assert run["lr"][0] == 0.05


def case_restart_ignores_checkpoints(c):
    """--restart trains an interrupted run from epoch 1 and replaces its checkpoints."""
    config = c.write("again.toml", config_text(c, "again", 2))
    out = os.path.join(c.dir, "again.h5")
    c.run(["run", config, "--output", out], ranks=2, expect=None, env={"FTBENCH_FAULT": "rank:0,step:7,kind:kill"})
    assert epochs_written(out) == 1 and marker(c, out)["epochs_done"] == "1"
    proc = c.run(["run", config, "--output", out, "--restart"], ranks=2)
    assert "resuming" not in proc.stdout, proc.stdout
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2])
    assert attrs["resumes"] == 0 and attrs["status"] == "completed", attrs
    assert sorted(os.listdir(checkpoint_dir(c, out))) == ["epoch-0002.pt", "latest"]


# Faults: kind, ranks, and what the message must name. Each job ends non-zero within the collective timeout
# + 30 s, names the failing rank, leaves no process, leaves a readable file with every completed epoch and a
# loadable checkpoint, and the same command then completes the experiment.
FAULTS = {
    "kill": (2, "rank 1"),        # mpirun: "process rank 1 ... exited on signal 9"
    "exit": (3, "rank 1"),        # mpirun: "process rank 1 ... exited with non-zero status"
    "throw": (4, "[rank 1@"),     # our message, from the failing rank
    "hang": (2, "[rank 1@"),      # the hung rank's watchdog names itself
}


def run_fault(c, kind):
    ranks, names = FAULTS[kind]
    timeout_s = 10
    spe = steps_per_epoch(48, ranks)
    config = c.write(f"{kind}.toml", config_text(c, kind, 3, **{"dist.timeout_s": str(timeout_s)}))
    out = os.path.join(c.dir, f"{kind}.h5")
    start = time.monotonic()
    proc = c.run(["run", config, "--output", out], ranks=ranks, expect=None, timeout=timeout_s + 90,
                 env={"FTBENCH_FAULT": f"rank:1,step:{spe + 2},kind:{kind}"})  # epoch 2, step 2
    seconds = time.monotonic() - start
    assert proc.returncode != 0, proc
    assert seconds < timeout_s + 30 + 15, seconds  # + the job's own start-up and first epoch
    assert names in proc.stdout + proc.stderr, proc.stderr
    assert_nothing_left(c, config)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1])
    assert attrs["status"] in ("running", "failed"), attrs["status"]
    ckpt = load_checkpoint(c, out)
    assert ckpt.epochs_done == 1 and len(ckpt.model_tensors) == len(ckpt.model_names)
    c.run(["run", config, "--output", out], ranks=ranks)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2, 3])
    assert attrs["status"] == "completed" and attrs["resumes"] == 1, attrs
    print(f"{kind} on rank 1 of {ranks}: job ended in {seconds:.1f} s; re-run completed")


def case_fault_kill(c):
    run_fault(c, "kill")


def case_fault_exit(c):
    run_fault(c, "exit")


def case_fault_throw(c):
    run_fault(c, "throw")


def case_fault_hang(c):
    run_fault(c, "hang")


def crash_at(c, name, point, epochs=3):
    """Rank 0 SIGKILLs itself at a write point (FTBENCH_FAULT_POINT); returns (config, results)."""
    config = c.write(f"{name}.toml", config_text(c, name, epochs))
    out = os.path.join(c.dir, f"{name}.h5")
    proc = c.run(["run", config, "--output", out], ranks=2, expect=None, env={"FTBENCH_FAULT_POINT": point})
    assert proc.returncode != 0, proc
    assert f"FTBENCH_FAULT_POINT={point}" in proc.stderr, proc.stderr
    assert_nothing_left(c, config)
    return config, out


def case_kill_during_checkpoint_write(c):
    """Killed halfway through epoch 2's checkpoint: the marker still names epoch 1's complete checkpoint, the
    half-written file is a hidden temporary, and the re-run resumes from epoch 1 (cutting epoch 2's row off
    and training it again), then completes."""
    config, out = crash_at(c, "ckpt", "checkpoint:2")
    m = marker(c, out)
    assert m["file"] == "epoch-0001.pt", m
    left = os.listdir(checkpoint_dir(c, out))
    assert ".epoch-0002.pt.tmp" in left, left
    assert load_checkpoint(c, out).epochs_done == 1
    assert epochs_written(out) == 2  # the row was written before the checkpoint
    c.run(["run", config, "--output", out], ranks=2)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2, 3])
    assert attrs["resumes"] == 1, attrs
    assert ".epoch-0002.pt.tmp" not in os.listdir(checkpoint_dir(c, out))
    straight = straight_run(c, "straight", 2, 3)
    assert_same_series(series, read_series(straight)[0])


def case_kill_during_results_write(c):
    """Killed while the results file's new copy is written (epoch 2's row; the 1st write creates the file, the
    2nd begins the run, the 3rd appends epoch 1): the file is the previous complete one, opens in h5py, and
    the re-run completes with each epoch once."""
    config, out = crash_at(c, "h5", "results:4")
    assert epochs_written(out) == 1
    c.run(["run", config, "--output", out], ranks=2)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2, 3])
    assert attrs["status"] == "completed", attrs


def case_checkpoints_kept(c):
    """checkpoint_keep = 2 keeps the two newest; a completed run ends with its final checkpoint, loadable in
    Python torch with the model's tensor names."""
    out = straight_run(c, "keep", 1, 4, **{"experiment.checkpoint_keep": "2"})
    assert sorted(os.listdir(checkpoint_dir(c, out))) == ["epoch-0003.pt", "epoch-0004.pt", "latest"]
    weights = final_weights(c, out)
    assert len(weights) == 122 and weights["fc.weight"].shape == (10, 512), len(weights)


def case_checkpoint_every_resumes_from_the_older_one(c):
    """checkpoint_every = 2 over 4 epochs: a straight run writes checkpoints after epochs 2 and 4 only. A job
    killed in epoch 4 (rows 1-3 written, the newest checkpoint after epoch 2) resumes from epoch 2, cuts row 3
    off, trains epochs 3 and 4 again, and ends bitwise as a straight run with a checkpoint every epoch."""
    every = {"experiment.checkpoint_every": "2", "experiment.checkpoint_keep": "10"}
    sparse = straight_run(c, "sparse", 2, 4, **every)
    assert sorted(os.listdir(checkpoint_dir(c, sparse))) == ["epoch-0002.pt", "epoch-0004.pt", "latest"]
    config = c.write("every.toml", config_text(c, "every", 4, **every))
    out = os.path.join(c.dir, "every.h5")
    spe = steps_per_epoch(48, 2)
    proc = c.run(["run", config, "--output", out], ranks=2, expect=None,
                 env={"FTBENCH_FAULT": f"rank:0,step:{3 * spe + 1},kind:kill"})  # epoch 4, step 1
    assert proc.returncode != 0, proc
    assert_nothing_left(c, config)
    assert epochs_written(out) == 3
    assert marker(c, out)["file"] == "epoch-0002.pt" and sorted(os.listdir(checkpoint_dir(c, out))) == \
        ["epoch-0002.pt", "latest"]
    c.run(["run", config, "--output", out], ranks=2)
    series, attrs = read_series(out)
    np.testing.assert_array_equal(series["epoch"], [1, 2, 3, 4])
    assert attrs["status"] == "completed" and attrs["resumes"] == 1, attrs
    straight = straight_run(c, "straight", 2, 4)
    assert_same_series(series, read_series(straight)[0])
    assert_same_weights(final_weights(c, out), final_weights(c, straight))


if __name__ == "__main__":
    sys.exit(main(globals(), "reliability"))
