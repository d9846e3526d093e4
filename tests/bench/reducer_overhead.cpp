// Benchmark (not a test): the GradientReducer's cost at world size 1 on CPU ResNet-18.
//
//   mpiexec -n 1 build/tests/bench/bench_reducer_overhead [steps] [batch] [input_size]
//
// Alternates training steps with and without the reducer (so machine noise hits both alike) and prints the
// median step time of each and the overhead. At world size 1 the all-reduce itself completes at once, so
// what is measured is the reducer's own work: hooks, copies into the buckets and back into .grad.
#include <ATen/Functions.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dist/gradient_reducer.h"
#include "dist/mpi_communicator.h"
#include "dist/runtime.h"
#include "runner/models/registry.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  ftbench::dist::Runtime runtime(&argc, &argv);
  const int steps = argc > 1 ? std::atoi(argv[1]) : 20;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 64;
  const int64_t size = argc > 3 ? std::atoll(argv[3]) : 32;

  auto model = ftbench::models::build_model("resnet18", 10);
  std::vector<at::Tensor> params = model->parameters();
  torch::optim::SGD optimizer(params, torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
  ftbench::dist::MpiCommunicator comm;
  ftbench::dist::GradientReducer reducer(params, comm, {});
  const at::Tensor x = at::randn({batch, 3, size, size});
  const at::Tensor y = at::randint(0, 10, {batch}, at::TensorOptions().dtype(at::kLong));

  auto step = [&](bool with_reducer) {
    const auto start = std::chrono::steady_clock::now();
    if (with_reducer) {
      reducer.prepare_step();
    } else {
      // Zero in place: the .grad tensors are the reducer's bucket views (Optimizer::zero_grad would detach_
      // them, which views refuse).
      for (auto& p : params) p.mutable_grad().zero_();
    }
    at::cross_entropy_loss(model->forward(x), y).backward();
    if (with_reducer) reducer.finalize();
    optimizer.step();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (int i = 0; i < 3; ++i) step(i % 2 == 0);  // warm-up
  std::vector<double> plain, reduced;
  for (int i = 0; i < steps; ++i) {
    plain.push_back(step(false));
    reduced.push_back(step(true));
  }
  const double a = median(plain), b = median(reduced);
  std::printf("resnet18 batch %lld at %lldx%lld, %d threads, %d steps each: median step %.1f ms without "
              "reducer, %.1f ms with (%zu buckets): overhead %+.2f%%\n",
              static_cast<long long>(batch), static_cast<long long>(size), static_cast<long long>(size),
              at::get_num_threads(), steps, 1e3 * a, 1e3 * b, reducer.bucket_count(), 100.0 * (b - a) / a);
  return 0;
}
