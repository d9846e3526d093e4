#include "runner/models/squeezenet.h"

#include <ATen/ops/cat.h>
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/pooling.h>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv1x1(int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, /*kernel_size=*/1)); }

nn::MaxPool2d pool() { return nn::MaxPool2d(nn::MaxPool2dOptions(/*kernel_size=*/3).stride(2).ceil_mode(true)); }

// torchvision's initialisation of the final convolution, different from the others: small N(0, 0.01)
// weights, so the ImageNet logits start near zero. Bias zero like every convolution here.
void init_final_conv(nn::Conv2dImpl& conv) {
  nn::init::normal_(conv.weight, /*mean=*/0.0, /*std=*/0.01);
  nn::init::zeros_(conv.bias);
}

}  // namespace

FireImpl::FireImpl(int64_t in_planes, int64_t squeeze_planes, int64_t expand1x1_planes, int64_t expand3x3_planes)
    : squeeze(register_module("squeeze", conv1x1(in_planes, squeeze_planes))),
      expand1x1(register_module("expand1x1", conv1x1(squeeze_planes, expand1x1_planes))),
      expand3x3(register_module(
          "expand3x3",
          nn::Conv2d(nn::Conv2dOptions(squeeze_planes, expand3x3_planes, /*kernel_size=*/3).padding(1)))) {}

at::Tensor FireImpl::forward(const at::Tensor& x) {
  // The squeeze layer cuts the channels (e.g. 128 -> 16) before the costly 3x3s see them: most of
  // SqueezeNet's 50x saving over AlexNet comes from here and from using 1x1s for half the expand filters.
  at::Tensor s = at::relu(squeeze->forward(x));
  return at::cat({at::relu(expand1x1->forward(s)), at::relu(expand3x3->forward(s))}, /*dim=*/1);
}

SqueezeNet::SqueezeNet(int64_t num_classes, double dropout) {
  // Version 1.1: a 3x3/2 first convolution and earlier pools than 1.0, for 2.4x less computation at the
  // same accuracy. The paper's names in the comments: conv1, fire2..fire9.
  features = register_module(
      "features", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, 64, /*kernel_size=*/3).stride(2)),  // 0: conv1
                                 nn::ReLU(nn::ReLUOptions(/*inplace=*/true)), pool(),                  // 1-2
                                 Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),                   // 3-5
                                 Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),              // 6-8
                                 Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),                      // 9-10
                                 Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)));                    // 11-12
  // No Linear layer: a 1x1 convolution makes a class map (conv10), averaged over the image to logits.
  nn::Conv2d final_conv = conv1x1(512, num_classes);
  classifier = register_module(
      "classifier", nn::Sequential(nn::Dropout(dropout), final_conv, nn::ReLU(nn::ReLUOptions(true)),
                                   nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1}))));

  // torchvision's initialisation: He-uniform convolutions (fan_in, PyTorch's default gain) with zero bias,
  // except the final convolution.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      if (conv == final_conv.get()) {
        init_final_conv(*conv);
      } else {
        nn::init::kaiming_uniform_(conv->weight);
        nn::init::zeros_(conv->bias);
      }
    }
  }
}

at::Tensor SqueezeNet::forward(const at::Tensor& x) { return classifier->forward(features->forward(x)).flatten(1); }

void SqueezeNet::replace_head(int64_t num_classes) {
  // Initialised as the constructor initialises the final convolution, so build(1000) + replace_head(K) is
  // torchvision's SqueezeNet with K classes.
  nn::Conv2d head = conv1x1(512, num_classes);
  init_final_conv(*head);
  replace_sequential_entry(classifier, 1, head);
}

std::vector<ModelEntry> squeezenet_family() {
  ModelEntry entry;
  entry.name = "squeezenet1_1";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<SqueezeNet>(num_classes); };
  entry.native_input_size = 224;
  entry.min_input_size = 17;  // the 3x3/2 conv and three ceil-mode 3x3/2 pools leave 1x1 at 17 (torchvision's)
  entry.head = {"classifier.1"};
  entry.stages = {Stage{"conv1", {"features.0"}},  Stage{"fire2", {"features.3"}},  Stage{"fire3", {"features.4"}},
                  Stage{"fire4", {"features.6"}},  Stage{"fire5", {"features.7"}},  Stage{"fire6", {"features.9"}},
                  Stage{"fire7", {"features.10"}}, Stage{"fire8", {"features.11"}}, Stage{"fire9", {"features.12"}},
                  stage("classifier")};
  entry.weights_file = "squeezenet1_1-b8a52dc0.pth";
  entry.note = "SqueezeNet (2016): AlexNet accuracy from 1.2M parameters via 1x1 'squeeze' convolutions; "
               "the first model built for small size";
  return {entry};
}

}  // namespace ftbench::models
