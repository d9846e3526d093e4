// How an epoch's training images are ordered and split across ranks.
//
// Each epoch has one global order: a permutation seeded by (seed, epoch), identical on every rank. It is cut
// into global batches of `batch_size` images (the last one may be smaller), and each global batch is split
// into `world_size` contiguous, disjoint parts, one per rank, sized as evenly as possible. Every training
// image is seen exactly once per epoch, by exactly one rank.
//
// Test images are split the same way, once: rank r evaluates one contiguous range, the ranges cover the test
// split exactly, with no padding duplicates.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ftbench::train {

// [begin, end) of rank `rank`'s part of `count` items split across `world_size` ranks.
struct Range {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
Range split_evenly(int64_t count, int rank, int world_size);

// A 64-bit mix of the inputs (splitmix64 finaliser). The basis of every per-sample random decision, so that
// randomness depends on (seed, epoch, global sample index) and never on the rank or the world size.
uint64_t mix64(uint64_t a, uint64_t b = 0, uint64_t c = 0);

// The global order of `count` training images in `epoch` (int64 CPU tensor), the same on every rank.
at::Tensor epoch_permutation(int64_t count, int64_t seed, int64_t epoch);

// Number of global batches in an epoch (the last one may be partial).
int64_t batches_per_epoch(int64_t count, int64_t batch_size);

}  // namespace ftbench::train
