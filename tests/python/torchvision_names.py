"""Writes torchvision's parameter and buffer names and shapes for some models, as JSON.

The C++ model tests compare ftbench's modules against this, key for key: the oracle is torchvision itself,
from the project's venv, never a hand-written copy.

    torchvision_names.py OUT.json resnet18:10 resnet18:1000 ...

Each MODEL:K entry builds torchvision.models.MODEL(weights=None), replaces the head for K classes the way
fine-tuning does (when K != 1000), and records {"params": {name: shape}, "buffers": {name: shape}}.
"""
import json
import sys

import torch
import torchvision


def describe(name: str, num_classes: int) -> dict:
    model = torchvision.models.get_model(name, weights=None)
    if num_classes != 1000:
        model.fc = torch.nn.Linear(model.fc.in_features, num_classes)
    return {
        "params": {k: list(v.shape) for k, v in model.named_parameters()},
        "buffers": {k: list(v.shape) for k, v in model.named_buffers()},
    }


def main() -> None:
    out, specs = sys.argv[1], sys.argv[2:]
    result = {}
    for spec in specs:
        name, classes = spec.split(":")
        result[spec] = describe(name, int(classes))
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
