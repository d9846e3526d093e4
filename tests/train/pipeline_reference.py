"""Reference outputs of the data pipeline, made with torchvision's own transforms (a CTest fixture).

    pipeline_reference.py OUT.safetensors

Writes small uint8 images, sample indices, the augmentation draws of those indices, and what torchvision's
tensor transforms make of them:

    pad(4, fill=0) -> crop(top, left, 32, 32) -> horizontal_flip (if drawn) -> to_dtype(float32, scale=True)
    -> resize([S, S], bilinear, antialias=True: torchvision's default) -> normalize(ImageNet mean, std)

for several output sizes S, with and without augmentation. tests/train/augment_reference_test.cpp compares
ftbench's pipeline with them (tolerance 1e-5).

The draws are computed here by a second, independent implementation of the hash that runner/train/augment.cpp
documents (Python integers, no tensors), so the test also checks that the C++ tensor hash is that function.
"""

import sys

import torch
from safetensors.torch import save_file
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as F

MASK32 = 0xFFFFFFFF
MUL1 = 0x7FEB352D
MUL2 = 0x31848BAB
SALT = 0x41554731  # "AUG1"
PAD = 4
CHOICES = 2 * PAD + 1
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
SIZES = [32, 24, 40, 224]  # same size, shrink (antialiased), enlarge, the native ImageNet size


def hash32(x):
    x ^= x >> 16
    x = (x * MUL1) & MASK32
    x ^= x >> 15
    x = (x * MUL2) & MASK32
    x ^= x >> 16
    return x


def halves(v):
    v %= 1 << 64  # two's complement, as the C++ side's uint64 cast
    return v & MASK32, v >> 32


def draw(seed, epoch, index):
    seed_lo, seed_hi = halves(seed)
    epoch_lo, epoch_hi = halves(epoch)
    key = hash32(seed_lo ^ SALT)
    key = hash32(key ^ seed_hi)
    key = hash32(key ^ epoch_lo)
    key = hash32(key ^ epoch_hi)
    index_lo, index_hi = halves(index)
    h = hash32(hash32(key ^ index_lo) ^ index_hi)
    rest = h // CHOICES
    return [h % CHOICES, rest % CHOICES, (rest // CHOICES) & 1]


def reference(image, top, left, flip, size):
    x = F.pad(image, [PAD], fill=0)
    x = F.crop(x, top, left, image.shape[-2], image.shape[-1])
    if flip:
        x = F.horizontal_flip(x)
    return plain(x, size)


def plain(image, size):
    x = F.to_dtype(image, torch.float32, scale=True)
    x = F.resize(x, [size, size], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return F.normalize(x, MEAN, STD)


def main():
    out = sys.argv[1]
    g = torch.Generator().manual_seed(1234)
    images = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8, generator=g)
    images[0] = 255  # a flat image: the padding's zeros show at full contrast
    indices = torch.tensor([5, 0, 3, 7, 3, 1, 6, 2, 4, 0], dtype=torch.int64)
    seed, epoch = 7, 3
    draws = torch.tensor([draw(seed, epoch, int(i)) for i in indices], dtype=torch.int64)
    tensors = {"images": images, "indices": indices, "draws": draws,
               "seed_epoch": torch.tensor([seed, epoch], dtype=torch.int64)}
    # Hand-picked draws covering the corners of the offset range, flipped and not.
    forced = torch.tensor([[0, 0, 0], [8, 8, 1], [0, 8, 1], [8, 0, 0], [4, 4, 1], [2, 7, 0], [4, 4, 0], [1, 3, 1]],
                          dtype=torch.int64)
    tensors["forced_draws"] = forced
    for s in SIZES:
        tensors[f"augmented_{s}"] = torch.stack(
            [reference(images[i], *[int(v) for v in draws[k]], s) for k, i in enumerate(indices.tolist())])
        tensors[f"forced_{s}"] = torch.stack(
            [reference(images[k], *[int(v) for v in forced[k]], s) for k in range(len(images))])
        tensors[f"plain_{s}"] = torch.stack([plain(images[i], s) for i in indices.tolist()])

    # The hash alone, on indices beyond 32 bits and seeds/epochs of every sign and size.
    hash_indices = torch.tensor([0, 1, 2, 49999, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 7, 2**40 + 3,
                                 2**62 + 12345, 2**63 - 1], dtype=torch.int64)
    hash_cases = torch.tensor([[0, 1], [7, 3], [-1, 1], [2**33 + 5, 2**32 + 1], [-(2**63), 2**63 - 1]],
                              dtype=torch.int64)
    tensors["hash_indices"] = hash_indices
    tensors["hash_cases"] = hash_cases
    tensors["hash_draws"] = torch.tensor(
        [[draw(int(c[0]), int(c[1]), int(i)) for i in hash_indices] for c in hash_cases], dtype=torch.int64)
    save_file({k: v.contiguous() for k, v in tensors.items()}, out,
              metadata={"sizes": ",".join(str(s) for s in SIZES), "torch": torch.__version__})


if __name__ == "__main__":
    main()
