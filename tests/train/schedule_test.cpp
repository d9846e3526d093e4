// LR schedules with warmup, evaluated per optimiser step, and the parameter groups' LRs that follow them.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>

#include "runner/models/registry.h"
#include "runner/train/optimizer.h"
#include "runner/train/schedule.h"
#include "runner/train/strategy.h"

namespace ftbench::train {
namespace {

config::TrainConfig train_with(const std::string& schedule, double warmup_epochs, int64_t epochs = 4) {
  config::TrainConfig t;
  t.schedule = schedule;
  t.lr = 0.1;
  t.epochs = epochs;
  t.warmup_epochs = warmup_epochs;
  return t;
}

TEST(LrSchedule, ConstantWithFractionalWarmup) {
  const LrSchedule s = make_schedule(train_with("constant", 1.5), /*steps_per_epoch=*/10);
  EXPECT_EQ(s.total_steps, 40);
  EXPECT_EQ(s.warmup_steps, 15);
  EXPECT_DOUBLE_EQ(s.at(0), 0.1 / 15);  // linear from 0: the first step already moves
  EXPECT_DOUBLE_EQ(s.at(6), 0.1 * 7 / 15);
  EXPECT_DOUBLE_EQ(s.at(14), 0.1);
  EXPECT_DOUBLE_EQ(s.at(15), 0.1);
  EXPECT_DOUBLE_EQ(s.at(39), 0.1);
  for (int64_t i = 1; i < 15; ++i) EXPECT_GT(s.at(i), s.at(i - 1));
}

TEST(LrSchedule, CosineDecaysAfterTheWarmup) {
  const LrSchedule s = make_schedule(train_with("cosine", 1.0), 10);
  EXPECT_EQ(s.warmup_steps, 10);
  EXPECT_DOUBLE_EQ(s.at(0), 0.01);
  EXPECT_DOUBLE_EQ(s.at(9), 0.1);
  EXPECT_DOUBLE_EQ(s.at(10), 0.1);  // the cosine starts at the peak after warmup
  EXPECT_NEAR(s.at(25), 0.05, 1e-12);  // halfway through the remaining 30 steps
  EXPECT_NEAR(s.at(39), 0.05 * (1 + std::cos(M_PI * 29 / 30)), 1e-12);
  for (int64_t i = 11; i < 40; ++i) EXPECT_LT(s.at(i), s.at(i - 1));
}

TEST(LrSchedule, CosineWithoutWarmupIsTheOldSchedule) {
  const LrSchedule s = make_schedule(train_with("cosine", 0), 25);
  for (int64_t i = 0; i < 100; ++i) EXPECT_DOUBLE_EQ(s.at(i), lr_at(Schedule::kCosine, 0.1, i, 100));
}

TEST(LrSchedule, StepMultipliesByGammaAfterEachMilestoneEpoch) {
  config::TrainConfig t = train_with("step", 0.5);
  t.milestones = {2, 3};
  t.gamma = 0.5;
  const LrSchedule s = make_schedule(t, 10);
  EXPECT_EQ(s.warmup_steps, 5);
  EXPECT_DOUBLE_EQ(s.at(0), 0.02);
  EXPECT_DOUBLE_EQ(s.at(4), 0.1);
  EXPECT_DOUBLE_EQ(s.at(19), 0.1);   // last step of epoch 2
  EXPECT_DOUBLE_EQ(s.at(20), 0.05);  // first step of epoch 3
  EXPECT_DOUBLE_EQ(s.at(29), 0.05);
  EXPECT_DOUBLE_EQ(s.at(30), 0.025);
  EXPECT_DOUBLE_EQ(s.at(39), 0.025);
}

TEST(LrSchedule, WarmupLongerThanTheRunIsCapped) {
  const LrSchedule s = make_schedule(train_with("constant", 10, /*epochs=*/2), 3);
  EXPECT_EQ(s.warmup_steps, 6);
  EXPECT_DOUBLE_EQ(s.at(5), 0.1);
}

// What the trainer does each step: set_learning_rates(optimizer, groups, schedule.at(step)). Every group
// follows the schedule with its multiplier, warmup included.
void check_groups_follow(const std::string& optimizer_name, const std::string& schedule) {
  auto model = models::build_model("resnet18", 10);
  Strategy strategy("discriminative", models::find_model("resnet18"), *model);
  strategy.apply(1);
  config::TrainConfig t = train_with(schedule, 0.5);
  t.optimizer = optimizer_name;
  t.backbone_lr_mult = 0.25;
  if (schedule == "step") t.milestones = {1, 3};
  const auto groups = make_param_groups(strategy, t);
  auto optimizer = make_optimizer(groups, t);
  const LrSchedule s = make_schedule(t, 8);
  for (int64_t step = 0; step < s.total_steps; ++step) {
    set_learning_rates(*optimizer, groups, s.at(step));
    const auto& pg = optimizer->param_groups();
    ASSERT_EQ(pg.size(), 4u);
    for (std::size_t g = 0; g < pg.size(); ++g) {
      const double mult = g < 2 ? 0.25 : 1.0;
      EXPECT_DOUBLE_EQ(pg[g].options().get_lr(), s.at(step) * mult) << schedule << " step " << step << " group " << g;
    }
  }
}

TEST(LrSchedule, SgdGroupsFollowEverySchedule) {
  for (const char* schedule : {"constant", "cosine", "step"}) check_groups_follow("sgd", schedule);
}

TEST(LrSchedule, AdamwGroupsFollowEverySchedule) {
  for (const char* schedule : {"constant", "cosine", "step"}) check_groups_follow("adamw", schedule);
}

TEST(Optimizer, AdamwAndSgdOptions) {
  auto model = models::build_model("resnet18", 10);
  Strategy strategy("full", models::find_model("resnet18"), *model);
  strategy.apply(1);
  config::TrainConfig t;
  t.optimizer = "adamw";
  t.weight_decay = 0.05;
  auto groups = make_param_groups(strategy, t);
  auto adamw = make_optimizer(groups, t);
  ASSERT_NE(dynamic_cast<torch::optim::AdamW*>(adamw.get()), nullptr);
  const auto& a = static_cast<const torch::optim::AdamWOptions&>(adamw->param_groups()[0].options());
  EXPECT_EQ(a.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_DOUBLE_EQ(a.eps(), 1e-8);
  EXPECT_DOUBLE_EQ(a.weight_decay(), 0.05);
  const auto& a_nd = static_cast<const torch::optim::AdamWOptions&>(adamw->param_groups()[1].options());
  EXPECT_DOUBLE_EQ(a_nd.weight_decay(), 0.0);

  t.optimizer = "sgd";
  t.nesterov = true;
  t.momentum = 0.8;
  auto sgd = make_optimizer(groups, t);
  const auto& o = static_cast<const torch::optim::SGDOptions&>(sgd->param_groups()[0].options());
  EXPECT_TRUE(o.nesterov());
  EXPECT_DOUBLE_EQ(o.momentum(), 0.8);
}

}  // namespace
}  // namespace ftbench::train
