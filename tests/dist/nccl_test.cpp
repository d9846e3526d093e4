// NcclCommunicator and GradientReducer on a GPU at world size 1 (NCCL refuses two ranks on one GPU): the
// bootstrap, the side stream and its events, and the all-reduce path. Labelled `gpu`. Without a visible
// GPU the binary exits 77, which CTest reports as skipped, never as passed.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/nn/modules/linear.h>

#include <cstdio>

#include "dist/gradient_reducer.h"
#include "dist/nccl_communicator.h"
#include "dist/runtime.h"

namespace ftbench::dist {
namespace {

NcclCommunicator& comm() {
  static NcclCommunicator instance(/*device_index=*/0, /*timeout_s=*/60);
  return instance;
}

const at::TensorOptions kCuda = at::TensorOptions().device(at::kCUDA, 0);

TEST(Nccl, AllReduceSumAverageAndBroadcast) {
  for (const auto dtype : {at::kFloat, at::kBFloat16, at::kLong}) {
    at::Tensor t = at::arange(1001, kCuda.dtype(at::kLong)).remainder(64).to(dtype);
    const at::Tensor before = t.clone();
    comm().all_reduce(t, ReduceOp::kSum);  // world size 1: the sum is the tensor itself
    EXPECT_TRUE(at::equal(t, before)) << dtype;
    if (dtype != at::kLong) {
      comm().all_reduce(t, ReduceOp::kAverage);
      EXPECT_TRUE(at::equal(t, before)) << dtype;
    }
    comm().broadcast(t, 0);
    EXPECT_TRUE(at::equal(t, before)) << dtype;
  }
  EXPECT_EQ(comm().all_gather(42), std::vector<int64_t>{42});
}

TEST(Nccl, AsyncWorkOrdersAfterProducerAndBeforeConsumer) {
  // The producer kernel runs on the compute stream; the all-reduce on the side stream must see its result,
  // and the consumer kernel after wait() must see the reduced tensor.
  at::Tensor t = at::zeros({1 << 22}, kCuda);
  t.add_(3.0);
  auto work = comm().all_reduce_async(t, ReduceOp::kSum);
  work->wait();
  EXPECT_DOUBLE_EQ(t.mul(2).sum().item<double>(), 6.0 * (1 << 22));
}

TEST(Nccl, ReducerMatchesLocalGradientsOnGpu) {
  at::manual_seed(0);
  torch::nn::Linear a(64, 64), b(64, 10);
  a->to(at::Device(at::kCUDA, 0));
  b->to(at::Device(at::kCUDA, 0));
  std::vector<at::Tensor> params{a->weight, a->bias, b->weight, b->bias};
  const at::Tensor x = at::randn({32, 64}, kCuda);
  auto loss = [&] { return b->forward(at::relu(a->forward(x))).square().mean(); };
  loss().backward();
  std::vector<at::Tensor> expected;
  for (auto& p : params) {
    expected.push_back(p.grad().clone());
    p.mutable_grad() = at::Tensor();
  }
  GradientReducer reducer(params, comm(), {0.001, 0.001, at::kFloat});
  reducer.prepare_step();
  loss().backward();
  reducer.finalize();
  for (std::size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(at::allclose(params[i].grad(), expected[i]));
  EXPECT_GT(reducer.take_stats().bytes, 0);
}

}  // namespace
}  // namespace ftbench::dist

int main(int argc, char** argv) {
  ftbench::dist::Runtime runtime(&argc, &argv);
  if (!torch::cuda::is_available()) {
    std::printf("SKIPPED: no CUDA device is visible; the NCCL tests need a GPU\n");
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
