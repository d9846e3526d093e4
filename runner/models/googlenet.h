// GoogLeNet (Szegedy et al., 2014; "Inception v1") exactly as torchvision builds it for its ImageNet
// weights: batch-normalised convolutions (torchvision's port adds BatchNorm to the original), nine Inception
// blocks, two auxiliary classifiers (aux1 after inception4a, aux2 after inception4d) that add gradient to
// the middle of the network during training, and transform_input, which re-normalises the input from
// ImageNet statistics to the [-1, 1] range the ported weights expect.
//
// Module names follow torchvision (conv1.conv, inception3a.branch2.1.bn, aux1.fc2, ...), so torchvision's
// state dicts load key for key. BasicConv2d is shared with inception_v3 (runner/models/inception.h).
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "runner/models/classifier.h"

namespace ftbench::models {

// Convolution (no bias), BatchNorm (eps 0.001, as in the TensorFlow originals), ReLU: the unit every
// GoogLeNet and Inception v3 layer is made of. The options are the convolution's; bias is forced off.
class BasicConv2dImpl : public torch::nn::Module {
 public:
  explicit BasicConv2dImpl(torch::nn::Conv2dOptions options);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};
TORCH_MODULE(BasicConv2d);

// torchvision's _transform_input: the models were trained on inputs in [-1, 1] (x * 0.5 + 0.5 undone), so a
// batch normalised with ImageNet's mean and std is mapped channel by channel onto that range.
at::Tensor inception_transform_input(const at::Tensor& x);

// One Inception block: four parallel branches concatenated along channels. A 1x1 conv; a 1x1 reduction then
// a 3x3; a 1x1 reduction then a "5x5" (a 3x3 in torchvision, a known deviation kept for its weights); a 3x3
// max pool then a 1x1 projection.
class InceptionBlockImpl : public torch::nn::Module {
 public:
  InceptionBlockImpl(int64_t in_channels, int64_t ch1x1, int64_t ch3x3red, int64_t ch3x3, int64_t ch5x5red,
                     int64_t ch5x5, int64_t pool_proj);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch1{nullptr};
  torch::nn::Sequential branch2{nullptr}, branch3{nullptr}, branch4{nullptr};
};
TORCH_MODULE(InceptionBlock);

// An auxiliary classifier: 4x4 average pool, 1x1 conv to 128 channels, fc1 (2048 -> 1024), ReLU, dropout
// 0.7, fc2 (-> classes).
class GoogLeNetAuxImpl : public torch::nn::Module {
 public:
  GoogLeNetAuxImpl(int64_t in_channels, int64_t num_classes, double dropout);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d conv{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(GoogLeNetAux);

class GoogLeNet : public Classifier {
 public:
  explicit GoogLeNet(int64_t num_classes);

  // Main logits; in training mode the auxiliary heads still run (and draw their dropout masks), as in
  // torchvision, so the random stream is the same whichever of the two entry points the caller uses.
  at::Tensor forward(const at::Tensor& x) override;
  // In training mode: {logits, {aux1, aux2}}; in eval mode only the logits.
  ClassifierOutput forward_with_aux(const at::Tensor& x) override;
  // Replaces fc, aux1.fc2 and aux2.fc2.
  void replace_head(int64_t num_classes) override;

  BasicConv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::MaxPool2d maxpool1{nullptr}, maxpool2{nullptr}, maxpool3{nullptr}, maxpool4{nullptr};
  InceptionBlock inception3a{nullptr}, inception3b{nullptr};
  InceptionBlock inception4a{nullptr}, inception4b{nullptr}, inception4c{nullptr}, inception4d{nullptr},
      inception4e{nullptr};
  InceptionBlock inception5a{nullptr}, inception5b{nullptr};
  GoogLeNetAux aux1{nullptr}, aux2{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace ftbench::models
