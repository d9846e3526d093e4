// EfficientNet B0-B3 (Tan & Le, 2019) exactly as torchvision builds them.
//
// B0 is a searched stack of MBConv blocks (MobileNetV2's inverted residual plus squeeze-excitation, with SiLU
// activations). B1-B3 are not searched again: they scale B0 by "compound scaling", multiplying the channels
// by a width factor and the blocks per stage by a depth factor (and the input resolution, which here is the
// user's choice). Training regularises with dropout before the head and stochastic depth on the residual
// branches, its drop probability growing linearly from 0 at the first block to 0.2 at the last.
//
// Module names follow torchvision (features.0.0.weight, features.2.1.block.2.fc1.weight, classifier.1, ...),
// so torchvision's state dicts load key for key.
#include <ATen/ops/flatten.h>

#include <cmath>
#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"

namespace ftbench::models {
namespace nn = torch::nn;
using mobile::Act;

namespace {

// One stage of B0 (the paper's Table 1), before width and depth scaling.
struct StageConfig {
  double expand_ratio;
  int64_t kernel;
  int64_t stride;  // of the stage's first block; the others have stride 1
  int64_t in;
  int64_t out;
  int64_t blocks;
};

const std::vector<StageConfig>& b0_stages() {
  static const std::vector<StageConfig> stages = {
      {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
      {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
  };
  return stages;
}

int64_t scale_channels(int64_t channels, double width_mult) {
  return mobile::make_divisible(static_cast<double>(channels) * width_mult, 8);
}

int64_t scale_depth(int64_t blocks, double depth_mult) {
  return static_cast<int64_t>(std::ceil(static_cast<double>(blocks) * depth_mult));
}

// MBConv: [1x1 expand, SiLU] (skipped when the expansion factor is 1) -> depthwise k x k, SiLU ->
// squeeze-excitation -> 1x1 linear projection. Where shapes allow, the block is residual, and stochastic
// depth drops its branch for whole samples in training.
class MBConvImpl : public nn::Module {
 public:
  MBConvImpl(double expand_ratio, int64_t kernel, int64_t stride, int64_t in, int64_t out,
             double stochastic_depth_prob)
      : use_residual_(stride == 1 && in == out), stochastic_depth_prob_(stochastic_depth_prob) {
    const int64_t expanded = mobile::make_divisible(static_cast<double>(in) * expand_ratio, 8);
    mobile::SequentialBlock layers;
    if (expanded != in) layers->push_back(mobile::conv_norm_act(in, expanded, 1, 1, 1, Act::kSiLU));
    layers->push_back(mobile::conv_norm_act(expanded, expanded, kernel, stride, /*groups=*/expanded, Act::kSiLU));
    // EfficientNet's SE squeezes to a quarter of the block's input width (not of the expanded width).
    const int64_t squeeze = std::max<int64_t>(1, in / 4);
    layers->push_back(mobile::SqueezeExcitation(expanded, squeeze, Act::kSiLU, Act::kSigmoid));
    layers->push_back(mobile::conv_norm_act(expanded, out, 1, 1, 1, Act::kNone));
    block = register_module("block", layers);
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor out = block->forward(x);
    if (use_residual_) {
      out = mobile::stochastic_depth(out, stochastic_depth_prob_, is_training());
      out += x;  // the shortcut: output = F(x) + x, with F(x) dropped for some samples in training
    }
    return out;
  }

  mobile::SequentialBlock block{nullptr};

 private:
  bool use_residual_;
  double stochastic_depth_prob_;
};
TORCH_MODULE(MBConv);

class EfficientNet : public PooledClassifier {
 public:
  EfficientNet(double width_mult, double depth_mult, double dropout, int64_t num_classes,
               double stochastic_depth_prob = 0.2) {
    const std::vector<StageConfig>& stages = b0_stages();
    int64_t total_blocks = 0;
    for (const StageConfig& s : stages) total_blocks += scale_depth(s.blocks, depth_mult);

    const int64_t stem_out = scale_channels(stages.front().in, width_mult);
    features = nn::Sequential();
    features->push_back(mobile::conv_norm_act(3, stem_out, 3, /*stride=*/2, 1, Act::kSiLU));

    // features.1 .. features.7: one Sequential per stage. The drop probability of block b (counted over the
    // whole network) is stochastic_depth_prob * b / total_blocks.
    int64_t block_id = 0;
    for (const StageConfig& s : stages) {
      const int64_t in = scale_channels(s.in, width_mult);
      const int64_t out = scale_channels(s.out, width_mult);
      mobile::SequentialBlock stage_blocks;
      for (int64_t i = 0, n = scale_depth(s.blocks, depth_mult); i < n; ++i) {
        const double sd_prob = stochastic_depth_prob * static_cast<double>(block_id) / static_cast<double>(total_blocks);
        stage_blocks->push_back(MBConv(s.expand_ratio, s.kernel, i == 0 ? s.stride : 1, i == 0 ? in : out, out, sd_prob));
        ++block_id;
      }
      features->push_back(stage_blocks);
    }

    const int64_t last_in = scale_channels(stages.back().out, width_mult);
    const int64_t last_out = 4 * last_in;
    features->push_back(mobile::conv_norm_act(last_in, last_out, 1, 1, 1, Act::kSiLU));
    register_module("features", features);

    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    classifier = register_module("classifier", nn::Sequential(nn::Dropout(nn::DropoutOptions(dropout).inplace(true)),
                                                               nn::Linear(last_out, num_classes)));
    mobile::init_mobile_weights(*this, mobile::LinearInit::kUniformOutFeatures);
  }

  void replace_head(int64_t num_classes) override { replace_linear_head(classifier, 1, num_classes); }
};

ModelEntry efficientnet_entry(const std::string& name, double width_mult, double depth_mult, double dropout,
                              const std::string& weights_file, const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [=](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<EfficientNet>(width_mult, depth_mult, dropout, num_classes);
  };
  entry.native_input_size = 224;
  // Five stride-2 steps leave 1x1 at 32, as for ResNet. (Training-mode BatchNorm on that 1x1 map needs two or
  // more images per rank, which ftbench guarantees: it drops a last batch that would give a rank one image.)
  entry.min_input_size = 32;
  entry.head = {"classifier.1"};
  // The stem (features.0), the seven MBConv stages (features.1 .. features.7), the last 1x1 conv
  // (features.8), the classifier.
  for (int i = 0; i <= 8; ++i) entry.stages.push_back(stage("features." + std::to_string(i)));
  entry.stages.push_back(stage("classifier"));
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> efficientnet_family() {
  return {
      efficientnet_entry("efficientnet_b0", 1.0, 1.0, 0.2, "efficientnet_b0_rwightman-7f5810bc.pth",
                         "EfficientNet (2019) B0: searched MBConv network with squeeze-excitation and SiLU; the "
                         "base of compound scaling"),
      efficientnet_entry("efficientnet_b1", 1.0, 1.1, 0.2, "efficientnet_b1_rwightman-bac287d4.pth",
                         "EfficientNet (2019) B1: B0 compound-scaled to 1.1x depth"),
      efficientnet_entry("efficientnet_b2", 1.1, 1.2, 0.3, "efficientnet_b2_rwightman-c35c1473.pth",
                         "EfficientNet (2019) B2: B0 scaled to 1.1x width, 1.2x depth"),
      efficientnet_entry("efficientnet_b3", 1.2, 1.4, 0.3, "efficientnet_b3_rwightman-b3899882.pth",
                         "EfficientNet (2019) B3: B0 scaled to 1.2x width, 1.4x depth"),
  };
}

}  // namespace ftbench::models
