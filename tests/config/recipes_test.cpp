// Fine-tuning recipes in the config: strategies (freeze:<stage> checked against the model's stages),
// optimizers, schedules with warmup, and the other [train] keys, with their errors.
#include <gtest/gtest.h>

#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

ParseOptions with_stages() {
  ParseOptions options = options_with_models();
  options.model_stages["resnet18"] = {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"};
  options.model_stages["vgg16"] = {"block1", "block2", "block3", "block4", "block5", "classifier"};
  return options;
}

std::string matrix_with(const std::string& models, const std::string& strategies, const std::string& train = "") {
  return "[experiment]\nname = \"demo\"\n[train]\nepochs = 4\n" + train + "[matrix]\nmodels = " + models +
         "\nstrategies = " + strategies + "\n";
}

TEST(Recipes, EveryStrategyIsAccepted) {
  const Experiment e = parse_experiment_text(
      matrix_with("[\"resnet18\"]", "[\"full\", \"linear_probe\", \"freeze:layer2\", \"discriminative\", \"gradual\"]"),
      "exp.toml", with_stages());
  ASSERT_EQ(e.runs.size(), 5u);
  EXPECT_EQ(e.runs[2].strategy, "freeze:layer2");
  EXPECT_EQ(e.runs[2].id, "resnet18-freeze_layer2-s0");
}

TEST(Recipes, UnknownStageListsTheModelsStages) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"freeze:layer9\"]"), with_stages()), "exp.toml:7:15",
               "matrix.strategies[0] = \"freeze:layer9\"", "resnet18 has no stage \"layer9\"",
               "\"conv1\", \"bn1\", \"layer1\"");
}

TEST(Recipes, AStageMustExistInEveryModelOfTheMatrix) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\", \"vgg16\"]", "[\"freeze:layer2\"]"), with_stages()),
               "exp.toml:7:15", "vgg16 has no stage \"layer2\"", "\"block1\"");
}

TEST(Recipes, FreezingTheLastStageIsRefused) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"freeze:fc\"]"), with_stages()), "exp.toml:7:15",
               "freezes every stage of resnet18", "linear_probe");
}

TEST(Recipes, UnknownStrategySuggestsAndListsFreeze) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"linear-probe\"]"), with_stages()), "exp.toml:7:15",
               "did you mean \"linear_probe\"?", "\"freeze:<stage>\"");
}

TEST(Recipes, RunsTableChecksItsOwnModelsStages) {
  const std::string text = "[experiment]\nname = \"demo\"\n[[runs]]\nmodel = \"vgg16\"\nstrategy = \"freeze:block3\"\n"
                           "[[runs]]\nmodel = \"resnet18\"\nstrategy = \"freeze:block3\"\n";
  EXPECT_ERROR(error_of(text, with_stages()), "exp.toml:8:12", "runs[1].strategy", "resnet18 has no stage");
}

TEST(Recipes, ReadsEveryRecipeKey) {
  const Experiment e = parse_experiment_text(
      matrix_with("[\"resnet18\"]", "[\"full\"]",
                  "optimizer = \"adamw\"\nno_decay_norm_bias = false\nschedule = \"step\"\nmilestones = [2, 3]\n"
                  "gamma = 0.5\nwarmup_epochs = 0.5\nlabel_smoothing = 0.1\nclip_grad_norm = 1.0\n"
                  "accumulate_steps = 4\nema_decay = 0.999\nbackbone_lr_mult = 0.2\nunfreeze_every = 2\n"
                  "precision = \"bf16\"\nmemory_format = \"channels_last\"\n"),
      "exp.toml", with_stages());
  const TrainConfig& t = e.runs.at(0).train;
  EXPECT_EQ(t.optimizer, "adamw");
  EXPECT_FALSE(t.no_decay_norm_bias);
  EXPECT_EQ(t.schedule, "step");
  EXPECT_EQ(t.milestones, (std::vector<int64_t>{2, 3}));
  EXPECT_DOUBLE_EQ(t.gamma, 0.5);
  EXPECT_DOUBLE_EQ(t.warmup_epochs, 0.5);
  EXPECT_DOUBLE_EQ(t.label_smoothing, 0.1);
  EXPECT_DOUBLE_EQ(t.clip_grad_norm, 1.0);
  EXPECT_EQ(t.accumulate_steps, 4);
  EXPECT_DOUBLE_EQ(t.ema_decay, 0.999);
  EXPECT_DOUBLE_EQ(t.backbone_lr_mult, 0.2);
  EXPECT_EQ(t.unfreeze_every, 2);
  EXPECT_EQ(t.precision, "bf16");
  EXPECT_EQ(t.memory_format, "channels_last");
  // The resolved TOML holds them and reads back to the same run.
  const Experiment again = parse_experiment_text(e.resolved_toml, "resolved.toml", with_stages());
  EXPECT_EQ(again.runs.at(0).resolved_toml, e.runs.at(0).resolved_toml);
  EXPECT_NE(e.runs.at(0).resolved_toml.find("milestones = [2, 3]"), std::string::npos) << e.runs.at(0).resolved_toml;
}

TEST(Recipes, StepScheduleNeedsMilestonesWithinTheRun) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "schedule = \"step\"\n")), "exp.toml:5:12",
               "needs milestones", "milestones = [30, 60]");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "schedule = \"step\"\nmilestones = [2, 9]\n")),
               "exp.toml:6:14", "past the last epoch (4)");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "milestones = [3, 2]\n")), "exp.toml:5:18",
               "must increase strictly");
}

TEST(Recipes, OutOfRangeValuesAreRefused) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "warmup_epochs = 4\n")), "exp.toml:5:17",
               "less than epochs (4)");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "label_smoothing = 1.0\n")), "exp.toml:5:19",
               "train.label_smoothing");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "accumulate_steps = 0\n")), "exp.toml:5:20",
               "train.accumulate_steps");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "ema_decay = nan\n")), "exp.toml:5:13",
               "train.ema_decay");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "precision = \"fp16\"\n")), "exp.toml:5:13",
               "\"fp32\" or \"bf16\"");
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "optimizer = \"adamw\"\nnesterov = true\n")),
               "exp.toml:6:12", "nesterov = true needs optimizer = \"sgd\"");
}

TEST(Recipes, CommonSpellingsFromOtherToolsAreSuggested) {
  EXPECT_ERROR(error_of(matrix_with("[\"resnet18\"]", "[\"full\"]", "max_grad_norm = 1.0\n")), "exp.toml:5:1",
               "did you mean 'train.clip_grad_norm'?");
}

}  // namespace
}  // namespace ftbench::config::testing
