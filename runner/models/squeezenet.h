// SqueezeNet 1.1 (Iandola et al., 2016) exactly as torchvision builds it: AlexNet-level accuracy from 1.2M
// parameters, built of Fire modules (a 1x1 "squeeze" convolution feeding parallel 1x1 and 3x3 "expand"
// convolutions) and a fully convolutional head with no Linear layer at all.
//
// Module names follow torchvision (features.3.squeeze, features.3.expand1x1, ..., classifier.1), so
// torchvision's state dicts load key for key.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include "runner/models/classifier.h"

namespace ftbench::models {

// squeeze (1x1, few channels) -> ReLU -> [expand1x1 -> ReLU | expand3x3 -> ReLU] concatenated on channels.
class FireImpl : public torch::nn::Module {
 public:
  FireImpl(int64_t in_planes, int64_t squeeze_planes, int64_t expand1x1_planes, int64_t expand3x3_planes);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d squeeze{nullptr}, expand1x1{nullptr}, expand3x3{nullptr};
};
TORCH_MODULE(Fire);

class SqueezeNet : public Classifier {
 public:
  explicit SqueezeNet(int64_t num_classes, double dropout = 0.5);

  at::Tensor forward(const at::Tensor& x) override;
  void replace_head(int64_t num_classes) override;

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential classifier{nullptr};  // its entry 1, a 1x1 convolution, is the head
};

}  // namespace ftbench::models
