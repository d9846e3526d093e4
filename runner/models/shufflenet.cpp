// ShuffleNet V2 x1.0 (Ma et al., 2018) exactly as torchvision builds it.
//
// ShuffleNet V2 was designed from measured speed rather than FLOPs. Its unit splits the channels in two: one
// half passes through untouched, the other through 1x1 -> depthwise 3x3 -> 1x1 convolutions, and the halves
// are concatenated (a downsampling unit instead feeds the whole input to two branches). Concatenation never
// mixes the halves, so a channel shuffle follows: it interleaves the channels of the two halves so that the
// next unit's split sees both.
//
// Module names follow torchvision (conv1.0.weight, stage2.0.branch1.0.weight, stage3.1.branch2.3.weight,
// conv5.1.running_mean, fc), so torchvision's state dicts load key for key.
#include <ATen/ops/cat.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <string>
#include <vector>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv1x1(int64_t in, int64_t out) { return nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)); }

nn::Conv2d depthwise3x3(int64_t channels, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(channels, channels, 3).stride(stride).padding(1).groups(channels).bias(false));
}

nn::ReLU relu() { return nn::ReLU(nn::ReLUOptions(/*inplace=*/true)); }

// Interleaves `groups` blocks of channels: [a0 a1 .. | b0 b1 ..] -> [a0 b0 a1 b1 ..]. As torchvision does it:
// view as [N, groups, C / groups, H, W], swap the two channel axes, flatten back.
at::Tensor shuffle_channels(const at::Tensor& x, int64_t groups) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  at::Tensor out = x.view({n, groups, c / groups, h, w});
  out = out.transpose(1, 2).contiguous();
  return out.view({n, c, h, w});
}

// The ShuffleNet V2 unit. Stride 1: split the channels, transform one half (branch2), concatenate, shuffle.
// Stride 2: both branches see the whole input and halve the resolution, doubling the channels on
// concatenation.
class ShuffleUnitImpl : public nn::Module {
 public:
  ShuffleUnitImpl(int64_t in, int64_t out, int64_t stride) : stride_(stride) {
    const int64_t branch = out / 2;
    branch1 = register_module("branch1", nn::Sequential());  // empty (and parameterless) for stride 1
    if (stride > 1) {
      branch1->push_back(depthwise3x3(in, stride));
      branch1->push_back(nn::BatchNorm2d(in));
      branch1->push_back(conv1x1(in, branch));
      branch1->push_back(nn::BatchNorm2d(branch));
      branch1->push_back(relu());
    }
    branch2 = register_module(
        "branch2", nn::Sequential(conv1x1(stride > 1 ? in : branch, branch), nn::BatchNorm2d(branch), relu(),
                                  depthwise3x3(branch, stride), nn::BatchNorm2d(branch), conv1x1(branch, branch),
                                  nn::BatchNorm2d(branch), relu()));
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out;
    if (stride_ == 1) {
      std::vector<at::Tensor> halves = x.chunk(2, /*dim=*/1);
      out = at::cat({halves[0], branch2->forward(halves[1])}, /*dim=*/1);
    } else {
      out = at::cat({branch1->forward(x), branch2->forward(x)}, /*dim=*/1);
    }
    return shuffle_channels(out, 2);
  }

  nn::Sequential branch1{nullptr}, branch2{nullptr};

 private:
  int64_t stride_;
};
TORCH_MODULE(ShuffleUnit);

class ShuffleNetV2 : public Classifier {
 public:
  // x1.0: stage2/3/4 repeat 4, 8, 4 units; channels 24 (stem), 116, 232, 464, 1024 (conv5).
  explicit ShuffleNetV2(int64_t num_classes) {
    const std::vector<int64_t> repeats = {4, 8, 4};
    const std::vector<int64_t> channels = {24, 116, 232, 464, 1024};

    conv1 = register_module("conv1", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(3, channels[0], 3)
                                                                   .stride(2)
                                                                   .padding(1)
                                                                   .bias(false)),
                                                     nn::BatchNorm2d(channels[0]), relu()));
    maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));

    // stage2 .. stage4: a downsampling unit, then repeats - 1 units that keep the shape.
    int64_t in = channels[0];
    nn::Sequential* stages[] = {&stage2, &stage3, &stage4};
    for (size_t s = 0; s < 3; ++s) {
      const int64_t out = channels[s + 1];
      nn::Sequential units(ShuffleUnit(in, out, 2));
      for (int64_t i = 1; i < repeats[s]; ++i) units->push_back(ShuffleUnit(out, out, 1));
      *stages[s] = register_module("stage" + std::to_string(s + 2), units);
      in = out;
    }

    conv5 = register_module(
        "conv5", nn::Sequential(conv1x1(in, channels[4]), nn::BatchNorm2d(channels[4]), relu()));
    // torchvision keeps PyTorch's default initialisation for this model, which LibTorch's defaults match.
    fc = register_module("fc", nn::Linear(channels[4], num_classes));
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = maxpool->forward(conv1->forward(x));
    out = stage4->forward(stage3->forward(stage2->forward(out)));
    out = conv5->forward(out).mean({2, 3});  // global average pooling
    return fc->forward(out);
  }

  void replace_head(int64_t num_classes) override {
    fc = replace_module("fc", nn::Linear(fc->options.in_features(), num_classes));
  }

  nn::Sequential conv1{nullptr};
  nn::MaxPool2d maxpool{nullptr};
  nn::Sequential stage2{nullptr}, stage3{nullptr}, stage4{nullptr};
  nn::Sequential conv5{nullptr};
  nn::Linear fc{nullptr};
};

}  // namespace

std::vector<ModelEntry> shufflenet_family() {
  ModelEntry entry;
  entry.name = "shufflenet_v2_x1_0";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<ShuffleNetV2>(num_classes); };
  entry.native_input_size = 224;
  // Five stride-2 steps leave 1x1 at 32, as for ResNet. (Training-mode BatchNorm on that 1x1 map needs two or
  // more images per rank, which ftbench guarantees: it drops a last batch that would give a rank one image.)
  entry.min_input_size = 32;
  entry.head = {"fc"};
  entry.stages = {stage("conv1"), stage("stage2"), stage("stage3"), stage("stage4"), stage("conv5"), stage("fc")};
  entry.weights_file = "shufflenetv2_x1-5666bf0f80.pth";
  entry.note = "ShuffleNet V2 (2018): channel split and channel shuffle, designed from measured speed, not FLOPs";
  return {entry};
}

}  // namespace ftbench::models
