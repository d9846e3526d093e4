// Sharding, augmentation and schedule: the pieces that make a run's math independent of the world size.
#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "runner/train/augment.h"
#include "runner/train/schedule.h"
#include "runner/train/sharding.h"

namespace ftbench::train {
namespace {

TEST(SplitEvenly, RangesAreContiguousDisjointAndCoverEverything) {
  for (int64_t count : {0, 1, 2, 7, 48, 90, 1001}) {
    for (int world : {1, 2, 3, 4, 7}) {
      int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const Range r = split_evenly(count, rank, world);
        EXPECT_EQ(r.begin, next) << count << " over " << world;
        EXPECT_LE(r.size(), count / world + 1);
        EXPECT_GE(r.size(), count / world);
        next = r.end;
      }
      EXPECT_EQ(next, count) << count << " over " << world;
    }
  }
}

TEST(EpochPermutation, SameForSameSeedAndEpochDifferentOtherwise) {
  const at::Tensor a = epoch_permutation(1000, /*seed=*/3, /*epoch=*/1);
  EXPECT_TRUE(at::equal(a, epoch_permutation(1000, 3, 1)));
  EXPECT_FALSE(at::equal(a, epoch_permutation(1000, 3, 2)));
  EXPECT_FALSE(at::equal(a, epoch_permutation(1000, 4, 1)));
  // A permutation: every index exactly once.
  EXPECT_TRUE(at::equal(std::get<0>(a.sort()), at::arange(1000, at::kLong)));
}

TEST(EpochPermutation, DoesNotDependOnTheGlobalGenerator) {
  const at::Tensor a = epoch_permutation(100, 0, 1);
  (void)at::rand({1000});  // consume the global generator
  EXPECT_TRUE(at::equal(a, epoch_permutation(100, 0, 1)));
}

TEST(BatchesPerEpoch, CountsThePartialLastBatch) {
  EXPECT_EQ(batches_per_epoch(200, 48), 5);
  EXPECT_EQ(batches_per_epoch(192, 48), 4);
  EXPECT_EQ(batches_per_epoch(1, 48), 1);
}

at::Tensor images(int64_t n) {
  return at::randint(0, 256, {n, 3, 32, 32}, at::TensorOptions().dtype(at::kByte));
}

TEST(PrepareBatch, AugmentationDependsOnSampleNotOnBatchComposition) {
  const at::Tensor data = images(12);
  const BatchSpec spec{32, /*augment=*/true, /*seed=*/5, /*epoch=*/2};
  const at::Tensor all = prepare_batch(data, at::arange(12, at::kLong), spec);
  // The same samples split as two ranks would see them: identical results, row for row.
  const at::Tensor first = prepare_batch(data, at::arange(0, 5, at::kLong), spec);
  const at::Tensor second = prepare_batch(data, at::arange(5, 12, at::kLong), spec);
  EXPECT_TRUE(at::equal(all, at::cat({first, second})));
  // Another epoch draws other crops and flips.
  const BatchSpec next{32, true, 5, 3};
  EXPECT_FALSE(at::equal(all, prepare_batch(data, at::arange(12, at::kLong), next)));
}

TEST(PrepareBatch, CropIsAShiftedWindowOfTheZeroPaddedImageOrItsMirror) {
  const at::Tensor data = images(64);
  const BatchSpec spec{32, true, 0, 1};
  const BatchSpec plain{32, false, 0, 1};
  const at::Tensor out = prepare_batch(data, at::arange(64, at::kLong), spec);
  int matched = 0, flipped = 0;
  const at::Tensor zero_padded = at::constant_pad_nd(data, {4, 4, 4, 4}, 0);
  for (int64_t i = 0; i < 64; ++i) {
    const at::Tensor expected_u8 = out[i];
    bool found = false;
    for (int dy = 0; dy <= 8 && !found; ++dy) {
      for (int dx = 0; dx <= 8 && !found; ++dx) {
        const at::Tensor window = zero_padded[i].slice(1, dy, dy + 32).slice(2, dx, dx + 32).unsqueeze(0);
        const at::Tensor candidate = prepare_batch(window.contiguous(), at::zeros({1}, at::kLong), plain)[0];
        if (at::equal(candidate, expected_u8)) {
          found = true;
        } else if (at::equal(candidate.flip({2}), expected_u8)) {
          found = true;
          ++flipped;
        }
      }
    }
    EXPECT_TRUE(found) << "sample " << i << " is not a 32x32 window of the padded image or its mirror";
    matched += found ? 1 : 0;
  }
  EXPECT_EQ(matched, 64);
  // About half the samples are flipped; 64 fair coins land outside [16, 48] with probability < 1e-4.
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
}

TEST(PrepareBatch, NormalizesWithImageNetStatisticsAndResizes) {
  const at::Tensor white = at::full({1, 3, 32, 32}, 255, at::TensorOptions().dtype(at::kByte));
  const at::Tensor out = prepare_batch(white, at::zeros({1}, at::kLong), {224, false, 0, 1});
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 224, 224}));
  const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(out[0][c].mean().item<double>(), (1.0 - mean[c]) / std[c], 1e-5);
  }
}

TEST(Schedule, CosineStartsAtBaseAndDecaysToZero) {
  EXPECT_DOUBLE_EQ(lr_at(Schedule::kCosine, 0.1, 0, 100), 0.1);
  EXPECT_NEAR(lr_at(Schedule::kCosine, 0.1, 50, 100), 0.05, 1e-12);
  EXPECT_LT(lr_at(Schedule::kCosine, 0.1, 99, 100), 1e-4);
  EXPECT_DOUBLE_EQ(lr_at(Schedule::kConstant, 0.1, 99, 100), 0.1);
}

}  // namespace
}  // namespace ftbench::train
