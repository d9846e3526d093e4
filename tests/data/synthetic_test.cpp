// write_synthetic / synthetic_matches: layout, determinism, balance, the reuse stamp, and that the classes
// carry structure a model can learn.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "runner/data/cifar10.h"
#include "tests/data/fixtures.h"

namespace fs = std::filesystem;

namespace ftbench::data {
namespace {

using testing::Contains;
using testing::input_error;
using testing::TempDir;

const std::vector<std::string> kFiles = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                         "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
                                         "batches.meta.txt", "ftbench-synth.txt"};

SynthOptions options(int64_t train, int64_t test, uint64_t seed) {
  SynthOptions o;
  o.train_size = train;
  o.test_size = test;
  o.seed = seed;
  return o;
}

TEST(Synthetic, WritesTheCifar10LayoutSplitEvenly) {
  TempDir tmp;
  write_synthetic((tmp / "synth").string(), options(23, 7, 0));  // creates the directory
  const std::vector<int64_t> expected_records = {5, 5, 5, 4, 4};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(fs::file_size(tmp / "synth" / kFiles[i]), static_cast<uintmax_t>(expected_records[i] * kRecordBytes))
        << kFiles[i];
  }
  const Dataset d = read_cifar10((tmp / "synth").string());
  EXPECT_EQ(d.train.size, 23);
  EXPECT_EQ(d.test.size, 7);

  std::ifstream meta(tmp / "synth" / "batches.meta.txt");
  for (const auto& name : class_names()) {
    std::string line;
    ASSERT_TRUE(std::getline(meta, line));
    EXPECT_EQ(line, name);
  }
  for (const auto& entry : fs::directory_iterator(tmp / "synth")) {
    EXPECT_EQ(entry.path().extension(),
              entry.path().filename() == "batches.meta.txt" || entry.path().filename() == "ftbench-synth.txt" ? ".txt"
                                                                                                              : ".bin")
        << "left behind: " << entry.path();
  }
}

TEST(Synthetic, SameSeedSameBytesOtherSeedOtherBytes) {
  TempDir tmp;
  write_synthetic((tmp / "a").string(), options(50, 20, 7));
  write_synthetic((tmp / "b").string(), options(50, 20, 7));
  write_synthetic((tmp / "c").string(), options(50, 20, 8));
  for (const auto& file : kFiles) {
    EXPECT_EQ(testing::read_bytes(tmp / "a" / file), testing::read_bytes(tmp / "b" / file)) << file;
  }
  for (int i = 0; i < 6; ++i) {
    EXPECT_NE(testing::read_bytes(tmp / "a" / kFiles[i]), testing::read_bytes(tmp / "c" / kFiles[i])) << kFiles[i];
  }
  // Train and test are different images, not copies of each other.
  const Dataset d = read_cifar10((tmp / "a").string());
  EXPECT_FALSE(std::equal(d.test.images.begin(), d.test.images.end(), d.train.images.begin()));
}

TEST(Synthetic, LabelsAreBalanced) {
  TempDir tmp;
  write_synthetic(tmp.path().string(), options(1000, 95, 3));
  const Dataset d = read_cifar10(tmp.path().string());
  std::array<int, kNumClasses> train{}, test{}, first_file{};
  for (int64_t i = 0; i < d.train.size; ++i) ++train[d.train.labels[static_cast<std::size_t>(i)]];
  for (int64_t i = 0; i < 200; ++i) ++first_file[d.train.labels[static_cast<std::size_t>(i)]];
  for (int64_t i = 0; i < d.test.size; ++i) ++test[d.test.labels[static_cast<std::size_t>(i)]];
  for (int c = 0; c < kNumClasses; ++c) {
    EXPECT_EQ(train[c], 100) << "class " << c;
    EXPECT_EQ(first_file[c], 20) << "class " << c << " in data_batch_1.bin";
    EXPECT_TRUE(test[c] == 9 || test[c] == 10) << "class " << c << ": " << test[c];
  }
  // Not simply 0, 1, 2, ... in order.
  int in_order = 0;
  for (int64_t i = 0; i < d.train.size; ++i) in_order += d.train.labels[static_cast<std::size_t>(i)] == i % 10;
  EXPECT_LT(in_order, 300);
}

TEST(Synthetic, StampMatchesOnlyTheOptionsWritten) {
  TempDir tmp;
  const std::string dir = tmp.path().string();
  EXPECT_FALSE(synthetic_matches(dir, options(30, 10, 1)));
  write_synthetic(dir, options(30, 10, 1));
  EXPECT_TRUE(synthetic_matches(dir, options(30, 10, 1)));
  EXPECT_FALSE(synthetic_matches(dir, options(30, 10, 2)));
  EXPECT_FALSE(synthetic_matches(dir, options(31, 10, 1)));
  EXPECT_FALSE(synthetic_matches(dir, options(30, 11, 1)));
  EXPECT_FALSE(synthetic_matches((tmp / "missing").string(), options(30, 10, 1)));

  // Rewriting with other options replaces the stamp.
  write_synthetic(dir, options(40, 10, 2));
  EXPECT_TRUE(synthetic_matches(dir, options(40, 10, 2)));
  EXPECT_FALSE(synthetic_matches(dir, options(30, 10, 1)));

  // A damaged batch no longer matches, even with the stamp intact.
  auto bytes = testing::read_bytes(tmp / "data_batch_5.bin");
  bytes.resize(bytes.size() - kRecordBytes);
  testing::write_bytes(tmp / "data_batch_5.bin", bytes);
  EXPECT_FALSE(synthetic_matches(dir, options(40, 10, 2)));
  write_synthetic(dir, options(40, 10, 2));
  fs::remove(tmp / "test_batch.bin");
  EXPECT_FALSE(synthetic_matches(dir, options(40, 10, 2)));
}

TEST(Synthetic, NeverOverwritesRealCifar10) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), {2, 2, 2, 2, 2}, 3);
  const auto before = testing::read_bytes(tmp / "data_batch_1.bin");
  EXPECT_TRUE(Contains(input_error([&] { write_synthetic(tmp.path().string(), options(10, 3, 0)); }),
                       "already holds CIFAR-10 batches not written by 'ftbench data synth'"));
  EXPECT_EQ(testing::read_bytes(tmp / "data_batch_1.bin"), before);
}

// An interrupted run leaves an "incomplete" stamp: never reused, and rewritten by the next run.
TEST(Synthetic, InterruptedRunIsNotReusedButIsRegenerated) {
  TempDir tmp;
  write_synthetic(tmp.path().string(), options(10, 3, 0));
  testing::write_bytes(tmp / "ftbench-synth.txt", {'#', ' ', 'i', 'n', 'c', 'o', 'm', 'p', 'l', 'e', 't', 'e', '\n'});
  EXPECT_FALSE(synthetic_matches(tmp.path().string(), options(10, 3, 0)));
  write_synthetic(tmp.path().string(), options(10, 3, 0));
  EXPECT_TRUE(synthetic_matches(tmp.path().string(), options(10, 3, 0)));
}

TEST(Synthetic, RejectsSizesItCannotLayOut) {
  TempDir tmp;
  EXPECT_TRUE(Contains(input_error([&] { write_synthetic(tmp.path().string(), options(4, 10, 0)); }),
                       "train size 4 is out of range"));
  EXPECT_TRUE(Contains(input_error([&] { write_synthetic(tmp.path().string(), options(10, 0, 0)); }),
                       "test size 0 is out of range"));
  EXPECT_FALSE(fs::exists(tmp / "data_batch_1.bin"));
}

// Cheap per-image features: for each channel, the mean absolute horizontal and vertical differences (stripe
// tilt and period) and the standard deviation (stripe colour).
std::array<double, 9> features(const uint8_t* image) {
  std::array<double, 9> f{};
  for (int c = 0; c < kChannels; ++c) {
    const uint8_t* p = image + c * kImageSide * kImageSide;
    double dx = 0, dy = 0, sum = 0, sum2 = 0;
    for (int y = 0; y < kImageSide; ++y) {
      for (int x = 0; x < kImageSide; ++x) {
        const double v = p[y * kImageSide + x];
        sum += v;
        sum2 += v * v;
        if (x + 1 < kImageSide) dx += std::abs(v - p[y * kImageSide + x + 1]);
        if (y + 1 < kImageSide) dy += std::abs(v - p[(y + 1) * kImageSide + x]);
      }
    }
    const double n = kImageSide * kImageSide;
    f[3 * c] = dx / n;
    f[3 * c + 1] = dy / n;
    f[3 * c + 2] = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
  }
  return f;
}

// The classes differ in ways simple statistics already see: a nearest-class-mean rule on 9 hand-made
// features, fitted on train, is far above chance (10%) on test. (Whether a network learns it well is checked
// by training, not here.)
TEST(Synthetic, ClassesCarryLearnableStructure) {
  TempDir tmp;
  write_synthetic(tmp.path().string(), options(2000, 500, 0));
  const Dataset d = read_cifar10(tmp.path().string());
  std::array<std::array<double, 9>, kNumClasses> mean{};
  std::array<int, kNumClasses> count{};
  for (int64_t i = 0; i < d.train.size; ++i) {
    const int label = d.train.labels[static_cast<std::size_t>(i)];
    const auto f = features(d.train.images.data() + i * kImageBytes);
    for (std::size_t k = 0; k < f.size(); ++k) mean[label][k] += f[k];
    ++count[label];
  }
  for (int c = 0; c < kNumClasses; ++c) {
    for (auto& v : mean[c]) v /= count[c];
  }
  int correct = 0;
  for (int64_t i = 0; i < d.test.size; ++i) {
    const auto f = features(d.test.images.data() + i * kImageBytes);
    int best = 0;
    double best_distance = 1e300;
    for (int c = 0; c < kNumClasses; ++c) {
      double distance = 0;
      for (std::size_t k = 0; k < f.size(); ++k) distance += (f[k] - mean[c][k]) * (f[k] - mean[c][k]);
      if (distance < best_distance) best_distance = distance, best = c;
    }
    correct += best == d.test.labels[static_cast<std::size_t>(i)];
  }
  const double accuracy = static_cast<double>(correct) / static_cast<double>(d.test.size);
  EXPECT_GT(accuracy, 0.6) << "synthetic classes are not separable by simple statistics";
  RecordProperty("nearest_mean_accuracy", std::to_string(accuracy));
  std::printf("nearest-class-mean accuracy on 9 features: %.3f\n", accuracy);
}

}  // namespace
}  // namespace ftbench::data
