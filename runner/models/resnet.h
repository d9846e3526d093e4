// ResNet (He et al., 2015) exactly as torchvision builds it: resnet18/34 from BasicBlock, resnet50/101/152
// from Bottleneck (torchvision's "ResNet v1.5": the stride sits on the 3x3 conv), and the two Bottleneck
// variants torchvision builds from the same class: ResNeXt (grouped 3x3 convolutions) and Wide ResNet
// (twice the channels inside each block).
//
// Module names follow torchvision (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, ..., fc), so
// torchvision's state dicts load key for key.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <vector>

#include "runner/models/classifier.h"

namespace ftbench::models {

// The two-conv block of resnet18/34.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  static const int kResidualLine;  // the line of resnet.cpp that adds the shortcut (for `ftbench inspect`)
  BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, torch::nn::Sequential downsample);
  at::Tensor forward(const at::Tensor& x);

  // Declared (so registered) in torchvision's order: conv1, bn1, conv2, bn2, downsample.
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};  // null when the shapes already match
};
TORCH_MODULE(BasicBlock);

// The 1x1 -> 3x3 -> 1x1 block of resnet50 and deeper.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  static const int kResidualLine;
  // `groups` and `base_width` widen the 3x3 conv: width = planes * base_width / 64 * groups (ResNeXt, Wide
  // ResNet); 1 and 64 give the plain Bottleneck.
  BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride, torch::nn::Sequential downsample,
                 int64_t groups = 1, int64_t base_width = 64);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Conv2d conv3{nullptr};
  torch::nn::BatchNorm2d bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

enum class BlockKind { kBasic, kBottleneck };

class ResNet : public Classifier {
 public:
  // `layers`: blocks per stage, e.g. {2, 2, 2, 2} for resnet18. `groups`/`width_per_group` as in
  // torchvision: 32/4 for resnext50_32x4d, 1/128 for wide_resnet50_2.
  ResNet(BlockKind block, std::vector<int64_t> layers, int64_t num_classes, int64_t groups = 1,
         int64_t width_per_group = 64);

  at::Tensor forward(const at::Tensor& x) override;
  void replace_head(int64_t num_classes) override;

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Linear fc{nullptr};

 private:
  torch::nn::Sequential make_stage(BlockKind block, int64_t planes, int64_t blocks, int64_t stride);
  int64_t in_planes_ = 64;
  int64_t groups_ = 1;
  int64_t base_width_ = 64;
};

}  // namespace ftbench::models
