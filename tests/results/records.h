// Deterministic experiment, run and epoch records for the results tests. h5py_roundtrip.py recomputes the
// same values, so a change here must be mirrored there.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "results/metrics.h"

namespace ftbench::results::testing {

inline ExperimentInfo experiment(const std::string& name) {
  ExperimentInfo info;
  info.experiment = name;
  info.config_toml = "[experiment]\nname = \"" + name + "\"\n";
  info.created = "2026-05-01T12:00:00Z";
  info.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return info;
}

// k distinguishes runs: every field differs between runs.
inline RunInfo run(const std::string& run_id, int k) {
  RunInfo info;
  info.run_id = run_id;
  info.model = k == 0 ? "resnet18" : "vgg16";
  info.strategy = k == 0 ? "full" : "linear_probe";
  info.weights = k == 0 ? "torchvision" : "none";
  info.weights_file = k == 0 ? "/home/u/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth" : "";
  info.weights_sha256 = k == 0 ? "f37072fd47e89c7ec2d3a8f1dd1a1b1d6a0f5d0f3c3e8b6c1f1b3e0a9d8c7b6a" : "";
  info.weights_load = k == 0 ? "102 tensors loaded; head fc re-initialised for 10 classes" : "";
  info.seed = 7 + k;
  info.world_size = 2 + k;
  info.backend = "mpi";
  info.device = "cpu";
  info.devices = k == 0 ? "2x cpu (Test CPU @ 2.0GHz)" : "3x NVIDIA H200";
  info.params_total = 11689512 + k;
  info.params_trainable = 11181642 - 1000 * k;
  info.input_size = 32 + k;
  info.global_batch = 128 * (k + 1);
  info.config_toml = "[train]\nepochs = 3  # run " + std::to_string(k) + "\n";
  info.ftbench_version = "0.1.0";
  info.torch_version = "2.11.0";
  info.nccl_version = k == 0 ? "not built" : "2.28.9";
  info.mpi_version = "Open MPI v4.1.4";
  info.hdf5_version = "1.10.10";
  info.git_commit = "abc123def456";
  info.hostnames = "node1,node2";
  info.start_time = "2026-05-01T12:00:0" + std::to_string(k) + "Z";
  return info;
}

inline EpochRow epoch_row(int64_t epoch, int k) {
  const double e = static_cast<double>(epoch);
  EpochRow row;
  row.epoch = epoch;
  row.train_loss = 2.0 / e + 0.1 * k;
  row.train_acc = 0.5 + 0.1 * e + 0.01 * k;
  row.test_loss = 2.5 / e + 0.1 * k;
  row.test_acc = 0.4 + 0.1 * e + 0.02 * k;
  row.lr = 0.01 / e;
  row.epoch_seconds = 10.0 * e + k;
  row.images_per_second = 1000.0 + e + 100.0 * k;
  row.test_acc5 = 0.9 + 0.01 * e + 0.001 * k;
  row.data_seconds = 1.0 * e + 0.5 * k;
  row.compute_seconds = 7.0 * e + 0.25 * k;
  row.comm_seconds = 0.5 * e + 0.125 * k;
  row.peak_memory_bytes = (int64_t{1} << 30) + 1000 * epoch + k;
  row.comm_bytes = 44727208 * epoch + k;
  row.trainable_params = 11181642 - 1000 * k - epoch;
  for (int t = 0; t < kClasses; ++t)
    for (int p = 0; p < kClasses; ++p)
      row.confusion[t][p] = t == p ? 50 + 10 * epoch + t + k : (t + p + epoch + k) % 3;
  return row;
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("ftbench_results_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace ftbench::results::testing
