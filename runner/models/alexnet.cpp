#include "runner/models/alexnet.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

nn::ReLU relu() { return nn::ReLU(nn::ReLUOptions(/*inplace=*/true)); }

nn::MaxPool2d overlapping_pool() { return nn::MaxPool2d(nn::MaxPool2dOptions(/*kernel_size=*/3).stride(2)); }

}  // namespace

AlexNet::AlexNet(int64_t num_classes, double dropout) {
  // Five convolutions, the first two and the last followed by overlapping 3x3/2 max pools. The large
  // stride-4 11x11 first layer shrinks a 224 image to 55x55 at once: 2012's GPUs set the budget.
  features = register_module(
      "features", nn::Sequential(conv(3, 64, /*kernel=*/11, /*stride=*/4, /*padding=*/2), relu(),  // 0-1
                                 overlapping_pool(),                                            // 2
                                 conv(64, 192, 5, 1, 2), relu(), overlapping_pool(),            // 3-5
                                 conv(192, 384, 3, 1, 1), relu(),                               // 6-7
                                 conv(384, 256, 3, 1, 1), relu(),                               // 8-9
                                 conv(256, 256, 3, 1, 1), relu(), overlapping_pool()));         // 10-12
  // A fixed 6x6 grid whatever the input size, so the 9216-wide classifier fits every input >= 63.
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({6, 6})));
  // Two 4096-wide hidden layers, each behind dropout: the regulariser AlexNet introduced to large nets.
  classifier = register_module(
      "classifier", nn::Sequential(nn::Dropout(dropout), nn::Linear(256 * 6 * 6, 4096), relu(),  // 0-2
                                   nn::Dropout(dropout), nn::Linear(4096, 4096), relu(),          // 3-5
                                   nn::Linear(4096, num_classes)));                               // 6: head
  // torchvision keeps PyTorch's default initialisation here, which LibTorch's layers share.
}

void AlexNet::replace_head(int64_t num_classes) { replace_linear_head(classifier, 6, num_classes); }

std::vector<ModelEntry> alexnet_family() {
  ModelEntry entry;
  entry.name = "alexnet";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<AlexNet>(num_classes); };
  entry.native_input_size = 224;
  entry.min_input_size = 63;  // the stride-4 conv and three 3x3/2 pools leave 1x1 at 63 (torchvision's min_size)
  entry.head = {"classifier.6"};
  entry.stages = {Stage{"conv1", {"features.0"}}, Stage{"conv2", {"features.3"}}, Stage{"conv3", {"features.6"}},
                  Stage{"conv4", {"features.8"}}, Stage{"conv5", {"features.10"}}, stage("classifier")};
  entry.weights_file = "alexnet-owt-7be5be79.pth";
  entry.note = "AlexNet (2012): ReLU, dropout and two GPUs won ImageNet by a wide margin and started deep learning's "
               "era in vision";
  return {entry};
}

}  // namespace ftbench::models
