// The registry's promises, for every model in it: stages cover every parameter exactly once, the heads are
// real parameter prefixes that replace_head re-creates, the limits and notes are set. And the summary
// `ftbench inspect` prints: parameters, multiply-adds, and the residual line of code.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/models/resnet.h"
#include "runner/models/summary.h"

namespace ftbench::models {
namespace {

class EveryModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryModel, StagesCoverEveryParameterExactlyOnceAndHeadsAreReplaced) {
  const ModelEntry& entry = find_model(GetParam());
  EXPECT_FALSE(entry.note.empty());
  EXPECT_FALSE(entry.head.empty());
  EXPECT_FALSE(entry.weights_file.empty());
  EXPECT_LE(entry.min_input_size, entry.native_input_size);
  EXPECT_EQ(entry.aux_loss_weights.empty(), GetParam() != "inception_v3" && GetParam() != "googlenet");

  const ClassifierPtr model = build_model(entry.name, 10);
  std::set<std::string> stage_names;
  for (const auto& p : model->named_parameters()) {
    int owners = 0;
    for (const auto& s : entry.stages) {
      for (const auto& prefix : s.prefixes) owners += under_prefix(p.key(), prefix) ? 1 : 0;
    }
    EXPECT_EQ(owners, 1) << p.key() << " lies in " << owners << " stages";
  }
  for (const auto& s : entry.stages) EXPECT_TRUE(stage_names.insert(s.name).second) << "duplicate stage " << s.name;

  // Every head prefix names parameters, and after replace_head they have 10 outputs.
  for (const auto& head : entry.head) {
    bool found = false;
    for (const auto& p : model->named_parameters()) {
      if (under_prefix(p.key(), head) && p.key() == head + ".weight") {
        found = true;
        EXPECT_EQ(p.value().size(0), 10) << p.key();
      }
    }
    EXPECT_TRUE(found) << "head " << head << " has no weight";
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryModel, ::testing::ValuesIn(model_names()),
                         [](const auto& test) { return test.param; });

TEST(Registry, HoldsTheModelsTheIssueLists) {
  const std::vector<std::string> names = model_names();
  for (const char* required :
       {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
  }
}

TEST(Registry, InputSizeBelowMinimumNamesTheMinimum) {
  try {
    check_input_size(find_model("resnet18"), 16);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("minimum of 32"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_input_size(find_model("resnet18"), 32));
}

TEST(Summary, Resnet18CountsParametersAndMultiplyAddsLikeTheLiterature) {
  const ClassifierPtr model = build_model("resnet18", 1000);
  const ModelSummary s = summarize(*model, find_model("resnet18"), 224);
  EXPECT_EQ(s.params_total, 11689512);
  EXPECT_EQ(s.params_trainable, 11689512);
  // torchvision's model card: 1.81 GFLOPS (multiply-adds) at 224x224.
  EXPECT_NEAR(static_cast<double>(s.macs) / 1e9, 1.814, 0.005);
  EXPECT_EQ(s.logits, (std::vector<int64_t>{1, 1000}));
  // layer1 keeps 56x56x64; layer4 ends at 7x7x512.
  for (const auto& m : s.modules) {
    if (m.name == "layer1") {
      EXPECT_EQ(m.output, (std::vector<int64_t>{1, 64, 56, 56}));
    }
    if (m.name == "layer4") {
      EXPECT_EQ(m.output, (std::vector<int64_t>{1, 512, 7, 7}));
    }
  }
  int64_t stage_sum = 0;
  for (const auto& st : s.stages) stage_sum += st.params;
  EXPECT_EQ(stage_sum, s.params_total);
}

// `ftbench inspect` points students at the line that adds the shortcut; it must be that line.
std::string source_line(const std::string& file, int line) {
  std::ifstream in(std::string(FTBENCH_SOURCE_DIR) + "/" + file);
  std::string text;
  for (int i = 0; i < line && std::getline(in, text); ++i) {
  }
  return text;
}

TEST(Residual, InspectPointsAtTheLinesThatAddTheShortcut) {
  EXPECT_EQ(source_line("runner/models/resnet.cpp", BasicBlockImpl::kResidualLine), "  out += identity;");
  EXPECT_EQ(source_line("runner/models/resnet.cpp", BottleneckImpl::kResidualLine), "  out += identity;");
}

}  // namespace
}  // namespace ftbench::models
