// models::summarize: what `ftbench inspect` prints about a model, measured on one forward pass.
//
// LibTorch's C++ modules have no forward hooks, so the pass is observed through ATen's RecordFunction
// callbacks: every convolution, linear and normalisation op is attributed to the module that owns its weight
// tensor (by tensor identity), which gives each module with weights its output shape and multiply-adds.
// Matrix products without weights (attention's q·kᵀ and ·v) count towards the total only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/models/classifier.h"
#include "runner/models/registry.h"

namespace ftbench::models {

struct ModuleSummary {
  std::string name;                 // "" for the root, then torchvision's dotted names
  std::string type;                 // LibTorch's module name, e.g. "torch::nn::Conv2d" shortened to "Conv2d"
  int depth = 0;                    // 0 for the root
  std::vector<int64_t> output;      // output shape of the module's last op with weights; empty when none ran
  int64_t params = 0;               // parameters directly in this module and below
  int64_t macs = 0;                 // multiply-adds of the ops attributed to this module and below
};

struct StageSummary {
  std::string name;
  int64_t params = 0;
  int64_t trainable = 0;
};

struct ModelSummary {
  std::vector<ModuleSummary> modules;  // pre-order, the root first
  std::vector<StageSummary> stages;
  int64_t params_total = 0;
  int64_t params_trainable = 0;
  int64_t macs = 0;                    // all multiply-adds of one forward pass of one image
  std::vector<int64_t> logits;         // shape of the output
};

// Runs `model` once in eval mode on a zero image [1, 3, input_size, input_size] and summarises it.
ModelSummary summarize(Classifier& model, const ModelEntry& entry, int64_t input_size);

}  // namespace ftbench::models
