// Parameter groups and the optimizer of a run.
//
// Groups: under "discriminative" the backbone (LR x backbone_lr_mult) and the head (LR x 1); otherwise one
// group "all". With no_decay_norm_bias (and weight_decay > 0), each group's 1-D parameters (biases and the
// weights of BatchNorm/LayerNorm) move to a ".no_decay" twin with weight decay 0. Empty groups are dropped.
//
// Every parameter of the model is in exactly one group, frozen ones included: LibTorch's SGD and AdamW skip
// a parameter without a gradient (no update, no weight decay, no state), so a frozen parameter is untouched,
// and when "gradual" unfreezes it, it starts training in its group without rebuilding the optimizer.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "runner/config/config.h"
#include "runner/train/strategy.h"

namespace ftbench::train {

struct ParamGroup {
  std::string name;       // "all", "all.no_decay", "backbone", "backbone.no_decay", "head", "head.no_decay"
  double lr_mult = 1.0;   // the group's LR is the schedule's LR x this
  double weight_decay = 0;
  std::vector<at::Tensor> params;
  std::vector<std::string> names;
};

std::vector<ParamGroup> make_param_groups(const Strategy& strategy, const config::TrainConfig& train);

// sgd (momentum, nesterov; FusedSGD: LibTorch's SGD in ATen's fused kernel, runner/train/fused_sgd.h) or adamw
// (betas 0.9/0.999, eps 1e-8), one optimizer group per ParamGroup, in order.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<ParamGroup>& groups,
                                                        const config::TrainConfig& train);

// Sets optimizer group i's LR to lr x groups[i].lr_mult.
void set_learning_rates(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups, double lr);

// One line for the run record: "backbone lr=0.001 wd=0.0005 trainable=11171712/11171712; head ..." with the
// LRs at base `lr` and the parameters that train now.
std::string describe_groups(const std::vector<ParamGroup>& groups, double lr);

}  // namespace ftbench::train
