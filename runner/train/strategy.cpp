#include "runner/train/strategy.h"

#include <torch/nn/modules/batchnorm.h>

#include <algorithm>

#include "runner/base/error.h"

namespace ftbench::train {
namespace {

constexpr const char* kFreezePrefix = "freeze:";

bool is_batchnorm(const torch::nn::Module& module) {
  return module.as<torch::nn::BatchNorm1d>() != nullptr || module.as<torch::nn::BatchNorm2d>() != nullptr ||
         module.as<torch::nn::BatchNorm3d>() != nullptr;
}

std::string stage_list(const models::ModelEntry& entry) {
  std::string out;
  for (const auto& s : entry.stages) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

}  // namespace


std::vector<ParamRole> param_roles(const torch::nn::Module& model, const models::ModelEntry& entry) {
  std::vector<ParamRole> roles;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    ParamRole role;
    role.name = item.key();
    role.param = item.value();
    role.head = std::any_of(entry.head.begin(), entry.head.end(),
                            [&](const std::string& prefix) { return models::under_prefix(role.name, prefix); });
    role.stage = -1;
    for (std::size_t s = 0; s < entry.stages.size() && role.stage < 0; ++s) {
      for (const auto& prefix : entry.stages[s].prefixes) {
        if (models::under_prefix(role.name, prefix)) role.stage = static_cast<int64_t>(s);
      }
    }
    if (role.stage < 0) {
      throw RuntimeError("parameter " + role.name + " of " + entry.name +
                         " is in none of the registry's stages (" + stage_list(entry) +
                         "); the model registry must place every parameter in a stage");
    }
    roles.push_back(std::move(role));
  }
  return roles;
}

Strategy::Strategy(const std::string& spec, const models::ModelEntry& entry, torch::nn::Module& model,
                   int64_t unfreeze_every)
    : spec_(spec), unfreeze_every_(std::max<int64_t>(1, unfreeze_every)), model_(model),
      roles_(param_roles(model, entry)) {
  if (spec == "full") {
    kind_ = Kind::kFull;
  } else if (spec == "linear_probe") {
    kind_ = Kind::kLinearProbe;
  } else if (spec == "discriminative") {
    kind_ = Kind::kDiscriminative;
  } else if (spec == "gradual") {
    kind_ = Kind::kGradual;
    // Top stage first; a stage whose parameters are all head parameters adds nothing when unfrozen.
    for (auto s = static_cast<int64_t>(entry.stages.size()); s-- > 0;) {
      const bool adds = std::any_of(roles_.begin(), roles_.end(),
                                    [&](const ParamRole& r) { return r.stage == s && !r.head; });
      if (adds) gradual_order_.push_back(s);
    }
  } else if (spec.rfind(kFreezePrefix, 0) == 0) {
    kind_ = Kind::kFreeze;
    const std::string name = spec.substr(std::string(kFreezePrefix).size());
    for (std::size_t s = 0; s < entry.stages.size(); ++s) {
      if (entry.stages[s].name == name) freeze_through_ = static_cast<int64_t>(s);
    }
    if (freeze_through_ < 0) {
      throw InputError("strategy \"" + spec + "\": " + entry.name + " has no stage \"" + name +
                       "\"; its stages, input to output: " + stage_list(entry));
    }
  } else {
    throw InputError("unknown strategy \"" + spec +
                     "\"; expected full, linear_probe, freeze:<stage>, discriminative or gradual");
  }
}

int64_t Strategy::unfrozen_stages(int64_t epoch) const {
  if (kind_ != Kind::kGradual) return 0;
  const int64_t steps = std::max<int64_t>(0, epoch - 1) / unfreeze_every_;
  return std::min<int64_t>(steps, static_cast<int64_t>(gradual_order_.size()));
}

bool Strategy::trains(std::size_t i, int64_t epoch) const {
  const ParamRole& role = roles_[i];
  switch (kind_) {
    case Kind::kFull:
    case Kind::kDiscriminative: return true;
    case Kind::kLinearProbe: return role.head;
    case Kind::kFreeze: return role.head || role.stage > freeze_through_;
    case Kind::kGradual: {
      if (role.head) return true;
      const auto unfrozen = gradual_order_.begin() + unfrozen_stages(epoch);
      return std::find(gradual_order_.begin(), unfrozen, role.stage) != unfrozen;
    }
  }
  return true;
}

bool Strategy::apply(int64_t epoch) {
  std::vector<bool> next(roles_.size());
  for (std::size_t i = 0; i < roles_.size(); ++i) next[i] = trains(i, epoch);
  const bool changed = !applied_ || next != current_;
  for (std::size_t i = 0; i < roles_.size(); ++i) {
    at::Tensor p = roles_[i].param;
    p.set_requires_grad(next[i]);
    // A parameter that stops training must not keep a stale gradient for the optimizer to apply.
    if (!next[i] && p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
  current_ = std::move(next);
  applied_ = true;
  return changed;
}

void Strategy::freeze_batchnorm_statistics() const {
  for (const auto& module : model_.modules(/*include_self=*/false)) {
    if (!is_batchnorm(*module)) continue;
    const auto params = module->parameters(/*recurse=*/false);
    if (params.empty()) continue;  // no affine parameters: nothing says whether it is frozen; it keeps training
    const bool all_frozen =
        std::none_of(params.begin(), params.end(), [](const at::Tensor& p) { return p.requires_grad(); });
    if (all_frozen) module->eval();
  }
}

int64_t Strategy::trainable_count() const {
  int64_t n = 0;
  for (const auto& role : roles_) {
    if (role.param.requires_grad()) n += role.param.numel();
  }
  return n;
}

std::vector<std::string> Strategy::frozen_names() const {
  std::vector<std::string> names;
  for (const auto& role : roles_) {
    if (!role.param.requires_grad()) names.push_back(role.name);
  }
  return names;
}

}  // namespace ftbench::train
