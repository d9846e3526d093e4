// The data pipeline's contracts: draws computed on the device equal the host reference bit for bit; a
// sample's augmentation depends on (seed, epoch, global index) only, so it is the same at any world size;
// channels_last changes the layout and not the values.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "runner/base/error.h"
#include "runner/train/augment.h"
#include "runner/train/sharding.h"

namespace ftbench::train {
namespace {

at::Tensor images(int64_t n, uint64_t seed = 0) {
  at::manual_seed(seed);
  return at::randint(0, 256, {n, 3, 32, 32}, at::TensorOptions().dtype(at::kByte));
}

void expect_draws_match_host(const at::Tensor& indices, int64_t seed, int64_t epoch) {
  const at::Tensor draws = augment_draws(indices, seed, epoch).cpu();
  ASSERT_EQ(draws.sizes(), (std::vector<int64_t>{indices.size(0), 3}));
  const at::Tensor host_indices = indices.cpu().to(at::kLong);
  for (int64_t i = 0; i < indices.size(0); ++i) {
    const int64_t index = host_indices[i].item<int64_t>();
    const AugmentDraw want = augment_draw(seed, epoch, index);
    ASSERT_EQ(draws[i][0].item<int64_t>(), want.top) << "seed " << seed << " epoch " << epoch << " index " << index;
    ASSERT_EQ(draws[i][1].item<int64_t>(), want.left) << "seed " << seed << " epoch " << epoch << " index " << index;
    ASSERT_EQ(draws[i][2].item<int64_t>(), want.flip ? 1 : 0) << "seed " << seed << " epoch " << epoch << " index " << index;
  }
}

TEST(AugmentDraws, TensorHashEqualsHostHashForAnyIndexSeedAndEpoch) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const at::Tensor wide = at::tensor({int64_t{0}, int64_t{1}, int64_t{49999}, (int64_t{1} << 31) - 1, int64_t{1} << 31,
                                      (int64_t{1} << 32) - 1, int64_t{1} << 32, (int64_t{1} << 32) + 7,
                                      (int64_t{1} << 40) + 3, kMax - 1, kMax, int64_t{-1},
                                      std::numeric_limits<int64_t>::min()},
                                     at::kLong);
  const std::array<std::array<int64_t, 2>, 5> cases{{{0, 1}, {7, 3}, {-1, 1}, {(int64_t{1} << 33) + 5, 1000},
                                                     {std::numeric_limits<int64_t>::min(), kMax}}};
  for (const auto& c : cases) {
    expect_draws_match_host(at::arange(0, 3000, at::kLong), c[0], c[1]);
    expect_draws_match_host(wide, c[0], c[1]);
  }
  // Any integer index type is accepted.
  EXPECT_TRUE(at::equal(augment_draws(at::arange(100, at::kInt), 3, 2), augment_draws(at::arange(100, at::kLong), 3, 2)));
}

TEST(AugmentDraws, OffsetsCoverTheRangeEvenlyAndHalfTheSamplesFlip) {
  constexpr int64_t kN = 90000;
  const at::Tensor draws = augment_draws(at::arange(kN, at::kLong), /*seed=*/0, /*epoch=*/1);
  EXPECT_EQ(draws.min().item<int64_t>(), 0);
  EXPECT_EQ(draws.select(1, 0).max().item<int64_t>(), 2 * kCropPad);
  EXPECT_EQ(draws.select(1, 1).max().item<int64_t>(), 2 * kCropPad);
  EXPECT_EQ(draws.select(1, 2).max().item<int64_t>(), 1);
  // Chi-square of the 81 (top, left) cells over 80 degrees of freedom: its 99.99th percentile is about 135.
  const at::Tensor cell = draws.select(1, 0) * 9 + draws.select(1, 1);
  const at::Tensor counts = at::bincount(cell, {}, 81).to(at::kDouble);
  const double expected = static_cast<double>(kN) / 81.0;
  const double chi2 = ((counts - expected).pow(2) / expected).sum().item<double>();
  EXPECT_LT(chi2, 135.0);
  // Flip rate: 90000 fair coins are within 0.5 +- 0.0067 (4 sigma) with probability > 0.9999.
  const double flip_rate = draws.select(1, 2).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(flip_rate, 0.5, 0.0067);
}

TEST(AugmentDraws, DifferAcrossEpochsAndSeeds) {
  const at::Tensor index = at::arange(20000, at::kLong);
  const at::Tensor a = augment_draws(index, 0, 1);
  // Independent draws agree on all three values with probability 1/162 (about 123 of 20000).
  auto agreeing = [&](const at::Tensor& b) { return (a == b).all(1).sum().item<int64_t>(); };
  EXPECT_LT(agreeing(augment_draws(index, 0, 2)), 200);
  EXPECT_LT(agreeing(augment_draws(index, 1, 1)), 200);
  EXPECT_TRUE(at::equal(a, augment_draws(index, 0, 1)));
}

TEST(PrepareBatch, DeterministicPerSeedAndDifferentAcrossEpochsAndSeeds) {
  const at::Tensor data = images(50);
  const at::Tensor index = epoch_permutation(50, 1, 1).slice(0, 0, 32);
  const BatchSpec spec{32, /*augment=*/true, /*seed=*/1, /*epoch=*/1};
  const at::Tensor out = prepare_batch(data, index, spec);
  EXPECT_TRUE(at::equal(out, prepare_batch(data, index, spec)));
  EXPECT_FALSE(at::equal(out, prepare_batch(data, index, {32, true, 1, 2})));
  EXPECT_FALSE(at::equal(out, prepare_batch(data, index, {32, true, 2, 1})));
  // Without augmentation, seed and epoch do not matter.
  EXPECT_TRUE(at::equal(prepare_batch(data, index, {32, false, 1, 1}), prepare_batch(data, index, {32, false, 9, 4})));
}

TEST(PrepareBatch, SameAtAnyWorldSize) {
  const at::Tensor data = images(200, 3);
  const int64_t seed = 4, epoch = 2, global_batch = 48;
  const at::Tensor order = epoch_permutation(200, seed, epoch);
  for (int64_t input : {32, 64}) {
    const BatchSpec spec{input, /*augment=*/true, seed, epoch};
    for (int64_t begin = 0; begin < 200; begin += global_batch) {
      const int64_t count = std::min(global_batch, 200 - begin);
      const at::Tensor global = order.slice(0, begin, begin + count);
      const at::Tensor whole = prepare_batch(data, global, spec);
      for (int world : {2, 3, 7}) {
        std::vector<at::Tensor> parts;
        for (int rank = 0; rank < world; ++rank) {
          const Range r = split_evenly(count, rank, world);
          parts.push_back(prepare_batch(data, global.slice(0, r.begin, r.end), spec));
        }
        EXPECT_TRUE(at::equal(whole, at::cat(parts))) << "batch at " << begin << ", world " << world << ", input " << input;
      }
    }
  }
  // A sample alone, or at another position among other samples, gives the same output.
  const BatchSpec spec{32, true, seed, epoch};
  const at::Tensor alone = prepare_batch(data, at::tensor({int64_t{17}}, at::kLong), spec);
  const at::Tensor among = prepare_batch(data, at::tensor({int64_t{3}, int64_t{150}, int64_t{17}}, at::kLong), spec);
  EXPECT_TRUE(at::equal(alone[0], among[2]));
}

TEST(PrepareBatch, AugmentedSampleIsTheCropDrawnForItsIndex) {
  const at::Tensor data = images(16, 5);
  const at::Tensor index = at::arange(16, at::kLong).flip(0);
  const at::Tensor out = prepare_batch(data, index, {32, true, 11, 6});
  const at::Tensor padded = at::constant_pad_nd(data, {4, 4, 4, 4}, 0);
  for (int64_t i = 0; i < 16; ++i) {
    const int64_t sample = index[i].item<int64_t>();
    const AugmentDraw d = augment_draw(11, 6, sample);
    at::Tensor crop = padded[sample].slice(1, d.top, d.top + 32).slice(2, d.left, d.left + 32);
    if (d.flip) crop = crop.flip({2});
    const at::Tensor want = to_model_input(crop.unsqueeze(0).contiguous(), 32, false)[0];
    EXPECT_TRUE(at::equal(out[i], want)) << "sample " << sample;
  }
}

TEST(PrepareBatch, ChannelsLastHasTheSameValues) {
  const at::Tensor data = images(12, 7);
  const at::Tensor index = at::arange(12, at::kLong);
  for (int64_t input : {32, 24, 80}) {
    const BatchSpec plain{input, true, 0, 1};
    BatchSpec last = plain;
    last.channels_last = true;
    const at::Tensor a = prepare_batch(data, index, plain);
    const at::Tensor b = prepare_batch(data, index, last);
    EXPECT_TRUE(a.is_contiguous()) << input;
    EXPECT_TRUE(b.is_contiguous(at::MemoryFormat::ChannelsLast)) << input;
    EXPECT_FALSE(b.is_contiguous()) << input;
    EXPECT_TRUE(at::allclose(a, b, /*rtol=*/0, /*atol=*/1e-6)) << input << ": max diff "
                                                                << (a - b).abs().max().item<double>();
  }
}

TEST(PrepareBatch, EmptyBatchAndIndexTypes) {
  const at::Tensor data = images(4);
  for (bool last : {false, true}) {
    BatchSpec spec{224, true, 0, 1};
    spec.channels_last = last;
    const at::Tensor out = prepare_batch(data, at::empty({0}, at::kLong), spec);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 3, 224, 224}));
    EXPECT_EQ(out.scalar_type(), at::kFloat);
  }
  const BatchSpec spec{32, true, 0, 1};
  EXPECT_TRUE(at::equal(prepare_batch(data, at::arange(4, at::kInt), spec), prepare_batch(data, at::arange(4, at::kLong), spec)));
}

TEST(PrepareBatch, RefusesWrongInputsWithAMessage) {
  const at::Tensor data = images(4);
  EXPECT_THROW(prepare_batch(data.to(at::kFloat), at::arange(2, at::kLong), {}), RuntimeError);
  EXPECT_THROW(prepare_batch(data, at::arange(2, at::kFloat), {}), RuntimeError);
  EXPECT_THROW(prepare_batch(data, at::zeros({2, 1}, at::kLong), {}), RuntimeError);
  EXPECT_THROW(crop_and_flip(data, at::zeros({3, 3}, at::kLong)), RuntimeError);
  try {
    to_model_input(at::zeros({2, 1, 32, 32}, at::kByte), 32, false);
    ADD_FAILURE() << "a one-channel batch was accepted";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 1, 32, 32]"), std::string::npos) << e.what();
  }
}

TEST(PrepareBatch, OnCudaEqualsCpuWithIndicesOnEitherDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor data = images(64, 9);
  const at::Tensor gpu_data = data.cuda();
  const at::Tensor index = epoch_permutation(64, 2, 3).slice(0, 0, 40);
  const int64_t big = (int64_t{1} << 40) + 5;
  EXPECT_TRUE(at::equal(augment_draws(at::tensor({int64_t{0}, big}, at::kLong).cuda(), 2, 3).cpu(),
                        augment_draws(at::tensor({int64_t{0}, big}, at::kLong), 2, 3)));
  EXPECT_TRUE(at::equal(augment_draws(index.cuda(), 2, 3).cpu(), augment_draws(index, 2, 3)));
  for (int64_t input : {32, 224}) {
    for (bool last : {false, true}) {
      BatchSpec spec{input, true, 2, 3};
      spec.channels_last = last;
      const at::Tensor cpu = prepare_batch(data, index, spec);
      const at::Tensor from_host_indices = prepare_batch(gpu_data, index, spec);
      const at::Tensor from_device_indices = prepare_batch(gpu_data, index.cuda(), spec);
      EXPECT_TRUE(from_host_indices.is_cuda());
      EXPECT_EQ(from_host_indices.is_contiguous(at::MemoryFormat::ChannelsLast), last);
      EXPECT_TRUE(at::equal(from_host_indices, from_device_indices));
      EXPECT_TRUE(at::allclose(from_host_indices.cpu(), cpu, 0, 1e-5))
          << input << ": max diff " << (from_host_indices.cpu() - cpu).abs().max().item<double>();
    }
  }
}

}  // namespace
}  // namespace ftbench::train
