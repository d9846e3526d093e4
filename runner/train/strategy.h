// train::Strategy: which parameters of a model train in each epoch, and which part (backbone or head) each
// parameter belongs to.
//
//   full            every parameter trains.
//   linear_probe    only the head trains (the registry's `head` prefixes: the layers replaced for 10 classes).
//   freeze:<stage>  every stage up to and including <stage> is frozen (the registry's ordered `stages`); the
//                   later stages and the head train.
//   discriminative  every parameter trains; the optimizer gives the backbone lr x backbone_lr_mult.
//   gradual         epoch 1 is a linear probe; every `unfreeze_every` epochs one more stage trains, from the
//                   top (output side) down. Stages that hold nothing but head parameters are skipped, so
//                   each unfreezing adds parameters.
//
// A frozen parameter has requires_grad = false: autograd gives it no gradient, the gradient reducer is
// built without it, and the optimizer skips it. A BatchNorm layer whose parameters are all frozen normalises
// with its running statistics (eval mode), so a frozen stage is frozen completely, statistics included.
//
// Every rank builds the same model and applies the same strategy, so ranks agree without communicating.
// Thread-safety: none needed; one Strategy per run, used by the training thread.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runner/models/registry.h"

namespace ftbench::train {

// One parameter of the model, in named_parameters() order.
struct ParamRole {
  std::string name;   // torchvision's name, e.g. "layer1.0.conv1.weight"
  at::Tensor param;
  bool head = false;  // under one of the entry's head prefixes
  int64_t stage = 0;  // index into the entry's stages
};

// Every parameter of `model` with its role. Throws RuntimeError naming the parameter if one is in no stage
// (the registry promises every parameter is in exactly one).
std::vector<ParamRole> param_roles(const torch::nn::Module& model, const models::ModelEntry& entry);

class Strategy {
 public:
  // `spec`: "full" | "linear_probe" | "freeze:<stage>" | "discriminative" | "gradual" (checked by the config
  // layer; an unknown one or an unknown stage throws InputError here too, listing the model's stages).
  Strategy(const std::string& spec, const models::ModelEntry& entry, torch::nn::Module& model,
           int64_t unfreeze_every = 1);

  // Sets requires_grad on every parameter for `epoch` (1-based). Returns true when the set of trainable
  // parameters differs from the one before the call (always true on the first call).
  bool apply(int64_t epoch);

  // After model.train(): BatchNorm layers whose parameters are all frozen go to eval mode.
  void freeze_batchnorm_statistics() const;

  // Whether parameter i (in roles() order) trains in `epoch`.
  bool trains(std::size_t i, int64_t epoch) const;

  // Stages trained in `epoch` beyond the head under "gradual" (0 in epoch 1); for tests and messages.
  int64_t unfrozen_stages(int64_t epoch) const;

  const std::vector<ParamRole>& roles() const { return roles_; }
  const std::string& spec() const { return spec_; }
  bool discriminative() const { return kind_ == Kind::kDiscriminative; }
  int64_t trainable_count() const;               // parameters (elements) with requires_grad now
  std::vector<std::string> frozen_names() const;  // names of the parameters frozen now

 private:
  enum class Kind { kFull, kLinearProbe, kFreeze, kDiscriminative, kGradual };

  std::string spec_;
  Kind kind_ = Kind::kFull;
  int64_t freeze_through_ = -1;  // kFreeze: the last frozen stage
  int64_t unfreeze_every_ = 1;
  std::vector<int64_t> gradual_order_;  // kGradual: stage indices to unfreeze, top first
  torch::nn::Module& model_;
  std::vector<ParamRole> roles_;
  std::vector<bool> current_;
  bool applied_ = false;
};

}  // namespace ftbench::train
