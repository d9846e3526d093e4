// A small float64 classifier without BatchNorm for the step tests: flatten -> Linear(48, 16) -> ReLU ->
// Linear(16, 10), with an optional auxiliary head (Linear(48, 10)) whose logits come out in training mode
// only, like inception_v3's. Real LibTorch modules; the tests train it.
#pragma once

#include <ATen/Functions.h>
#include <torch/nn/modules/linear.h>

#include "runner/models/classifier.h"

namespace ftbench::train::testing {

class TinyNet : public models::Classifier {
 public:
  explicit TinyNet(bool aux) {
    at::manual_seed(3);
    fc1 = register_module("fc1", torch::nn::Linear(48, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 10));
    if (aux) aux_fc = register_module("aux", torch::nn::Linear(48, 10));
    to(at::kDouble);
  }
  at::Tensor forward(const at::Tensor& x) override { return fc2->forward(at::relu(fc1->forward(x.flatten(1)))); }
  models::ClassifierOutput forward_with_aux(const at::Tensor& x) override {
    models::ClassifierOutput out{forward(x), {}};
    if (aux_fc && is_training()) out.aux_logits.push_back(aux_fc->forward(x.flatten(1)));
    return out;
  }
  void replace_head(int64_t num_classes) override {
    fc2 = replace_module("fc2", torch::nn::Linear(16, num_classes));
  }

  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, aux_fc{nullptr};
};

}  // namespace ftbench::train::testing
