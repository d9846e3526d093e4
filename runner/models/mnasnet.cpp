// MnasNet 1.0 (Tan et al., 2018; torchvision's "B1" variant) exactly as torchvision builds it.
//
// MnasNet was the first network found by searching for accuracy and *measured phone latency* together. Its
// building block is MobileNetV2's inverted residual (1x1 expand -> depthwise k x k -> 1x1 linear projection),
// with the search choosing the kernel size (3 or 5), expansion factor and depth of each stack.
//
// torchvision keeps everything but the classifier in one flat Sequential, `layers` (layers.0 .. layers.16),
// and its BatchNorm momentum is the TensorFlow reference's 0.9997 decay written the PyTorch way (1 - 0.9997).
// Module names follow torchvision (layers.8.0.layers.3.weight, classifier.1, ...), so torchvision's state
// dicts load key for key.
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

constexpr double kBatchNormMomentum = 1.0 - 0.9997;

nn::BatchNorm2d batch_norm(int64_t channels) {
  return nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).momentum(kBatchNormMomentum));
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).groups(groups).bias(false));
}

// The inverted residual, as one Sequential `layers`: 1x1 expand, BN, ReLU (layers.0-2) -> depthwise k x k,
// BN, ReLU (layers.3-5) -> 1x1 linear projection, BN (layers.6-7).
class MnasInvertedResidualImpl : public nn::Module {
 public:
  MnasInvertedResidualImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expansion)
      : use_residual_(in == out && stride == 1) {
    const int64_t mid = in * expansion;
    layers = register_module(
        "layers", mobile::SequentialBlock(conv(in, mid, 1, 1, 1), batch_norm(mid), nn::ReLU(nn::ReLUOptions(true)),
                                 conv(mid, mid, kernel, stride, /*groups=*/mid), batch_norm(mid),
                                 nn::ReLU(nn::ReLUOptions(true)), conv(mid, out, 1, 1, 1), batch_norm(out)));
  }

  at::Tensor forward(const at::Tensor& x) {
    // The shortcut, where the block keeps the shape: output = F(x) + x.
    if (use_residual_) return layers->forward(x) + x;
    return layers->forward(x);
  }

  mobile::SequentialBlock layers{nullptr};

 private:
  bool use_residual_;
};
TORCH_MODULE(MnasInvertedResidual);

// A stack of `repeats` inverted residuals; only the first changes the shape (so it has no shortcut).
mobile::SequentialBlock inverted_residual_stack(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t expansion,
                                       int64_t repeats) {
  mobile::SequentialBlock stack(MnasInvertedResidual(in, out, kernel, stride, expansion));
  for (int64_t i = 1; i < repeats; ++i) stack->push_back(MnasInvertedResidual(out, out, kernel, 1, expansion));
  return stack;
}

class MNASNet : public Classifier {
 public:
  // The channel widths at alpha = 1.0 (torchvision's _get_depths rounds them for other alphas).
  explicit MNASNet(int64_t num_classes, double dropout = 0.2) {
    const std::vector<int64_t> d = {32, 16, 24, 40, 80, 96, 192, 320};
    layers = register_module(
        "layers",
        nn::Sequential(
            // layers.0-2: a regular strided 3x3 convolution.
            conv(3, d[0], 3, 2, 1), batch_norm(d[0]), nn::ReLU(nn::ReLUOptions(true)),
            // layers.3-7: a depthwise separable convolution, no shortcut.
            conv(d[0], d[0], 3, 1, /*groups=*/d[0]), batch_norm(d[0]), nn::ReLU(nn::ReLUOptions(true)),
            conv(d[0], d[1], 1, 1, 1), batch_norm(d[1]),
            // layers.8-13: the searched stacks (in, out, kernel, stride, expansion, repeats).
            inverted_residual_stack(d[1], d[2], 3, 2, 3, 3), inverted_residual_stack(d[2], d[3], 5, 2, 3, 3),
            inverted_residual_stack(d[3], d[4], 5, 2, 6, 3), inverted_residual_stack(d[4], d[5], 3, 1, 6, 2),
            inverted_residual_stack(d[5], d[6], 5, 2, 6, 4), inverted_residual_stack(d[6], d[7], 3, 1, 6, 1),
            // layers.14-16: the 1x1 convolution to the classifier's 1280 features.
            conv(d[7], 1280, 1, 1, 1), batch_norm(1280), nn::ReLU(nn::ReLUOptions(true))));
    classifier = register_module(
        "classifier",
        nn::Sequential(nn::Dropout(nn::DropoutOptions(dropout).inplace(true)), nn::Linear(1280, num_classes)));

    // torchvision's initialisation: He-normal (fan_out) convolutions, BatchNorm as the identity, and a
    // He-uniform (fan_out, gain 1) Linear with zero bias.
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* c = module->as<nn::Conv2d>()) {
        nn::init::kaiming_normal_(c->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
      } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
        nn::init::ones_(bn->weight);
        nn::init::zeros_(bn->bias);
      } else if (auto* linear = module->as<nn::Linear>()) {
        nn::init::kaiming_uniform_(linear->weight, /*a=*/0, torch::kFanOut, torch::kSigmoid);
        nn::init::zeros_(linear->bias);
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    // Global average pooling as torchvision writes it: the mean over H and W.
    at::Tensor out = layers->forward(x).mean({2, 3});
    return classifier->forward(out);
  }

  void replace_head(int64_t num_classes) override { replace_linear_head(classifier, 1, num_classes); }

  nn::Sequential layers{nullptr};
  nn::Sequential classifier{nullptr};
};

}  // namespace

std::vector<ModelEntry> mnasnet_family() {
  ModelEntry entry;
  entry.name = "mnasnet1_0";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<MNASNet>(num_classes); };
  entry.native_input_size = 224;
  // Five stride-2 steps leave 1x1 at 32, as for ResNet. (Training-mode BatchNorm on that 1x1 map needs two or
  // more images per rank, which ftbench guarantees: it drops a last batch that would give a rank one image.)
  entry.min_input_size = 32;
  entry.head = {"classifier.1"};
  // The stem (the strided conv and the separable conv, layers.0-7), the six searched stacks (layers.8 ..
  // layers.13), the last 1x1 conv (layers.14-15), the classifier. ReLUs hold no parameters.
  entry.stages.push_back(Stage{"stem", {"layers.0", "layers.1", "layers.3", "layers.4", "layers.6", "layers.7"}});
  for (int i = 8; i <= 13; ++i) entry.stages.push_back(stage("layers." + std::to_string(i)));
  entry.stages.push_back(Stage{"last_conv", {"layers.14", "layers.15"}});
  entry.stages.push_back(stage("classifier"));
  entry.weights_file = "mnasnet1.0_top1_73.512-f206786ef8.pth";
  entry.note = "MnasNet (2018): the first network searched for accuracy and measured phone latency together";
  return {entry};
}

}  // namespace ftbench::models
