// Under mpiexec (1, 2 and 3 ranks): k micro-batches per step, each split across the ranks, gradients
// all-reduced once per step by the GradientReducer, give the weights of one process training one batch of
// k*b images per step.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/optim/sgd.h>

#include "dist/gradient_reducer.h"
#include "dist/mpi_communicator.h"
#include "runner/train/sharding.h"
#include "runner/train/step.h"
#include "tests/train/tiny_net.h"

namespace ftbench::train {
namespace {

using testing::TinyNet;

TEST(DistributedAccumulation, MicroBatchesOverRanksEqualOneBigBatch) {
  dist::MpiCommunicator comm(/*timeout_s=*/60);
  at::manual_seed(11);  // the same data on every rank
  const int64_t n = 40, k = 4, b = 5;  // two optimiser steps of 4 x 5 images; 5 splits unevenly over ranks
  const at::Tensor x = at::randn({n, 3, 4, 4}, at::kDouble);
  const at::Tensor y = at::randint(0, 10, {n}, at::kLong);
  StepOptions options;
  options.clip_grad_norm = 0.5;

  // Reference: one process, one batch of k*b per step.
  TinyNet reference(/*aux=*/false);
  reference.train();
  torch::optim::SGD ref_sgd(reference.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  Stepper ref_stepper(reference, ref_sgd, options);
  StepTotals ref_totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  for (int64_t s = 0; s < 2; ++s) {
    ref_stepper.step(1, [&](int64_t) { return MicroBatch{x.slice(0, s * k * b, (s + 1) * k * b),
                                                         y.slice(0, s * k * b, (s + 1) * k * b)}; },
                     k * b, ref_totals);
  }

  // Distributed: micro-batch j of step s is images [(s k + j) b, (s k + j + 1) b), split evenly over ranks.
  TinyNet net(/*aux=*/false);
  net.train();
  std::vector<at::Tensor> params = net.parameters();
  torch::optim::SGD sgd(params, torch::optim::SGDOptions(0.1).momentum(0.9));
  dist::GradientReducer reducer(params, comm, {/*first_bucket_mb=*/0.001, /*bucket_cap_mb=*/0.001, at::kFloat});
  Stepper stepper(net, sgd, options);
  stepper.set_reducer(&reducer);
  StepTotals totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  for (int64_t s = 0; s < 2; ++s) {
    stepper.step(
        k,
        [&](int64_t j) {
          const int64_t begin = (s * k + j) * b;
          const Range mine = split_evenly(b, comm.rank(), comm.size());
          return MicroBatch{x.slice(0, begin + mine.begin, begin + mine.end),
                            y.slice(0, begin + mine.begin, begin + mine.end)};
        },
        k * b, totals);
    EXPECT_EQ(reducer.take_stats().steps, 1) << "one all-reduce per optimiser step";
  }

  const auto expected = reference.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    // The reducer sums in float32 (grad_dtype fp32): float32 rounding of the float64 gradients.
    EXPECT_TRUE(at::allclose(params[i], expected[i], /*rtol=*/1e-5, /*atol=*/1e-7))
        << "parameter " << i << " at " << comm.size() << " ranks: max diff "
        << (params[i] - expected[i]).abs().max().item<double>();
  }
  // The summed main loss over ranks equals the reference's.
  comm.all_reduce(totals.loss_sum, dist::ReduceOp::kSum);
  EXPECT_NEAR(totals.loss_sum.item<double>(), ref_totals.loss_sum.item<double>(),
              1e-5 * ref_totals.loss_sum.item<double>());
}

}  // namespace
}  // namespace ftbench::train
