// models::Classifier: what the trainer needs from any image classifier in the zoo.
//
// Every architecture is a torch::nn::Module whose module tree, parameter and buffer names are torchvision's,
// so a torchvision state dict matches key for key.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
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

}  // namespace ftbench::models
