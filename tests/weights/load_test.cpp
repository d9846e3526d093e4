// A torchvision resnet18 state dict (random weights, saved by Python) loads into ftbench's resnet18
// strictly, and every loaded tensor equals Python's; what does not fit is reported in one error.
#include <gtest/gtest.h>

#include <ATen/Functions.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <unistd.h>

#include "fixtures.h"
#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/weights/load.h"
#include "runner/weights/pretrained.h"

namespace ftbench::weights {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;

std::map<std::string, at::Tensor> model_tensors(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value();
  return out;
}

class Resnet18 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    zip_ = new StateDict(read_state_dict(fixtures_dir() / "good" / "resnet18_zip.pth"));
  }
  static void TearDownTestSuite() { delete zip_; }
  static StateDict* zip_;
};
StateDict* Resnet18::zip_ = nullptr;

TEST_F(Resnet18, LoadsStrictlyWithAFreshTenClassHead) {
  const models::ClassifierPtr model = models::build_model("resnet18", 10);
  const at::Tensor fc_before = model->named_parameters()["fc.weight"].clone();
  const LoadReport report = load_state_dict(*model, *zip_, models::find_model("resnet18").head, /*strict=*/true);
  EXPECT_TRUE(report.fits()) << report.summary();
  EXPECT_EQ(report.head_reinitialised, (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_EQ(report.loaded.size(), 120u);  // 122 entries in the file, less the 1000-class head

  // Every loaded tensor equals Python's values, byte for byte.
  std::map<std::string, testing::Expected> expected;
  for (auto& e : testing::reference("resnet18")) expected[e.name] = e;
  for (const auto& [name, t] : model_tensors(*model)) {
    if (name.rfind("fc.", 0) == 0) continue;
    ASSERT_TRUE(expected.count(name)) << name;
    EXPECT_TRUE(testing::bytes_of(t) == expected[name].bytes) << name;
  }
  EXPECT_TRUE(at::equal(model->named_parameters()["fc.weight"], fc_before)) << "the new head must stay as initialised";
}

TEST_F(Resnet18, ImageNetHeadLoadsIntoAThousandClassModel) {
  const models::ClassifierPtr model = models::build_model("resnet18", 1000);
  const LoadReport report = load_state_dict(*model, *zip_, {"fc"});
  EXPECT_EQ(report.loaded.size(), 122u);
  EXPECT_TRUE(report.head_reinitialised.empty());
  EXPECT_TRUE(at::equal(model->named_parameters()["fc.weight"], *zip_->find("fc.weight")));
}

TEST_F(Resnet18, HalfPrecisionFileLoadsIntoFloatModel) {
  const StateDict half = read_state_dict(fixtures_dir() / "good" / "resnet18_fp16_zip.pth");
  const models::ClassifierPtr model = models::build_model("resnet18", 10);
  load_state_dict(*model, half, {"fc"});
  const at::Tensor w = model->named_parameters()["conv1.weight"];
  EXPECT_EQ(w.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(w, half.find("conv1.weight")->to(at::kFloat)));
}

TEST_F(Resnet18, StrictErrorListsEveryProblemAndCopiesNothing) {
  StateDict broken = *zip_;
  broken.tensors.erase(broken.tensors.begin());  // conv1.weight: missing
  broken.tensors.emplace_back("extra.weight", at::zeros({2}));  // unexpected
  for (auto& [name, t] : broken.tensors) {
    if (name == "layer4.1.bn2.bias") t = at::zeros({3});  // another shape
  }
  const models::ClassifierPtr model = models::build_model("resnet18", 10);
  const at::Tensor before = model->named_parameters()["layer1.0.conv1.weight"].clone();
  try {
    load_state_dict(*model, broken, {"fc"});
    FAIL() << "a broken state dict loaded strictly";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("resnet18_zip.pth"), std::string::npos) << m;
    EXPECT_NE(m.find("1 missing (conv1.weight)"), std::string::npos) << m;
    EXPECT_NE(m.find("1 unexpected (extra.weight)"), std::string::npos) << m;
    EXPECT_NE(m.find("layer4.1.bn2.bias: file [3] vs model [512]"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
  EXPECT_TRUE(at::equal(model->named_parameters()["layer1.0.conv1.weight"], before));

  const LoadReport report = load_state_dict(*model, broken, {"fc"}, /*strict=*/false);
  EXPECT_EQ(report.missing, std::vector<std::string>{"conv1.weight"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});
  EXPECT_EQ(report.mismatched.size(), 1u);
  EXPECT_EQ(report.loaded.size(), 118u);
  EXPECT_TRUE(at::equal(model->named_parameters()["layer1.0.conv1.weight"], *zip_->find("layer1.0.conv1.weight")));
}

TEST_F(Resnet18, OldFilesWithoutBatchCountersLoad) {
  StateDict old = *zip_;
  std::vector<std::pair<std::string, at::Tensor>> kept;
  for (auto& e : old.tensors) {
    if (e.first.find("num_batches_tracked") == std::string::npos) kept.push_back(e);
  }
  old.tensors = kept;
  const LoadReport report = load_state_dict(*models::build_model("resnet18", 10), old, {"fc"});
  EXPECT_EQ(report.defaulted.size(), 20u);
}

TEST_F(Resnet18, WrongModelDoesNotFit) {
  const LoadReport report = match_state_dict(*models::build_model("resnet50", 10), *zip_, {"fc"});
  EXPECT_FALSE(report.fits());
  EXPECT_FALSE(report.missing.empty());
  EXPECT_FALSE(report.mismatched.empty());
}

// load_pretrained: torchvision's cache, the hash prefix in the name, plain paths.
class Pretrained : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("ftbench-pretrained-" + std::to_string(::getpid()));
    fs::create_directories(home_ / "hub" / "checkpoints");
    setenv("TORCH_HOME", home_.c_str(), 1);
  }
  void TearDown() override { testing::remove_tree(home_); }
  fs::path home_;
};

TEST_F(Pretrained, TorchvisionNameWithAWrongHashIsRefused) {
  // Our random weights under torchvision's name: the sha256 cannot start with f37072fd.
  fs::copy_file(fixtures_dir() / "good" / "resnet18_zip.pth", home_ / "hub" / "checkpoints" / "resnet18-f37072fd.pth");
  const models::ClassifierPtr model = models::build_model("resnet18", 10);
  try {
    load_pretrained(*model, models::find_model("resnet18"), "torchvision", "");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the name says it starts with f37072fd"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scripts/fetch_weights.sh resnet18"), std::string::npos) << e.what();
  }
}

TEST_F(Pretrained, MissingTorchvisionFileSaysHowToFetch) {
  try {
    resolve_weights("torchvision", models::find_model("resnet34"), "");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet34-b627a593.pth"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("scripts/fetch_weights.sh resnet34"), std::string::npos) << e.what();
  }
}

TEST_F(Pretrained, PathLoadsAndRecordsTheSha256) {
  const models::ClassifierPtr model = models::build_model("resnet18", 10);
  const fs::path file = fixtures_dir() / "good" / "resnet18_legacy.pth";
  const PretrainedWeights w = load_pretrained(*model, models::find_model("resnet18"), file.string(), "");
  EXPECT_EQ(w.format, "torch.save legacy");
  EXPECT_EQ(w.sha256.size(), 64u);
  EXPECT_TRUE(w.report.fits());
  const auto sums = testing::read_json(fixtures_dir() / "good" / "sha256.json");
  EXPECT_EQ(w.sha256, sums.at("resnet18_legacy.pth").get<std::string>()) << "differs from Python's hashlib";
}

// check_pretrained: what `ftbench run` asks before training starts. A file that fits passes; a file of
// another model is refused as load_pretrained refuses it, naming the file.
TEST_F(Pretrained, CheckBeforeTrainingAcceptsAFitAndRefusesAMisfit) {
  const fs::path file = fixtures_dir() / "good" / "resnet18_zip.pth";
  const PretrainedWeights w = check_pretrained(models::find_model("resnet18"), file.string(), "", true, 10);
  EXPECT_TRUE(w.report.fits()) << w.report.summary();
  EXPECT_EQ(w.report.head_reinitialised, (std::vector<std::string>{"fc.weight", "fc.bias"}));
  try {
    check_pretrained(models::find_model("resnet34"), file.string(), "", /*strict=*/true, 10);
    FAIL() << "resnet18 weights must not fit resnet34";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("layer1.2"), std::string::npos) << e.what();
  }
  // Not strict: the misfit is reported, not refused, as the trainer would then train.
  const PretrainedWeights lenient = check_pretrained(models::find_model("resnet34"), file.string(), "", false, 10);
  EXPECT_FALSE(lenient.report.fits());
}

}  // namespace
}  // namespace ftbench::weights

namespace ftbench::weights {
namespace {

// torchvision's densenet121-a639ec97.pth names its layers the old way; with the rename, the file's keys are
// densenet121's, key for key.
TEST(DenseNetKeys, LegacyNamesFromTorchvisionFilesBecomeModuleNames) {
  const models::ClassifierPtr model = models::build_model("densenet121", 1000);
  StateDict state;
  for (const auto& p : model->named_parameters()) {
    std::string name = p.key();
    for (const char* part : {".norm1.", ".norm2.", ".conv1.", ".conv2."}) {
      const auto at = name.find(part);
      if (at != std::string::npos && name.find("denselayer") != std::string::npos) {
        name.replace(at, 7, std::string(".") + std::string(part).substr(1, 4) + "." + part[5] + ".");
      }
    }
    state.tensors.emplace_back(name, p.value().detach().clone());
  }
  for (const auto& b : model->named_buffers()) state.tensors.emplace_back(b.key(), b.value().clone());
  ASSERT_EQ(state.tensors.front().first.find("denselayer"), std::string::npos);
  bool saw_legacy = false;
  for (const auto& [name, t] : state.tensors) saw_legacy |= name.find(".norm.1.weight") != std::string::npos;
  ASSERT_TRUE(saw_legacy);

  rename_legacy_densenet_keys(state);
  EXPECT_TRUE(match_state_dict(*model, state, {"classifier"}).fits()) << match_state_dict(*model, state, {}).summary();
  StateDict other;
  other.tensors.emplace_back("layer1.0.conv1.weight", at::zeros({1}));
  rename_legacy_densenet_keys(other);
  EXPECT_EQ(other.tensors[0].first, "layer1.0.conv1.weight");
}

}  // namespace
}  // namespace ftbench::weights
