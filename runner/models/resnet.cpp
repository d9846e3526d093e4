#include "runner/models/resnet.h"

#include <ATen/ops/relu.h>
#include <torch/nn/init.h>

#include "runner/models/families.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride, int64_t groups = 1) {
  return nn::Conv2d(
      nn::Conv2dOptions(in, out, /*kernel_size=*/3).stride(stride).padding(1).groups(groups).bias(false));
}

nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, /*kernel_size=*/1).stride(stride).bias(false));
}

// The channels of Bottleneck's 3x3 conv, widened by ResNeXt's groups or Wide ResNet's base width.
int64_t bottleneck_width(int64_t planes, int64_t groups, int64_t base_width) {
  return static_cast<int64_t>(static_cast<double>(planes) * (static_cast<double>(base_width) / 64.0)) * groups;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, nn::Sequential down)
    : conv1(register_module("conv1", conv3x3(in_planes, planes, stride))),
      bn1(register_module("bn1", nn::BatchNorm2d(planes))),
      conv2(register_module("conv2", conv3x3(planes, planes, 1))),
      bn2(register_module("bn2", nn::BatchNorm2d(planes))) {
  if (down) downsample = register_module("downsample", down);
}

at::Tensor BasicBlockImpl::forward(const at::Tensor& x) {
  // The shortcut: the block's input itself, or a strided 1x1 projection of it when the block changes the
  // spatial size or the number of channels.
  at::Tensor identity = downsample ? downsample->forward(x) : x;

  at::Tensor out = at::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));

  // The residual connection. The two convolutions above learn only a correction F(x), and the block
  // returns F(x) + x: the identity path lets the signal and its gradient skip the block, which is what
  // makes 18 to 152 layers trainable.
  out += identity;
  return at::relu(out);
}
const int BasicBlockImpl::kResidualLine = __LINE__ - 3;  // `out += identity;` above (a test checks it)

BottleneckImpl::BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride, nn::Sequential down,
                               int64_t groups, int64_t base_width)
    : conv1(register_module("conv1", conv1x1(in_planes, bottleneck_width(planes, groups, base_width), 1))),
      bn1(register_module("bn1", nn::BatchNorm2d(bottleneck_width(planes, groups, base_width)))),
      conv2(register_module("conv2", conv3x3(bottleneck_width(planes, groups, base_width),
                                             bottleneck_width(planes, groups, base_width), stride, groups))),
      bn2(register_module("bn2", nn::BatchNorm2d(bottleneck_width(planes, groups, base_width)))),
      conv3(register_module("conv3", conv1x1(bottleneck_width(planes, groups, base_width), planes * kExpansion, 1))),
      bn3(register_module("bn3", nn::BatchNorm2d(planes * kExpansion))) {
  if (down) downsample = register_module("downsample", down);
}

at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor identity = downsample ? downsample->forward(x) : x;

  at::Tensor out = at::relu(bn1->forward(conv1->forward(x)));
  out = at::relu(bn2->forward(conv2->forward(out)));
  out = bn3->forward(conv3->forward(out));

  // The residual connection, as in BasicBlock: output = F(x) + x.
  out += identity;
  return at::relu(out);
}
const int BottleneckImpl::kResidualLine = __LINE__ - 3;  // `out += identity;` above (a test checks it)

ResNet::ResNet(BlockKind block, std::vector<int64_t> layers, int64_t num_classes, int64_t groups,
               int64_t width_per_group)
    : groups_(groups), base_width_(width_per_group) {
  const int64_t expansion = block == BlockKind::kBasic ? BasicBlockImpl::kExpansion : BottleneckImpl::kExpansion;
  conv1 = register_module(
      "conv1", nn::Conv2d(nn::Conv2dOptions(3, 64, /*kernel_size=*/7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  layer1 = register_module("layer1", make_stage(block, 64, layers.at(0), 1));
  layer2 = register_module("layer2", make_stage(block, 128, layers.at(1), 2));
  layer3 = register_module("layer3", make_stage(block, 256, layers.at(2), 2));
  layer4 = register_module("layer4", make_stage(block, 512, layers.at(3), 2));
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  fc = register_module("fc", nn::Linear(512 * expansion, num_classes));

  // torchvision's initialisation: He-normal (fan_out) convolutions, BatchNorm as the identity. The Linear
  // head keeps LibTorch's default, which is PyTorch's.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

nn::Sequential ResNet::make_stage(BlockKind block, int64_t planes, int64_t blocks, int64_t stride) {
  const int64_t expansion = block == BlockKind::kBasic ? BasicBlockImpl::kExpansion : BottleneckImpl::kExpansion;
  nn::Sequential stage;
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t block_stride = i == 0 ? stride : 1;
    nn::Sequential down{nullptr};
    if (i == 0 && (stride != 1 || in_planes_ != planes * expansion)) {
      down = nn::Sequential(conv1x1(in_planes_, planes * expansion, stride), nn::BatchNorm2d(planes * expansion));
    }
    if (block == BlockKind::kBasic) {
      stage->push_back(BasicBlock(in_planes_, planes, block_stride, down));
    } else {
      stage->push_back(Bottleneck(in_planes_, planes, block_stride, down, groups_, base_width_));
    }
    in_planes_ = planes * expansion;
  }
  return stage;
}

at::Tensor ResNet::forward(const at::Tensor& x) {
  at::Tensor out = maxpool->forward(at::relu(bn1->forward(conv1->forward(x))));
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));
  out = avgpool->forward(out).flatten(1);
  return fc->forward(out);
}

void ResNet::replace_head(int64_t num_classes) {
  fc = replace_module("fc", nn::Linear(fc->options.in_features(), num_classes));
}

namespace {

ModelEntry resnet_entry(const std::string& name, BlockKind block, std::vector<int64_t> layers, int64_t groups,
                        int64_t width_per_group, const std::string& weights_file, const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [=](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<ResNet>(block, layers, num_classes, groups, width_per_group);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 32;  // five stride-2 steps leave 1x1 before the average pool
  entry.head = {"fc"};
  entry.stages = {stage("conv1"),  stage("bn1"),    stage("layer1"), stage("layer2"),
                  stage("layer3"), stage("layer4"), stage("fc")};
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

}  // namespace

std::vector<ModelEntry> resnet_family() {
  const auto basic = BlockKind::kBasic;
  const auto bottleneck = BlockKind::kBottleneck;
  return {
      resnet_entry("resnet18", basic, {2, 2, 2, 2}, 1, 64, "resnet18-f37072fd.pth",
                   "ResNet (2015): identity shortcuts (out += identity) make deep nets trainable; 18 layers"),
      resnet_entry("resnet34", basic, {3, 4, 6, 3}, 1, 64, "resnet34-b627a593.pth",
                   "ResNet (2015) with 34 layers of BasicBlocks"),
      resnet_entry("resnet50", bottleneck, {3, 4, 6, 3}, 1, 64, "resnet50-0676ba61.pth",
                   "ResNet (2015) with 1x1-3x3-1x1 Bottleneck blocks; the standard transfer-learning backbone"),
      resnet_entry("resnet101", bottleneck, {3, 4, 23, 3}, 1, 64, "resnet101-63fe2227.pth",
                   "ResNet (2015), 101 layers"),
      resnet_entry("resnet152", bottleneck, {3, 8, 36, 3}, 1, 64, "resnet152-394f9c45.pth",
                   "ResNet (2015), 152 layers: the ILSVRC 2015 winner's depth"),
      resnet_entry("resnext50_32x4d", bottleneck, {3, 4, 6, 3}, 32, 4, "resnext50_32x4d-7cdf4587.pth",
                   "ResNeXt (2017): ResNet's Bottleneck with a 32-group 3x3 conv; 'cardinality' as a new axis"),
      resnet_entry("wide_resnet50_2", bottleneck, {3, 4, 6, 3}, 1, 128, "wide_resnet50_2-95faca4d.pth",
                   "Wide ResNet (2016): fewer, wider blocks; twice resnet50's channels inside each Bottleneck"),
  };
}

}  // namespace ftbench::models
