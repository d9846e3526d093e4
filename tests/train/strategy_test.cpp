// Strategies on the real resnet18: what each one freezes (names and counts), BatchNorm statistics of frozen
// stages, gradual unfreezing, and the parameter groups they give the optimizer.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <map>
#include <set>

#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/train/optimizer.h"
#include "runner/train/step.h"
#include "runner/train/strategy.h"

namespace ftbench::train {
namespace {

constexpr int64_t kResnet18Full = 11181642;
constexpr int64_t kResnet18Head = 5130;          // fc: 512 x 10 + 10
constexpr int64_t kResnet18Layer4 = 8393728;     // layer4's parameters

bool starts_with_any(const std::string& name, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes) {
    if (models::under_prefix(name, p)) return true;
  }
  return false;
}

struct Resnet {
  models::ClassifierPtr model = models::build_model("resnet18", 10);
  const models::ModelEntry& entry = models::find_model("resnet18");
};

TEST(UnderPrefix, MatchesWholeNameComponentsOnly) {
  EXPECT_TRUE(models::under_prefix("layer1.0.conv1.weight", "layer1"));
  EXPECT_TRUE(models::under_prefix("features.1.weight", "features.1"));
  EXPECT_FALSE(models::under_prefix("features.10.weight", "features.1"));
  EXPECT_FALSE(models::under_prefix("layer10.weight", "layer1"));
  EXPECT_TRUE(models::under_prefix("fc", "fc"));
  EXPECT_FALSE(models::under_prefix("fc2.weight", "fc"));
}

TEST(Strategy, FullTrainsEverything) {
  Resnet r;
  Strategy s("full", r.entry, *r.model);
  EXPECT_TRUE(s.apply(1));
  EXPECT_EQ(s.trainable_count(), kResnet18Full);
  EXPECT_EQ(models::count_parameters(*r.model, /*trainable_only=*/true), kResnet18Full);
  EXPECT_TRUE(s.frozen_names().empty());
}

TEST(Strategy, LinearProbeTrainsOnlyTheHead) {
  Resnet r;
  Strategy s("linear_probe", r.entry, *r.model);
  s.apply(1);
  EXPECT_EQ(s.trainable_count(), kResnet18Head);
  EXPECT_EQ(models::count_parameters(*r.model, /*trainable_only=*/true), kResnet18Head);
  const auto frozen = s.frozen_names();
  EXPECT_EQ(frozen.size(), r.model->parameters().size() - 2);
  for (const auto& name : frozen) EXPECT_FALSE(models::under_prefix(name, "fc")) << name;
  EXPECT_TRUE(r.model->named_parameters()["fc.weight"].requires_grad());
  EXPECT_TRUE(r.model->named_parameters()["fc.bias"].requires_grad());
  EXPECT_FALSE(r.model->named_parameters()["layer4.1.bn2.weight"].requires_grad());
}

TEST(Strategy, FreezeLayer3FreezesEverythingUpToAndIncludingIt) {
  Resnet r;
  Strategy s("freeze:layer3", r.entry, *r.model);
  s.apply(1);
  EXPECT_EQ(s.trainable_count(), 8398858);
  EXPECT_EQ(s.trainable_count(), kResnet18Layer4 + kResnet18Head);
  std::set<std::string> frozen;
  for (const auto& name : s.frozen_names()) frozen.insert(name);
  for (const auto& item : r.model->named_parameters()) {
    const bool expect_frozen = starts_with_any(item.key(), {"conv1", "bn1", "layer1", "layer2", "layer3"});
    EXPECT_EQ(frozen.count(item.key()) == 1, expect_frozen) << item.key();
    EXPECT_EQ(item.value().requires_grad(), !expect_frozen) << item.key();
  }
  EXPECT_EQ(frozen.count("layer3.1.bn2.bias"), 1u);  // BN included
}

TEST(Strategy, UnknownStageListsTheStages) {
  Resnet r;
  try {
    Strategy s("freeze:layer9", r.entry, *r.model);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("conv1, bn1, layer1, layer2, layer3, layer4, fc"), std::string::npos)
        << e.what();
  }
}

TEST(Strategy, GradualUnfreezesOneStageFromTheTopEveryNEpochs) {
  Resnet r;
  Strategy s("gradual", r.entry, *r.model, /*unfreeze_every=*/2);
  std::vector<int64_t> counts;
  std::vector<bool> changed;
  for (int64_t epoch = 1; epoch <= 14; ++epoch) {
    changed.push_back(s.apply(epoch));
    counts.push_back(s.trainable_count());
  }
  EXPECT_EQ(counts[0], kResnet18Head);  // epochs 1-2: a linear probe
  EXPECT_EQ(counts[1], kResnet18Head);
  EXPECT_EQ(counts[2], kResnet18Head + kResnet18Layer4);  // epoch 3: + layer4 (fc is all head: skipped)
  EXPECT_EQ(counts[3], counts[2]);
  EXPECT_GT(counts[4], counts[3]);  // + layer3
  EXPECT_GT(counts[6], counts[4]);  // + layer2
  EXPECT_GT(counts[8], counts[6]);  // + layer1
  EXPECT_GT(counts[10], counts[8]);  // + bn1
  EXPECT_EQ(counts[12], kResnet18Full);  // + conv1: everything
  EXPECT_EQ(counts[13], kResnet18Full);
  const std::vector<bool> expected_changes{true, false, true, false, true, false, true,
                                           false, true, false, true, false, true, false};
  EXPECT_EQ(changed, expected_changes);
  EXPECT_EQ(s.unfrozen_stages(3), 1);
  EXPECT_EQ(s.unfrozen_stages(100), 6);
}

// The running statistics of every BatchNorm layer, cloned.
std::vector<at::Tensor> bn_buffers(torch::nn::Module& model) {
  std::vector<at::Tensor> out;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (module->as<torch::nn::BatchNorm2d>() == nullptr) continue;
    for (const auto& b : module->buffers()) out.push_back(b.clone());
  }
  return out;
}

// One real training step of `strategy` on resnet18 with a random batch; returns whether each BN buffer and
// each parameter changed.
struct StepEffect {
  std::vector<bool> bn_changed;
  std::map<std::string, bool> param_changed;
  std::map<std::string, bool> has_grad;
};

StepEffect train_one_step(const std::string& spec) {
  torch::manual_seed(0);
  Resnet r;
  Strategy s(spec, r.entry, *r.model);
  s.apply(1);
  r.model->train();
  s.freeze_batchnorm_statistics();
  const auto bn_before = bn_buffers(*r.model);
  std::map<std::string, at::Tensor> before;
  for (const auto& item : r.model->named_parameters()) before[item.key()] = item.value().clone();

  config::TrainConfig t;
  t.lr = 0.1;
  const auto groups = make_param_groups(s, t);
  auto optimizer = make_optimizer(groups, t);
  Stepper stepper(*r.model, *optimizer, StepOptions{});
  StepTotals totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  const MicroBatch batch{at::randn({4, 3, 32, 32}), at::randint(0, 10, {4}, at::kLong)};
  stepper.step(1, [&](int64_t) { return batch; }, 4, totals);

  StepEffect effect;
  const auto bn_after = bn_buffers(*r.model);
  for (std::size_t i = 0; i < bn_after.size(); ++i) effect.bn_changed.push_back(!at::equal(bn_before[i], bn_after[i]));
  for (const auto& item : r.model->named_parameters()) {
    effect.param_changed[item.key()] = !at::equal(before[item.key()], item.value());
    effect.has_grad[item.key()] = item.value().grad().defined();
  }
  return effect;
}

TEST(Strategy, LinearProbeKeepsBackboneBatchNormStatisticsAndWeights) {
  const StepEffect probe = train_one_step("linear_probe");
  ASSERT_EQ(probe.bn_changed.size(), 20u * 3);  // resnet18: 20 BN layers x (mean, var, num_batches_tracked)
  for (std::size_t i = 0; i < probe.bn_changed.size(); ++i) EXPECT_FALSE(probe.bn_changed[i]) << "BN buffer " << i;
  for (const auto& [name, changed] : probe.param_changed) {
    const bool head = models::under_prefix(name, "fc");
    EXPECT_EQ(changed, head) << name;
    EXPECT_EQ(probe.has_grad.at(name), head) << name;  // frozen parameters get no gradient at all
  }
  // The same step under "full" moves every BN layer's statistics: the check above can fail.
  const StepEffect full = train_one_step("full");
  for (std::size_t i = 0; i < full.bn_changed.size(); ++i) EXPECT_TRUE(full.bn_changed[i]) << "BN buffer " << i;
}

TEST(Strategy, FreezeKeepsFrozenStagesBatchNormInEvalMode) {
  Resnet r;
  Strategy s("freeze:layer3", r.entry, *r.model);
  s.apply(1);
  r.model->train();
  s.freeze_batchnorm_statistics();
  for (const auto& item : r.model->named_modules("", /*include_self=*/false)) {
    if (item.value()->as<torch::nn::BatchNorm2d>() == nullptr) continue;
    const bool frozen = starts_with_any(item.key(), {"bn1", "layer1", "layer2", "layer3"});
    EXPECT_EQ(item.value()->is_training(), !frozen) << item.key();
  }
}

TEST(ParamGroups, DiscriminativeSplitsBackboneAndHeadAndDecay) {
  Resnet r;
  Strategy s("discriminative", r.entry, *r.model);
  s.apply(1);
  config::TrainConfig t;
  t.lr = 0.1;
  t.backbone_lr_mult = 0.1;
  t.weight_decay = 5e-4;
  const auto groups = make_param_groups(s, t);
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].name, "backbone");
  EXPECT_EQ(groups[1].name, "backbone.no_decay");
  EXPECT_EQ(groups[2].name, "head");
  EXPECT_EQ(groups[3].name, "head.no_decay");
  EXPECT_DOUBLE_EQ(groups[0].lr_mult, 0.1);
  EXPECT_DOUBLE_EQ(groups[1].lr_mult, 0.1);
  EXPECT_DOUBLE_EQ(groups[2].lr_mult, 1.0);
  EXPECT_DOUBLE_EQ(groups[0].weight_decay, 5e-4);
  EXPECT_DOUBLE_EQ(groups[1].weight_decay, 0.0);
  EXPECT_EQ(groups[2].names, std::vector<std::string>{"fc.weight"});
  EXPECT_EQ(groups[3].names, std::vector<std::string>{"fc.bias"});
  for (const auto& name : groups[1].names) {
    EXPECT_TRUE(name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos) << name;
  }
  for (const auto& p : groups[0].params) EXPECT_EQ(p.dim(), 4);  // resnet's only decayed backbone weights: convs
  std::size_t total = 0;
  for (const auto& g : groups) total += g.params.size();
  EXPECT_EQ(total, r.model->parameters().size());

  auto optimizer = make_optimizer(groups, t);
  set_learning_rates(*optimizer, groups, 0.05);
  const auto& pg = optimizer->param_groups();
  ASSERT_EQ(pg.size(), 4u);
  EXPECT_DOUBLE_EQ(pg[0].options().get_lr(), 0.005);
  EXPECT_DOUBLE_EQ(pg[2].options().get_lr(), 0.05);
  EXPECT_DOUBLE_EQ(static_cast<const torch::optim::SGDOptions&>(pg[1].options()).weight_decay(), 0.0);
  EXPECT_DOUBLE_EQ(static_cast<const torch::optim::SGDOptions&>(pg[0].options()).weight_decay(), 5e-4);
  EXPECT_NE(describe_groups(groups, 0.1).find("backbone lr=0.01 wd=0.0005 trainable="), std::string::npos)
      << describe_groups(groups, 0.1);
}

TEST(ParamGroups, OneGroupWithoutNoDecaySplit) {
  Resnet r;
  Strategy s("linear_probe", r.entry, *r.model);
  s.apply(1);
  config::TrainConfig t;
  t.no_decay_norm_bias = false;
  const auto groups = make_param_groups(s, t);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "all");
  EXPECT_EQ(groups[0].params.size(), r.model->parameters().size());  // frozen ones too: gradual needs them
  EXPECT_EQ(describe_groups(groups, 0.01), "all lr=0.01 wd=0.0005 trainable=5130/11181642");
}

}  // namespace
}  // namespace ftbench::train
