// DenseNet-BC (Huang et al., 2016) exactly as torchvision builds it: densenet121/169/201 (growth rate 32)
// and densenet161 (growth rate 48). Inside a dense block every layer sees the concatenation of ALL earlier
// feature maps of the block and adds `growth_rate` new channels to it; transitions between blocks halve the
// channels and the resolution.
//
// Module names follow torchvision (features.conv0, features.denseblock1.denselayer1.norm1, ...,
// features.transition1.conv, features.norm5, classifier), so torchvision's state dicts load key for key once
// its old checkpoint names ("norm.1") are renamed as torchvision renames them ("norm1").
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <array>
#include <vector>

#include "runner/models/classifier.h"

namespace ftbench::models {

// BN -> ReLU -> 1x1 conv (to bn_size * growth_rate channels, the "bottleneck") -> BN -> ReLU -> 3x3 conv
// (to growth_rate channels), applied to the concatenation of the block's input and every earlier layer's
// output. torchvision's memory_efficient=False path (no checkpointing) and drop_rate 0, as its builders use.
class DenseLayerImpl : public torch::nn::Module {
 public:
  DenseLayerImpl(int64_t in_features, int64_t growth_rate, int64_t bn_size);
  at::Tensor forward(const std::vector<at::Tensor>& previous_features);

  // Declared in torchvision's registration order (members are initialised, and so registered, in this order).
  torch::nn::BatchNorm2d norm1{nullptr};
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d norm2{nullptr};
  torch::nn::Conv2d conv2{nullptr};
};
TORCH_MODULE(DenseLayer);

// denselayer1..denselayerN; returns the block's input concatenated with every layer's output.
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t num_layers, int64_t in_features, int64_t bn_size, int64_t growth_rate);
  at::Tensor forward(const at::Tensor& x);

  std::vector<DenseLayer> layers;
};
TORCH_MODULE(DenseBlock);

// BN -> ReLU -> 1x1 conv (halving the channels) -> 2x2/2 average pool, between two dense blocks.
class TransitionImpl : public torch::nn::Module {
 public:
  TransitionImpl(int64_t in_features, int64_t out_features);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::BatchNorm2d norm{nullptr};
  torch::nn::Conv2d conv{nullptr};
  torch::nn::AvgPool2d pool{nullptr};
};
TORCH_MODULE(Transition);

class DenseNet : public Classifier {
 public:
  // `block_config`: layers per dense block, e.g. {6, 12, 24, 16} for densenet121.
  DenseNet(int64_t growth_rate, std::array<int64_t, 4> block_config, int64_t num_init_features,
           int64_t num_classes, int64_t bn_size = 4);

  at::Tensor forward(const at::Tensor& x) override;
  void replace_head(int64_t num_classes) override;

  // conv0, norm0, relu0, pool0, denseblock1, transition1, ..., denseblock4, norm5.
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear classifier{nullptr};
};

}  // namespace ftbench::models
