// Pieces shared by the 2020s families (ViT, Swin, ConvNeXt), written to match what torchvision builds them
// from (torch.nn.init and torchvision.ops.misc):
//
//   trunc_normal_()     torch.nn.init.trunc_normal_, which LibTorch's init lacks: the initialisation of the
//                       transformer-era models (ViT's patch projection, every Swin and ConvNeXt layer).
//   permute_module()    torchvision's Permute: a parameterless module that reorders the dimensions, for the
//                       places where torchvision puts one inside a Sequential (switching between the NCHW of
//                       convolutions and the NHWC that LayerNorm and Linear work on).
//   mlp()               torchvision's MLP as the transformer blocks use it: Linear, GELU, Dropout, Linear,
//                       Dropout, so its parameters are "<name>.0.*" and "<name>.3.*".
//
// Stochastic depth, which Swin and ConvNeXt share with EfficientNet, is mobile::stochastic_depth
// (runner/models/mobile_blocks.h).
//
// Header-only: every function is small and inline.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/functional.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <c10/core/GradMode.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace ftbench::models::modern {

// torch.nn.init.trunc_normal_(tensor, mean, std, a, b): a normal distribution cut at the absolute bounds
// [a, b] (not in units of std: with std 0.02 the cut at +-2 never bites). Drawn as PyTorch draws it, by
// inverting the CDF of a uniform sample, so it consumes the generator the same way.
inline at::Tensor trunc_normal_(at::Tensor tensor, double std, double mean = 0.0, double a = -2.0, double b = 2.0) {
  at::NoGradGuard no_grad;
  auto norm_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double lower = norm_cdf((a - mean) / std);
  const double upper = norm_cdf((b - mean) / std);
  tensor.uniform_(2.0 * lower - 1.0, 2.0 * upper - 1.0);
  tensor.erfinv_();
  tensor.mul_(std * std::sqrt(2.0));
  tensor.add_(mean);
  tensor.clamp_(a, b);
  return tensor;
}

// torchvision's Permute([...]) as a module inside a Sequential.
inline torch::nn::Functional permute_module(std::vector<int64_t> dims) {
  return torch::nn::Functional([dims](const at::Tensor& x) { return x.permute(dims); });
}

// torchvision's MLP(in, [hidden, in], activation_layer=GELU, dropout=p): the feed-forward half of a
// transformer block. Each Linear keeps LibTorch's default init; the families re-initialise them.
inline torch::nn::Sequential mlp(int64_t dim, int64_t hidden, double dropout) {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Linear(dim, hidden), nn::GELU(), nn::Dropout(dropout), nn::Linear(hidden, dim),
                        nn::Dropout(dropout));
}

}  // namespace ftbench::models::modern
