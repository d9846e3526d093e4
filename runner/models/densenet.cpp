#include "runner/models/densenet.h"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include <string>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

DenseLayerImpl::DenseLayerImpl(int64_t in_features, int64_t growth_rate, int64_t bn_size)
    : norm1(register_module("norm1", nn::BatchNorm2d(in_features))),
      conv1(register_module(
          "conv1", nn::Conv2d(nn::Conv2dOptions(in_features, bn_size * growth_rate, /*kernel_size=*/1).bias(false)))),
      norm2(register_module("norm2", nn::BatchNorm2d(bn_size * growth_rate))),
      conv2(register_module("conv2", nn::Conv2d(nn::Conv2dOptions(bn_size * growth_rate, growth_rate,
                                                                  /*kernel_size=*/3)
                                                    .padding(1)
                                                    .bias(false)))) {}

at::Tensor DenseLayerImpl::forward(const std::vector<at::Tensor>& previous_features) {
  // Dense connectivity: this layer reads every feature map the block has produced so far, concatenated on
  // channels, instead of only its predecessor's output. Features are reused rather than relearned, which is
  // why a DenseNet needs far fewer channels per layer (32) than a ResNet.
  at::Tensor concatenated = at::cat(previous_features, /*dim=*/1);
  at::Tensor bottleneck = conv1->forward(at::relu(norm1->forward(concatenated)));
  return conv2->forward(at::relu(norm2->forward(bottleneck)));
}

DenseBlockImpl::DenseBlockImpl(int64_t num_layers, int64_t in_features, int64_t bn_size, int64_t growth_rate) {
  for (int64_t i = 0; i < num_layers; ++i) {
    layers.push_back(register_module("denselayer" + std::to_string(i + 1),
                                     DenseLayer(in_features + i * growth_rate, growth_rate, bn_size)));
  }
}

at::Tensor DenseBlockImpl::forward(const at::Tensor& x) {
  // The block's running list of feature maps grows by growth_rate channels per layer; its output is all of
  // them, so a block with L layers adds L * growth_rate channels to its input.
  std::vector<at::Tensor> features{x};
  for (auto& layer : layers) features.push_back(layer->forward(features));
  return at::cat(features, /*dim=*/1);
}

TransitionImpl::TransitionImpl(int64_t in_features, int64_t out_features)
    : norm(register_module("norm", nn::BatchNorm2d(in_features))),
      conv(register_module("conv",
                           nn::Conv2d(nn::Conv2dOptions(in_features, out_features, /*kernel_size=*/1).bias(false)))),
      pool(register_module("pool", nn::AvgPool2d(nn::AvgPool2dOptions(/*kernel_size=*/2).stride(2)))) {}

at::Tensor TransitionImpl::forward(const at::Tensor& x) {
  return pool->forward(conv->forward(at::relu(norm->forward(x))));
}

DenseNet::DenseNet(int64_t growth_rate, std::array<int64_t, 4> block_config, int64_t num_init_features,
                   int64_t num_classes, int64_t bn_size) {
  // The stem, as in ResNet: a 7x7/2 convolution and a 3x3/2 max pool take 224 to 56x56.
  features = nn::Sequential();
  features->push_back("conv0", nn::Conv2d(nn::Conv2dOptions(3, num_init_features, /*kernel_size=*/7)
                                              .stride(2)
                                              .padding(3)
                                              .bias(false)));
  features->push_back("norm0", nn::BatchNorm2d(num_init_features));
  features->push_back("relu0", nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
  features->push_back("pool0", nn::MaxPool2d(nn::MaxPool2dOptions(/*kernel_size=*/3).stride(2).padding(1)));

  // Four dense blocks; a transition after each but the last halves the channels ("compression", the C of
  // DenseNet-BC) and the resolution.
  int64_t num_features = num_init_features;
  for (size_t i = 0; i < block_config.size(); ++i) {
    const std::string n = std::to_string(i + 1);
    features->push_back("denseblock" + n, DenseBlock(block_config[i], num_features, bn_size, growth_rate));
    num_features += block_config[i] * growth_rate;
    if (i + 1 != block_config.size()) {
      features->push_back("transition" + n, Transition(num_features, num_features / 2));
      num_features /= 2;
    }
  }
  // The last block's output has not been normalised yet (each layer normalises its own input).
  features->push_back("norm5", nn::BatchNorm2d(num_features));
  features = register_module("features", features);
  classifier = register_module("classifier", nn::Linear(num_features, num_classes));

  // torchvision's initialisation: He-normal convolutions (fan_in, ReLU gain), BatchNorm as the identity,
  // zero Linear bias; the Linear weight keeps PyTorch's default, which LibTorch's Linear shares.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<nn::Linear>()) {
      nn::init::zeros_(linear->bias);
    }
  }
}

at::Tensor DenseNet::forward(const at::Tensor& x) {
  at::Tensor out = at::relu(features->forward(x));
  out = at::adaptive_avg_pool2d(out, {1, 1}).flatten(1);
  return classifier->forward(out);
}

void DenseNet::replace_head(int64_t num_classes) {
  // Zero bias as the constructor gives it, so build(1000) + replace_head(K) is torchvision's DenseNet with K
  // classes.
  nn::Linear head(classifier->options.in_features(), num_classes);
  nn::init::zeros_(head->bias);
  classifier = replace_module("classifier", head);
}

namespace {

ModelEntry densenet_entry(const std::string& name, int64_t growth_rate, std::array<int64_t, 4> block_config,
                          int64_t num_init_features, const std::string& weights_file, const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [=](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<DenseNet>(growth_rate, block_config, num_init_features, num_classes);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 29;  // the stem and three transitions leave 1x1 at 29 (torchvision's min_size)
  entry.head = {"classifier"};
  // Stage names drop the "features." prefix: users write freeze:denseblock2.
  auto part = [](const std::string& part_name) { return Stage{part_name, {"features." + part_name}}; };
  entry.stages = {Stage{"stem", {"features.conv0", "features.norm0"}},
                  part("denseblock1"), part("transition1"), part("denseblock2"), part("transition2"),
                  part("denseblock3"), part("transition3"), part("denseblock4"), part("norm5"),
                  stage("classifier")};
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> densenet_family() {
  return {
      densenet_entry("densenet121", 32, {6, 12, 24, 16}, 64, "densenet121-a639ec97.pth",
                     "DenseNet (2016): every layer sees all earlier maps of its block; ResNet accuracy from 8M "
                     "parameters"),
      densenet_entry("densenet161", 48, {6, 12, 36, 24}, 96, "densenet161-8d451a50.pth",
                     "DenseNet-161: growth rate 48, the widest and most accurate DenseNet"),
      densenet_entry("densenet169", 32, {6, 12, 32, 32}, 64, "densenet169-b2777c0a.pth",
                     "DenseNet-169: deeper third and fourth blocks"),
      densenet_entry("densenet201", 32, {6, 12, 48, 32}, 64, "densenet201-c1103571.pth",
                     "DenseNet-201: the deepest torchvision DenseNet"),
  };
}

}  // namespace ftbench::models
