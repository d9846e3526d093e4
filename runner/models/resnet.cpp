#include "runner/models/resnet.h"

#include <ATen/ops/relu.h>
#include <torch/nn/init.h>

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, /*kernel_size=*/3).stride(stride).padding(1).bias(false));
}

nn::Conv2d conv1x1(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, /*kernel_size=*/1).stride(stride).bias(false));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_planes, int64_t planes, int64_t stride, nn::Sequential down)
    : conv1(register_module("conv1", conv3x3(in_planes, planes, stride))),
      conv2(register_module("conv2", conv3x3(planes, planes, 1))),
      bn1(register_module("bn1", nn::BatchNorm2d(planes))),
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

BottleneckImpl::BottleneckImpl(int64_t in_planes, int64_t planes, int64_t stride, nn::Sequential down)
    : conv1(register_module("conv1", conv1x1(in_planes, planes, 1))),
      conv2(register_module("conv2", conv3x3(planes, planes, stride))),
      conv3(register_module("conv3", conv1x1(planes, planes * kExpansion, 1))),
      bn1(register_module("bn1", nn::BatchNorm2d(planes))),
      bn2(register_module("bn2", nn::BatchNorm2d(planes))),
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

ResNet::ResNet(BlockKind block, std::vector<int64_t> layers, int64_t num_classes) {
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
      stage->push_back(Bottleneck(in_planes_, planes, block_stride, down));
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

}  // namespace ftbench::models
