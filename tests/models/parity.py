"""Parity of ftbench's models with torchvision's, the oracle, from the project's venv.

    parity.py --ftbench build/ftbench --workdir DIR --model NAME --size S [--classes K] [--train] [--batch N]

For one model: builds torchvision's model (random weights, then randomised BatchNorm running statistics and
affine parameters so eval mode is not the identity), saves its state dict and an input batch as safetensors,
records torchvision's logits, runs `ftbench forward` on the same files, and compares:

    max |ftbench - torchvision| <= 1e-4 * max(1, max |torchvision|)

In --train mode both sides run in training mode with the same generator seed right before the forward pass, so
dropout and stochastic depth draw the same masks (the same ATen ops in the same order); auxiliary logits are
compared too. It also checks the parameter count `ftbench inspect` prints against torchvision's.
Exit 0 on parity, 1 with the differences otherwise.
"""
import argparse
import os
import re
import subprocess
import sys

import torch
import torchvision
from safetensors.torch import load_file, save_file

TOLERANCE = 1e-4
SEED = 1234

# Constructor arguments that differ from get_model(weights=None): torchvision builds these two with
# transform_input=True (and aux heads) when it loads its ImageNet weights, and ftbench always builds them so.
BUILD_KWARGS = {
    "inception_v3": {"aux_logits": True, "transform_input": True, "init_weights": True},
    "googlenet": {"aux_logits": True, "transform_input": True, "init_weights": True},
}


def build(name: str, classes: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None, num_classes=classes, **BUILD_KWARGS.get(name, {}))
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.copy_(torch.randn(module.running_mean.shape, generator=gen) * 0.1)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=gen) + 0.5)
                module.num_batches_tracked.fill_(7)
            if isinstance(module, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if module.weight is not None:
                    module.weight.copy_(torch.rand(module.weight.shape, generator=gen) + 0.5)
                    module.bias.copy_(torch.randn(module.bias.shape, generator=gen) * 0.1)
        # Parameters initialised to (almost) nothing would hide whole branches from the comparison: vit's
        # zero head, convnext's layer_scale of 1e-6, zero biases. Give them values of a useful size.
        for _, p in model.named_parameters():
            if p.numel() > 0 and p.abs().max().item() < 1e-4:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)
    return model


def torchvision_outputs(model, x, train: bool) -> dict:
    model.train(train)
    with torch.no_grad():
        torch.manual_seed(SEED)
        out = model(x)
    if isinstance(out, torch.Tensor):
        return {"logits": out}
    # InceptionOutputs(logits, aux_logits) and GoogLeNetOutputs(logits, aux_logits2, aux_logits1).
    if hasattr(out, "aux_logits2"):
        return {"logits": out.logits, "aux_logits.1": out.aux_logits1, "aux_logits.2": out.aux_logits2}
    return {"logits": out.logits, "aux_logits": out.aux_logits}


def run(cmd: list) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ftbench", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--train", action="store_true")
    args = ap.parse_args()

    tag = f"{args.model}-{args.size}-{args.classes}{'-train' if args.train else ''}"
    os.makedirs(args.workdir, exist_ok=True)
    weights = os.path.join(args.workdir, tag + ".weights.safetensors")
    inputs = os.path.join(args.workdir, tag + ".input.safetensors")
    output = os.path.join(args.workdir, tag + ".output.safetensors")

    model = build(args.model, args.classes)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, weights)
    x = torch.randn(args.batch, 3, args.size, args.size, generator=torch.Generator().manual_seed(2))
    save_file({"input": x}, inputs)
    expected = torchvision_outputs(model, x, args.train)

    cmd = [args.ftbench, "forward", "--model", args.model, "--num-classes", str(args.classes), "--weights", weights,
           "--input", inputs, "--output", output, "--seed", str(SEED)] + (["--train-mode"] if args.train else [])
    proc = run(cmd)
    if proc.returncode != 0:
        print(f"FAIL {tag}: ftbench forward exited {proc.returncode}\n{proc.stdout}{proc.stderr}")
        return 1
    got = load_file(output)

    failures = []
    if sorted(got) != sorted(expected):
        failures.append(f"outputs {sorted(got)} != torchvision's {sorted(expected)}")
    for key, ref in expected.items():
        if key not in got:
            continue
        if got[key].shape != ref.shape:
            failures.append(f"{key}: shape {list(got[key].shape)} != {list(ref.shape)}")
            continue
        scale = max(1.0, ref.abs().max().item())
        diff = (got[key] - ref).abs().max().item()
        print(f"{tag} {key}: max|diff| {diff:.3e}, scale {scale:.3e}, relative {diff / scale:.3e}")
        if not diff <= TOLERANCE * scale:
            failures.append(f"{key}: max|diff| {diff:.3e} > {TOLERANCE} x {scale:.3e}")

    # Parameter count: `ftbench inspect` against torchvision's.
    proc = run([args.ftbench, "inspect", args.model, "--input-size", str(args.size), "--num-classes",
                str(args.classes)])
    match = re.search(r"^parameters\s+(\d+) total", proc.stdout, re.M)
    want = sum(p.numel() for p in model.parameters())
    if proc.returncode != 0 or match is None:
        failures.append(f"ftbench inspect exited {proc.returncode} without a 'parameters N total' line:\n"
                        f"{proc.stdout[-2000:]}{proc.stderr}")
    elif int(match.group(1)) != want:
        failures.append(f"inspect: {match.group(1)} parameters, torchvision has {want}")
    else:
        print(f"{tag} parameters: {want} (matches torchvision)")

    for path in (weights, inputs, output):  # model-sized files: do not leave gigabytes behind
        if os.path.exists(path):
            os.remove(path)
    if failures:
        print(f"FAIL {tag}:\n  " + "\n  ".join(failures))
        return 1
    print(f"OK {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
