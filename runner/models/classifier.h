// models::Classifier: what the trainer needs from any image classifier in the zoo.
//
// Every architecture is a torch::nn::Module whose module tree, parameter and buffer names are torchvision's,
// so a torchvision state dict matches key for key.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <memory>
#include <string>
#include <vector>

namespace ftbench::models {

// What a forward pass returns: the main logits and, for models with auxiliary classifiers (inception_v3's
// AuxLogits, googlenet's aux1/aux2) in training mode, their logits in torchvision's order.
struct ClassifierOutput {
  at::Tensor logits;
  std::vector<at::Tensor> aux_logits;
};

class Classifier : public torch::nn::Module {
 public:
  // Logits [N, num_classes] for a normalised float batch [N, 3, H, W]: the main head only, in any mode.
  virtual at::Tensor forward(const at::Tensor& x) = 0;

  // The main logits plus the auxiliary heads' logits where the model has them and is in training mode.
  // Models without auxiliary heads need not override it.
  virtual ClassifierOutput forward_with_aux(const at::Tensor& x) { return {forward(x), {}}; }

  // Replaces the classification head(s) with freshly initialised ones for `num_classes` outputs, as one
  // does to fine-tune an ImageNet model on CIFAR-10. Auxiliary heads are replaced too.
  virtual void replace_head(int64_t num_classes) = 0;
};

using ClassifierPtr = std::shared_ptr<Classifier>;

// Puts `module` at position `index` of `seq`, in place: both in the list Sequential::forward runs and under
// the child name it was registered with ("6"), so the Sequential handle a model holds stays valid and the
// parameter names stay torchvision's ("classifier.6.weight"). How a head that sits inside a Sequential is
// swapped, as `model.classifier[6] = nn.Linear(4096, 10)` does in Python.
template <typename ModuleType>
void replace_sequential_entry(torch::nn::Sequential& seq, size_t index, torch::nn::ModuleHolder<ModuleType> module) {
  TORCH_CHECK(index < seq->size(), "replace_sequential_entry: index ", index, " is past the Sequential's ",
              seq->size(), " entries");
  *(seq->begin() + static_cast<std::ptrdiff_t>(index)) = torch::nn::AnyModule(module);
  seq->replace_module(std::to_string(index), module.ptr());
}

// Replaces the Linear at `index` of `seq` by a new one with the same inputs and `num_classes` outputs, and
// returns it: LibTorch's default initialisation (PyTorch's), which a model re-initialises where its
// constructor initialises its head otherwise.
inline torch::nn::Linear replace_linear_head(torch::nn::Sequential& seq, size_t index, int64_t num_classes) {
  torch::nn::Linear head(seq->ptr<torch::nn::LinearImpl>(index)->options.in_features(), num_classes);
  replace_sequential_entry(seq, index, head);
  return head;
}

// The shape most of the zoo shares, under torchvision's names: `features`, an adaptive average pool
// (`avgpool`), flatten, then a `classifier` Sequential whose last Linear is the head (alexnet, vgg,
// mobilenet_v3, efficientnet).
class PooledClassifier : public Classifier {
 public:
  at::Tensor forward(const at::Tensor& x) override {
    return classifier->forward(avgpool->forward(features->forward(x)).flatten(1));
  }

  torch::nn::Sequential features{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Sequential classifier{nullptr};
};

}  // namespace ftbench::models
