"""End-to-end tests of the fine-tuning recipes with the real ftbench binary under real mpiexec, results read
back with h5py: strategies (trainable parameters per epoch, what is all-reduced), gradient accumulation,
determinism across reruns, bf16 refused on CPU, auxiliary heads.

    recipes.py CASE --ftbench build/ftbench --mpiexec /usr/bin/mpiexec --workdir DIR

Each CASE is one CTest test (tests/e2e/CMakeLists.txt). It reuses e2e.py's harness.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import TEST, experiment, main, steps_per_epoch  # noqa: E402

RESNET18 = 11181642
HEAD = 5130            # fc: 512 x 10 + 10
LAYER4 = 8393728
LAYER3 = 2099712

# Series that must repeat bit for bit (everything but the clocks and the memory peak).
EXACT_SERIES = ["train_loss", "train_acc", "test_loss", "test_acc", "test_acc5", "lr", "trainable_params",
                "comm_bytes", "confusion"]


def case_strategies_train_what_they_claim(c):
    """linear_probe, freeze:layer3 and gradual at 2 ranks: trainable parameters per epoch, and only those are
    all-reduced (comm_bytes = 4 bytes x trainable x steps)."""
    out, proc = c.train("strategies", ranks=2, **{
        "matrix.strategies": '["linear_probe", "freeze:layer3", "gradual"]', "experiment.seeds": "[0]",
        "train.epochs": "3", "train.unfreeze_every": "1"})
    steps = steps_per_epoch(48, 2)
    expected = {
        "resnet18-linear_probe-s0": [HEAD] * 3,
        "resnet18-freeze_layer3-s0": [HEAD + LAYER4] * 3,
        "resnet18-gradual-s0": [HEAD, HEAD + LAYER4, HEAD + LAYER4 + LAYER3],
    }
    with h5py.File(out, "r") as f:
        assert sorted(f["runs"].keys()) == sorted(expected), list(f["runs"].keys())
        for run_id, counts in expected.items():
            run = f["runs"][run_id]
            assert run.attrs["status"] == "completed", dict(run.attrs)
            assert run.attrs["params_total"] == RESNET18
            assert run.attrs["params_trainable"] == counts[0], run.attrs["params_trainable"]
            np.testing.assert_array_equal(run["trainable_params"][:], counts)
            np.testing.assert_array_equal(run["comm_bytes"][:], [4 * n * steps for n in counts])
            assert np.all(np.isfinite(run["train_loss"][:])) and np.all(np.isfinite(run["test_loss"][:]))
            assert np.all(run["confusion"][:].sum(axis=(1, 2)) == TEST)
            assert run.attrs["eval_weights"] == "model", run.attrs["eval_weights"]
            assert run.attrs["param_groups"].startswith("all lr=0.02 wd=0.0005 trainable="), run.attrs["param_groups"]
        assert f["runs/resnet18-linear_probe-s0"].attrs["param_groups"] == \
            "all lr=0.02 wd=0.0005 trainable=5120/11172032; all.no_decay lr=0.02 wd=0 trainable=10/9610"
    # The progress names each run's parameter groups and the unfreezing.
    assert "resnet18-linear_probe-s0: strategy linear_probe" in proc.stdout, proc.stdout
    # 1-D parameters (BN weights and biases: 9,600; fc.bias) get no weight decay.
    assert "all lr=0.02 wd=0.0005 trainable=5120/11172032; all.no_decay lr=0.02 wd=0 trainable=10/9610" \
        in proc.stdout, proc.stdout
    assert "resnet18-gradual-s0: epoch 2 unfreezes a stage" in proc.stdout, proc.stdout


def case_accumulation_matches_big_batch(c):
    """24 images x 2 micro-batches per step == 48 per step, at 2 ranks, BatchNorm on running statistics (so
    that the math does not depend on how a batch is cut). float32: equal up to summation order."""
    common = {"experiment.seeds": "[0]", "train.batchnorm": '"frozen"', "train.epochs": "2"}
    big, _ = c.train("big", ranks=2, **common)
    small, proc = c.train("small", ranks=2, **common, **{"train.batch_size": "24", "train.accumulate_steps": "2"})
    assert "2 micro-batches per step" in proc.stdout, proc.stdout
    with h5py.File(big, "r") as fb, h5py.File(small, "r") as fs:
        b, s = fb["runs/resnet18-full-s0"], fs["runs/resnet18-full-s0"]
        print("train_loss", b["train_loss"][:], s["train_loss"][:])
        print("test_loss", b["test_loss"][:], s["test_loss"][:])
        np.testing.assert_allclose(s["train_loss"][:], b["train_loss"][:], rtol=2e-4)
        np.testing.assert_allclose(s["test_loss"][:], b["test_loss"][:], rtol=2e-4)
        np.testing.assert_array_equal(s["lr"][:], b["lr"][:])  # the same optimiser steps
        # One all-reduce per optimiser step, not per micro-batch.
        np.testing.assert_array_equal(s["comm_bytes"][:], b["comm_bytes"][:])
        assert s.attrs["global_batch"] == b.attrs["global_batch"] == 48, (s.attrs["global_batch"],)


def case_deterministic_reruns_are_bitwise_identical(c):
    """deterministic = true: the same experiment twice gives the same bits, at 2 ranks, with a recipe that
    uses most of the machinery (adamw, discriminative groups, step schedule with warmup, label smoothing,
    clipping, accumulation, EMA evaluation)."""
    over = {"experiment.deterministic": "true", "matrix.strategies": '["discriminative"]',
            "train.optimizer": '"adamw"', "train.lr": "0.002", "train.schedule": '"step"', "train.milestones": "[1]",
            "train.warmup_epochs": "0.5", "train.label_smoothing": "0.1", "train.clip_grad_norm": "1.0",
            "train.accumulate_steps": "2", "train.batch_size": "24", "train.ema_decay": "0.9"}
    first, proc = c.train("first", ranks=2, **over)
    second, _ = c.train("second", ranks=2, **over)
    assert "evaluated with the EMA of the weights" in proc.stdout, proc.stdout
    assert "backbone lr=0.0002" in proc.stdout and "head lr=0.002" in proc.stdout, proc.stdout
    with h5py.File(first, "r") as f1, h5py.File(second, "r") as f2:
        for run_id in ["resnet18-discriminative-s0", "resnet18-discriminative-s1"]:
            for key in EXACT_SERIES:
                a, b = f1["runs"][run_id][key][:], f2["runs"][run_id][key][:]
                assert a.tobytes() == b.tobytes(), (run_id, key, a, b)
            run = f1["runs"][run_id]
            assert run.attrs["eval_weights"] == "ema (decay 0.9)", run.attrs["eval_weights"]
            assert run.attrs["param_groups"].startswith("backbone lr=0.0002 wd=0.0005 trainable=11166912/11166912; "
                                                        "backbone.no_decay lr=0.0002 wd=0 trainable=9600/9600; "
                                                        "head lr=0.002 wd=0.0005 trainable=5120/5120; "
                                                        "head.no_decay lr=0.002 wd=0 trainable=10/10"), \
                run.attrs["param_groups"]
        # ... and the comparison can fail: the two seeds differ.
        s0, s1 = f1["runs/resnet18-discriminative-s0"], f1["runs/resnet18-discriminative-s1"]
        assert s0["train_loss"][:].tobytes() != s1["train_loss"][:].tobytes()
        print("train_loss", s0["train_loss"][:], "test_acc", s0["test_acc"][:])


def case_bf16_refused_on_cpu(c):
    """precision = "bf16" on a CPU job: exit 2 on every rank before anything is written, one message naming
    the file and the key."""
    config = c.write("bf16.toml", experiment("bf16", c.data, **{"train.precision": '"bf16"'}))
    out = os.path.join(c.dir, "bf16.h5")
    proc = c.run(["run", config, "--output", out], ranks=2, expect=2)
    text = proc.stdout + proc.stderr
    assert f"{config}: train.precision = \"bf16\" needs a CUDA GPU" in text, text
    assert "set precision = \"fp32\"" in text, text
    assert text.count("needs a CUDA GPU") == 1, text  # one rank speaks
    assert not os.path.exists(out), "nothing may be written before the refusal"
    # A --set override is the same key.
    config = c.write("fp32.toml", experiment("fp32", c.data))
    proc = c.run(["run", config, "--set", "train.precision=bf16"], expect=2)
    assert "train.precision = \"bf16\" needs a CUDA GPU" in proc.stderr + proc.stdout, proc.stderr


def case_aux_heads_train(c):
    """googlenet trains with its two auxiliary heads (loss weights 0.3 from the registry); evaluation uses
    the main logits. Also: an explicit memory_format = "channels_last" is honoured on CPU."""
    out, proc = c.train("aux", **{"matrix.models": '["googlenet"]', "experiment.seeds": "[0]", "train.epochs": "1",
                                  "train.memory_format": '"channels_last"'})
    assert "googlenet-full-s0: strategy full, sgd, fp32, channels_last" in proc.stdout, proc.stdout
    with h5py.File(out, "r") as f:
        run = f["runs/googlenet-full-s0"]
        assert run.attrs["status"] == "completed"
        assert np.all(np.isfinite(run["train_loss"][:])), run["train_loss"][:]
        assert run["confusion"][:].sum() == TEST


if __name__ == "__main__":
    sys.exit(main(globals(), "recipes"))
