// Building blocks shared by the mobile families (MobileNetV2/V3, MnasNet, EfficientNet) and reused by later
// ones (RegNet, Swin, ConvNeXt), written to match the pieces torchvision builds them from (torchvision.ops.misc
// and torchvision.ops.stochastic_depth):
//
//   SequentialBlock      an nn::Sequential that can itself sit inside a Sequential (torchvision nests them).
//   activation_module()  an activation as a Sequential entry (with Hardswish/Hardsigmoid modules LibTorch lacks).
//   conv_norm_act()      Conv2dNormActivation: Sequential(Conv2d without bias, BatchNorm2d, [activation]), so
//                        its parameters are "<name>.0.weight" and "<name>.1.{weight,bias,running_*}".
//   SqueezeExcitation    SE (Hu et al., 2017): a per-channel gate computed from the globally pooled features.
//   stochastic_depth()   torchvision's StochasticDepth in "row" mode: drops a residual branch per sample.
//   make_divisible()     the channel rounding of the TensorFlow MobileNet code (multiples of 8).
//   init_mobile_weights  the initialisation these families share (He-normal fan_out convolutions, BatchNorm as
//                        the identity); each family passes its own Linear scheme.
//
// Header-only: every function is small and inline.
#pragma once

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/hardsigmoid.h>
#include <ATen/ops/hardswish.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/relu6.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/silu.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ftbench::models::mobile {

// The activations these families use; each maps to the ATen op torchvision's module calls.
enum class Act { kNone, kReLU, kReLU6, kHardswish, kHardsigmoid, kSiLU, kSigmoid };

inline at::Tensor activate(Act act, const at::Tensor& x) {
  switch (act) {
    case Act::kNone: return x;
    case Act::kReLU: return at::relu(x);
    case Act::kReLU6: return at::relu6(x);           // nn.ReLU6 is hardtanh(0, 6), as at::relu6 is
    case Act::kHardswish: return at::hardswish(x);   // x * relu6(x + 3) / 6: MobileNetV3's cheap swish
    case Act::kHardsigmoid: return at::hardsigmoid(x);
    case Act::kSiLU: return at::silu(x);             // x * sigmoid(x), a.k.a. swish: EfficientNet's
    case Act::kSigmoid: return at::sigmoid(x);
  }
  throw std::logic_error("mobile::activate: unknown activation");
}

// MobileNetV3's activations as modules (LibTorch's frontend has no Hardswish or Hardsigmoid module), so a
// Sequential holding one prints its name, as torchvision's does.
class HardswishImpl : public torch::nn::Cloneable<HardswishImpl> {
 public:
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) { return at::hardswish(x); }
};
TORCH_MODULE(Hardswish);

class HardsigmoidImpl : public torch::nn::Cloneable<HardsigmoidImpl> {
 public:
  void reset() override {}
  at::Tensor forward(const at::Tensor& x) { return at::hardsigmoid(x); }
};
TORCH_MODULE(Hardsigmoid);

// An activation as a parameterless module, for the places where torchvision puts one inside a Sequential.
// The ReLUs are in place, as torchvision's are; the result is the same either way.
inline torch::nn::AnyModule activation_module(Act act) {
  namespace nn = torch::nn;
  switch (act) {
    case Act::kReLU: return nn::AnyModule(nn::ReLU(nn::ReLUOptions(/*inplace=*/true)));
    case Act::kReLU6: return nn::AnyModule(nn::ReLU6(nn::ReLU6Options(/*inplace=*/true)));
    case Act::kHardswish: return nn::AnyModule(Hardswish());
    case Act::kHardsigmoid: return nn::AnyModule(Hardsigmoid());
    case Act::kSiLU: return nn::AnyModule(nn::SiLU());
    case Act::kSigmoid: return nn::AnyModule(nn::Sigmoid());
    case Act::kNone: break;
  }
  throw std::logic_error("mobile::activation_module: no module for Act::kNone");
}

// A Sequential with a plain Tensor -> Tensor forward. LibTorch cannot put an nn::Sequential inside another
// (its forward is a template, which AnyModule cannot store), but torchvision nests them everywhere
// (features.1 is a Sequential of blocks, each block's convolutions another). Its children are named "0", "1",
// ... exactly like nn::Sequential's.
class SequentialBlockImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  at::Tensor forward(at::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(SequentialBlock);

// torchvision's _make_divisible: round `v` to the nearest multiple of `divisor` (at least `min_value`, which
// defaults to the divisor), but never more than 10% below `v`. Same float arithmetic as the Python.
inline int64_t make_divisible(double v, int64_t divisor, int64_t min_value = 0) {
  if (min_value == 0) min_value = divisor;
  const double half = static_cast<double>(divisor) / 2.0;
  int64_t rounded = std::max(min_value, static_cast<int64_t>(v + half) / divisor * divisor);
  if (static_cast<double>(rounded) < 0.9 * v) rounded += divisor;
  return rounded;
}

// BatchNorm settings: PyTorch's defaults, or e.g. MobileNetV3's TensorFlow-like eps 1e-3, momentum 0.01.
struct NormSettings {
  double eps = 1e-5;
  double momentum = 0.1;
};

inline torch::nn::BatchNorm2d batch_norm(int64_t channels, NormSettings norm) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(norm.eps).momentum(norm.momentum));
}

// torchvision's Conv2dNormActivation: a bias-free convolution with "same" padding ((k - 1) / 2), BatchNorm,
// then the activation (none for the linear projections of inverted residuals). `groups == in` makes it
// depthwise.
inline SequentialBlock conv_norm_act(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                                     Act act, NormSettings norm = {}) {
  SequentialBlock seq(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                            .stride(stride)
                            .padding((kernel - 1) / 2)
                            .groups(groups)
                            .bias(false)),
      batch_norm(out, norm));
  if (act != Act::kNone) seq->push_back(activation_module(act));
  return seq;
}

// Squeeze-and-Excitation: pool each channel to one number ("squeeze"), pass the vector through a small
// bottleneck of two 1x1 convolutions (fc1 -> delta -> fc2 -> sigma), and rescale the channels of the input by
// the resulting gates in (0, 1) ("excitation"). The network learns which channels matter for this image.
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int64_t channels, int64_t squeeze_channels, Act delta, Act sigma)
      : avgpool(register_module("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)))),
        fc1(register_module("fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, squeeze_channels, 1)))),
        fc2(register_module("fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(squeeze_channels, channels, 1)))),
        delta_(delta),
        sigma_(sigma) {}

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor scale = avgpool->forward(x);
    scale = activate(sigma_, fc2->forward(activate(delta_, fc1->forward(scale))));
    return scale * x;
  }

  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Conv2d fc1{nullptr}, fc2{nullptr};

 private:
  Act delta_;  // MobileNetV3: ReLU; EfficientNet: SiLU
  Act sigma_;  // MobileNetV3: Hardsigmoid; EfficientNet: Sigmoid
};
TORCH_MODULE(SqueezeExcitation);

// Stochastic depth (Huang et al., 2016), torchvision's "row" mode: in training, each sample's residual branch
// is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so the expected output is
// unchanged; in eval it is the identity. The draw is exactly torchvision's (empty [N, 1, 1, 1], bernoulli_,
// div_), so it consumes the generator as the Python does and a shared seed gives the same mask.
inline at::Tensor stochastic_depth(const at::Tensor& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  const double survival_rate = 1.0 - p;
  std::vector<int64_t> size(static_cast<size_t>(x.dim()), 1);
  size[0] = x.size(0);
  at::Tensor noise = at::empty(size, x.options()).bernoulli_(survival_rate);
  if (survival_rate > 0.0) noise.div_(survival_rate);
  return x * noise;
}

// How a family initialises its Linear layers (torchvision differs per family).
enum class LinearInit {
  kNormal001,            // MobileNetV2/V3: N(0, 0.01), zero bias
  kUniformOutFeatures,   // EfficientNet: U(-1/sqrt(out_features), 1/sqrt(out_features)), zero bias
};

// torchvision's initialisation for these families: He-normal (fan_out) convolutions with zero bias,
// BatchNorm as the identity, and the family's Linear scheme.
inline void init_mobile_weights(torch::nn::Module& model, LinearInit linear_init) {
  namespace nn = torch::nn;
  for (auto& module : model.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut);
      if (conv->bias.defined()) nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<nn::Linear>()) {
      if (linear_init == LinearInit::kNormal001) {
        nn::init::normal_(linear->weight, 0.0, 0.01);
      } else {
        const double range = 1.0 / std::sqrt(static_cast<double>(linear->options.out_features()));
        nn::init::uniform_(linear->weight, -range, range);
      }
      nn::init::zeros_(linear->bias);
    }
  }
}

}  // namespace ftbench::models::mobile
