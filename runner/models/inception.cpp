#include "runner/models/inception.h"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/max_pool2d.h>
#include <torch/nn/init.h>

#include "runner/models/families.h"
#include "runner/models/modern_blocks.h"

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

// A BasicConv2d with a square or rectangular kernel (Inception v3's 1x7, 7x1, 1x3 and 3x1 factorisations).
BasicConv2d conv_unit(int64_t in, int64_t out, torch::ExpandingArray<2> kernel,
                      torch::ExpandingArray<2> padding = torch::ExpandingArray<2>(0), int64_t stride = 1) {
  return BasicConv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

// The pooling branches: a 3x3 average that keeps the grid, and the 3x3/2 max pool of the reduction blocks.
at::Tensor same_avg_pool(const at::Tensor& x) { return at::avg_pool2d(x, {3, 3}, {1, 1}, {1, 1}); }
at::Tensor reducing_max_pool(const at::Tensor& x) { return at::max_pool2d(x, {3, 3}, {2, 2}); }

}  // namespace

InceptionAImpl::InceptionAImpl(int64_t in_channels, int64_t pool_features)
    : branch1x1(register_module("branch1x1", conv_unit(in_channels, 64, 1))),
      branch5x5_1(register_module("branch5x5_1", conv_unit(in_channels, 48, 1))),
      branch5x5_2(register_module("branch5x5_2", conv_unit(48, 64, 5, 2))),
      branch3x3dbl_1(register_module("branch3x3dbl_1", conv_unit(in_channels, 64, 1))),
      branch3x3dbl_2(register_module("branch3x3dbl_2", conv_unit(64, 96, 3, 1))),
      branch3x3dbl_3(register_module("branch3x3dbl_3", conv_unit(96, 96, 3, 1))),
      branch_pool(register_module("branch_pool", conv_unit(in_channels, pool_features, 1))) {}

at::Tensor InceptionAImpl::forward(const at::Tensor& x) {
  at::Tensor b1 = branch1x1->forward(x);
  at::Tensor b5 = branch5x5_2->forward(branch5x5_1->forward(x));
  // Two stacked 3x3s see a 5x5 window with 28% fewer weights: the paper's first factorisation.
  at::Tensor b3 = branch3x3dbl_3->forward(branch3x3dbl_2->forward(branch3x3dbl_1->forward(x)));
  at::Tensor bp = branch_pool->forward(same_avg_pool(x));
  return at::cat({b1, b5, b3, bp}, 1);
}

InceptionBImpl::InceptionBImpl(int64_t in_channels)
    : branch3x3(register_module("branch3x3", conv_unit(in_channels, 384, 3, 0, /*stride=*/2))),
      branch3x3dbl_1(register_module("branch3x3dbl_1", conv_unit(in_channels, 64, 1))),
      branch3x3dbl_2(register_module("branch3x3dbl_2", conv_unit(64, 96, 3, 1))),
      branch3x3dbl_3(register_module("branch3x3dbl_3", conv_unit(96, 96, 3, 0, /*stride=*/2))) {}

at::Tensor InceptionBImpl::forward(const at::Tensor& x) {
  // Grid reduction: strided convolutions beside a strided pool, concatenated, so the grid halves while the
  // channels grow, without the representational bottleneck of pooling first.
  at::Tensor b3 = branch3x3->forward(x);
  at::Tensor b3dbl = branch3x3dbl_3->forward(branch3x3dbl_2->forward(branch3x3dbl_1->forward(x)));
  return at::cat({b3, b3dbl, reducing_max_pool(x)}, 1);
}

InceptionCImpl::InceptionCImpl(int64_t in_channels, int64_t c7)
    : branch1x1(register_module("branch1x1", conv_unit(in_channels, 192, 1))),
      branch7x7_1(register_module("branch7x7_1", conv_unit(in_channels, c7, 1))),
      branch7x7_2(register_module("branch7x7_2", conv_unit(c7, c7, {1, 7}, {0, 3}))),
      branch7x7_3(register_module("branch7x7_3", conv_unit(c7, 192, {7, 1}, {3, 0}))),
      branch7x7dbl_1(register_module("branch7x7dbl_1", conv_unit(in_channels, c7, 1))),
      branch7x7dbl_2(register_module("branch7x7dbl_2", conv_unit(c7, c7, {7, 1}, {3, 0}))),
      branch7x7dbl_3(register_module("branch7x7dbl_3", conv_unit(c7, c7, {1, 7}, {0, 3}))),
      branch7x7dbl_4(register_module("branch7x7dbl_4", conv_unit(c7, c7, {7, 1}, {3, 0}))),
      branch7x7dbl_5(register_module("branch7x7dbl_5", conv_unit(c7, 192, {1, 7}, {0, 3}))),
      branch_pool(register_module("branch_pool", conv_unit(in_channels, 192, 1))) {}

at::Tensor InceptionCImpl::forward(const at::Tensor& x) {
  at::Tensor b1 = branch1x1->forward(x);
  // A 7x7 receptive field as a 1x7 followed by a 7x1: 14 weights per channel pair instead of 49.
  at::Tensor b7 = branch7x7_3->forward(branch7x7_2->forward(branch7x7_1->forward(x)));
  at::Tensor b7dbl = branch7x7dbl_1->forward(x);
  b7dbl = branch7x7dbl_3->forward(branch7x7dbl_2->forward(b7dbl));
  b7dbl = branch7x7dbl_5->forward(branch7x7dbl_4->forward(b7dbl));
  at::Tensor bp = branch_pool->forward(same_avg_pool(x));
  return at::cat({b1, b7, b7dbl, bp}, 1);
}

InceptionDImpl::InceptionDImpl(int64_t in_channels)
    : branch3x3_1(register_module("branch3x3_1", conv_unit(in_channels, 192, 1))),
      branch3x3_2(register_module("branch3x3_2", conv_unit(192, 320, 3, 0, /*stride=*/2))),
      branch7x7x3_1(register_module("branch7x7x3_1", conv_unit(in_channels, 192, 1))),
      branch7x7x3_2(register_module("branch7x7x3_2", conv_unit(192, 192, {1, 7}, {0, 3}))),
      branch7x7x3_3(register_module("branch7x7x3_3", conv_unit(192, 192, {7, 1}, {3, 0}))),
      branch7x7x3_4(register_module("branch7x7x3_4", conv_unit(192, 192, 3, 0, /*stride=*/2))) {}

at::Tensor InceptionDImpl::forward(const at::Tensor& x) {
  at::Tensor b3 = branch3x3_2->forward(branch3x3_1->forward(x));
  at::Tensor b7 = branch7x7x3_1->forward(x);
  b7 = branch7x7x3_4->forward(branch7x7x3_3->forward(branch7x7x3_2->forward(b7)));
  return at::cat({b3, b7, reducing_max_pool(x)}, 1);
}

InceptionEImpl::InceptionEImpl(int64_t in_channels)
    : branch1x1(register_module("branch1x1", conv_unit(in_channels, 320, 1))),
      branch3x3_1(register_module("branch3x3_1", conv_unit(in_channels, 384, 1))),
      branch3x3_2a(register_module("branch3x3_2a", conv_unit(384, 384, {1, 3}, {0, 1}))),
      branch3x3_2b(register_module("branch3x3_2b", conv_unit(384, 384, {3, 1}, {1, 0}))),
      branch3x3dbl_1(register_module("branch3x3dbl_1", conv_unit(in_channels, 448, 1))),
      branch3x3dbl_2(register_module("branch3x3dbl_2", conv_unit(448, 384, 3, 1))),
      branch3x3dbl_3a(register_module("branch3x3dbl_3a", conv_unit(384, 384, {1, 3}, {0, 1}))),
      branch3x3dbl_3b(register_module("branch3x3dbl_3b", conv_unit(384, 384, {3, 1}, {1, 0}))),
      branch_pool(register_module("branch_pool", conv_unit(in_channels, 192, 1))) {}

at::Tensor InceptionEImpl::forward(const at::Tensor& x) {
  at::Tensor b1 = branch1x1->forward(x);
  // On the coarsest grid the 1x3 and 3x1 run side by side and are concatenated rather than stacked: wider
  // outputs for the high-dimensional representations the paper wants near the top.
  at::Tensor b3 = branch3x3_1->forward(x);
  b3 = at::cat({branch3x3_2a->forward(b3), branch3x3_2b->forward(b3)}, 1);
  at::Tensor b3dbl = branch3x3dbl_2->forward(branch3x3dbl_1->forward(x));
  b3dbl = at::cat({branch3x3dbl_3a->forward(b3dbl), branch3x3dbl_3b->forward(b3dbl)}, 1);
  at::Tensor bp = branch_pool->forward(same_avg_pool(x));
  return at::cat({b1, b3, b3dbl, bp}, 1);
}

InceptionAuxImpl::InceptionAuxImpl(int64_t in_channels, int64_t num_classes)
    : conv0(register_module("conv0", conv_unit(in_channels, 128, 1))),
      conv1(register_module("conv1", conv_unit(128, 768, 5))),
      fc(register_module("fc", nn::Linear(768, num_classes))) {}

at::Tensor InceptionAuxImpl::forward(const at::Tensor& x) {
  // 17x17 -> 5x5, and the 5x5 conv takes that to 1x1: why training mode needs a 299 input (smaller inputs
  // leave Mixed_6e under 17x17 and the 5x5 conv has nothing to slide over).
  at::Tensor out = conv1->forward(conv0->forward(at::avg_pool2d(x, {5, 5}, {3, 3})));
  out = at::adaptive_avg_pool2d(out, {1, 1}).flatten(1);
  return fc->forward(out);
}

Inception3::Inception3(int64_t num_classes) {
  // The stem: plain convolutions and two max pools, 299x299x3 -> 35x35x192.
  Conv2d_1a_3x3 = register_module("Conv2d_1a_3x3", conv_unit(3, 32, 3, 0, /*stride=*/2));
  Conv2d_2a_3x3 = register_module("Conv2d_2a_3x3", conv_unit(32, 32, 3));
  Conv2d_2b_3x3 = register_module("Conv2d_2b_3x3", conv_unit(32, 64, 3, 1));
  maxpool1 = register_module("maxpool1", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)));
  Conv2d_3b_1x1 = register_module("Conv2d_3b_1x1", conv_unit(64, 80, 1));
  Conv2d_4a_3x3 = register_module("Conv2d_4a_3x3", conv_unit(80, 192, 3));
  maxpool2 = register_module("maxpool2", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2)));

  // Three grids, each ended by a reduction block: 35x35 (A), 17x17 (C), 8x8 (E).
  Mixed_5b = register_module("Mixed_5b", InceptionA(192, /*pool_features=*/32));
  Mixed_5c = register_module("Mixed_5c", InceptionA(256, 64));
  Mixed_5d = register_module("Mixed_5d", InceptionA(288, 64));
  Mixed_6a = register_module("Mixed_6a", InceptionB(288));
  Mixed_6b = register_module("Mixed_6b", InceptionC(768, /*channels_7x7=*/128));
  Mixed_6c = register_module("Mixed_6c", InceptionC(768, 160));
  Mixed_6d = register_module("Mixed_6d", InceptionC(768, 160));
  Mixed_6e = register_module("Mixed_6e", InceptionC(768, 192));
  AuxLogits = register_module("AuxLogits", InceptionAux(768, num_classes));
  Mixed_7a = register_module("Mixed_7a", InceptionD(768));
  Mixed_7b = register_module("Mixed_7b", InceptionE(1280));
  Mixed_7c = register_module("Mixed_7c", InceptionE(2048));
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  dropout = register_module("dropout", nn::Dropout(0.5));
  fc = register_module("fc", nn::Linear(2048, num_classes));

  // torchvision's init_weights: conv and linear weights from a normal with std 0.1 cut at +-2, except
  // AuxLogits.fc at std 0.001; BatchNorm as the identity; Linear biases keep PyTorch's default.
  // (torchvision also marks AuxLogits.conv1 with std 0.01, but on the BasicConv2d wrapper, which its loop
  // never inspects, so that convolution gets 0.1 like the rest; we do the same.)
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      modern::trunc_normal_(conv->weight, /*std=*/0.1);
    } else if (auto* linear = module->as<nn::Linear>()) {
      modern::trunc_normal_(linear->weight, /*std=*/linear == AuxLogits->fc.get() ? 0.001 : 0.1);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

ClassifierOutput Inception3::forward_with_aux(const at::Tensor& input) {
  at::Tensor x = inception_transform_input(input);
  x = maxpool1->forward(Conv2d_2b_3x3->forward(Conv2d_2a_3x3->forward(Conv2d_1a_3x3->forward(x))));
  x = maxpool2->forward(Conv2d_4a_3x3->forward(Conv2d_3b_1x1->forward(x)));
  x = Mixed_5d->forward(Mixed_5c->forward(Mixed_5b->forward(x)));
  x = Mixed_6a->forward(x);
  x = Mixed_6e->forward(Mixed_6d->forward(Mixed_6c->forward(Mixed_6b->forward(x))));
  // The auxiliary classifier: in training only, on the 17x17 grid. The paper found it acts as a regulariser
  // more than as GoogLeNet's gradient injector.
  at::Tensor aux = is_training() ? AuxLogits->forward(x) : at::Tensor();
  x = Mixed_7a->forward(x);
  x = Mixed_7c->forward(Mixed_7b->forward(x));
  x = dropout->forward(avgpool->forward(x)).flatten(1);
  at::Tensor logits = fc->forward(x);
  if (!is_training()) return {logits, {}};
  return {logits, {aux}};
}

at::Tensor Inception3::forward(const at::Tensor& x) { return forward_with_aux(x).logits; }

void Inception3::replace_head(int64_t num_classes) {
  fc = replace_module("fc", nn::Linear(fc->options.in_features(), num_classes));
  AuxLogits->fc = AuxLogits->replace_module("fc", nn::Linear(AuxLogits->fc->options.in_features(), num_classes));
}

std::vector<ModelEntry> inception_family() {
  ModelEntry entry;
  entry.name = "inception_v3";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<Inception3>(num_classes); };
  entry.native_input_size = 299;
  // Eval mode works from 75 (torchvision's min_size), but training runs AuxLogits, whose 5x5/3 pool and 5x5
  // conv need Mixed_6e's full 17x17 grid: 299 is the smallest input that gives it.
  entry.min_input_size = 299;
  entry.head = {"fc", "AuxLogits.fc"};
  // Input to output along the trunk; the auxiliary classifier (attached to Mixed_6e, registered there) sits
  // with the heads, so freezing the trunk up to Mixed_7c still leaves it trainable.
  entry.stages = {stage("Conv2d_1a_3x3"), stage("Conv2d_2a_3x3"), stage("Conv2d_2b_3x3"), stage("Conv2d_3b_1x1"),
                  stage("Conv2d_4a_3x3"), stage("Mixed_5b"),      stage("Mixed_5c"),      stage("Mixed_5d"),
                  stage("Mixed_6a"),      stage("Mixed_6b"),      stage("Mixed_6c"),      stage("Mixed_6d"),
                  stage("Mixed_6e"),      stage("Mixed_7a"),      stage("Mixed_7b"),      stage("Mixed_7c"),
                  stage("AuxLogits"),     stage("fc")};
  entry.aux_loss_weights = {0.4};  // torchvision's training recipe: loss = main + 0.4 * aux
  entry.weights_file = "inception_v3_google-0cc3c7bd.pth";
  entry.note = "Inception v3 (2015): factorised convolutions (7x7 as 1x7 + 7x1), BatchNorm and label smoothing; "
               "trained at 299x299";
  return {entry};
}

}  // namespace ftbench::models
