// The data pipeline against torchvision: pipeline_reference.py (a CTest fixture) writes images, indices, the
// draws of a second implementation of the augmentation hash, and torchvision's pad/crop/flip/to_dtype/
// resize/normalize outputs; here ftbench's pipeline must reproduce them within 1e-5.
#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "runner/train/augment.h"
#include "runner/weights/state_dict.h"

namespace ftbench::train {
namespace {

constexpr double kTolerance = 1e-5;

class PipelineReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* path = std::getenv("FTBENCH_PIPELINE_REFERENCE");
    if (path == nullptr) return;
    file_ = new weights::StateDict(weights::read_state_dict(path));
  }
  static void TearDownTestSuite() {
    delete file_;
    file_ = nullptr;
  }
  void SetUp() override {
    if (file_ == nullptr) {
      GTEST_SKIP() << "FTBENCH_PIPELINE_REFERENCE is not set: run through ctest, which writes the file with "
                      "tests/train/pipeline_reference.py";
    }
  }
  static at::Tensor get(const std::string& name) {
    const at::Tensor* t = file_->find(name);
    if (t == nullptr) throw std::runtime_error(file_->source + " has no tensor '" + name + "'");
    return *t;
  }
  static std::vector<int64_t> sizes() {
    std::vector<int64_t> out;
    const std::string list = file_->metadata.at("sizes");
    for (std::size_t begin = 0; begin < list.size();) {
      const std::size_t end = std::min(list.find(',', begin), list.size());
      out.push_back(std::stoll(list.substr(begin, end - begin)));
      begin = end + 1;
    }
    return out;
  }
  static double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

  static weights::StateDict* file_;
};
weights::StateDict* PipelineReference::file_ = nullptr;

TEST_F(PipelineReference, DrawsEqualThePythonImplementationOfTheHash) {
  const at::Tensor seed_epoch = get("seed_epoch");
  EXPECT_TRUE(at::equal(augment_draws(get("indices"), seed_epoch[0].item<int64_t>(), seed_epoch[1].item<int64_t>()),
                        get("draws")));
  const at::Tensor cases = get("hash_cases");
  const at::Tensor want = get("hash_draws");
  for (int64_t c = 0; c < cases.size(0); ++c) {
    const int64_t seed = cases[c][0].item<int64_t>(), epoch = cases[c][1].item<int64_t>();
    EXPECT_TRUE(at::equal(augment_draws(get("hash_indices"), seed, epoch), want[c]))
        << "seed " << seed << " epoch " << epoch;
  }
}

TEST_F(PipelineReference, CropFlipConvertResizeNormalizeMatchTorchvision) {
  const at::Tensor images = get("images");
  const at::Tensor forced = get("forced_draws");
  for (int64_t size : sizes()) {
    for (bool last : {false, true}) {
      const at::Tensor out = to_model_input(crop_and_flip(images, forced), size, last);
      const at::Tensor want = get("forced_" + std::to_string(size));
      ASSERT_EQ(out.sizes(), want.sizes());
      const double diff = max_diff(out, want);
      RecordProperty("max_diff_" + std::to_string(size) + (last ? "_channels_last" : ""), std::to_string(diff));
      EXPECT_LE(diff, kTolerance) << "size " << size << (last ? " channels_last" : "");
    }
  }
}

TEST_F(PipelineReference, PrepareBatchMatchesTorchvisionWithAndWithoutAugmentation) {
  const at::Tensor images = get("images");
  const at::Tensor indices = get("indices");
  const at::Tensor seed_epoch = get("seed_epoch");
  for (int64_t size : sizes()) {
    for (bool augment : {true, false}) {
      const BatchSpec spec{size, augment, seed_epoch[0].item<int64_t>(), seed_epoch[1].item<int64_t>()};
      const at::Tensor out = prepare_batch(images, indices, spec);
      const at::Tensor want = get((augment ? "augmented_" : "plain_") + std::to_string(size));
      ASSERT_EQ(out.sizes(), want.sizes());
      const double diff = max_diff(out, want);
      RecordProperty(std::string(augment ? "max_diff_augmented_" : "max_diff_plain_") + std::to_string(size),
                     std::to_string(diff));
      EXPECT_LE(diff, kTolerance) << "size " << size << (augment ? " augmented" : " plain");
    }
  }
}

}  // namespace
}  // namespace ftbench::train
