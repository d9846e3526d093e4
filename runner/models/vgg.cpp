#include "runner/models/vgg.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

constexpr int64_t M = kVggMaxPool;

// The paper's configurations, by torchvision's letters: only 3x3 convolutions, channels doubling after each
// pool from 64 to 512. Depth is the one thing that changes between them.
const std::vector<int64_t> kConfigA = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};  // vgg11
const std::vector<int64_t> kConfigB = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};  // vgg13
const std::vector<int64_t> kConfigD = {64,  64,  M,   128, 128, M,   256, 256, 256, M,
                                       512, 512, 512, M,   512, 512, 512, M};  // vgg16
const std::vector<int64_t> kConfigE = {64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
                                       512, 512, 512, 512, M,   512, 512, 512, 512, M};  // vgg19

// torchvision's head initialisation: small Gaussian weights and zero bias.
void init_linear(nn::LinearImpl& linear) {
  nn::init::normal_(linear.weight, /*mean=*/0.0, /*std=*/0.01);
  nn::init::zeros_(linear.bias);
}

// The `features` Sequential: conv(3x3, pad 1) [+ BatchNorm] + ReLU per channel entry, a 2x2/2 max pool per
// kVggMaxPool. Entries are numbered as torchvision numbers them, ReLUs and pools included.
nn::Sequential make_features(const std::vector<int64_t>& config, bool batch_norm) {
  nn::Sequential features;
  int64_t in_channels = 3;
  for (int64_t v : config) {
    if (v == kVggMaxPool) {
      features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(/*kernel_size=*/2).stride(2)));
      continue;
    }
    features->push_back(nn::Conv2d(nn::Conv2dOptions(in_channels, v, /*kernel_size=*/3).padding(1)));
    if (batch_norm) features->push_back(nn::BatchNorm2d(v));
    features->push_back(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
    in_channels = v;
  }
  return features;
}

// block1..block5: the convolutions (and BatchNorms) between two pools, as `features.N` prefixes, then the
// classifier. The numbering walks the configuration exactly as make_features builds it.
std::vector<Stage> vgg_stages(const std::vector<int64_t>& config, bool batch_norm) {
  std::vector<Stage> stages;
  Stage block{"block1", {}};
  int64_t index = 0;
  for (int64_t v : config) {
    if (v == kVggMaxPool) {
      ++index;
      stages.push_back(block);
      block = Stage{"block" + std::to_string(stages.size() + 1), {}};
      continue;
    }
    block.prefixes.push_back("features." + std::to_string(index++));
    if (batch_norm) block.prefixes.push_back("features." + std::to_string(index++));
    ++index;  // the ReLU
  }
  stages.push_back(stage("classifier"));
  return stages;
}

}  // namespace

VGG::VGG(const std::vector<int64_t>& config, bool batch_norm, int64_t num_classes, double dropout) {
  features = register_module("features", make_features(config, batch_norm));
  // Five pools take 224 to 7x7; the adaptive pool gives 7x7 for any input >= 32, so the classifier's
  // 25088-wide first layer fits small CIFAR-sized inputs too (a 32 input's 1x1 map is replicated 49 times).
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({7, 7})));
  // AlexNet's classifier, with dropout after each hidden layer rather than before it.
  classifier = register_module(
      "classifier",
      nn::Sequential(nn::Linear(512 * 7 * 7, 4096), nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(dropout),  // 0-2
                     nn::Linear(4096, 4096), nn::ReLU(nn::ReLUOptions(true)), nn::Dropout(dropout),       // 3-5
                     nn::Linear(4096, num_classes)));                                                     // 6

  // torchvision's initialisation: He-normal (fan_out) convolutions with zero bias, BatchNorm as the identity,
  // N(0, 0.01) linear layers with zero bias.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
      nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<nn::Linear>()) {
      init_linear(*linear);
    }
  }
}

void VGG::replace_head(int64_t num_classes) {
  // Initialised as the constructor initialises it, so build(1000) + replace_head(K) is torchvision's VGG
  // with K classes.
  init_linear(*replace_linear_head(classifier, 6, num_classes));
}

namespace {

ModelEntry vgg_entry(const std::string& name, const std::vector<int64_t>& config, bool batch_norm,
                     const std::string& weights_file, const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [config, batch_norm](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<VGG>(config, batch_norm, num_classes);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 32;  // five 2x2/2 pools leave 1x1 at 32 (torchvision's min_size)
  entry.head = {"classifier.6"};
  entry.stages = vgg_stages(config, batch_norm);
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> vgg_family() {
  return {
      vgg_entry("vgg11", kConfigA, false, "vgg11-8a719046.pth",
                "VGG (2014): depth from stacked 3x3 convolutions alone; 11 layers, 133M parameters"),
      vgg_entry("vgg11_bn", kConfigA, true, "vgg11_bn-6002323d.pth",
                "VGG-11 with BatchNorm (2015) after every convolution: the same net, easier to train"),
      vgg_entry("vgg13", kConfigB, false, "vgg13-19584684.pth", "VGG (2014), 13 layers"),
      vgg_entry("vgg13_bn", kConfigB, true, "vgg13_bn-abd245e5.pth", "VGG-13 with BatchNorm"),
      vgg_entry("vgg16", kConfigD, false, "vgg16-397923af.pth",
                "VGG-16 (2014): ILSVRC 2014 runner-up and for years the default feature extractor"),
      vgg_entry("vgg16_bn", kConfigD, true, "vgg16_bn-6c64b313.pth", "VGG-16 with BatchNorm"),
      vgg_entry("vgg19", kConfigE, false, "vgg19-dcbb9e9d.pth",
                "VGG (2014), 19 layers: where plain stacking stopped paying off, before ResNet"),
      vgg_entry("vgg19_bn", kConfigE, true, "vgg19_bn-c79401a0.pth", "VGG-19 with BatchNorm"),
  };
}

}  // namespace ftbench::models
