"""The PyTorch side of the side-by-side benchmark: what `ftbench bench` does, written as a PyTorch user would.

    python reference.py --model resnet18 [--input-size 32] [--batch 64] [--steps 20] [--warmup 3]
                        [--threads T] [--precision fp32|bf16] [--memory-format contiguous|channels_last]
                        [--device cpu|cuda] [--json]
    mpirun -np 2 python reference.py ...            # DistributedDataParallel (gloo on CPU, nccl on GPU)

The same work per step as `ftbench bench` (runner/cli/bench_command.cpp):
- torchvision's model, built from scratch with 10 classes, in training mode;
- device-resident synthetic data: a uint8 split of CIFAR-10's shape on the device; each step gathers its
  batch, applies a random crop (4 px zero padding) and a horizontal flip per sample, converts to float,
  normalises with ImageNet mean/std and resizes bilinearly to the input size; the labels are gathered too;
- cross-entropy (inception_v3 + 0.4 x its auxiliary head, googlenet + 0.3 x each of its two), backward;
- SGD, lr 0.01, momentum 0.9, weight decay 5e-4 except on 1-D parameters (biases, norm weights), as
  ftbench's default no_decay_norm_bias; torch's default implementation for the device (foreach on CUDA);
- bf16: CUDA autocast around forward and loss; channels_last: model and batches in that memory format;
- threads: torch.set_num_threads(T) (default: cores / ranks on the node), one inter-op thread;
- world size > 1 (launched with mpirun or srun: rank and size come from the launcher's environment):
  DistributedDataParallel with gloo on the CPU and nccl on GPUs; --batch is per rank, as in ftbench bench.

It times `--steps` steps after `--warmup` untimed ones and prints img/s per rank and in aggregate (images of
all ranks over the slowest rank's time), and peak memory. With --json, one JSON object on stdout with the
aggregate under "images_per_second". Without torchvision it prints `skipped: no torchvision` (and, with
--json, {"skipped": "no torchvision ..."}) and exits 0, so that a machine with torch alone can still run the
ftbench side.
"""

import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
PAD = 4
AUX_WEIGHTS = {"inception_v3": [0.4], "googlenet": [0.3, 0.3]}
NATIVE = {"inception_v3": 299}


def launcher_world():
    """(rank, size, local_rank, local_size) from mpirun's (Open MPI) or srun's environment; a world of one."""
    env = os.environ
    for prefix in ("OMPI_COMM_WORLD_", "PMI_"):
        if prefix + "SIZE" in env:
            rank, size = int(env[prefix + "RANK"]), int(env[prefix + "SIZE"])
            local_rank = int(env.get("OMPI_COMM_WORLD_LOCAL_RANK", env.get("MPI_LOCALRANKID", rank)))
            local_size = int(env.get("OMPI_COMM_WORLD_LOCAL_SIZE", env.get("MPI_LOCALNRANKS", size)))
            return rank, size, local_rank, local_size
    if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        return (int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]), int(env.get("SLURM_LOCALID", 0)),
                int(env.get("SLURM_NTASKS_PER_NODE", env["SLURM_NTASKS"]).split("(")[0]))
    return 0, 1, 0, 1


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--input-size", type=int, default=0, help="0: the model's native size (224; inception_v3 299)")
    p.add_argument("--batch", type=int, default=64, help="images per rank per step")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads per rank; 0: cores / local ranks")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--memory-format", choices=["contiguous", "channels_last"], default="contiguous")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dataset-size", type=int, default=0,
                   help="images in the synthetic uint8 split (default: 8 batches, at least 2048, at most 50000)")
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def skip(args, why):
    if args.json:
        print(json.dumps({"skipped": why}))
    else:
        print(f"skipped: {why}")
    sys.exit(0)


def prepare_batch(images, labels, index, size, channels_last):
    """Gather, pad-4 random crop + flip per sample, float, normalise, resize; as ftbench's pipeline."""
    x = images.index_select(0, index)
    b, c, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD))
    top = torch.randint(0, 2 * PAD + 1, (b,), device=x.device)
    left = torch.randint(0, 2 * PAD + 1, (b,), device=x.device)
    flip = torch.randint(0, 2, (b,), device=x.device).bool()
    rows = (top[:, None] + torch.arange(h, device=x.device)[None, :])  # [B, H]
    cols = left[:, None] + torch.arange(w, device=x.device)[None, :]   # [B, W]
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    bi = torch.arange(b, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    crops = padded[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]
    mean = torch.tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(1, 3, 1, 1)
    out = (crops.float() / 255 - mean) / std
    if size != h:
        out = F.interpolate(out, size=(size, size), mode="bilinear", align_corners=False,
                            antialias=size < h)
    if channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    return out, labels.index_select(0, index)


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.dim() <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def peak_memory(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main():
    args = parse_args()
    try:
        import torchvision
    except ImportError as e:
        skip(args, f"no torchvision ({e}); install torchvision matching torch {torch.__version__}")

    rank, world, local_rank, local_size = launcher_world()
    threads = args.threads or max(1, (os.cpu_count() or 1) // local_size)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set (only possible once, before any parallel work)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            skip(args, "no CUDA device visible")
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
    else:
        device = torch.device("cpu")
        if args.precision == "bf16":
            print("reference.py: bf16 needs --device cuda (ftbench trains bf16 with CUDA autocast only)",
                  file=sys.stderr)
            sys.exit(2)

    if world > 1:
        import torch.distributed as dist
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        # A port of this job's own (Open MPI's job id), so that two jobs on one machine do not meet.
        os.environ.setdefault("MASTER_PORT", str(29500 + int(os.environ.get("OMPI_MCA_ess_base_jobid", "17")) % 20000))
        import datetime
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=300))

    size = args.input_size or NATIVE.get(args.model, 224)
    torch.manual_seed(0)
    kwargs = {"aux_logits": True, "init_weights": True} if args.model in AUX_WEIGHTS else {}
    model = torchvision.models.get_model(args.model, weights=None, num_classes=10, **kwargs).to(device)
    channels_last = args.memory_format == "channels_last"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.SGD(param_groups(model, 5e-4), lr=0.01, momentum=0.9)
    net = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP
        net = DDP(model, device_ids=[device.index] if device.type == "cuda" else None, bucket_cap_mb=25)

    n = args.dataset_size or min(50000, max(2048, 8 * args.batch))
    g = torch.Generator().manual_seed(rank)
    images = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g).to(device)
    labels = torch.randint(0, 10, (n,), generator=g).to(device)
    aux_weights = AUX_WEIGHTS.get(args.model, [])

    def step(i):
        start = (i * args.batch) % (n - args.batch + 1)
        index = torch.arange(start, start + args.batch, device=device)
        x, y = prepare_batch(images, labels, index, size, channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            out = net(x)
            if aux_weights:
                main_logits, aux = out[0], list(out[1:])
                aux = [a for a in aux if a is not None]
            else:
                main_logits, aux = out, []
            loss = F.cross_entropy(main_logits.float(), y)
            for w, a in zip(aux_weights, aux):
                loss = loss + w * F.cross_entropy(a.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for i in range(args.warmup):
        step(i)
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    if world > 1:
        dist.barrier()
    t0 = time.perf_counter()
    for i in range(args.steps):
        step(args.warmup + i)
    sync()
    seconds = time.perf_counter() - t0
    mine = torch.tensor([seconds, float(peak_memory(device))], dtype=torch.float64)
    if world > 1:
        rows = torch.zeros(world, 2, dtype=torch.float64)
        rows[rank] = mine
        rows = rows.to(device) if device.type == "cuda" else rows
        dist.all_reduce(rows)
        rows = rows.cpu()
    else:
        rows = mine.view(1, 2)

    images_per_rank = args.batch * args.steps
    ranks = [{"rank": r, "images_per_second": images_per_rank / float(rows[r, 0]),
              "step_seconds": float(rows[r, 0]) / args.steps, "peak_memory_bytes": int(rows[r, 1])}
             for r in range(world)]
    result = {
        "side": "pytorch", "model": args.model, "input_size": size, "batch": args.batch,
        "global_batch": args.batch * world, "steps": args.steps, "warmup": args.warmup, "threads": threads,
        "precision": args.precision, "memory_format": args.memory_format, "world_size": world,
        "device": str(device.type), "backend": ("nccl" if device.type == "cuda" else "gloo") if world > 1 else "none",
        "images_per_second": images_per_rank * world / float(rows[:, 0].max()),
        "step_seconds": float(rows[:, 0].max()) / args.steps,
        "peak_memory_bytes": int(rows[:, 1].max()),
        "ranks": ranks, "torch": torch.__version__, "torchvision": torchvision.__version__,
    }
    if rank == 0:
        if args.json:
            print(json.dumps(result))
        else:
            print(f"# pytorch {torch.__version__} | {args.model}@{size} batch {args.batch}/rank | {world} rank(s) x "
                  f"{threads} thread(s) | {args.precision} {args.memory_format} | {device.type}")
            for r in ranks:
                print(f"rank {r['rank']}: {r['images_per_second']:10.1f} img/s  step {1e3 * r['step_seconds']:8.1f} ms  "
                      f"peak {r['peak_memory_bytes'] / 2**20:8.1f} MiB")
            print(f"aggregate: {result['images_per_second']:10.1f} img/s")
    if world > 1:
        # Every rank leaves together. destroy_process_group() can hang with gloo when the rank that hosts the
        # store exits first, so the processes end here, after a barrier, with their output flushed.
        dist.barrier()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
