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
// A tensor whose parameter, gradient and buffer do not share one dense layout (e.g. a channels_last parameter
// whose gradient is a contiguous view into a reducer bucket) is updated by SGD's per-parameter ops instead.
#pragma once

#include <torch/optim/sgd.h>

#include <vector>

namespace ftbench::train {

class FusedSGD : public torch::optim::SGD {
 public:
  FusedSGD(const std::vector<torch::optim::OptimizerParamGroup>& param_groups, torch::optim::SGDOptions defaults)
      : torch::optim::SGD(param_groups, std::move(defaults)) {}

  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace ftbench::train
