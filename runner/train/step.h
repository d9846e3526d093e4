// train::Stepper: one optimiser step of data-parallel training over k micro-batches.
//
// Per micro-batch j of k: forward (main + auxiliary logits; bf16 autocast on CUDA when asked), loss =
// (SUM over this rank's images of CE(main) + sum_i w_i CE(aux_i)) / (images in the whole step, all ranks
// and micro-batches together), backward. Summed over ranks and micro-batches, the gradient is exactly that
// of the mean loss over the step's images: k micro-batches of b images are one batch of k*b (up to
// floating-point summation order), at any world size. Gradients are all-reduced once per step: the first
// k-1 backwards run without communication (GradientReducer::prepare_no_sync), the last one launches the
// buckets as backward produces them. Then clipping (global L2 norm over every trainable gradient, after the
// all-reduce, so every rank clips identically) and the optimizer step.
//
// Thread-safety: none; the training thread owns it. The reducer, if any, must be built over exactly the
// parameters that require grad (rebuild it and call set_reducer when they change).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "dist/gradient_reducer.h"
#include "runner/models/classifier.h"

namespace ftbench::train {

struct StepOptions {
  double label_smoothing = 0;
  double clip_grad_norm = 0;             // 0 = no clipping
  std::vector<double> aux_loss_weights;  // one per auxiliary head (registry); used in training mode only
  bool autocast_bf16 = false;            // CUDA autocast to bfloat16 around forward + loss
};

struct MicroBatch {
  at::Tensor x;  // normalised float [B, 3, H, W] on the model's device
  at::Tensor y;  // int64 [B]
};

// Running sums over an epoch, on the model's device: the main head's loss (float64) and correct count.
struct StepTotals {
  at::Tensor loss_sum, correct;
};

// RAII: CUDA autocast to bfloat16 while alive (nothing when `enabled` is false). Thread-local state.
class AutocastBf16 {
 public:
  explicit AutocastBf16(bool enabled);
  ~AutocastBf16();
  AutocastBf16(const AutocastBf16&) = delete;
  AutocastBf16& operator=(const AutocastBf16&) = delete;

 private:
  bool enabled_;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kHalf;
};

class Stepper {
 public:
  Stepper(models::Classifier& model, torch::optim::Optimizer& optimizer, StepOptions options);

  // nullptr: gradients are not communicated (world size 1 on MPI).
  void set_reducer(dist::GradientReducer* reducer) { reducer_ = reducer; }

  // One optimiser step over `k` micro-batches; `micro(j)` makes micro-batch j (this rank's images, which
  // may be none). `global_images`: the images of the whole step over all ranks, the loss's divisor. Adds
  // each micro-batch's main-head loss sum and correct count to `totals`. Returns the gradients' global L2
  // norm before clipping when clip_grad_norm > 0, else 0.
  double step(int64_t k, const std::function<MicroBatch(int64_t)>& micro, int64_t global_images,
              StepTotals& totals);

  // Called after micro-batch j's forward and loss, before its backward (fault injection).
  std::function<void(int64_t)> after_forward;
  // Called after the last backward, before the reducer's wait (so that the wait times communication only).
  std::function<void()> before_finalize;
  // Called after the gradients are final (all-reduced), before clipping and the optimizer step (timing).
  std::function<void()> before_optimizer;

 private:
  models::Classifier& model_;
  torch::optim::Optimizer& optimizer_;
  StepOptions options_;
  dist::GradientReducer* reducer_ = nullptr;
};

}  // namespace ftbench::train
