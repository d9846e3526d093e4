// RegNet (Radosavovic et al., 2020, "Designing Network Design Spaces") exactly as torchvision builds
// regnet_y_400mf and regnet_y_800mf.
//
// RegNet is not one hand-designed network but a rule that produces networks: block widths grow linearly with
// depth (w_0 + w_a * j), are snapped to a geometric ladder of ratio w_m, and rounded to multiples of 8;
// consecutive blocks of equal width form a stage. The "Y" models add Squeeze-and-Excitation to ResNeXt-style
// bottleneck blocks (grouped 3x3 convolutions of a fixed group width). regnet_stage_params() below is that
// rule, computed as torchvision's BlockParams.from_init_params computes it.
//
// Module names follow torchvision (stem.0, trunk_output.block1.block1-0.f.a.0, ..., fc), so torchvision's
// state dicts load key for key.
#include <ATen/ops/arange.h>
#include <ATen/ops/log.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/round.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"  // conv_norm_act, SqueezeExcitation, SequentialBlock, make_divisible

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

using mobile::Act;

// The four numbers that define a RegNet design (plus the group width and the SE ratio of the Y models).
struct RegNetDesign {
  int64_t depth;        // blocks in all
  int64_t w_0;          // initial width
  double w_a;           // width slope per block
  double w_m;           // width multiplier between stages (the log-space quantisation step)
  int64_t group_width;  // channels per group of the 3x3 convolution
  double se_ratio;      // SE squeeze channels as a fraction of the block's input width
};

struct StageParams {
  int64_t width;        // output channels of every block in the stage
  int64_t depth;        // blocks
  int64_t group_width;  // after adjusting it to the width
};

// torchvision's BlockParams.from_init_params. The per-block widths are computed with the same float32 ATen
// ops as the Python (not in double), so every rounding lands where torchvision's does. The stride (2) and the
// bottleneck multiplier (1.0) are the same for every stage of the torchvision models and stay implicit.
std::vector<StageParams> regnet_stage_params(const RegNetDesign& d) {
  constexpr int64_t kQuant = 8;
  // Continuous widths w_0 + w_a * j, their position on the w_m ladder, and the quantised widths.
  const at::Tensor widths_cont = at::arange(d.depth) * d.w_a + d.w_0;
  const at::Tensor capacity = at::round(at::log(widths_cont / d.w_0) / std::log(d.w_m));
  const at::Tensor quantised = at::round(at::pow(d.w_m, capacity) * d.w_0 / kQuant) * kQuant;
  const at::Tensor block_widths = quantised.to(at::kInt).contiguous();

  // Consecutive blocks of equal width form a stage.
  std::vector<StageParams> stages;
  const int32_t* w = block_widths.data_ptr<int32_t>();
  for (int64_t j = 0; j < d.depth; ++j) {
    if (stages.empty() || stages.back().width != w[j]) {
      stages.push_back({w[j], 0, d.group_width});
    }
    ++stages.back().depth;
  }

  // Make the widths and the group widths compatible: the group width cannot exceed the width, and the width
  // must be a multiple of the group width (torchvision's _adjust_widths_groups_compatibilty).
  for (auto& s : stages) {
    s.group_width = std::min(s.group_width, s.width);
    s.width = mobile::make_divisible(static_cast<double>(s.width), s.group_width);
  }
  return stages;
}

// The residual bottleneck block: x + F(x), with F = 1x1 conv -> grouped 3x3 conv (the stride) -> SE ->
// 1x1 conv, each with BatchNorm, ReLU after the first two. A strided 1x1 projection replaces the identity
// where the shape changes.
class ResBottleneckBlockImpl : public nn::Module {
 public:
  ResBottleneckBlockImpl(int64_t width_in, int64_t width_out, int64_t stride, int64_t group_width,
                         double se_ratio) {
    if (width_in != width_out || stride != 1) {
      proj = register_module("proj", mobile::conv_norm_act(width_in, width_out, 1, stride, 1, Act::kNone));
    }
    const int64_t w_b = width_out;  // the bottleneck multiplier is 1.0: no narrowing inside the block
    const int64_t groups = w_b / group_width;
    // The SE width is relative to the block's input width; round() as Python's (half to even).
    const auto se_channels = static_cast<int64_t>(std::nearbyint(se_ratio * static_cast<double>(width_in)));
    f = mobile::SequentialBlock();
    f->push_back("a", mobile::conv_norm_act(width_in, w_b, 1, 1, 1, Act::kReLU));
    f->push_back("b", mobile::conv_norm_act(w_b, w_b, 3, stride, groups, Act::kReLU));
    f->push_back("se", mobile::SqueezeExcitation(w_b, se_channels, Act::kReLU, Act::kSigmoid));
    f->push_back("c", mobile::conv_norm_act(w_b, width_out, 1, 1, 1, Act::kNone));
    register_module("f", f);
  }

  at::Tensor forward(const at::Tensor& x) {
    // The residual connection, as in ResNet: the block learns a correction F(x) to its (projected) input.
    at::Tensor out = proj ? proj->forward(x) + f->forward(x) : x + f->forward(x);
    return at::relu(out);
  }

  mobile::SequentialBlock proj{nullptr};  // null when the shapes already match
  mobile::SequentialBlock f{nullptr};
};
TORCH_MODULE(ResBottleneckBlock);

class RegNet : public Classifier {
 public:
  RegNet(const RegNetDesign& design, int64_t num_classes) {
    constexpr int64_t kStemWidth = 32;
    // The stem: one strided 3x3 conv, BatchNorm, ReLU.
    stem = register_module("stem", mobile::conv_norm_act(3, kStemWidth, 3, 2, 1, Act::kReLU));

    // Four stages, each halving the resolution in its first block. Blocks are named "block<stage>-<i>".
    trunk_output = nn::Sequential();
    int64_t width = kStemWidth;
    const std::vector<StageParams> stages = regnet_stage_params(design);
    for (size_t i = 0; i < stages.size(); ++i) {
      const std::string stage_name = "block" + std::to_string(i + 1);
      mobile::SequentialBlock stage;
      for (int64_t j = 0; j < stages[i].depth; ++j) {
        stage->push_back(stage_name + "-" + std::to_string(j),
                         ResBottleneckBlock(j == 0 ? width : stages[i].width, stages[i].width, j == 0 ? 2 : 1,
                                            stages[i].group_width, design.se_ratio));
      }
      // A std::string by value: a const reference would pick Sequential's private variadic push_back.
      trunk_output->push_back(std::string(stage_name), stage);
      width = stages[i].width;
    }
    register_module("trunk_output", trunk_output);

    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
    fc = register_module("fc", nn::Linear(width, num_classes));

    // torchvision's ResNet-style initialisation: every convolution (the SE's included) normal with
    // std sqrt(2 / (k * k * out_channels)), its bias left as PyTorch initialises it; BatchNorm as the identity;
    // the classifier N(0, 0.01) with zero bias.
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* conv = module->as<nn::Conv2d>()) {
        const auto fan_out =
            static_cast<double>(conv->weight.size(2) * conv->weight.size(3) * conv->options.out_channels());
        nn::init::normal_(conv->weight, 0.0, std::sqrt(2.0 / fan_out));
      } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
        nn::init::ones_(bn->weight);
        nn::init::zeros_(bn->bias);
      } else if (auto* linear = module->as<nn::Linear>()) {
        init_linear(*linear);
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = trunk_output->forward(stem->forward(x));
    out = avgpool->forward(out).flatten(1);
    return fc->forward(out);
  }

  void replace_head(int64_t num_classes) override {
    nn::Linear head(fc->options.in_features(), num_classes);
    init_linear(*head);
    fc = replace_module("fc", head);
  }

  mobile::SequentialBlock stem{nullptr};
  nn::Sequential trunk_output{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Linear fc{nullptr};

 private:
  static void init_linear(nn::LinearImpl& linear) {
    nn::init::normal_(linear.weight, 0.0, 0.01);
    nn::init::zeros_(linear.bias);
  }
};

ModelEntry regnet_entry(const std::string& name, const RegNetDesign& design, const std::string& weights_file,
                        const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [design](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<RegNet>(design, num_classes);
  };
  entry.native_input_size = 224;
  // Five stride-2 steps leave 1x1 at 32, as for ResNet (smaller inputs would run on padding alone).
  entry.min_input_size = 32;
  entry.head = {"fc"};
  entry.stages = {stage("stem")};
  for (size_t i = 0; i < regnet_stage_params(design).size(); ++i) {
    const std::string block = "block" + std::to_string(i + 1);
    entry.stages.push_back(Stage{block, {"trunk_output." + block}});
  }
  entry.stages.push_back(stage("fc"));
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> regnet_family() {
  return {
      regnet_entry("regnet_y_400mf", {16, 48, 27.89, 2.09, 8, 0.25}, "regnet_y_400mf-c65dace8.pth",
                   "RegNet (2020): networks from a searched design rule (linear widths on a log ladder) instead of "
                   "by hand; Y = ResNeXt blocks with SE, 0.4 GFLOPs"),
      regnet_entry("regnet_y_800mf", {14, 56, 38.84, 2.4, 16, 0.25}, "regnet_y_800mf-1b27b58c.pth",
                   "RegNet (2020), the 0.8 GFLOPs point of the same design space"),
  };
}

}  // namespace ftbench::models
