#include "runner/train/sharding.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/randperm.h>

namespace ftbench::train {

Range split_evenly(int64_t count, int rank, int world_size) {
  const int64_t base = count / world_size;
  const int64_t extra = count % world_size;  // the first `extra` ranks take one more
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

uint64_t mix64(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL ^
               (c + 0x8CB92BA72F3D8DD7ULL) * 0x94D049BB133111EBULL;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

at::Tensor epoch_permutation(int64_t count, int64_t seed, int64_t epoch) {
  // A generator of our own, seeded from (seed, epoch): the order never depends on what else consumed the
  // global generator before.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
      mix64(static_cast<uint64_t>(seed), static_cast<uint64_t>(epoch), /*c=*/0x5045524dULL /* "PERM" */));
  return at::randperm(count, generator, at::TensorOptions().dtype(at::kLong));
}

int64_t batches_per_epoch(int64_t count, int64_t batch_size) { return (count + batch_size - 1) / batch_size; }

}  // namespace ftbench::train
