#include "runner/train/fused_sgd.h"

#include <ATen/ops/_fused_sgd.h>
#include <c10/core/GradMode.h>

#include <memory>

namespace ftbench::train {
namespace {

bool fusable(const at::Tensor& p, const at::Tensor& grad) {
  return p.is_floating_point() && grad.scalar_type() == p.scalar_type() && grad.device() == p.device() &&
         p.is_non_overlapping_and_dense() && !grad.is_sparse() && grad.sizes() == p.sizes();
}

// One parameter, as SGD::step does it.
void plain_update(const at::Tensor& p, at::Tensor& buf, bool first, const torch::optim::SGDOptions& o) {
  at::Tensor d = p.grad();
  if (o.weight_decay() != 0) d = d.add(p, o.weight_decay());
  if (o.momentum() != 0) {
    if (first) buf.copy_(d);
    else buf.mul_(o.momentum()).add_(d, 1 - o.dampening());
    d = o.nesterov() ? d.add(buf, o.momentum()) : buf;
  }
  p.add_(d, -o.lr());
}

}  // namespace

bool same_dense_layout(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || !a.is_non_overlapping_and_dense() || !b.is_non_overlapping_and_dense()) return false;
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;  // a size-1 dim's stride is never used
  }
  return true;
}

torch::Tensor FusedSGD::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    const bool momentum = o.momentum() != 0;
    // Lists for the kernel: parameters whose buffers exist already, and those taking their first step.
    std::vector<at::Tensor> params[2], grads[2], bufs[2];
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      at::Tensor buf;
      bool first = false;
      if (momentum) {
        void* const key = p.unsafeGetTensorImpl();  // SGD's key for a parameter's state
        auto it = state_.find(key);
        if (it == state_.end()) {
          auto state = std::make_unique<torch::optim::SGDParamState>();
          state->momentum_buffer(at::empty_like(p));  // same layout as p; filled by the first step
          it = state_.emplace(key, std::move(state)).first;
          first = true;
        }
        buf = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
      }
      if (!fusable(p, p.grad()) || (momentum && !same_dense_layout(buf, p))) {
        plain_update(p, buf, first, o);
        continue;
      }
      // The kernel walks the three tensors' memory in step, so the gradient must be laid out as the parameter.
      // A gradient in another layout (a channels_last weight whose .grad someone replaced with a contiguous
      // tensor) is copied once into the parameter's layout: one pass, where SGD's ops would take four.
      at::Tensor grad = p.grad();
      if (!same_dense_layout(grad, p)) grad = at::empty_like(p).copy_(grad);
      params[first].push_back(p);
      grads[first].push_back(grad);
      if (momentum) bufs[first].push_back(buf);
    }
    for (int first = 0; first < 2; ++first) {
      if (params[first].empty()) continue;
      // The kernel needs one device and dtype per call; a model's trainable parameters have both.
      at::_fused_sgd_(params[first], grads[first], bufs[first], o.weight_decay(), o.momentum(), o.lr(),
                      o.dampening(), o.nesterov(), /*maximize=*/false, /*is_first_step=*/first == 1);
    }
  }
  return loss;
}

}  // namespace ftbench::train
