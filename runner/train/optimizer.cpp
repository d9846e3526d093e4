#include "runner/train/optimizer.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cstdio>

#include "runner/base/error.h"
#include "runner/train/fused_sgd.h"

namespace ftbench::train {

std::vector<ParamGroup> make_param_groups(const Strategy& strategy, const config::TrainConfig& train) {
  const bool split_parts = strategy.discriminative();
  const bool split_decay = train.no_decay_norm_bias && train.weight_decay > 0;
  // Fixed order: backbone before head, decayed before not.
  std::vector<ParamGroup> groups(4);
  for (std::size_t part = 0; part < 2; ++part) {
    for (std::size_t decay = 0; decay < 2; ++decay) {
      ParamGroup& g = groups[part * 2 + decay];
      g.name = split_parts ? (part == 0 ? "backbone" : "head") : "all";
      if (decay == 1) g.name += ".no_decay";
      g.lr_mult = split_parts && part == 0 ? train.backbone_lr_mult : 1.0;
      g.weight_decay = decay == 1 ? 0.0 : train.weight_decay;
    }
  }
  for (const ParamRole& role : strategy.roles()) {
    const std::size_t part = split_parts && role.head ? 1 : 0;
    const std::size_t decay = split_decay && role.param.dim() <= 1 ? 1 : 0;
    groups[part * 2 + decay].params.push_back(role.param);
    groups[part * 2 + decay].names.push_back(role.name);
  }
  std::vector<ParamGroup> kept;
  for (auto& g : groups) {
    if (!g.params.empty()) kept.push_back(std::move(g));
  }
  return kept;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<ParamGroup>& groups,
                                                        const config::TrainConfig& train) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  if (train.optimizer == "sgd") {
    for (const auto& g : groups) {
      auto options = std::make_unique<torch::optim::SGDOptions>(train.lr * g.lr_mult);
      options->momentum(train.momentum).nesterov(train.nesterov).weight_decay(g.weight_decay);
      param_groups.emplace_back(g.params, std::move(options));
    }
    torch::optim::SGDOptions defaults(train.lr);
    defaults.momentum(train.momentum).nesterov(train.nesterov).weight_decay(train.weight_decay);
    return std::make_unique<FusedSGD>(param_groups, defaults);
  }
  if (train.optimizer == "adamw") {
    for (const auto& g : groups) {
      auto options = std::make_unique<torch::optim::AdamWOptions>(train.lr * g.lr_mult);
      options->betas({0.9, 0.999}).eps(1e-8).weight_decay(g.weight_decay);
      param_groups.emplace_back(g.params, std::move(options));
    }
    torch::optim::AdamWOptions defaults(train.lr);
    defaults.betas({0.9, 0.999}).eps(1e-8).weight_decay(train.weight_decay);
    return std::make_unique<torch::optim::AdamW>(param_groups, defaults);
  }
  throw InputError("unknown optimizer \"" + train.optimizer + "\"; expected sgd or adamw");
}

void set_learning_rates(torch::optim::Optimizer& optimizer, const std::vector<ParamGroup>& groups, double lr) {
  auto& param_groups = optimizer.param_groups();
  for (std::size_t i = 0; i < param_groups.size() && i < groups.size(); ++i) {
    param_groups[i].options().set_lr(lr * groups[i].lr_mult);
  }
}

std::string describe_groups(const std::vector<ParamGroup>& groups, double lr) {
  std::string out;
  for (const auto& g : groups) {
    int64_t total = 0, trainable = 0;
    for (const auto& p : g.params) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    char text[160];
    std::snprintf(text, sizeof text, "%s lr=%g wd=%g trainable=%lld/%lld", g.name.c_str(), lr * g.lr_mult,
                  g.weight_decay, static_cast<long long>(trainable), static_cast<long long>(total));
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out;
}

}  // namespace ftbench::train
