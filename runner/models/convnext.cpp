// ConvNeXt (Liu et al., 2022, "A ConvNet for the 2020s") exactly as torchvision builds convnext_tiny.
//
// ConvNeXt is a ResNet modernised step by step with the design choices of the Swin Transformer, to show
// that they, not attention, made the difference: a 4x4 "patchify" stem, stage depths 3-3-9-3, a large 7x7
// depthwise convolution as the spatial mixer (in the place of window attention), an inverted bottleneck
// MLP (1x -> 4x -> 1x) with GELU, LayerNorm instead of BatchNorm, separate 2x2 strided downsampling layers,
// a learnt per-channel layer scale on each residual branch, and stochastic depth.
//
// Module names follow torchvision (features.0.0, features.1.0.block.0, features.1.0.layer_scale, ...,
// classifier.2), so torchvision's state dicts load key for key.
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/zeros.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>

#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"  // stochastic_depth, SequentialBlock
#include "runner/models/modern_blocks.h"  // trunc_normal_, permute_module

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

constexpr double kLayerNormEps = 1e-6;

// torchvision's LayerNorm2d: LayerNorm over the channels of an NCHW map (each pixel normalised on its own),
// done by moving the channels last and back.
class LayerNorm2dImpl : public nn::Module {
 public:
  explicit LayerNorm2dImpl(int64_t channels) : channels_(channels) {
    weight = register_parameter("weight", at::ones({channels}));
    bias = register_parameter("bias", at::zeros({channels}));
  }

  at::Tensor forward(const at::Tensor& x) {
    return at::layer_norm(x.permute({0, 2, 3, 1}), {channels_}, weight, bias, kLayerNormEps).permute({0, 3, 1, 2});
  }

  at::Tensor weight, bias;

 private:
  int64_t channels_;
};
TORCH_MODULE(LayerNorm2d);

// The ConvNeXt block: x + SD(layer_scale * F(x)), F = 7x7 depthwise conv -> (NHWC) LayerNorm -> Linear to 4C
// -> GELU -> Linear back to C -> (NCHW).
class CNBlockImpl : public nn::Module {
 public:
  CNBlockImpl(int64_t dim, double layer_scale_init, double stochastic_depth_prob)
      : stochastic_depth_prob_(stochastic_depth_prob) {
    block = register_module(
        "block", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(dim, dim, /*kernel_size=*/7).padding(3).groups(dim)),
                                modern::permute_module({0, 2, 3, 1}),
                                nn::LayerNorm(nn::LayerNormOptions({dim}).eps(kLayerNormEps)),
                                nn::Linear(dim, 4 * dim), nn::GELU(), nn::Linear(4 * dim, dim),
                                modern::permute_module({0, 3, 1, 2})));
    // Starts at 1e-6: every block begins close to the identity, which keeps the deep network stable early in
    // training.
    layer_scale = register_parameter("layer_scale", at::ones({dim, 1, 1}) * layer_scale_init);
  }

  at::Tensor forward(const at::Tensor& input) {
    at::Tensor result = layer_scale * block->forward(input);
    result = mobile::stochastic_depth(result, stochastic_depth_prob_, is_training());
    // The residual connection.
    result += input;
    return result;
  }

  nn::Sequential block{nullptr};
  at::Tensor layer_scale;  // [C, 1, 1]

 private:
  double stochastic_depth_prob_;  // torchvision's StochasticDepth(p, "row")
};
TORCH_MODULE(CNBlock);

// One entry of torchvision's block_setting: a stage of `layers` blocks at `channels`, followed by a
// downsampling layer to `out_channels` (0 for the last stage, which has none).
struct StageSetting {
  int64_t channels;
  int64_t out_channels;
  int64_t layers;
};

class ConvNeXt : public Classifier {
 public:
  ConvNeXt(const std::vector<StageSetting>& settings, double stochastic_depth_prob, int64_t num_classes) {
    constexpr double kLayerScale = 1e-6;
    features = nn::Sequential();
    // features.0, the stem: a 4x4 convolution with stride 4 ("patchify", as in ViT and Swin) and LayerNorm.
    const int64_t stem_channels = settings.front().channels;
    features->push_back(
        mobile::SequentialBlock(nn::Conv2d(nn::Conv2dOptions(3, stem_channels, /*kernel_size=*/4).stride(4)),
                       LayerNorm2d(stem_channels)));

    // The stages, each followed by LayerNorm + a 2x2 stride-2 convolution, except the last. Stochastic depth
    // grows linearly with the block's position in the whole network, from 0 to stochastic_depth_prob.
    int64_t total_blocks = 0;
    for (const auto& s : settings) total_blocks += s.layers;
    int64_t block_id = 0;
    int64_t last_channels = stem_channels;
    for (const auto& s : settings) {
      mobile::SequentialBlock stage;
      for (int64_t j = 0; j < s.layers; ++j) {
        const double sd_prob =
            stochastic_depth_prob * static_cast<double>(block_id) / (static_cast<double>(total_blocks) - 1.0);
        stage->push_back(CNBlock(s.channels, kLayerScale, sd_prob));
        ++block_id;
      }
      features->push_back(stage);
      last_channels = s.channels;
      if (s.out_channels > 0) {
        features->push_back(mobile::SequentialBlock(
            LayerNorm2d(s.channels),
            nn::Conv2d(nn::Conv2dOptions(s.channels, s.out_channels, /*kernel_size=*/2).stride(2))));
        last_channels = s.out_channels;
      }
    }
    register_module("features", features);

    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    classifier = register_module(
        "classifier",
        nn::Sequential(LayerNorm2d(last_channels), nn::Flatten(nn::FlattenOptions().start_dim(1)),
                       nn::Linear(last_channels, num_classes)));

    // torchvision's initialisation: convolutions and Linears truncated normal with std 0.02, zero bias.
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* conv = module->as<nn::Conv2d>()) {
        init_weight_and_bias(conv->weight, conv->bias);
      } else if (auto* linear = module->as<nn::Linear>()) {
        init_weight_and_bias(linear->weight, linear->bias);
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    return classifier->forward(avgpool->forward(features->forward(x)));
  }

  // classifier.2 only: the classifier's LayerNorm (classifier.0) keeps its pretrained weights.
  void replace_head(int64_t num_classes) override {
    nn::Linear head = replace_linear_head(classifier, 2, num_classes);
    init_weight_and_bias(head->weight, head->bias);
  }

  nn::Sequential features{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Sequential classifier{nullptr};

 private:
  static void init_weight_and_bias(at::Tensor& weight, at::Tensor& bias) {
    modern::trunc_normal_(weight, 0.02);
    if (bias.defined()) nn::init::zeros_(bias);
  }
};

}  // namespace

std::vector<ModelEntry> convnext_family() {
  const std::vector<StageSetting> tiny = {{96, 192, 3}, {192, 384, 3}, {384, 768, 9}, {768, 0, 3}};
  ModelEntry entry;
  entry.name = "convnext_tiny";
  entry.build = [tiny](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<ConvNeXt>(tiny, /*stochastic_depth_prob=*/0.1, num_classes);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 32;  // the 4x4 stem and three 2x2 downsamplings leave 1x1 at 32 (torchvision's min_size)
  entry.head = {"classifier.2"};
  // The stem (features.0), the four stages (features.1, .3, .5, .7) with the downsampling layers between them
  // (features.2, .4, .6), the classifier's LayerNorm, the head.
  for (int i = 0; i <= 7; ++i) entry.stages.push_back(stage("features." + std::to_string(i)));
  entry.stages.push_back(stage("classifier.0"));
  entry.stages.push_back(stage("classifier.2"));
  entry.weights_file = "convnext_tiny-983f1562.pth";
  entry.note = "ConvNeXt (2022): a ResNet modernised with the Transformer's design choices (7x7 depthwise, "
               "LayerNorm, GELU); a pure CNN that matches Swin";
  return {entry};
}

}  // namespace ftbench::models
