// Inception v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture") exactly as torchvision builds
// it for its ImageNet weights: aux_logits=True (the AuxLogits classifier on Mixed_6e, used in training) and
// transform_input=True (the input re-normalised to the [-1, 1] range of the TensorFlow original).
//
// Its blocks refine GoogLeNet's: InceptionA keeps a 5x5 branch and factors the other into two 3x3s,
// InceptionC factors 7x7 convolutions into 1x7 and 7x1, InceptionE splits its 3x3s into parallel 1x3 and
// 3x1 halves, and InceptionB and InceptionD shrink the grid with stride-2 branches beside a max pool
// instead of a separate pooling layer. Module names are torchvision's (Conv2d_1a_3x3.conv, Mixed_5b.branch1x1,
// AuxLogits.fc, ...), so its state dicts load key for key.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "runner/models/classifier.h"
#include "runner/models/googlenet.h"  // BasicConv2d, inception_transform_input

namespace ftbench::models {

// 35x35 grid: 1x1, 1x1 -> 5x5, 1x1 -> 3x3 -> 3x3, 3x3 average pool -> 1x1 (`pool_features` channels).
class InceptionAImpl : public torch::nn::Module {
 public:
  InceptionAImpl(int64_t in_channels, int64_t pool_features);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch1x1{nullptr};
  BasicConv2d branch5x5_1{nullptr}, branch5x5_2{nullptr};
  BasicConv2d branch3x3dbl_1{nullptr}, branch3x3dbl_2{nullptr}, branch3x3dbl_3{nullptr};
  BasicConv2d branch_pool{nullptr};
};
TORCH_MODULE(InceptionA);

// 35x35 -> 17x17: stride-2 3x3, 1x1 -> 3x3 -> stride-2 3x3, stride-2 max pool.
class InceptionBImpl : public torch::nn::Module {
 public:
  explicit InceptionBImpl(int64_t in_channels);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch3x3{nullptr};
  BasicConv2d branch3x3dbl_1{nullptr}, branch3x3dbl_2{nullptr}, branch3x3dbl_3{nullptr};
};
TORCH_MODULE(InceptionB);

// 17x17 grid with factorised 7x7s: 1x1, 1x1 -> 1x7 -> 7x1, 1x1 -> (7x1 -> 1x7) x 2, average pool -> 1x1.
class InceptionCImpl : public torch::nn::Module {
 public:
  InceptionCImpl(int64_t in_channels, int64_t channels_7x7);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch1x1{nullptr};
  BasicConv2d branch7x7_1{nullptr}, branch7x7_2{nullptr}, branch7x7_3{nullptr};
  BasicConv2d branch7x7dbl_1{nullptr}, branch7x7dbl_2{nullptr}, branch7x7dbl_3{nullptr}, branch7x7dbl_4{nullptr},
      branch7x7dbl_5{nullptr};
  BasicConv2d branch_pool{nullptr};
};
TORCH_MODULE(InceptionC);

// 17x17 -> 8x8: 1x1 -> stride-2 3x3, 1x1 -> 1x7 -> 7x1 -> stride-2 3x3, stride-2 max pool.
class InceptionDImpl : public torch::nn::Module {
 public:
  explicit InceptionDImpl(int64_t in_channels);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch3x3_1{nullptr}, branch3x3_2{nullptr};
  BasicConv2d branch7x7x3_1{nullptr}, branch7x7x3_2{nullptr}, branch7x7x3_3{nullptr}, branch7x7x3_4{nullptr};
};
TORCH_MODULE(InceptionD);

// 8x8 grid, widened: 1x1; 1x1 -> (1x3 | 3x1); 1x1 -> 3x3 -> (1x3 | 3x1); average pool -> 1x1.
class InceptionEImpl : public torch::nn::Module {
 public:
  explicit InceptionEImpl(int64_t in_channels);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d branch1x1{nullptr};
  BasicConv2d branch3x3_1{nullptr}, branch3x3_2a{nullptr}, branch3x3_2b{nullptr};
  BasicConv2d branch3x3dbl_1{nullptr}, branch3x3dbl_2{nullptr}, branch3x3dbl_3a{nullptr}, branch3x3dbl_3b{nullptr};
  BasicConv2d branch_pool{nullptr};
};
TORCH_MODULE(InceptionE);

// The auxiliary classifier on Mixed_6e's 17x17 grid: 5x5/3 average pool, 1x1 conv to 128, 5x5 conv to 768,
// global average pool, fc.
class InceptionAuxImpl : public torch::nn::Module {
 public:
  InceptionAuxImpl(int64_t in_channels, int64_t num_classes);
  at::Tensor forward(const at::Tensor& x);

  BasicConv2d conv0{nullptr}, conv1{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(InceptionAux);

class Inception3 : public Classifier {
 public:
  explicit Inception3(int64_t num_classes);

  // Main logits; in training mode AuxLogits still runs, as in torchvision.
  at::Tensor forward(const at::Tensor& x) override;
  // In training mode: {logits, {aux}}; in eval mode only the logits.
  ClassifierOutput forward_with_aux(const at::Tensor& x) override;
  // Replaces fc and AuxLogits.fc.
  void replace_head(int64_t num_classes) override;

  BasicConv2d Conv2d_1a_3x3{nullptr}, Conv2d_2a_3x3{nullptr}, Conv2d_2b_3x3{nullptr};
  torch::nn::MaxPool2d maxpool1{nullptr};
  BasicConv2d Conv2d_3b_1x1{nullptr}, Conv2d_4a_3x3{nullptr};
  torch::nn::MaxPool2d maxpool2{nullptr};
  InceptionA Mixed_5b{nullptr}, Mixed_5c{nullptr}, Mixed_5d{nullptr};
  InceptionB Mixed_6a{nullptr};
  InceptionC Mixed_6b{nullptr}, Mixed_6c{nullptr}, Mixed_6d{nullptr}, Mixed_6e{nullptr};
  InceptionAux AuxLogits{nullptr};
  InceptionD Mixed_7a{nullptr};
  InceptionE Mixed_7b{nullptr}, Mixed_7c{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
};

}  // namespace ftbench::models
