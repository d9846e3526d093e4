// The optimiser step: gradient accumulation (k micro-batches of b == one batch of k*b), clipping after the
// gradients are complete, auxiliary losses in training only, label smoothing, and the EMA of the weights.
// A small float64 model without BatchNorm, so that the comparisons are exact up to summation order.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include "runner/train/ema.h"
#include "runner/train/step.h"
#include "tests/train/tiny_net.h"

namespace ftbench::train {
namespace {

using testing::TinyNet;

struct Data {
  at::Tensor x, y;
};

Data make_data(int64_t n) {
  at::manual_seed(7);
  return {at::randn({n, 3, 4, 4}, at::kDouble), at::randint(0, 10, {n}, at::kLong)};
}

std::vector<at::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<at::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

double max_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}

// Trains `steps` optimiser steps on `data`, each over `k` micro-batches of `b` images (the last step of the
// data may be shorter), with SGD + momentum + weight decay, and the given options.
// `mean_per_micro`: divide each micro-batch's loss by its own size instead (the wrong way), for contrast.
std::vector<at::Tensor> train(const Data& data, int64_t k, int64_t b, StepOptions options, int64_t steps,
                              std::vector<double>* norms = nullptr, bool mean_per_micro = false) {
  auto net = std::make_shared<TinyNet>(/*aux=*/!options.aux_loss_weights.empty());
  net->train();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-3));
  Stepper stepper(*net, sgd, options);
  StepTotals totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  const int64_t per_step = k * b;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t begin = s * per_step;
    const int64_t images = std::min(per_step, data.x.size(0) - begin);
    const int64_t micro = (images + b - 1) / b;
    const double norm = stepper.step(
        micro,
        [&](int64_t j) {
          const int64_t from = begin + j * b, to = std::min(begin + (j + 1) * b, begin + images);
          return MicroBatch{data.x.slice(0, from, to), data.y.slice(0, from, to)};
        },
        mean_per_micro ? b : images, totals);
    if (norms != nullptr) norms->push_back(norm);
  }
  return snapshot(*net);
}

TEST(Accumulation, FourMicroBatchesOfTwoEqualOneBatchOfEight) {
  const Data data = make_data(24);
  const auto one = train(data, /*k=*/1, /*b=*/8, {}, /*steps=*/3);
  const auto four = train(data, /*k=*/4, /*b=*/2, {}, 3);
  EXPECT_LT(max_diff(one, four), 1e-14);
  // The comparison can fail: a mean per micro-batch (k times the gradient) is not one batch of k*b.
  const auto wrong = train(data, 4, 2, {}, 3, nullptr, /*mean_per_micro=*/true);
  EXPECT_GT(max_diff(one, wrong), 1e-4);
}

TEST(Accumulation, AShortLastMicroBatchCountsByItsImages) {
  const Data data = make_data(26);
  const auto nine = train(data, /*k=*/1, /*b=*/9, {}, /*steps=*/3);    // 9 + 9 + 8 images
  const auto three = train(data, /*k=*/3, /*b=*/3, {}, 3);  // (3+3+3) + (3+3+3) + (3+3+2)
  EXPECT_LT(max_diff(nine, three), 1e-14);
}

TEST(Accumulation, HoldsWithLabelSmoothingClippingAndAuxHeads) {
  const Data data = make_data(16);
  StepOptions options;
  options.label_smoothing = 0.1;
  options.clip_grad_norm = 0.05;  // small enough to clip every step
  options.aux_loss_weights = {0.4};
  std::vector<double> norms_one, norms_four;
  const auto one = train(data, 1, 8, options, 2, &norms_one);
  const auto four = train(data, 4, 2, options, 2, &norms_four);
  EXPECT_LT(max_diff(one, four), 1e-14);
  ASSERT_EQ(norms_one.size(), 2u);
  EXPECT_NEAR(norms_one[0], norms_four[0], 1e-14);
  EXPECT_GT(norms_one[0], 0.05);  // it did clip
}

TEST(Step, LossIsMainPlusWeightedAuxAndGradientsAreClippedToTheNorm) {
  const Data data = make_data(6);
  StepOptions options;
  options.aux_loss_weights = {0.4};
  options.label_smoothing = 0.2;
  options.clip_grad_norm = 1e-3;
  auto net = std::make_shared<TinyNet>(/*aux=*/true);
  net->train();
  // Reference gradient by hand: mean over the batch of CE(main) + 0.4 CE(aux), both label-smoothed.
  namespace F = torch::nn::functional;
  const auto ce = F::CrossEntropyFuncOptions().label_smoothing(0.2);
  const auto out = net->forward_with_aux(data.x);
  ASSERT_EQ(out.aux_logits.size(), 1u);
  (F::cross_entropy(out.logits, data.y, ce) + 0.4 * F::cross_entropy(out.aux_logits[0], data.y, ce)).backward();
  std::vector<at::Tensor> expected;
  for (const auto& p : net->parameters()) expected.push_back(p.grad().clone());
  double norm2 = 0;
  for (const auto& g : expected) norm2 += g.pow(2).sum().item<double>();
  for (auto& p : net->parameters()) p.mutable_grad() = at::Tensor();

  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.0));  // lr 0: look at the gradients
  Stepper stepper(*net, sgd, options);
  StepTotals totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  const double norm = stepper.step(1, [&](int64_t) { return MicroBatch{data.x, data.y}; }, 6, totals);
  EXPECT_NEAR(norm, std::sqrt(norm2), 1e-12);
  const double scale = 1e-3 / (std::sqrt(norm2) + 1e-6);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(at::allclose(params[i].grad(), expected[i] * scale, 1e-10, 1e-15)) << "parameter " << i;
  }
  // The recorded loss is the main head's, summed over the images.
  const double main_sum = F::cross_entropy(net->forward(data.x), data.y, F::CrossEntropyFuncOptions()
                                               .label_smoothing(0.2).reduction(torch::kSum)).item<double>();
  EXPECT_NEAR(totals.loss_sum.item<double>(), main_sum, 1e-12);
}

TEST(Step, AuxHeadsDoNotRunInEvalMode) {
  TinyNet net(/*aux=*/true);
  net.eval();
  EXPECT_TRUE(net.forward_with_aux(at::zeros({2, 3, 4, 4}, at::kDouble)).aux_logits.empty());
}

TEST(WeightEma, AveragesAndSwapsBack) {
  TinyNet net(/*aux=*/false);
  const auto start = snapshot(net);
  WeightEma ema(net, /*decay=*/0.75);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) p.add_(1.0);
  }
  ema.update();  // shadow = 0.75 start + 0.25 (start + 1) = start + 0.25
  const auto trained = snapshot(net);
  {
    WeightEma::Swap swap(ema);
    const auto averaged = snapshot(net);
    for (std::size_t i = 0; i < averaged.size(); ++i) {
      EXPECT_TRUE(at::allclose(averaged[i], start[i] + 0.25, 0, 1e-15)) << i;
    }
  }
  EXPECT_EQ(max_diff(snapshot(net), trained), 0.0);  // the trained weights are back
}

}  // namespace
}  // namespace ftbench::train
