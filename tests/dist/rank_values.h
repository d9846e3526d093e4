// Test data for all-reduce tests: what each rank contributes, and the sum over ranks in closed form.
#pragma once

#include <ATen/Functions.h>

#include <cstdint>

namespace ftbench::dist::testing {

// Rank r contributes r + 1 + (i mod 64) at element i: small integers whose sums over three ranks stay below
// 256, so they are exact in every tested dtype, bfloat16 (8 significant bits) included.
inline at::Tensor contribution(int rank, int64_t n, at::ScalarType dtype) {
  return (at::arange(n, at::TensorOptions().dtype(at::kLong)).remainder(64) + (rank + 1)).to(dtype);
}

// The sum of every rank's contribution over a world of `world` ranks.
inline at::Tensor expected_sum(int world, int64_t n, at::ScalarType dtype) {
  at::Tensor total = at::zeros({n}, at::TensorOptions().dtype(at::kLong));
  for (int r = 0; r < world; ++r) total += contribution(r, n, at::kLong);
  return total.to(dtype);
}

}  // namespace ftbench::dist::testing
