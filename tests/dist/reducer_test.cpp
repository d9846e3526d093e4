// GradientReducer under mpiexec with 1, 2 and 3 ranks: bucket layout, and gradients equal to a
// single-process reference over the whole batch, with unused and frozen parameters in the model, and with
// channels_last conv weights.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/options/conv.h>

#include "dist/gradient_reducer.h"
#include "dist/mpi_communicator.h"

namespace ftbench::dist {
namespace {

TEST(AssignBuckets, ReverseOrderFirstBucketSmallOversizedAlone) {
  // Parameters in registration order with these byte sizes; bucket 0 starts from the last parameter.
  const std::vector<int64_t> bytes{40, 10, 10, 100, 10, 10};
  const auto buckets = assign_buckets(bytes, /*first_cap=*/20, /*cap=*/50);
  const std::vector<std::vector<std::size_t>> expected{{5, 4}, {3}, {2, 1}, {0}};
  EXPECT_EQ(buckets, expected);
}

TEST(AssignBuckets, EveryParameterExactlyOnce) {
  std::vector<int64_t> bytes;
  for (int i = 0; i < 57; ++i) bytes.push_back(1 + (i * 7919) % 1000);
  std::vector<int> seen(bytes.size(), 0);
  for (const auto& bucket : assign_buckets(bytes, 500, 2000)) {
    for (std::size_t i : bucket) ++seen[i];
  }
  EXPECT_EQ(seen, std::vector<int>(bytes.size(), 1));
}

// A small model: two used layers, one unused layer (no gradient, like an inactive aux head), one frozen.
struct Net {
  torch::nn::Linear a{16, 32}, b{32, 5}, unused{8, 3}, frozen{16, 16};
  std::vector<at::Tensor> trainable() {
    return {a->weight, a->bias, frozen->weight, b->weight, b->bias, unused->weight, unused->bias};
  }
  at::Tensor forward(const at::Tensor& x) { return b->forward(at::relu(a->forward(frozen->forward(x)))); }
};

struct Problem {
  Net net;
  at::Tensor x, y;
  std::vector<at::Tensor> params;
};

Problem make_setup() {
  at::manual_seed(1234);  // identical model and data on every rank
  Problem s;
  s.net.frozen->weight.set_requires_grad(false);
  s.net.frozen->bias.set_requires_grad(false);
  s.x = at::randn({37, 16});  // 37: splits unevenly over 2 and 3 ranks
  s.y = at::randint(0, 5, {37}, at::TensorOptions().dtype(at::kLong));
  for (const auto& p : s.net.trainable()) {
    if (p.requires_grad()) s.params.push_back(p);
  }
  return s;
}

at::Tensor loss_sum(Net& net, const at::Tensor& x, const at::Tensor& y) {
  return at::cross_entropy_loss(net.forward(x), y, /*weight=*/{}, at::Reduction::Sum);
}

void check_against_reference(at::ScalarType grad_dtype, double bucket_mb, double tolerance) {
  MpiCommunicator comm(/*timeout_s=*/60);
  Problem s = make_setup();
  const int64_t n = s.x.size(0);

  // Reference: the whole batch in this process, mean loss.
  (loss_sum(s.net, s.x, s.y) / static_cast<double>(n)).backward();
  std::vector<at::Tensor> expected;
  for (auto& p : s.params) {
    expected.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    p.mutable_grad() = at::Tensor();
  }

  // Distributed: this rank's contiguous shard, local sum / global count, reducer sums over ranks.
  GradientReducer reducer(s.params, comm, {/*first_bucket_mb=*/bucket_mb, /*bucket_cap_mb=*/bucket_mb, grad_dtype});
  EXPECT_GT(reducer.bucket_count(), 1u);
  const int64_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();
  reducer.prepare_step();
  (loss_sum(s.net, s.x.slice(0, begin, end), s.y.slice(0, begin, end)) / static_cast<double>(n)).backward();
  reducer.finalize();

  for (std::size_t i = 0; i < s.params.size(); ++i) {
    ASSERT_TRUE(s.params[i].grad().defined()) << "parameter " << i;
    const double scale = std::max(1e-12, expected[i].abs().max().item<double>());
    const double error = (s.params[i].grad() - expected[i]).abs().max().item<double>();
    EXPECT_LE(error, tolerance * scale) << "parameter " << i << " (" << comm.size() << " ranks)";
  }
  EXPECT_FALSE(s.net.frozen->weight.grad().defined()) << "a frozen parameter must take no part";
  const ReducerStats stats = reducer.take_stats();
  EXPECT_EQ(stats.steps, 1);
  EXPECT_GT(stats.bytes, 0);
}

TEST(GradientReducer, Fp32MatchesSingleProcessReference) {
  check_against_reference(at::kFloat, /*bucket_mb=*/0.001, /*tolerance=*/1e-6);
}

TEST(GradientReducer, Bf16MatchesWithinBf16Precision) {
  // bfloat16 keeps 8 significant bits: each element is within about 2^-8 of the reference, relative to the
  // tensor's scale, plus one rounding per reduction step.
  check_against_reference(at::kBFloat16, /*bucket_mb=*/0.001, /*tolerance=*/2e-2);
}

// Gradient accumulation: this rank's shard in 3 micro-batches; the first two backwards run without
// communication (prepare_no_sync), the last one launches the buckets, and one all-reduce gives the same
// gradients as the whole batch at once.
void check_accumulation(at::ScalarType grad_dtype, double tolerance) {
  MpiCommunicator comm(/*timeout_s=*/60);
  Problem s = make_setup();
  const int64_t n = s.x.size(0);
  (loss_sum(s.net, s.x, s.y) / static_cast<double>(n)).backward();
  std::vector<at::Tensor> expected;
  int64_t numel = 0;
  for (auto& p : s.params) {
    expected.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    p.mutable_grad() = at::Tensor();
    numel += p.numel();
  }

  GradientReducer reducer(s.params, comm, {/*first_bucket_mb=*/0.001, /*bucket_cap_mb=*/0.001, grad_dtype});
  const int64_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();
  for (int step = 0; step < 2; ++step) {  // twice: the second step must start from zero again
    for (int64_t j = 0; j < 3; ++j) {
      const int64_t from = begin + (end - begin) * j / 3, to = begin + (end - begin) * (j + 1) / 3;
      if (j < 2) reducer.prepare_no_sync(/*zero=*/j == 0);
      else reducer.prepare_step(/*zero=*/false);
      (loss_sum(s.net, s.x.slice(0, from, to), s.y.slice(0, from, to)) / static_cast<double>(n)).backward();
      if (j < 2) {
        EXPECT_EQ(reducer.take_stats().bytes, 0) << "a no-sync micro-batch communicated";
      }
    }
    reducer.finalize();
    for (std::size_t i = 0; i < s.params.size(); ++i) {
      const double scale = std::max(1e-12, expected[i].abs().max().item<double>());
      const double error = (s.params[i].grad() - expected[i]).abs().max().item<double>();
      EXPECT_LE(error, tolerance * scale) << "step " << step << " parameter " << i;
    }
    const ReducerStats stats = reducer.take_stats();
    EXPECT_EQ(stats.steps, 1);
    EXPECT_EQ(stats.bytes, numel * (grad_dtype == at::kFloat ? 4 : 2));  // every gradient once per step
  }
}

TEST(GradientReducer, AccumulationCommunicatesOncePerStepFp32) { check_accumulation(at::kFloat, 1e-6); }

TEST(GradientReducer, AccumulationCommunicatesOncePerStepBf16) { check_accumulation(at::kBFloat16, 2e-2); }

// A small conv net in channels_last, as the trainer runs conv nets: each gradient view takes its parameter's
// strides (a 3x3 weight's gradient is channels_last too, so autograd and the fused optimizer need no copy),
// and the sums are right through the views (fp32) and through the copies (bf16).
void check_channels_last(at::ScalarType grad_dtype, double tolerance) {
  MpiCommunicator comm(/*timeout_s=*/60);
  at::manual_seed(99);
  torch::nn::Conv2d a(torch::nn::Conv2dOptions(3, 8, 3).padding(1)), b(torch::nn::Conv2dOptions(8, 4, 1));
  const auto cl = at::MemoryFormat::ChannelsLast;
  for (auto* w : {&a->weight, &b->weight}) {
    torch::NoGradGuard no_grad;
    w->set_data(w->data().contiguous(cl));
  }
  const at::Tensor x = at::randn({9, 3, 6, 6}).contiguous(cl);
  const at::Tensor y = at::randn({9, 4, 6, 6});
  auto loss = [&](int64_t from, int64_t to) {
    return (b->forward(at::relu(a->forward(x.slice(0, from, to)))) - y.slice(0, from, to)).pow(2).sum() / 9.0;
  };
  std::vector<at::Tensor> params{a->weight, a->bias, b->weight, b->bias};
  loss(0, 9).backward();
  std::vector<at::Tensor> expected;
  for (auto& p : params) {
    expected.push_back(p.grad().clone());
    p.mutable_grad() = at::Tensor();
  }

  GradientReducer reducer(params, comm, {/*first_bucket_mb=*/0.0005, /*bucket_cap_mb=*/0.0005, grad_dtype});
  if (grad_dtype == at::kFloat) {
    EXPECT_EQ(params[0].grad().strides(), params[0].strides()) << "3x3 weight's view";
    EXPECT_TRUE(params[0].grad().is_contiguous(cl));
    EXPECT_EQ(params[2].grad().strides(), params[2].strides()) << "1x1 weight's view";
  }
  const int64_t begin = 9 * comm.rank() / comm.size(), end = 9 * (comm.rank() + 1) / comm.size();
  for (int step = 0; step < 2; ++step) {
    reducer.prepare_step();
    loss(begin, end).backward();
    reducer.finalize();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const double scale = std::max(1e-12, expected[i].abs().max().item<double>());
      const double error = (params[i].grad() - expected[i]).abs().max().item<double>();
      EXPECT_LE(error, tolerance * scale) << "step " << step << " parameter " << i;
    }
  }
}

TEST(GradientReducer, ChannelsLastFp32ViewsKeepTheParametersLayout) { check_channels_last(at::kFloat, 1e-5); }

TEST(GradientReducer, ChannelsLastBf16CopiesKeepTheSums) { check_channels_last(at::kBFloat16, 2e-2); }

TEST(GradientReducer, RepeatedStepsReuseBuckets) {
  MpiCommunicator comm(60);
  Problem s = make_setup();
  GradientReducer reducer(s.params, comm, {1.0, 25.0, at::kFloat});
  for (int step = 0; step < 3; ++step) {
    for (auto& p : s.params) p.mutable_grad() = at::Tensor();
    reducer.prepare_step();
    loss_sum(s.net, s.x, s.y).backward();
    reducer.finalize();
  }
  // Every rank computed the same full-batch loss, so the sum is world_size times one rank's gradient.
  at::Tensor single = s.params[0].grad().clone();
  for (auto& p : s.params) p.mutable_grad() = at::Tensor();
  loss_sum(s.net, s.x, s.y).backward();
  EXPECT_TRUE(at::allclose(single, s.params[0].grad() * comm.size(), 1e-5, 1e-6));
  EXPECT_EQ(reducer.take_stats().steps, 3);
}

}  // namespace
}  // namespace ftbench::dist
