// FusedSGD against LibTorch's SGD: the same parameters after several steps, for momentum with and without
// Nesterov, no momentum, dampening, several groups, a parameter that first gets a gradient in a later step
// (gradual unfreezing), a channels_last parameter whose gradient is contiguous (copied into the parameter's
// layout), and a channels_last 1x1 conv weight (strides of size-1 dimensions differ from its gradient's).
// float64, so that the two implementations agree to rounding.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/optim/sgd.h>

#include <functional>
#include <vector>

#include "runner/train/fused_sgd.h"

namespace ftbench::train {
namespace {

struct Params {
  std::vector<at::Tensor> tensors;
};

Params make_params() {
  at::manual_seed(3);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  Params out;
  out.tensors = {at::randn({8, 3, 3, 3}, opts), at::randn({8}, opts), at::randn({10, 8}, opts), at::randn({10}, opts),
                 at::randn({4, 8, 3, 3}, opts).contiguous(at::MemoryFormat::ChannelsLast),
                 at::randn({6, 4, 1, 1}, opts).as_strided({6, 4, 1, 1}, {4, 1, 4, 4})};  // as a mkldnn gradient
  for (auto& t : out.tensors) t.set_requires_grad(true);
  return out;
}

// The gradient of tensor i in step s (deterministic), contiguous whatever the parameter's layout; tensor 1
// gets none in steps 0 and 1.
void set_grads(Params& p, int step) {
  for (std::size_t i = 0; i < p.tensors.size(); ++i) {
    at::Tensor& t = p.tensors[i];
    if (i == 1 && step < 2) {
      t.mutable_grad() = at::Tensor();
      continue;
    }
    at::manual_seed(100 * step + static_cast<int>(i));
    t.mutable_grad() = at::randn(t.sizes(), t.options().requires_grad(false));  // contiguous
  }
}

using Make = std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::optim::OptimizerParamGroup>,
                                                                    torch::optim::SGDOptions)>;

std::vector<at::Tensor> train(const Make& make, const torch::optim::SGDOptions& options) {
  Params p = make_params();
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{p.tensors[0], p.tensors[2], p.tensors[4], p.tensors[5]},
                      std::make_unique<torch::optim::SGDOptions>(options));
  auto no_decay = std::make_unique<torch::optim::SGDOptions>(options);
  no_decay->weight_decay(0).lr(options.lr() * 0.5);
  groups.emplace_back(std::vector<at::Tensor>{p.tensors[1], p.tensors[3]}, std::move(no_decay));
  auto optimizer = make(std::move(groups), options);
  for (int step = 0; step < 5; ++step) {
    set_grads(p, step);
    optimizer->step();
  }
  std::vector<at::Tensor> out;
  for (const auto& t : p.tensors) out.push_back(t.detach().clone());
  return out;
}

void expect_same_as_sgd(const torch::optim::SGDOptions& options) {
  const auto plain = train([](auto g, auto o) { return std::make_unique<torch::optim::SGD>(g, o); }, options);
  const auto fused = train([](auto g, auto o) { return std::make_unique<FusedSGD>(g, o); }, options);
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_TRUE(at::allclose(plain[i], fused[i], /*rtol=*/1e-12, /*atol=*/1e-12))
        << "tensor " << i << ": max |diff| " << (plain[i] - fused[i]).abs().max().item<double>();
    EXPECT_EQ(plain[i].strides(), fused[i].strides()) << "tensor " << i << " changed layout";
  }
  // Tensor 1 had no gradient for two steps and still moved afterwards.
  EXPECT_FALSE(at::equal(fused[1], make_params().tensors[1].detach()));
}

TEST(FusedSgd, MomentumAndWeightDecayMatchSgd) {
  expect_same_as_sgd(torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
}

TEST(FusedSgd, NesterovMatchesSgd) {
  expect_same_as_sgd(torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(1e-3));
}

TEST(FusedSgd, NoMomentumMatchesSgd) { expect_same_as_sgd(torch::optim::SGDOptions(0.1).weight_decay(5e-4)); }

TEST(FusedSgd, DampeningMatchesSgd) {
  expect_same_as_sgd(torch::optim::SGDOptions(0.1).momentum(0.5).dampening(0.3));
}

TEST(FusedSgd, SameDenseLayoutIgnoresStridesOfSizeOneDims) {
  const auto cl = at::MemoryFormat::ChannelsLast;
  const at::Tensor conv3 = at::randn({4, 8, 3, 3});
  const at::Tensor conv1 = at::randn({6, 4, 1, 1});
  EXPECT_TRUE(same_dense_layout(conv3, at::randn({4, 8, 3, 3})));
  EXPECT_FALSE(same_dense_layout(conv3, conv3.contiguous(cl)));  // a real transpose of the memory
  // A 1x1 conv weight's gradient from mkldnn has strides (4, 1, 4, 4): the same memory, other size-1 strides.
  EXPECT_TRUE(same_dense_layout(conv1, conv1.as_strided({6, 4, 1, 1}, {4, 1, 4, 4})));
  EXPECT_TRUE(same_dense_layout(conv1, conv1.contiguous(cl)));
  EXPECT_FALSE(same_dense_layout(conv3, at::randn({4, 8, 9})));                // other sizes
  EXPECT_FALSE(same_dense_layout(conv3, at::randn({4, 8, 3, 6}).slice(3, 0, 3)));  // not dense
}

TEST(FusedSgd, KeepsStateWhereSgdDoes) {
  Params p = make_params();
  FusedSGD optimizer(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(p.tensors)},
                     torch::optim::SGDOptions(0.1).momentum(0.9));
  set_grads(p, 0);
  optimizer.step();
  // Tensor 1 had no gradient: no state, as SGD.
  EXPECT_EQ(optimizer.state().size(), p.tensors.size() - 1);
  EXPECT_EQ(optimizer.state().count(p.tensors[1].unsafeGetTensorImpl()), 0U);
  const auto& state = static_cast<torch::optim::SGDParamState&>(*optimizer.state().at(p.tensors[0].unsafeGetTensorImpl()));
  EXPECT_TRUE(at::equal(state.momentum_buffer(), p.tensors[0].grad()));  // first step: buffer = gradient
}

}  // namespace
}  // namespace ftbench::train
