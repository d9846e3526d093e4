"""Smoke tests of `ftbench bench` and of the side-by-side driver: they run, and what they print is sane.

    bench_smoke.py CASE --ftbench build/ftbench --mpiexec mpiexec [--python .venv/bin/python]

Nothing here asserts a speed: only that the JSON has its fields, throughputs are positive, the parts of a
step add up to the step, and bad input exits 2 with a message that says what to do.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MPI_FLAGS = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none"]
TINY = ["--model", "resnet18", "--input-size", "32", "--batch", "4", "--steps", "3", "--warmup", "1",
        "--threads", "1"]
PARTS = ["data_seconds", "forward_seconds", "backward_seconds", "comm_seconds", "optimizer_seconds"]


def run(cmd, expect, timeout=300, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != expect:
        raise AssertionError(f"{' '.join(cmd)}: exit {proc.returncode}, expected {expect}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def one_json(proc):
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line (rank 0's JSON), got:\n{proc.stdout}"
    return json.loads(lines[0])


def check_parts(where, parts):
    total = sum(parts[k] for k in PARTS)
    for k in PARTS:
        assert parts[k] >= 0, f"{where}: {k} = {parts[k]} < 0"
    assert parts["forward_seconds"] > 0 and parts["backward_seconds"] > 0, f"{where}: {parts}"
    assert abs(total - parts["step_seconds"]) <= 0.02 * parts["step_seconds"] + 1e-4, (
        f"{where}: the parts add up to {total} s, the step is {parts['step_seconds']} s")


def check_result(r, world):
    assert r["side"] == "ftbench" and r["model"] == "resnet18" and r["input_size"] == 32, r
    assert r["world_size"] == world and len(r["ranks"]) == world, r
    assert r["batch"] == 4 and r["global_batch"] == 4 * world and r["steps"] == 3, r
    assert r["precision"] == "fp32" and r["memory_format"] == "channels_last" and r["device"] == "cpu", r
    assert r["images_per_second"] > 0 and r["peak_memory_bytes"] > 0, r
    assert r["omp_wait"] == "default" or r["omp_wait"].startswith(("OMP_WAIT_POLICY=", "GOMP_SPINCOUNT=")), r
    # Runtime asks Open MPI for the ring all-reduce unless the environment chose (dist/runtime.h).
    assert r["mpi_iallreduce"] == os.environ.get("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "ring"), r
    # Within one node, 2+ ranks all-reduce their buckets in shared memory unless it is turned off.
    assert r["mpi_shared_memory"] == (world > 1 and os.environ.get("FTBENCH_SHM_ALLREDUCE") != "0"), r
    slowest = max(x["seconds"] for x in r["ranks"])
    assert abs(r["images_per_second"] - 4 * 3 * world / slowest) <= 1e-3 * r["images_per_second"], r
    check_parts("aggregate", r)
    for x in r["ranks"]:
        assert x["images_per_second"] > 0 and x["peak_memory_bytes"] > 0, x
        check_parts(f"rank {x['rank']}", x)
    if world > 1:
        # Every step all-reduces resnet18's 11,181,642 fp32 gradients.
        assert r["comm_bytes_per_step"] == 11181642 * 4, r["comm_bytes_per_step"]
    else:
        assert r["backend"] == "mpi" and r["comm_seconds"] == 0, r


def case_single(a):
    check_result(one_json(run([a.ftbench, "bench", "--json"] + TINY, 0)), world=1)
    table = run([a.ftbench, "bench"] + TINY, 0).stdout
    assert "aggregate" in table and "img/s" in table, table


def case_two_ranks(a):
    r = one_json(run([a.mpiexec, "-n", "2"] + MPI_FLAGS + [a.ftbench, "bench", "--json"] + TINY, 0))
    check_result(r, world=2)


def case_omp_wait(a):
    """libgomp's spinning default unless the rank's threads oversubscribe its CPUs (then OMP_WAIT_POLICY=PASSIVE,
    set by re-executing); a policy the user set is kept. See runner/cli/omp_policy.h."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    cpus = len(os.sched_getaffinity(0))
    i = TINY.index("--threads")
    tiny = TINY[:i] + TINY[i + 2:]

    def bench(threads, extra_env=None, ranks=1):
        e = dict(env, **(extra_env or {}))
        cmd = [a.ftbench, "bench", "--json", "--threads", str(threads)] + tiny
        if ranks > 1:
            cmd = [a.mpiexec, "-n", str(ranks)] + MPI_FLAGS + cmd
        proc = run(cmd, 0, env=e)
        return one_json(proc)["omp_wait"], proc.stderr

    policy, err = bench(1)
    assert policy == "default", policy
    policy, err = bench(cpus + 1)  # more threads than CPUs
    assert policy == "OMP_WAIT_POLICY=PASSIVE", policy
    assert "warning" not in err, err
    if cpus >= 2:
        policy, _ = bench(cpus, ranks=2)  # 2 unbound ranks x all CPUs each
        assert policy == "OMP_WAIT_POLICY=PASSIVE", policy
    policy, err = bench(cpus + 1, {"OMP_WAIT_POLICY": "ACTIVE"})  # the user's choice is kept, unwarned
    assert policy == "OMP_WAIT_POLICY=ACTIVE", policy
    assert "warning" not in err, err


def case_unknown_model(a):
    proc = run([a.ftbench, "bench", "--model", "resnet17"], 2)
    assert "unknown model 'resnet17'" in proc.stderr and "resnet18" in proc.stderr, proc.stderr


def case_bf16_on_cpu(a):
    proc = run([a.ftbench, "bench", "--model", "resnet18", "--precision", "bf16"], 2)
    assert "--precision bf16 needs a CUDA GPU" in proc.stderr and "--precision fp32" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1, f"expected a one-line message:\n{proc.stderr}"


def case_bad_input_size(a):
    proc = run([a.ftbench, "bench", "--model", "resnet18", "--input-size", "8"], 2)
    assert "--input-size" in proc.stderr and "minimum" in proc.stderr, proc.stderr


def case_side_by_side(a):
    out = os.path.join(a.workdir, "side_by_side.json")
    os.makedirs(a.workdir, exist_ok=True)
    proc = run([a.python, os.path.join(HERE, "side_by_side.py"), "--ftbench", a.ftbench, "--python", a.python,
                "--configs", "resnet18@32", "--batch", "4", "--steps", "2", "--warmup", "1", "--rounds", "2",
                "--layouts", "1x1", "--mpiexec", a.mpiexec, "--json-out", out], 0, timeout=600)
    assert "| resnet18 | 32 | 1 x 1 |" in proc.stdout, proc.stdout
    with open(out) as f:
        saved = json.load(f)
    (entry,) = saved["results"]
    assert len(entry["ratio"]) == 2 and all(x > 0 for x in entry["ratio"]), entry
    assert all(p["side"] == "pytorch" and p["images_per_second"] > 0 for p in entry["pt_json"]), entry["pt_json"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("case")
    p.add_argument("--ftbench", required=True)
    p.add_argument("--mpiexec", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--workdir", default=".")
    a = p.parse_args()
    globals()["case_" + a.case](a)
    print(f"{a.case}: ok")


if __name__ == "__main__":
    main()
