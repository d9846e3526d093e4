// Exact distributed evaluation: every test image is evaluated exactly once, by one rank, and the loss, the
// confusion matrix and the top-5 hits are summed over ranks into exact totals.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

#include "dist/communicator.h"
#include "runner/models/classifier.h"
#include "runner/train/augment.h"

namespace ftbench::train {

inline constexpr int kClasses = 10;

struct EvalResult {
  double loss = 0;      // mean cross-entropy over the whole test split
  double accuracy = 0;  // top-1, in [0, 1]
  double accuracy5 = 0; // top-5 (the true class among the 5 highest logits), in [0, 1]
  int64_t count = 0;    // test images evaluated, all ranks together
  std::array<std::array<int64_t, kClasses>, kClasses> confusion{};  // [true][predicted]
};

// `images` uint8 [N,3,32,32] and `labels` int64 [N], both on the model's device. Collective.
EvalResult evaluate(models::Classifier& model, const at::Tensor& images, const at::Tensor& labels,
                    const BatchSpec& spec, int64_t batch_size, dist::Communicator& comm);

}  // namespace ftbench::train
