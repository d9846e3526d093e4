// models::Classifier: what the trainer needs from any image classifier in the zoo.
//
// Every architecture is a torch::nn::Module whose module tree, parameter and buffer names are torchvision's,
// so a torchvision state dict matches key for key.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>

namespace ftbench::models {

class Classifier : public torch::nn::Module {
 public:
  // Logits [N, num_classes] for a normalised float batch [N, 3, H, W].
  virtual at::Tensor forward(const at::Tensor& x) = 0;

  // Replaces the classification head with a freshly initialised one for `num_classes` outputs, as one
  // does to fine-tune an ImageNet model on CIFAR-10.
  virtual void replace_head(int64_t num_classes) = 0;
};

using ClassifierPtr = std::shared_ptr<Classifier>;

}  // namespace ftbench::models
