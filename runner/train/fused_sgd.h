// train::FusedSGD: torch::optim::SGD's update, done by ATen's fused multi-tensor kernel (_fused_sgd_).
//
// Why: LibTorch's SGD::step updates one parameter at a time with 3-4 separate ops, each a full pass over the
// parameter, and allocates a temporary for the weight-decayed gradient. The fused kernel reads parameter,
// gradient and momentum buffer once and writes parameter and buffer once, for a whole group's list of
// tensors (on the CPU it is ~2x faster for resnet18's 11M parameters; PyTorch offers it as SGD(fused=True)).
//
// Contract: the same math, options and state as torch::optim::SGD, so it is a drop-in subclass:
//   d = grad + weight_decay * p;  buf = d on a parameter's first step, else momentum * buf + (1 - dampening) * d;
//   d = nesterov ? d + momentum * buf : buf;  p -= lr * d
// Parameters without a gradient are skipped (no update, no state), as SGD does. The momentum buffers live in
// the optimizer's state as SGDParamState, under SGD's keys, so save/load and SGD's own step see the same state.
// The kernel walks parameter, gradient and buffer as flat arrays, so they must share one dense layout: strides
// equal wherever a dimension has more than one element (a 1x1 conv weight is both contiguous and channels_last,
// whatever the strides of its size-1 dimensions say). A gradient in another layout (a channels_last parameter
// whose .grad was replaced by a contiguous tensor) is copied into the parameter's layout first. Only a
// parameter that is not dense itself is updated by SGD's per-parameter ops.
#pragma once

#include <torch/optim/sgd.h>

#include <vector>

namespace ftbench::train {

// Whether a and b are dense tensors of the same sizes whose elements lie at the same offsets.
bool same_dense_layout(const at::Tensor& a, const at::Tensor& b);

class FusedSGD : public torch::optim::SGD {
 public:
  FusedSGD(const std::vector<torch::optim::OptimizerParamGroup>& param_groups, torch::optim::SGDOptions defaults)
      : torch::optim::SGD(param_groups, std::move(defaults)) {}

  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace ftbench::train
