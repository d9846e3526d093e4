// Checkpoints: what encode_checkpoint writes, decode_checkpoint restores exactly (model, optimizer, EMA,
// generator states), and CheckpointDir's files, marker, pruning and errors.
#include <ATen/Functions.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/optim/sgd.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "runner/base/error.h"
#include "runner/train/checkpoint.h"
#include "runner/train/ema.h"
#include "tests/train/tiny_net.h"

namespace ftbench::train {
namespace {

using testing::TinyNet;

// A directory under /tmp, removed with everything in it (one level of subdirectories) at the end.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ftbench-checkpoint-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { remove_tree(path_); }
  const std::string& path() const { return path_; }

 private:
  static void remove_tree(const std::string& dir) {
    if (DIR* handle = ::opendir(dir.c_str())) {
      while (const dirent* entry = ::readdir(handle)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        const std::string child = dir + "/" + name;
        if (::unlink(child.c_str()) != 0) remove_tree(child);
      }
      ::closedir(handle);
    }
    ::rmdir(dir.c_str());
  }
  std::string path_;
};

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* handle = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(handle)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(handle);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void train_steps(TinyNet& net, torch::optim::Optimizer& optimizer, WeightEma& ema, int steps, int64_t seed) {
  at::manual_seed(static_cast<uint64_t>(seed));
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    const at::Tensor x = at::randn({8, 48}, at::kDouble);
    net.forward(x).pow(2).mean().backward();
    optimizer.step();
    ema.update();
  }
}

torch::optim::SGD make_sgd(TinyNet& net) {
  return torch::optim::SGD(net.parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
}

CheckpointMeta sample_meta() {
  CheckpointMeta meta;
  meta.run_id = "tiny-full-s0";
  meta.config_toml = "[train]\nlr = 0.1\n";
  meta.world_size = 3;
  meta.position = Position{4, 7, 37, 3};
  meta.partial.images = 1234;
  meta.partial.loss_sum = 1.25;
  meta.partial.correct = 99;
  meta.partial.train_seconds = 2.5;
  meta.partial.comm_bytes = 4096;
  return meta;
}

TEST(Checkpoint, RestoresModelOptimizerEmaAndGeneratorsExactly) {
  TinyNet a(/*aux=*/false);
  auto sgd_a = make_sgd(a);
  WeightEma ema_a(a, 0.9);
  train_steps(a, sgd_a, ema_a, 3, 1);
  at::manual_seed(42);
  const std::string rng = capture_rng_state(at::kCPU);
  const std::string bytes = encode_checkpoint(sample_meta(), {"other rank", rng, "third"}, a, sgd_a, &ema_a);
  const at::Tensor next_draw = at::rand({4}, at::kDouble);

  TinyNet b(/*aux=*/false);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : b.parameters()) p.fill_(0.5);  // nothing of b's own state may survive
  }
  auto sgd_b = make_sgd(b);
  WeightEma ema_b(b, 0.9);
  at::manual_seed(7);
  const CheckpointMeta meta = decode_checkpoint(bytes, "ck.pt", /*rank=*/1, at::kCPU, b, sgd_b, &ema_b);
  EXPECT_EQ(meta.run_id, "tiny-full-s0");
  EXPECT_EQ(meta.world_size, 3);
  EXPECT_EQ(meta.position.epoch, 4);
  EXPECT_EQ(meta.position.step_in_epoch, 7);
  EXPECT_EQ(meta.position.global_step, 37);
  EXPECT_EQ(meta.position.epochs_done, 3);
  EXPECT_EQ(meta.partial.images, 1234);
  EXPECT_EQ(meta.partial.loss_sum, 1.25);
  EXPECT_EQ(meta.partial.correct, 99);
  EXPECT_EQ(meta.partial.comm_bytes, 4096);
  EXPECT_FALSE(meta.final);
  EXPECT_TRUE(at::equal(at::rand({4}, at::kDouble), next_draw));  // rank 1's generator state came back

  for (std::size_t i = 0; i < a.parameters().size(); ++i) EXPECT_TRUE(at::equal(a.parameters()[i], b.parameters()[i]));
  for (std::size_t i = 0; i < ema_a.averages().size(); ++i) EXPECT_TRUE(at::equal(ema_a.averages()[i], ema_b.averages()[i]));
  // The momentum buffers came back too: the same further steps give bitwise the same weights.
  train_steps(a, sgd_a, ema_a, 2, 5);
  train_steps(b, sgd_b, ema_b, 2, 5);
  for (std::size_t i = 0; i < a.parameters().size(); ++i) EXPECT_TRUE(at::equal(a.parameters()[i], b.parameters()[i]));
  EXPECT_EQ(read_checkpoint_meta(bytes, "ck.pt").position.global_step, 37);
}

TEST(Checkpoint, RefusesAnotherModelNamingTheFile) {
  TinyNet a(/*aux=*/true);
  auto sgd_a = make_sgd(a);
  const std::string bytes = encode_checkpoint(sample_meta(), {}, a, sgd_a, nullptr);
  TinyNet b(/*aux=*/false);
  auto sgd_b = make_sgd(b);
  try {
    decode_checkpoint(bytes, "dir/epoch-0003.pt", 0, at::kCPU, b, sgd_b, nullptr);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("dir/epoch-0003.pt: ", 0), 0U) << message;
    EXPECT_NE(message.find("--restart"), std::string::npos) << message;
  }
  WeightEma ema(a, 0.5);  // an EMA the checkpoint does not have
  EXPECT_THROW(decode_checkpoint(bytes, "x.pt", 0, at::kCPU, a, sgd_a, &ema), InputError);
}

TEST(Checkpoint, GarbageIsInputErrorNotACrash) {
  TinyNet net(false);
  auto sgd = make_sgd(net);
  for (const std::string& bytes : {std::string(), std::string("PK\x03\x04 not really a zip"), std::string(1000, 'x')}) {
    try {
      decode_checkpoint(bytes, "bad.pt", 0, at::kCPU, net, sgd, nullptr);
      FAIL() << "expected an InputError";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.pt: not a readable checkpoint"), std::string::npos) << e.what();
    }
  }
}

TEST(CheckpointDir, WritesAtomicallyKeepsTheNewestAndMarksTheLatest) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/run";
  CheckpointDir checkpoints(dir, /*keep=*/2);
  EXPECT_FALSE(checkpoints.latest().has_value());
  checkpoints.write("one", Position{2, 0, 10, 1}, false);
  checkpoints.write("two-part", Position{2, 3, 13, 1}, false);  // a stop signal 3 steps into epoch 2
  checkpoints.write("two", Position{3, 0, 20, 2}, false);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"epoch-0002-step-000003.pt", "epoch-0002.pt", "latest"}));
  checkpoints.write("three", Position{4, 0, 30, 3}, true);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"epoch-0002.pt", "epoch-0003.pt", "latest"}));
  const auto marker = checkpoints.latest();
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->file, "epoch-0003.pt");
  EXPECT_EQ(marker->position.epoch, 4);
  EXPECT_EQ(marker->position.global_step, 30);
  EXPECT_EQ(marker->position.epochs_done, 3);
  EXPECT_TRUE(marker->final);
  EXPECT_EQ(checkpoints.read(*marker), "three");
  checkpoints.clear();
  EXPECT_TRUE(files_in(tmp.path()).empty());
}

TEST(CheckpointDir, StaleTemporaryFilesGoOnTheNextWrite) {
  TempDir tmp;
  CheckpointDir checkpoints(tmp.path(), 1);
  std::ofstream(tmp.path() + "/.epoch-0002.pt.tmp") << "half";  // a writer killed mid-write
  checkpoints.write("one", Position{2, 0, 10, 1}, false);
  EXPECT_EQ(files_in(tmp.path()), (std::vector<std::string>{"epoch-0001.pt", "latest"}));
}

TEST(CheckpointDir, DamagedMarkerIsInputErrorNamingIt) {
  TempDir tmp;
  CheckpointDir checkpoints(tmp.path(), 1);
  const std::string marker = tmp.path() + "/latest";
  const auto expect_refused = [&](const std::string& text, const std::string& why) {
    std::ofstream(marker) << text;
    try {
      checkpoints.latest();
      FAIL() << "expected an InputError for: " << text;
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(marker + ": ", 0), 0U) << message;
      EXPECT_NE(message.find(why), std::string::npos) << message;
      EXPECT_NE(message.find("--restart"), std::string::npos) << message;
    }
  };
  expect_refused("garbage\n", "expected 'key = value'");
  expect_refused("file = \"epoch-0001.pt\"\nepoch = x\n", "'epoch' is not a number");
  expect_refused("file = \"epoch-0001.pt\"\n", "which is missing");
  expect_refused("epoch = 2\n", "no checkpoint file named");
}

TEST(CheckpointRoot, BesideTheResultsFileUnlessSet) {
  config::Experiment experiment;
  experiment.output = "results/quickstart.h5";
  EXPECT_EQ(checkpoint_root(experiment), "results/quickstart.checkpoints");
  experiment.checkpoint_dir = "/scratch/ck";
  EXPECT_EQ(checkpoint_root(experiment), "/scratch/ck");
}

}  // namespace
}  // namespace ftbench::train
