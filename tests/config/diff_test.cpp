// changed_run_keys: a re-run may resume a run only when the settings that change what it computes are the
// same; where files are and how the job is launched may change.
#include <gtest/gtest.h>

#include "runner/config/diff.h"
#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

const char* kBase = R"(
[experiment]
name = "resume"
[data]
dataset = "synthetic"
path = "data/a"
[train]
epochs = 2
lr = 0.01
[matrix]
models = ["resnet18"]
)";

std::string run_toml(std::initializer_list<const char*> overrides) {
  return parse_experiment_text(kBase, "exp.toml", with_overrides(overrides)).runs.at(0).resolved_toml;
}

TEST(ChangedRunKeys, SameConfigurationHasNoChanges) {
  EXPECT_TRUE(changed_run_keys(run_toml({}), run_toml({})).empty());
}

TEST(ChangedRunKeys, NamesEachChangedKeyWithBothValuesSorted) {
  const auto changes = changed_run_keys(run_toml({}), run_toml({"train.lr=0.1", "train.epochs=4"}));
  ASSERT_EQ(changes.size(), 2U);
  EXPECT_EQ(changes[0], "train.epochs: 2 -> 4");
  EXPECT_EQ(changes[1], "train.lr: 0.01 -> 0.1");
}

TEST(ChangedRunKeys, RunTableKeysAreNamedWithoutAnIndex) {
  const auto changes = changed_run_keys(run_toml({}), run_toml({"matrix.weights=\"torchvision\""}));
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0], "runs.weights: \"none\" -> \"torchvision\"");
}

TEST(ChangedRunKeys, LocationsAndLaunchSettingsMayChange) {
  const auto changes = changed_run_keys(
      run_toml({}), run_toml({"data.path=\"data/b\"", "experiment.output=\"x.h5\"", "experiment.seeds=[0, 1]",
                              "train.threads=3", "dist.timeout_s=60", "dist.backend=\"mpi\"",
                              "experiment.checkpoint_dir=\"ck\"", "experiment.checkpoint_keep=3",
                              "experiment.checkpoint_every=2"}));
  EXPECT_TRUE(changes.empty()) << changes.at(0);
}

TEST(ChangedRunKeys, AKeyOnlyOneSideHasIsAChange) {
  const std::string before = "[train]\nlr = 0.1\n";
  const auto changes = changed_run_keys(before, "[train]\nlr = 0.1\nepochs = 3\n");
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0], "train.epochs: (unset) -> 3");
  EXPECT_EQ(changed_run_keys("[train]\nepochs = 3\n", "[train]\n").at(0), "train.epochs: 3 -> (unset)");
}

TEST(ChangedRunKeys, InvalidTomlIsReportedNotThrown) {
  const auto changes = changed_run_keys("[train\n", run_toml({}));
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_NE(changes[0].find("not valid TOML"), std::string::npos);
}

TEST(CheckpointKeys, DefaultsAndRange) {
  const Experiment e = parse_experiment_text(kBase, "exp.toml", options_with_models());
  EXPECT_EQ(e.checkpoint_dir, "");
  EXPECT_EQ(e.checkpoint_keep, 1);
  EXPECT_EQ(e.checkpoint_every, 1);
  const Experiment set = parse_experiment_text(
      kBase, "exp.toml",
      with_overrides({"experiment.checkpoint_dir=\"ck\"", "experiment.checkpoint_keep=3",
                      "experiment.checkpoint_every=5"}));
  EXPECT_EQ(set.checkpoint_dir, "ck");
  EXPECT_EQ(set.checkpoint_keep, 3);
  EXPECT_EQ(set.checkpoint_every, 5);
  EXPECT_NE(set.runs.at(0).resolved_toml.find("checkpoint_keep = 3"), std::string::npos);
  EXPECT_NE(set.runs.at(0).resolved_toml.find("checkpoint_every = 5"), std::string::npos);
  const std::string error = error_of(std::string(kBase) + "", with_overrides({"experiment.checkpoint_keep=0"}));
  EXPECT_NE(error.find("checkpoint_keep"), std::string::npos) << error;
  const std::string every = error_of(std::string(kBase) + "", with_overrides({"experiment.checkpoint_every=0"}));
  EXPECT_NE(every.find("checkpoint_every"), std::string::npos) << every;
}

}  // namespace
}  // namespace ftbench::config::testing
