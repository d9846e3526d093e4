"""Stress test of checkpoints and resume: kills and stop signals at random moments, repeated.

    stress.py --ftbench build/ftbench --mpiexec /usr/bin/mpiexec --workdir DIR [--rounds 10] [--seed S]

Each round picks a delay at random and either
  kill:   SIGKILLs the whole job (mpiexec and every rank) after that delay, or
  signal: sends SIGTERM or SIGUSR1 to one random rank after that delay (once training has begun the job must
          exit 75, or 0 when it had already finished),
then runs the same command again, which must complete the experiment: every epoch exactly once, the file
readable by h5py, and the metrics bitwise equal to an uninterrupted run (deterministic = true). Random
moments land anywhere: inside a step, an evaluation, a checkpoint write or a results write.

CTest runs a bounded form (e2e_reliability_stress, --rounds 2); run it by hand with the default 10 rounds
per kind for the full stress. Prints the seed, so a failing round can be replayed with --seed.
"""
import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import Case  # noqa: E402
from reliability import (assert_nothing_left, assert_same_series, config_text, epochs_written,  # noqa: E402
                         kill_job, rank_pids, read_series, start_job, straight_run)

RANKS, EPOCHS = 2, 3


def one_round(c, kind, index, rng, expected, typical_seconds):
    name = f"{kind}{index}"
    config = c.write(f"{name}.toml", config_text(c, name, EPOCHS))
    out = os.path.join(c.dir, f"{name}.h5")
    delay = rng.uniform(0.5, 0.9 * typical_seconds)
    job = start_job(c, RANKS, ["run", config, "--output", out])
    what = ""
    try:
        time.sleep(delay)
        if kind == "kill":
            kill_job(job)
            what = "SIGKILL to the whole job"
        else:
            pids = rank_pids(job)
            if pids:
                rank = rng.choice(sorted(pids))
                sig = rng.choice([signal.SIGTERM, signal.SIGUSR1])
                os.kill(pids[rank], sig)
                what = f"{signal.Signals(sig).name} to rank {rank}"
        stdout, stderr = job.communicate(timeout=300)
    finally:
        if job.poll() is None:
            kill_job(job)
            job.communicate()
    if kind == "signal" and "# run 1/1" in stdout:
        # Once training has begun, a signal is a clean stop (75), or too late to matter (0). Before the
        # process has installed its handlers (library loading, MPI start-up) it ends the process as usual.
        assert job.returncode in (0, 75), (job.returncode, what, stderr)
    assert_nothing_left(c, config)
    written = epochs_written(out)
    c.run(["run", config, "--output", out], ranks=RANKS)
    series, attrs = read_series(out)
    assert attrs["status"] == "completed", attrs
    assert_same_series(series, expected)
    print(f"round {name}: {what or 'nothing sent (no rank was running)'} after {delay:.1f} s "
          f"(exit {job.returncode}, {max(written, 0)} epoch(s) in the file); re-run identical to the straight run",
          flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ftbench", required=True)
    parser.add_argument("--mpiexec", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per kind (kill, signal)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(f"stress: seed {seed}, {args.rounds} round(s) per kind", flush=True)
    rng = random.Random(seed)
    args.case = "stress"
    os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    c = Case(args)
    start = time.monotonic()
    straight = straight_run(c, "straight", RANKS, EPOCHS)
    typical = time.monotonic() - start  # one uninterrupted job, start-up included
    expected, _ = read_series(straight)
    for index in range(args.rounds):
        for kind in ("kill", "signal"):
            one_round(c, kind, index, rng, expected, typical)
    print(f"stress: ok ({2 * args.rounds} rounds, seed {seed})")


if __name__ == "__main__":
    sys.exit(main())
