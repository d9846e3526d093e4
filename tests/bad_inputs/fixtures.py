"""Shared fixtures of the bad-input catalogue, built once from real files (nothing binary is committed):

    SHARED/data/                 a CIFAR-10 binary directory written by `ftbench data synth` (64 + 32 images)
    SHARED/results/catalogue.h5  a real results file: experiment "catalogue", run resnet18-full-s1 trained by
                                 ftbench (the cases' own experiment, so a case that wrongly wrote to it would
                                 change it; the cases train seed 0, which it does not hold)
    SHARED/results/other.h5      a real results file of another experiment ("someone-else")
    SHARED/results/newer.h5      catalogue.h5 with schema_version 99 (h5py)
    SHARED/results/foreign.h5    a valid HDF5 file that is not an ftbench results file (h5py)
    SHARED/results/swmr_killed.h5  an h5py SWMR writer (libver='latest', swmr_mode=True) SIGKILLed mid-write:
                                 HDF5 still marks it "open for write"; checked here with plain h5py
    SHARED/weights/resnet18.pth  torchvision's resnet18 state dict (random weights), zip format, by torch.save
    SHARED/weights/resnet18_legacy.pth      the same in the legacy (pre-1.6) format
    SHARED/weights/resnet18.safetensors     the same as safetensors
    SHARED/weights/resnet18_conv1_5x5.pth   resnet18 with conv1.weight [64,3,5,5]: a shape mismatch
    SHARED/weights/evil_system.pth   a torch.save'd dict whose pickle calls os.system("touch MARKER")
    SHARED/weights/evil_system_legacy.pth   the same, legacy format
    SHARED/weights/evil_plain.pkl    a plain pickle (not torch) calling os.system
    SHARED/markers/              where the malicious payloads would create their markers (must stay empty)

The payloads are proven live: an identical pickle aimed at SHARED/proof/ is loaded by Python's own
unpickler here, and its marker must appear. So a case that sees no marker shows that ftbench refused it,
not that the payload was harmless.
"""
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time

MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none"]

# The experiment every `ftbench run` case starts from; cases write their own full TOML.
BASE_TOML = """\
[experiment]
name = "{name}"
output = "{output}"
seeds = [{seed}]

[data]
dataset = "cifar10"
path = "{data}"
input_size = 32

[train]
epochs = 1
batch_size = 16
threads = 1

[matrix]
models = ["resnet18"]
weights = "none"
"""


class Evil:
    """Unpickling this runs os.system("touch MARKER")."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def run_ftbench(ftbench, args, cwd, ranks=None, mpiexec=None):
    cmd = [ftbench] + args
    if ranks:
        cmd = [mpiexec, "-n", str(ranks)] + MPI_FLAGS + cmd
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"fixture command failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")


def results_file(ftbench, mpiexec, shared, name, path):
    """A completed run of seed 1: the cases train seed 0, a run the file does not hold yet, so a case whose
    bad input is only found when its run starts still gets there (a completed run would be skipped)."""
    toml = os.path.join(shared, "tmp", f"{name}.toml")
    with open(toml, "w") as f:
        f.write(BASE_TOML.format(name=name, output=path, data=os.path.join(shared, "data"), seed=1))
    run_ftbench(ftbench, ["run", toml], cwd=os.path.join(shared, "tmp"), ranks=2, mpiexec=mpiexec)


def killed_swmr_writer(path):
    """An h5py SWMR writer that is SIGKILLed after its first flush leaves HDF5's "open for write" mark."""
    code = textwrap.dedent(f"""
        import h5py, numpy as np, sys, time
        f = h5py.File({path!r}, "w", libver="latest")
        d = f.create_dataset("loss", shape=(0,), maxshape=(None,), chunks=(16,), dtype="f8")
        f.swmr_mode = True
        for i in range(3):
            d.resize((i + 1,)); d[i] = i; d.flush()
        print("ready", flush=True)
        time.sleep(600)
    """)
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = writer.stdout.readline()
        assert line.strip() == "ready", line
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    import h5py
    try:
        h5py.File(path, "r").close()
    except OSError as e:
        assert "already open for write" in str(e), e
    else:
        raise SystemExit(f"{path}: h5py opens it, so it is not a file left open by a killed writer")


def weights(shared):
    import torch
    import torchvision
    from safetensors.torch import save_file

    out = os.path.join(shared, "weights")
    sd = torchvision.models.resnet18(weights=None).state_dict()
    torch.save(sd, os.path.join(out, "resnet18.pth"))
    torch.save(sd, os.path.join(out, "resnet18_legacy.pth"), _use_new_zipfile_serialization=False)
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(out, "resnet18.safetensors"))
    bad = dict(sd)
    bad["conv1.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(bad, os.path.join(out, "resnet18_conv1_5x5.pth"))

    markers, proof = os.path.join(shared, "markers"), os.path.join(shared, "proof")
    small = {"conv1.weight": torch.zeros(64, 3, 7, 7)}
    for name, legacy in [("evil_system.pth", False), ("evil_system_legacy.pth", True)]:
        for where in (markers, proof):
            obj = {**small, "payload": Evil(os.path.join(where, name + ".ran"))}
            torch.save(obj, os.path.join(where if where == proof else out, name),
                       _use_new_zipfile_serialization=not legacy)
        # Liveness: Python's unpickler runs the twin's payload.
        torch.load(os.path.join(proof, name), weights_only=False)
        assert os.path.exists(os.path.join(proof, name + ".ran")), f"the {name} payload is not live"
    with open(os.path.join(out, "evil_plain.pkl"), "wb") as f:
        pickle.dump({"conv1.weight": [0.0], "payload": Evil(os.path.join(markers, "evil_plain.pkl.ran"))}, f,
                    protocol=2)
    with open(os.path.join(proof, "evil_plain.pkl"), "wb") as f:
        pickle.dump(Evil(os.path.join(proof, "evil_plain.pkl.ran")), f, protocol=2)
    with open(os.path.join(proof, "evil_plain.pkl"), "rb") as f:
        pickle.load(f)
    assert os.path.exists(os.path.join(proof, "evil_plain.pkl.ran")), "the plain pickle payload is not live"
    assert os.listdir(markers) == [], os.listdir(markers)


def build(ftbench, mpiexec, shared):
    import h5py

    shutil.rmtree(shared, ignore_errors=True)
    for d in ("data", "results", "weights", "markers", "proof", "tmp"):
        os.makedirs(os.path.join(shared, d))
    run_ftbench(ftbench, ["data", "synth", "--out", os.path.join(shared, "data"), "--train", "64", "--test", "32"],
                cwd=shared)
    res = os.path.join(shared, "results")
    results_file(ftbench, mpiexec, shared, "catalogue", os.path.join(res, "catalogue.h5"))
    results_file(ftbench, mpiexec, shared, "someone-else", os.path.join(res, "other.h5"))
    shutil.copy(os.path.join(res, "catalogue.h5"), os.path.join(res, "newer.h5"))
    with h5py.File(os.path.join(res, "newer.h5"), "a") as f:
        f.attrs["schema_version"] = 99
    with h5py.File(os.path.join(res, "foreign.h5"), "w") as f:
        f.create_dataset("images", data=list(range(10)))
        f.attrs["creator"] = "a microscope"
    killed_swmr_writer(os.path.join(res, "swmr_killed.h5"))
    weights(shared)
    # Results files a case may leave behind are its own business; the shared ones are read-only to cases.
    shutil.rmtree(os.path.join(shared, "tmp"))
    print(f"fixtures in {shared}")
