#include "runner/train/step.h"

#include <ATen/autocast_mode.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/types.h>

#include "runner/base/error.h"

namespace ftbench::train {

AutocastBf16::AutocastBf16(bool enabled) : enabled_(enabled) {
  if (!enabled_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
  was_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastBf16::~AutocastBf16() {
  if (!enabled_) return;
  // Leaving the outermost region frees the bf16 copies of the weights that autocast cached for it.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(at::kCUDA, was_enabled_);
  at::autocast::set_autocast_dtype(at::kCUDA, was_dtype_);
}

namespace {

// bf16/fp16 logits (autocast) go to float32 for the loss; float32 and float64 stay as they are.
at::Tensor at_least_fp32(const at::Tensor& logits) {
  return at::isReducedFloatingType(logits.scalar_type()) ? logits.to(at::kFloat) : logits;
}

}  // namespace

Stepper::Stepper(models::Classifier& model, torch::optim::Optimizer& optimizer, StepOptions options)
    : model_(model), optimizer_(optimizer), options_(std::move(options)) {}

double Stepper::step(int64_t k, const std::function<MicroBatch(int64_t)>& micro, int64_t global_images,
                     StepTotals& totals) {
  namespace F = torch::nn::functional;
  const auto ce_options =
      F::CrossEntropyFuncOptions().reduction(torch::kSum).label_smoothing(options_.label_smoothing);
  if (reducer_ == nullptr) optimizer_.zero_grad();
  for (int64_t j = 0; j < k; ++j) {
    const MicroBatch batch = micro(j);
    if (reducer_ != nullptr) {
      if (j + 1 < k) reducer_->prepare_no_sync(/*zero=*/j == 0);
      else reducer_->prepare_step(/*zero=*/j == 0);
    }
    if (batch.x.size(0) == 0) continue;  // no images here this time; the reducer still takes part
    at::Tensor main_loss, loss;
    models::ClassifierOutput out;
    {
      AutocastBf16 autocast(options_.autocast_bf16);
      out = model_.forward_with_aux(batch.x);
      // Losses in float32 (or float64) whatever the forward's dtype.
      main_loss = F::cross_entropy(at_least_fp32(out.logits), batch.y, ce_options);
      loss = main_loss;
      if (out.aux_logits.size() != options_.aux_loss_weights.size() && !out.aux_logits.empty()) {
        throw RuntimeError("the model returned " + std::to_string(out.aux_logits.size()) +
                           " auxiliary outputs but the registry gives " +
                           std::to_string(options_.aux_loss_weights.size()) + " aux_loss_weights");
      }
      for (std::size_t i = 0; i < out.aux_logits.size(); ++i) {
        loss = loss + options_.aux_loss_weights[i] *
                          F::cross_entropy(at_least_fp32(out.aux_logits[i]), batch.y, ce_options);
      }
    }
    if (after_forward) after_forward(j);
    (loss / static_cast<double>(global_images)).backward();
    {
      torch::NoGradGuard no_grad;
      totals.loss_sum += main_loss.detach().to(at::kDouble);
      totals.correct += out.logits.argmax(1).eq(batch.y).sum();
    }
  }
  if (reducer_ != nullptr) {
    if (before_finalize) before_finalize();
    reducer_->finalize();
  }
  if (before_optimizer) before_optimizer();
  double norm = 0;
  if (options_.clip_grad_norm > 0) {
    std::vector<at::Tensor> trainable;
    for (const auto& group : optimizer_.param_groups()) {
      for (const auto& p : group.params()) {
        if (p.requires_grad()) trainable.push_back(p);
      }
    }
    // Every rank holds the same summed gradients here, so every rank computes the same norm and factor.
    norm = torch::nn::utils::clip_grad_norm_(trainable, options_.clip_grad_norm);
  }
  optimizer_.step();
  return norm;
}

}  // namespace ftbench::train
