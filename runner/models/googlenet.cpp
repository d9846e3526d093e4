#include "runner/models/googlenet.h"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/relu.h>
#include <torch/nn/init.h>

#include "runner/models/families.h"
#include "runner/models/modern_blocks.h"

namespace ftbench::models {
namespace nn = torch::nn;

BasicConv2dImpl::BasicConv2dImpl(nn::Conv2dOptions options)
    : conv(register_module("conv", nn::Conv2d(options.bias(false)))),
      bn(register_module("bn", nn::BatchNorm2d(nn::BatchNormOptions(options.out_channels()).eps(0.001)))) {}

at::Tensor BasicConv2dImpl::forward(const at::Tensor& x) { return at::relu(bn->forward(conv->forward(x))); }

at::Tensor inception_transform_input(const at::Tensor& x) {
  // Per channel: (x * std + mean - 0.5) / 0.5, i.e. ImageNet normalisation undone, then the [-1, 1] scaling
  // of the original TensorFlow models applied. Written as torchvision writes it, scale then shift, so the
  // float rounding is the same.
  const at::Tensor r = x.select(1, 0).unsqueeze(1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5;
  const at::Tensor g = x.select(1, 1).unsqueeze(1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5;
  const at::Tensor b = x.select(1, 2).unsqueeze(1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5;
  return at::cat({r, g, b}, 1);
}

namespace {

BasicConv2d conv_unit(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
  return BasicConv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding));
}

// GoogLeNet's pools round up (ceil_mode), so odd sizes keep their last row and column.
nn::MaxPool2d ceil_pool(int64_t kernel, int64_t stride, int64_t padding = 0) {
  return nn::MaxPool2d(nn::MaxPool2dOptions(kernel).stride(stride).padding(padding).ceil_mode(true));
}

}  // namespace

InceptionBlockImpl::InceptionBlockImpl(int64_t in_channels, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3,
                                       int64_t ch5x5red, int64_t ch5x5, int64_t pool_proj)
    : branch1(register_module("branch1", conv_unit(in_channels, ch1x1, 1))),
      branch2(register_module("branch2", nn::Sequential(conv_unit(in_channels, ch3x3red, 1),
                                                        conv_unit(ch3x3red, ch3x3, 3, 1, 1)))),
      // The paper's 5x5 branch; torchvision's port uses a 3x3 here (pytorch/vision#906) and its weights
      // depend on it, so it stays a 3x3.
      branch3(register_module("branch3", nn::Sequential(conv_unit(in_channels, ch5x5red, 1),
                                                        conv_unit(ch5x5red, ch5x5, 3, 1, 1)))),
      branch4(register_module("branch4", nn::Sequential(ceil_pool(3, 1, 1), conv_unit(in_channels, pool_proj, 1)))) {}

at::Tensor InceptionBlockImpl::forward(const at::Tensor& x) {
  // The Inception idea: look at the same input through several receptive fields at once and let the next
  // layer choose, with 1x1 convolutions keeping the wide branches cheap.
  return at::cat({branch1->forward(x), branch2->forward(x), branch3->forward(x), branch4->forward(x)}, 1);
}

GoogLeNetAuxImpl::GoogLeNetAuxImpl(int64_t in_channels, int64_t num_classes, double dropout_p)
    : conv(register_module("conv", conv_unit(in_channels, 128, 1))),
      fc1(register_module("fc1", nn::Linear(2048, 1024))),
      fc2(register_module("fc2", nn::Linear(1024, num_classes))),
      dropout(register_module("dropout", nn::Dropout(dropout_p))) {}

at::Tensor GoogLeNetAuxImpl::forward(const at::Tensor& x) {
  // A fixed 4x4 grid whatever the input size: 128 channels x 16 = fc1's 2048 inputs.
  at::Tensor out = conv->forward(at::adaptive_avg_pool2d(x, {4, 4})).flatten(1);
  out = dropout->forward(at::relu(fc1->forward(out)));
  return fc2->forward(out);
}

GoogLeNet::GoogLeNet(int64_t num_classes) {
  // The stem: a stride-2 7x7 conv and two pools take 224 down to 28x28 before the first Inception block.
  conv1 = register_module("conv1", conv_unit(3, 64, 7, 2, 3));
  maxpool1 = register_module("maxpool1", ceil_pool(3, 2));
  conv2 = register_module("conv2", conv_unit(64, 64, 1));
  conv3 = register_module("conv3", conv_unit(64, 192, 3, 1, 1));
  maxpool2 = register_module("maxpool2", ceil_pool(3, 2));

  // Inception blocks: (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection), the paper's table 1.
  inception3a = register_module("inception3a", InceptionBlock(192, 64, 96, 128, 16, 32, 32));
  inception3b = register_module("inception3b", InceptionBlock(256, 128, 128, 192, 32, 96, 64));
  maxpool3 = register_module("maxpool3", ceil_pool(3, 2));
  inception4a = register_module("inception4a", InceptionBlock(480, 192, 96, 208, 16, 48, 64));
  inception4b = register_module("inception4b", InceptionBlock(512, 160, 112, 224, 24, 64, 64));
  inception4c = register_module("inception4c", InceptionBlock(512, 128, 128, 256, 24, 64, 64));
  inception4d = register_module("inception4d", InceptionBlock(512, 112, 144, 288, 32, 64, 64));
  inception4e = register_module("inception4e", InceptionBlock(528, 256, 160, 320, 32, 128, 128));
  maxpool4 = register_module("maxpool4", ceil_pool(2, 2));
  inception5a = register_module("inception5a", InceptionBlock(832, 256, 160, 320, 32, 128, 128));
  inception5b = register_module("inception5b", InceptionBlock(832, 384, 192, 384, 48, 128, 128));

  // The auxiliary classifiers, registered where torchvision registers them (after the trunk).
  aux1 = register_module("aux1", GoogLeNetAux(512, num_classes, /*dropout=*/0.7));
  aux2 = register_module("aux2", GoogLeNetAux(528, num_classes, /*dropout=*/0.7));

  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  dropout = register_module("dropout", nn::Dropout(0.2));
  fc = register_module("fc", nn::Linear(1024, num_classes));

  // torchvision's init_weights: every conv and linear weight from a normal with std 0.01 cut at +-2 (which
  // never bites at that std), BatchNorm as the identity. Linear biases keep PyTorch's default.
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      modern::trunc_normal_(conv->weight, /*std=*/0.01);
    } else if (auto* linear = module->as<nn::Linear>()) {
      modern::trunc_normal_(linear->weight, /*std=*/0.01);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

ClassifierOutput GoogLeNet::forward_with_aux(const at::Tensor& input) {
  at::Tensor x = inception_transform_input(input);
  x = maxpool1->forward(conv1->forward(x));
  x = maxpool2->forward(conv3->forward(conv2->forward(x)));

  x = maxpool3->forward(inception3b->forward(inception3a->forward(x)));
  x = inception4a->forward(x);
  // The auxiliary heads exist for training only: they inject gradient into the middle of a network that was
  // deep for 2014. In eval mode they are skipped, and their dropout draws nothing.
  at::Tensor aux1_logits = is_training() ? aux1->forward(x) : at::Tensor();
  x = inception4d->forward(inception4c->forward(inception4b->forward(x)));
  at::Tensor aux2_logits = is_training() ? aux2->forward(x) : at::Tensor();
  x = maxpool4->forward(inception4e->forward(x));
  x = inception5b->forward(inception5a->forward(x));

  // Global average pooling instead of AlexNet/VGG's large fully connected layers: one 1024-wide vector.
  x = avgpool->forward(x).flatten(1);
  at::Tensor logits = fc->forward(dropout->forward(x));
  if (!is_training()) return {logits, {}};
  return {logits, {aux1_logits, aux2_logits}};
}

at::Tensor GoogLeNet::forward(const at::Tensor& x) { return forward_with_aux(x).logits; }

void GoogLeNet::replace_head(int64_t num_classes) {
  fc = replace_module("fc", nn::Linear(fc->options.in_features(), num_classes));
  aux1->fc2 = aux1->replace_module("fc2", nn::Linear(aux1->fc2->options.in_features(), num_classes));
  aux2->fc2 = aux2->replace_module("fc2", nn::Linear(aux2->fc2->options.in_features(), num_classes));
}

std::vector<ModelEntry> googlenet_family() {
  ModelEntry entry;
  entry.name = "googlenet";
  entry.build = [](int64_t num_classes) -> ClassifierPtr { return std::make_shared<GoogLeNet>(num_classes); };
  entry.native_input_size = 224;
  // 15 is where the 32x downsampling still leaves a 1x1 map (torchvision's min_size); the aux heads pool to
  // a fixed 4x4 grid, so training mode has no larger limit.
  entry.min_input_size = 15;
  entry.head = {"fc", "aux1.fc2", "aux2.fc2"};
  entry.stages = {stage("conv1"),       stage("conv2"),       stage("conv3"),       stage("inception3a"),
                  stage("inception3b"), stage("inception4a"), stage("inception4b"), stage("inception4c"),
                  stage("inception4d"), stage("inception4e"), stage("inception5a"), stage("inception5b"),
                  stage("aux1"),        stage("aux2"),        stage("fc")};
  entry.aux_loss_weights = {0.3, 0.3};  // the paper's discount for the auxiliary losses
  entry.weights_file = "googlenet-1378be20.pth";
  entry.note = "GoogLeNet (2014): Inception blocks of parallel 1x1/3x3/5x5 branches and global average pooling; "
               "ILSVRC 2014 winner with 12x fewer parameters than AlexNet";
  return {entry};
}

}  // namespace ftbench::models
