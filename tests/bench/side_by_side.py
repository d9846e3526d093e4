"""Side-by-side driver: `ftbench bench` against the PyTorch reference (tests/bench/reference.py), alternately,
over several rounds, in one invocation.

    python tests/bench/side_by_side.py [--ftbench build/ftbench] [--python .venv/bin/python]
        [--configs resnet18@32,mobilenet_v2@32] [--batch 64] [--steps 20] [--warmup 3] [--rounds 5]
        [--layouts 1x2,1x1,2x1] [--precision fp32|bf16] [--device cpu|cuda] [--memory-format auto|...]
        [--mpiexec mpiexec] [--reference-env KEY=VALUE]... [--ftbench-env KEY=VALUE]... [--rank-sessions]
        [--json-out FILE] [--timeout 900]

A layout RxT is R ranks x T intra-op threads per rank (R > 1: both sides run under `mpiexec -n R`: ftbench
with its MPI reducer, PyTorch with DistributedDataParallel over gloo). In every round, for every model and
layout, both sides run once, one after the other; the side that goes first alternates between rounds, so that
slow drift of the machine's load hits both alike. Both sides get the same model, input size, per-rank batch,
steps, warm-up, threads, precision and memory format (the reference is told the format ftbench resolved).

Printed per model and layout: each side's median img/s (aggregate over ranks) and the ratio ftbench/PyTorch
per round as median, min and max. For each model measured at 1xT and RxT, also the scaling of the aggregate
throughput from 1 rank to R (each side against itself). --json-out keeps every measurement.
The machine's load (/proc/loadavg) is recorded before every round: on a shared machine, read the numbers
with it.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ftbench", default=os.path.join(ROOT, "build", "ftbench"))
    p.add_argument("--python", default=os.path.join(ROOT, ".venv", "bin", "python"))
    p.add_argument("--configs", default="resnet18@32,mobilenet_v2@32", help="MODEL@SIZE, comma-separated")
    p.add_argument("--batch", type=int, default=64, help="images per rank per step")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--layouts", default="1x2", help="RANKSxTHREADS, comma-separated, e.g. 1x2,1x1,2x1")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="the reference's device")
    p.add_argument("--memory-format", choices=["auto", "channels_last", "contiguous"], default="auto")
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--mpi-flags", default="--oversubscribe --bind-to none",
                   help="extra mpiexec flags (root is allowed through the environment)")
    p.add_argument("--reference-env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment of the PyTorch side only (repeatable), e.g. OMP_WAIT_POLICY=PASSIVE")
    p.add_argument("--ftbench-env", action="append", default=[], metavar="KEY=VALUE",
                   help="environment of the ftbench side only (repeatable), e.g. OMP_WAIT_POLICY=ACTIVE")
    p.add_argument("--rank-sessions", action="store_true",
                   help="start every rank in a session of its own (setsid -w): where the kernel groups processes "
                        "by session for CPU fairness (sched_autogroup), R ranks of one session share one "
                        "session's CPU time on a busy machine, whatever R is")
    p.add_argument("--json-out", default="")
    p.add_argument("--timeout", type=float, default=900, help="seconds per single run")
    return p.parse_args()


def launcher(args, ranks):
    if ranks == 1:
        return ["setsid", "-w"] if args.rank_sessions else []
    return [args.mpiexec, "-n", str(ranks)] + args.mpi_flags.split()


def rank_prefix(args, ranks):
    return ["setsid", "-w"] if args.rank_sessions and ranks > 1 else []


def with_env(env, items, ranks):
    """`env` plus KEY=VALUE items; under mpiexec each key is exported to the ranks with -x."""
    out = dict(env)
    keys = []
    for item in items:
        key, _, value = item.partition("=")
        out[key] = value
        keys.append(key)
    return out, [a for k in keys for a in ("-x", k)] if ranks > 1 else []


def run_json(cmd, timeout, env):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"side_by_side: {' '.join(cmd)} failed with exit {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"side_by_side: no JSON line in the output of {' '.join(cmd)}:\n{proc.stdout[-2000:]}")


def ftbench_cmd(args, model, size, ranks, threads):
    return launcher(args, ranks) + rank_prefix(args, ranks) + [
        args.ftbench, "bench", "--model", model, "--input-size", str(size), "--batch", str(args.batch),
        "--steps", str(args.steps), "--warmup", str(args.warmup), "--threads", str(threads),
        "--precision", args.precision, "--memory-format", args.memory_format, "--json"]


def reference_cmd(args, model, size, ranks, threads, memory_format):
    return launcher(args, ranks) + rank_prefix(args, ranks) + [
        args.python, os.path.join(HERE, "reference.py"), "--model", model, "--input-size", str(size),
        "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup),
        "--threads", str(threads), "--precision", args.precision, "--memory-format", memory_format,
        "--device", args.device, "--json"]


def versions(args):
    out = {"machine": platform.machine(), "cores": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            out["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    v = subprocess.run([args.ftbench, "--version"], capture_output=True, text=True)
    out["ftbench_version"] = v.stdout.strip()
    t = subprocess.run([args.python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    out["torch"] = t.stdout.strip()
    return out


def main():
    args = parse_args()
    env = dict(os.environ)
    if os.geteuid() == 0:  # Open MPI refuses root unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    configs = []
    for item in args.configs.split(","):
        model, _, size = item.partition("@")
        configs.append((model, int(size) if size else 0))
    layouts = []
    for item in args.layouts.split(","):
        r, _, t = item.partition("x")
        layouts.append((int(r), int(t or 0)))

    info = versions(args)
    print(f"# side by side: ftbench bench vs PyTorch eager (tests/bench/reference.py), {args.rounds} rounds, "
          f"batch {args.batch}/rank, {args.warmup} warm-up + {args.steps} timed steps, {args.precision}")
    if args.rank_sessions:
        print("# every rank in a session of its own (setsid -w)")
    if args.ftbench_env or args.reference_env:
        print(f"# environment: ftbench {' '.join(args.ftbench_env) or '-'}; pytorch {' '.join(args.reference_env) or '-'}")
    print(f"# {info.get('cpu', '')} ({info['cores']} cores), torch {info['torch']}; "
          f"{info['ftbench_version'].splitlines()[0] if info['ftbench_version'] else ''}")
    sys.stdout.flush()

    results = {}  # (model, size, ranks, threads) -> {"ftbench": [...], "pytorch": [...], "ratio": [...]}
    loads = []
    for rnd in range(args.rounds):
        with open("/proc/loadavg") as f:
            loads.append(f.read().split()[0])
        for model, size in configs:
            for ranks, threads in layouts:
                key = (model, size, ranks, threads)
                entry = results.setdefault(key, {"ftbench": [], "pytorch": [], "ratio": [], "ft_json": [],
                                                 "pt_json": [], "skipped": ""})
                order = ["ftbench", "pytorch"] if rnd % 2 == 0 else ["pytorch", "ftbench"]
                got = {}
                for side in order:
                    if side == "ftbench":
                        side_env, export = with_env(env, args.ftbench_env, ranks)
                        cmd = ftbench_cmd(args, model, size, ranks, threads)
                        cmd = cmd[:len(launcher(args, ranks))] + export + cmd[len(launcher(args, ranks)):]
                        got[side] = run_json(cmd, args.timeout, side_env)
                    else:
                        # The reference uses the memory format ftbench resolved ("auto" depends on the device
                        # and model); round 1 runs ftbench first, so later rounds know it already.
                        known = got.get("ftbench") or entry["ft_json"][0]
                        fmt = known["memory_format"]
                        side_env, export = with_env(env, args.reference_env, ranks)
                        cmd = reference_cmd(args, model, size, ranks, threads, fmt)
                        cmd = cmd[:len(launcher(args, ranks))] + export + cmd[len(launcher(args, ranks)):]
                        got[side] = run_json(cmd, args.timeout, side_env)
                ft, pt = got["ftbench"], got["pytorch"]
                entry["ft_json"].append(ft)
                entry["pt_json"].append(pt)
                if "skipped" in pt:
                    entry["skipped"] = pt["skipped"]
                    entry["ftbench"].append(ft["images_per_second"])
                    print(f"round {rnd + 1}: {model}@{ft['input_size']} {ranks}x{ft['threads']}: ftbench "
                          f"{ft['images_per_second']:.1f} img/s; pytorch skipped: {pt['skipped']}")
                    continue
                entry["ftbench"].append(ft["images_per_second"])
                entry["pytorch"].append(pt["images_per_second"])
                entry["ratio"].append(ft["images_per_second"] / pt["images_per_second"])
                print(f"round {rnd + 1}: {model}@{ft['input_size']} {ranks}x{ft['threads']}: ftbench "
                      f"{ft['images_per_second']:.1f} img/s, pytorch {pt['images_per_second']:.1f} img/s, ratio "
                      f"{entry['ratio'][-1]:.3f} (load {loads[-1]})")
                sys.stdout.flush()

    print()
    print("| model | input | ranks x threads | ftbench img/s (median) | PyTorch img/s (median) | ratio median | "
          "ratio min | ratio max | rounds | ftbench peak MiB/rank | PyTorch peak MiB/rank |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    def peak(runs):
        return f"{max(r['peak_memory_bytes'] for r in runs) / 2**20:.0f}" if runs else ""

    for (model, size, ranks, threads), e in results.items():
        ft_med = statistics.median(e["ftbench"])
        shown_size = e["ft_json"][0]["input_size"]
        shown_threads = e["ft_json"][0]["threads"]
        if e["ratio"]:
            print(f"| {model} | {shown_size} | {ranks} x {shown_threads} | {ft_med:.1f} | "
                  f"{statistics.median(e['pytorch']):.1f} | {statistics.median(e['ratio']):.3f} | "
                  f"{min(e['ratio']):.3f} | {max(e['ratio']):.3f} | {len(e['ratio'])} | {peak(e['ft_json'])} | "
                  f"{peak(e['pt_json'])} |")
        else:
            print(f"| {model} | {shown_size} | {ranks} x {shown_threads} | {ft_med:.1f} | skipped: {e['skipped']} "
                  f"| | | | {len(e['ftbench'])} | {peak(e['ft_json'])} | |")
    # Scaling: each side's aggregate median at R ranks over its median at 1 rank, same threads per rank.
    lines = []
    for (model, size, ranks, threads), e in results.items():
        base = results.get((model, size, 1, threads))
        if ranks == 1 or base is None:
            continue
        ft = statistics.median(e["ftbench"]) / statistics.median(base["ftbench"])
        pt = (statistics.median(e["pytorch"]) / statistics.median(base["pytorch"])
              if e["pytorch"] and base["pytorch"] else float("nan"))
        lines.append(f"| {model}@{e['ft_json'][0]['input_size']} | {threads} | 1 -> {ranks} | {ft:.2f}x | {pt:.2f}x |")
    if lines:
        print()
        print("| config | threads/rank | ranks | ftbench scaling | PyTorch scaling |")
        print("| --- | ---: | --- | ---: | ---: |")
        print("\n".join(lines))
    print(f"\n# load average (1 min) before each round: {' '.join(loads)}")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"info": info, "args": vars(args), "loads": loads,
                       "results": [{"model": k[0], "input_size": k[1], "ranks": k[2], "threads": k[3], **v}
                                   for k, v in results.items()]}, f, indent=1)
        print(f"# every measurement: {args.json_out}")


if __name__ == "__main__":
    main()
