// Benchmark (not a test): the data pipeline's share of a training step.
//
//   build/tests/bench/bench_pipeline_share [steps] [batch] [threads] [device]
//
// For resnet18 (10 classes) at input 32 and 224, alternates prepare_batch (gather, crop + flip, convert,
// normalise, resize; augmentation on) with one full training step on its output (forward, cross-entropy,
// backward, SGD step with momentum and weight decay), so that machine noise hits both alike, and prints the
// median of each and the data share: data / (data + train step), for the default layout (data_ms) and for
// channels_last (data_cl_ms). The target is <= 3%. On CUDA each timing ends with a device synchronisation.
// Defaults: 10 steps, batch 64, 2 threads, cpu.
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <c10/core/Device.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runner/models/registry.h"
#include "runner/train/augment.h"
#include "runner/train/sharding.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double seconds(const c10::Device& device, F&& f) {
  if (device.is_cuda()) torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  f();
  if (device.is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using ftbench::train::BatchSpec;
  const int steps = argc > 1 ? std::atoi(argv[1]) : 10;
  const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 64;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const c10::Device device(argc > 4 ? argv[4] : "cpu");
  at::set_num_threads(threads);

  // A CIFAR-sized uint8 train split on the device (the pipeline never converts it).
  constexpr int64_t kImages = 50000;
  at::manual_seed(0);
  const at::Tensor images = at::randint(0, 256, {kImages, 3, 32, 32}, at::TensorOptions().dtype(at::kByte)).to(device);
  const at::Tensor labels = at::randint(0, 10, {kImages}, at::TensorOptions().dtype(at::kLong)).to(device);
  const at::Tensor order = ftbench::train::epoch_permutation(kImages, /*seed=*/0, /*epoch=*/1);

  std::printf("# resnet18, batch %lld, %d threads, %s, %d steps per size (after 2 warm-up); medians\n",
              static_cast<long long>(batch), threads, device.str().c_str(), steps);
  std::printf("# %5s %10s %11s %14s %11s %14s\n", "input", "data_ms", "data_cl_ms", "train_step_ms", "data_share",
              "data_cl_share");
  for (int64_t size : {32, 224}) {
    auto model = ftbench::models::build_model("resnet18", 10);
    model->to(device);
    model->train();
    torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
    BatchSpec spec{size, /*augment=*/true, /*seed=*/0, /*epoch=*/1};
    BatchSpec spec_cl = spec;
    spec_cl.channels_last = true;

    std::vector<double> data, data_cl, train;
    for (int i = 0; i < steps + 2; ++i) {
      const at::Tensor index = order.slice(0, (i * batch) % (kImages - batch), (i * batch) % (kImages - batch) + batch);
      // The first pipeline call after a step pays for waking the thread pool, as in the trainer; alternate
      // which layout goes first so that both columns carry the same share of it.
      at::Tensor x;
      auto plain = [&] { return seconds(device, [&] { x = ftbench::train::prepare_batch(images, index, spec); }); };
      auto last = [&] { return seconds(device, [&] { (void)ftbench::train::prepare_batch(images, index, spec_cl); }); };
      double d = 0, d_cl = 0;
      if (i % 2 == 0) {
        d = plain();
        d_cl = last();
      } else {
        d_cl = last();
        d = plain();
      }
      const at::Tensor y = labels.index_select(0, index.to(device));
      const double t = seconds(device, [&] {
        optimizer.zero_grad();
        at::cross_entropy_loss(model->forward(x), y).backward();
        optimizer.step();
      });
      if (i < 2) continue;  // warm-up: allocator, first-touch, cuDNN plans
      data.push_back(d);
      data_cl.push_back(d_cl);
      train.push_back(t);
    }
    const double d = median(data), d_cl = median(data_cl), t = median(train);
    std::printf("  %5lld %10.2f %11.2f %14.1f %10.2f%% %13.2f%%\n", static_cast<long long>(size), 1e3 * d, 1e3 * d_cl,
                1e3 * t, 100.0 * d / (d + t), 100.0 * d_cl / (d_cl + t));
  }
  return 0;
}
