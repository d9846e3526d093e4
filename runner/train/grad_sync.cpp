#include "runner/train/grad_sync.h"

#include <ATen/Functions.h>

namespace ftbench::train {

GradientSync::GradientSync(std::vector<at::Tensor> params) : params_(std::move(params)) {
  int64_t total = 0;
  for (const auto& p : params_) total += p.numel();
  if (!params_.empty()) flat_ = at::zeros({total}, params_.front().options());
}

void GradientSync::all_reduce_sum(dist::Communicator& comm) {
  if (params_.empty() || comm.size() == 1) return;
  int64_t offset = 0;
  for (auto& p : params_) {
    at::Tensor slot = flat_.narrow(0, offset, p.numel());
    if (p.grad().defined()) {
      slot.copy_(p.grad().reshape({-1}));
    } else {
      slot.zero_();
    }
    offset += p.numel();
  }
  comm.all_reduce(flat_, dist::ReduceOp::kSum);
  offset = 0;
  for (auto& p : params_) {
    at::Tensor slot = flat_.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(slot);
    } else {
      p.mutable_grad() = slot.clone();
    }
    offset += p.numel();
  }
}

int64_t GradientSync::bytes() const { return flat_.defined() ? flat_.numel() * flat_.element_size() : 0; }

}  // namespace ftbench::train
