// --set KEY=VALUE: applied in order before validation, and reported as "--set KEY=VALUE: ..." when wrong.
#include <gtest/gtest.h>

#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

Experiment parse_with(const std::string& text, std::initializer_list<const char*> overrides) {
  return parse_experiment_text(text, "exp.toml", with_overrides(overrides));
}

TEST(Overrides, SetValuesOfEveryType) {
  const Experiment e =
      parse_with(kMinimal + "[train]\nepochs = 5\n", {"train.epochs=7", "train.lr=1", "experiment.seeds=[4, 5]",
                                                      "data.augment=false", "experiment.output=\"x/y.h5\""});
  EXPECT_EQ(e.train.epochs, 7);
  EXPECT_DOUBLE_EQ(e.train.lr, 1.0);
  EXPECT_EQ(e.seeds, (std::vector<int64_t>{4, 5}));
  EXPECT_FALSE(e.data.augment);
  EXPECT_EQ(e.output, "x/y.h5");
  ASSERT_EQ(e.runs.size(), 2u);
  EXPECT_EQ(e.runs[1].id, "resnet18-full-s5");
  EXPECT_EQ(e.runs[1].train.epochs, 7);  // runs see the overridden [train]
}

TEST(Overrides, BareWordIsAString) {
  const Experiment e =
      parse_with(kMinimal, {"data.dataset=synthetic", "data.path=/tmp/some dir", "data.input_size=model"});
  EXPECT_EQ(e.data.dataset, "synthetic");
  EXPECT_EQ(e.data.path, "/tmp/some dir");
  EXPECT_EQ(e.data.input_size, 0);
  EXPECT_EQ(e.data.input_size_origin, "");  // the model's size: nothing to point at
}

TEST(Overrides, InputSizeOriginNamesTheOverride) {
  const Experiment e = parse_with(kMinimal + "[data]\ninput_size = 64\n", {"data.input_size=16"});
  EXPECT_EQ(e.data.input_size, 16);
  EXPECT_EQ(e.data.input_size_origin.rfind("--set data.input_size=16", 0), 0u) << e.data.input_size_origin;
}

TEST(Overrides, LaterOverrideWins) {
  EXPECT_EQ(parse_with(kMinimal, {"train.epochs=3", "train.epochs=4"}).train.epochs, 4);
}

TEST(Overrides, CanSupplyWholeExperiment) {
  const Experiment e = parse_with("", {"experiment.name=cli", "matrix.models=[\"vgg16\"]"});
  EXPECT_EQ(e.name, "cli");
  ASSERT_EQ(e.runs.size(), 1u);
  EXPECT_EQ(e.runs[0].id, "vgg16-full-s0");
}

TEST(Overrides, ResolvedTomlShowsOverriddenValue) {
  const Experiment e = parse_with(kMinimal, {"train.epochs=9"});
  EXPECT_NE(e.resolved_toml.find("epochs = 9\n"), std::string::npos) << e.resolved_toml;
}

TEST(Overrides, InvalidValueIsReportedAtTheOverride) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train.epochs=0"})), "--set train.epochs=0",
               "train.epochs must be an integer >= 1, got 0", "use a value from 1 to 100000");
}

TEST(Overrides, WrongTypeIsReportedAtTheOverride) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train.lr=fast"})), "--set train.lr=fast",
               "train.lr must be a number, got string \"fast\"", "e.g. lr = 0.01");
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"experiment.seeds=[0, -1]"})), "--set experiment.seeds=[0, -1]",
               "experiment.seeds[1] must be an integer >= 0, got -1");
}

TEST(Overrides, BadBatchIsReportedAtTheOverride) {
  const Experiment e = parse_with(kMinimal, {"train.batch_size=1"});
  try {
    validate_for_world(e, 2);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_ERROR(error.what(), "--set train.batch_size=1", "train.batch_size (1) is smaller than the world size (2)");
  }
}

TEST(Overrides, UnknownKeySuggestsClosest) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train.learning_rate=0.1"})), "--set train.learning_rate=0.1",
               "unknown key 'train.learning_rate'", "did you mean 'train.lr'?");
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"trian.lr=0.1"})), "--set trian.lr=0.1", "unknown table [trian]",
               "did you mean [train]?");
}

TEST(Overrides, MissingEquals) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train.epochs"})), "--set train.epochs", "missing '='",
               "write --set KEY=VALUE");
}

TEST(Overrides, MalformedKey) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train..lr=1"})), "--set train..lr=1",
               "'train..lr' is not a dotted key", "train.lr");
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"=1"})), "--set =1", "is not a dotted key");
}

TEST(Overrides, CannotDescendIntoValueOrRuns) {
  EXPECT_ERROR(error_of(kMinimal, with_overrides({"train.epochs=2", "train.epochs.x=1"})), "--set train.epochs.x=1",
               "'train.epochs' is a value, not a table");
  EXPECT_ERROR(error_of("[experiment]\nname = \"d\"\n[[runs]]\nmodel = \"vgg16\"\n", with_overrides({"runs.seed=1"})),
               "--set runs.seed=1", "[[runs]]", "edit the file instead");
}

TEST(Overrides, TableCreatedByOverrideIsNamedInConflicts) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"d\"\n[[runs]]\nmodel = \"vgg16\"\n",
                        with_overrides({"matrix.models=[\"vgg16\"]"})),
               "exp.toml:3:1", "both [matrix] (at --set matrix.models=[\"vgg16\"]) and [[runs]]");
}

}  // namespace
}  // namespace ftbench::config::testing
