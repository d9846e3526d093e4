// AlexNet (Krizhevsky, Sutskever and Hinton, 2012) exactly as torchvision builds it: the "one weird trick"
// variant (64-192-384-256-256 convolutions, no local response normalisation, one tower), whose weights
// torchvision ships as alexnet-owt.
//
// Module names follow torchvision (features.0, features.3, ..., classifier.1, classifier.4, classifier.6), so
// torchvision's state dicts load key for key.
#pragma once

#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/pooling.h>

#include <string>

#include "runner/models/classifier.h"

namespace ftbench::models {

// Puts `module` at position `index` of `seq`, in place: both in the list Sequential::forward runs and under
// the child name it was registered with ("6"), so the Sequential handle a model holds stays valid and the
// parameter names stay torchvision's ("classifier.6.weight"). Used to swap a head that sits inside a
// Sequential (alexnet, vgg, squeezenet), as `model.classifier[6] = nn.Linear(4096, 10)` does in Python.
template <typename ModuleType>
void replace_sequential_entry(torch::nn::Sequential& seq, size_t index, torch::nn::ModuleHolder<ModuleType> module) {
  TORCH_CHECK(index < seq->size(), "replace_sequential_entry: index ", index, " is past the Sequential's ",
              seq->size(), " entries");
  *(seq->begin() + static_cast<std::ptrdiff_t>(index)) = torch::nn::AnyModule(module);
  seq->replace_module(std::to_string(index), module.ptr());
}

class AlexNet : public Classifier {
 public:
  explicit AlexNet(int64_t num_classes, double dropout = 0.5);

  at::Tensor forward(const at::Tensor& x) override;
  void replace_head(int64_t num_classes) override;

  torch::nn::Sequential features{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Sequential classifier{nullptr};  // its entry 6 is the head
};

}  // namespace ftbench::models
