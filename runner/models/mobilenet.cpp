// MobileNetV2 (Sandler et al., 2018) and MobileNetV3 (Howard et al., 2019) exactly as torchvision builds them.
//
// Both are stacks of inverted residual blocks: a 1x1 convolution expands the channels, a depthwise 3x3 (or
// 5x5) convolution filters each channel on its own, and a linear 1x1 convolution projects back to a narrow
// output; the shortcut joins the narrow ends. Depthwise filtering costs k*k multiplies per channel instead of
// k*k*C, which is what makes these networks cheap enough for phones. V3 adds squeeze-excitation in some
// blocks, hardswish activations, and a block list found by architecture search.
//
// Module names follow torchvision (features.0.0.weight, features.1.conv.0.0.weight, features.4.block.2.fc1,
// classifier.1, ...), so torchvision's state dicts load key for key.
#include <ATen/ops/flatten.h>

#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"

namespace ftbench::models {
namespace nn = torch::nn;
using mobile::Act;

namespace {

// ---------------------------------------------------------------------------------------------------------
// MobileNetV2

// V2's inverted residual: [1x1 expand, ReLU6] (skipped when the expansion factor is 1) -> depthwise 3x3,
// ReLU6 -> 1x1 linear projection + BatchNorm. No activation after the projection: the paper's point is that
// ReLU on the narrow bottleneck destroys information.
class InvertedResidualV2Impl : public nn::Module {
 public:
  InvertedResidualV2Impl(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio)
      : use_residual_(stride == 1 && in == out) {
    const int64_t hidden = in * expand_ratio;  // torchvision: int(round(inp * expand_ratio)) with integer t
    mobile::SequentialBlock layers;
    if (expand_ratio != 1) layers->push_back(mobile::conv_norm_act(in, hidden, 1, 1, 1, Act::kReLU6));
    layers->push_back(mobile::conv_norm_act(hidden, hidden, 3, stride, /*groups=*/hidden, Act::kReLU6));
    layers->push_back(nn::Conv2d(nn::Conv2dOptions(hidden, out, 1).bias(false)));
    layers->push_back(nn::BatchNorm2d(out));
    conv = register_module("conv", layers);
  }

  at::Tensor forward(const at::Tensor& x) {
    // The shortcut joins the narrow ends of the block (same stride and width): output = x + F(x).
    if (use_residual_) return x + conv->forward(x);
    return conv->forward(x);
  }

  mobile::SequentialBlock conv{nullptr};

 private:
  bool use_residual_;
};
TORCH_MODULE(InvertedResidualV2);

class MobileNetV2 : public Classifier {
 public:
  explicit MobileNetV2(int64_t num_classes, double dropout = 0.2) {
    // t: expansion factor, c: output channels, n: blocks, s: stride of the first block.
    struct Row {
      int64_t t, c, n, s;
    };
    const std::vector<Row> setting = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                      {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int64_t in = 32;
    const int64_t last_channel = 1280;

    features = nn::Sequential();
    features->push_back(mobile::conv_norm_act(3, in, 3, /*stride=*/2, 1, Act::kReLU6));
    for (const Row& row : setting) {
      for (int64_t i = 0; i < row.n; ++i) {
        features->push_back(InvertedResidualV2(in, row.c, i == 0 ? row.s : 1, row.t));
        in = row.c;
      }
    }
    features->push_back(mobile::conv_norm_act(in, last_channel, 1, 1, 1, Act::kReLU6));
    register_module("features", features);

    classifier = register_module("classifier", nn::Sequential(nn::Dropout(nn::DropoutOptions(dropout)),
                                                               nn::Linear(last_channel, num_classes)));
    mobile::init_mobile_weights(*this, mobile::LinearInit::kNormal001);
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = features->forward(x);
    out = at::adaptive_avg_pool2d(out, {1, 1}).flatten(1);
    return classifier->forward(out);
  }

  void replace_head(int64_t num_classes) override { replace_linear_head(classifier, 1, num_classes); }

  nn::Sequential features{nullptr};
  nn::Sequential classifier{nullptr};
};

// ---------------------------------------------------------------------------------------------------------
// MobileNetV3

// One row of the V3 paper's Tables 1 and 2 (channels already multiplied by the width, 1.0 here).
struct BlockConfigV3 {
  int64_t in;
  int64_t kernel;
  int64_t expanded;
  int64_t out;
  bool use_se;
  bool hardswish;  // "HS" in the tables; "RE" (ReLU) otherwise
  int64_t stride;
};

// V3's BatchNorm follows the TensorFlow reference: eps 1e-3, momentum 0.01.
constexpr mobile::NormSettings kNormV3{/*eps=*/0.001, /*momentum=*/0.01};

// V3's inverted residual: [1x1 expand] (skipped when it would not change the width) -> depthwise k x k ->
// [squeeze-excitation] -> 1x1 linear projection, with ReLU or hardswish inside.
class InvertedResidualV3Impl : public nn::Module {
 public:
  explicit InvertedResidualV3Impl(const BlockConfigV3& c) : use_residual_(c.stride == 1 && c.in == c.out) {
    const Act act = c.hardswish ? Act::kHardswish : Act::kReLU;
    mobile::SequentialBlock layers;
    if (c.expanded != c.in) layers->push_back(mobile::conv_norm_act(c.in, c.expanded, 1, 1, 1, act, kNormV3));
    layers->push_back(mobile::conv_norm_act(c.expanded, c.expanded, c.kernel, c.stride, c.expanded, act, kNormV3));
    if (c.use_se) {
      const int64_t squeeze = mobile::make_divisible(static_cast<double>(c.expanded / 4), 8);
      layers->push_back(mobile::SqueezeExcitation(c.expanded, squeeze, Act::kReLU, Act::kHardsigmoid));
    }
    layers->push_back(mobile::conv_norm_act(c.expanded, c.out, 1, 1, 1, Act::kNone, kNormV3));
    block = register_module("block", layers);
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out = block->forward(x);
    if (use_residual_) out += x;  // the shortcut: output = F(x) + x
    return out;
  }

  mobile::SequentialBlock block{nullptr};

 private:
  bool use_residual_;
};
TORCH_MODULE(InvertedResidualV3);

class MobileNetV3 : public PooledClassifier {
 public:
  MobileNetV3(const std::vector<BlockConfigV3>& setting, int64_t last_channel, int64_t num_classes,
              double dropout = 0.2) {
    const int64_t first = setting.front().in;
    features = nn::Sequential();
    features->push_back(mobile::conv_norm_act(3, first, 3, /*stride=*/2, 1, Act::kHardswish, kNormV3));
    for (const BlockConfigV3& c : setting) features->push_back(InvertedResidualV3(c));
    const int64_t last_in = setting.back().out;
    const int64_t last_out = 6 * last_in;
    features->push_back(mobile::conv_norm_act(last_in, last_out, 1, 1, 1, Act::kHardswish, kNormV3));
    register_module("features", features);

    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    classifier = register_module(
        "classifier", nn::Sequential(nn::Linear(last_out, last_channel), mobile::activation_module(Act::kHardswish),
                                     nn::Dropout(nn::DropoutOptions(dropout).inplace(true)),
                                     nn::Linear(last_channel, num_classes)));
    mobile::init_mobile_weights(*this, mobile::LinearInit::kNormal001);
  }

  void replace_head(int64_t num_classes) override { replace_linear_head(classifier, 3, num_classes); }
};

// {in, kernel, expanded, out, SE, hardswish, stride}: the paper's Table 1 (large) and Table 2 (small).
std::vector<BlockConfigV3> v3_large_setting() {
  return {{16, 3, 16, 16, false, false, 1},    {16, 3, 64, 24, false, false, 2},
          {24, 3, 72, 24, false, false, 1},    {24, 5, 72, 40, true, false, 2},
          {40, 5, 120, 40, true, false, 1},    {40, 5, 120, 40, true, false, 1},
          {40, 3, 240, 80, false, true, 2},    {80, 3, 200, 80, false, true, 1},
          {80, 3, 184, 80, false, true, 1},    {80, 3, 184, 80, false, true, 1},
          {80, 3, 480, 112, true, true, 1},    {112, 3, 672, 112, true, true, 1},
          {112, 5, 672, 160, true, true, 2},   {160, 5, 960, 160, true, true, 1},
          {160, 5, 960, 160, true, true, 1}};
}

std::vector<BlockConfigV3> v3_small_setting() {
  return {{16, 3, 16, 16, true, false, 2},  {16, 3, 72, 24, false, false, 2}, {24, 3, 88, 24, false, false, 1},
          {24, 5, 96, 40, true, true, 2},   {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
          {40, 5, 120, 48, true, true, 1},  {48, 5, 144, 48, true, true, 1},  {48, 5, 288, 96, true, true, 2},
          {96, 5, 576, 96, true, true, 1},  {96, 5, 576, 96, true, true, 1}};
}

// Stages: every entry of `features` (the stem features.0, each inverted residual block, the last 1x1 conv),
// then the classifier.
std::vector<Stage> feature_stages(size_t num_features) {
  std::vector<Stage> stages;
  for (size_t i = 0; i < num_features; ++i) stages.push_back(stage("features." + std::to_string(i)));
  stages.push_back(stage("classifier"));
  return stages;
}

ModelEntry mobilenet_entry(const std::string& name, std::function<ClassifierPtr(int64_t)> build,
                           std::string head, size_t num_features, const std::string& weights_file,
                           const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = std::move(build);
  entry.native_input_size = 224;
  // Five stride-2 steps leave 1x1 at 32, as for ResNet. (Training-mode BatchNorm on that 1x1 map needs two or
  // more images per rank, which ftbench guarantees: it drops a last batch that would give a rank one image.)
  entry.min_input_size = 32;
  entry.head = {std::move(head)};
  entry.stages = feature_stages(num_features);
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> mobilenet_family() {
  return {
      mobilenet_entry(
          "mobilenet_v2", [](int64_t k) -> ClassifierPtr { return std::make_shared<MobileNetV2>(k); },
          "classifier.1", 19, "mobilenet_v2-b0353104.pth",
          "MobileNetV2 (2018): inverted residuals with depthwise convolutions and linear bottlenecks; 3.5M "
          "parameters"),
      mobilenet_entry(
          "mobilenet_v3_small",
          [](int64_t k) -> ClassifierPtr { return std::make_shared<MobileNetV3>(v3_small_setting(), 1024, k); },
          "classifier.3", 13, "mobilenet_v3_small-047dcff4.pth",
          "MobileNetV3 (2019), small: blocks found by architecture search, squeeze-excitation, hardswish"),
      mobilenet_entry(
          "mobilenet_v3_large",
          [](int64_t k) -> ClassifierPtr { return std::make_shared<MobileNetV3>(v3_large_setting(), 1280, k); },
          "classifier.3", 17, "mobilenet_v3_large-8738ca79.pth",
          "MobileNetV3 (2019), large: the searched mobile network, 74% ImageNet top-1 with 5.5M parameters"),
  };
}

}  // namespace ftbench::models
