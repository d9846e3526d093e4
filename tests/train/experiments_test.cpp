// Every experiment shipped in experiments/ parses against the real model registry (names and stages), and
// the recipe experiments say what their comments promise.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "runner/config/config.h"
#include "runner/models/registry.h"

#ifndef FTBENCH_SOURCE_DIR
#error "FTBENCH_SOURCE_DIR must name the source tree"
#endif

namespace ftbench::config {
namespace {

const std::filesystem::path kExperiments = std::filesystem::path(FTBENCH_SOURCE_DIR) / "experiments";

ParseOptions registry_options() {
  ParseOptions options;
  options.known_models = models::model_names();
  for (const auto& entry : models::all_models()) {
    for (const auto& stage : entry.stages) options.model_stages[entry.name].push_back(stage.name);
  }
  return options;
}

Experiment parse(const std::string& name) {
  return parse_experiment((kExperiments / name).string(), registry_options());
}

TEST(Experiments, EveryFileParses) {
  int files = 0;
  for (const auto& item : std::filesystem::directory_iterator(kExperiments)) {
    if (item.path().extension() != ".toml") continue;
    ++files;
    try {
      const Experiment e = parse_experiment(item.path().string(), registry_options());
      EXPECT_FALSE(e.runs.empty()) << item.path();
    } catch (const std::exception& error) {
      ADD_FAILURE() << error.what();
    }
  }
  EXPECT_GE(files, 4);  // quickstart, compare-pretrained, strategies, native32
}

TEST(Experiments, ComparePretrainedIsTheCourseExercise) {
  const Experiment e = parse("compare-pretrained.toml");
  std::set<std::string> models;
  for (const auto& run : e.runs) {
    models.insert(run.model);
    EXPECT_EQ(run.strategy, "full");
    EXPECT_EQ(run.weights, "torchvision");
    EXPECT_EQ(run.train.precision, "bf16");
    EXPECT_EQ(run.train.epochs, 3);
  }
  EXPECT_EQ(models, (std::set<std::string>{"resnet18", "vgg16", "inception_v3", "densenet121", "mobilenet_v3_large",
                                           "efficientnet_b0", "vit_b_16"}));
  EXPECT_EQ(e.data.dataset, "cifar10");
  EXPECT_EQ(e.data.path, "data/cifar-10-batches-bin");
  EXPECT_EQ(e.data.input_size, 0);  // "model": each at its native size
}

TEST(Experiments, StrategiesCoversEveryStrategyAndScratch) {
  const Experiment e = parse("strategies.toml");
  for (const std::string model : {"resnet18", "resnet50"}) {
    std::set<std::string> strategies;
    bool scratch = false;
    for (const auto& run : e.runs) {
      if (run.model != model) continue;
      if (run.weights == "none") scratch = true;
      else strategies.insert(run.strategy.rfind("freeze:", 0) == 0 ? "freeze" : run.strategy);
    }
    EXPECT_EQ(strategies, (std::set<std::string>{"full", "linear_probe", "freeze", "discriminative", "gradual"}))
        << model;
    EXPECT_TRUE(scratch) << model;
  }
}

// What `ftbench run` checks before training: each run's input size fits its model.
void expect_input_sizes_fit(const Experiment& e) {
  for (const auto& run : e.runs) {
    const models::ModelEntry& entry = models::find_model(run.model);
    const int64_t size = e.data.input_size > 0 ? e.data.input_size : entry.native_input_size;
    EXPECT_NO_THROW(models::check_input_size(entry, size)) << e.source_path << ": " << run.id << " at " << size;
  }
}

TEST(Experiments, RecipeExperimentsFitTheirModels) {
  for (const char* name : {"compare-pretrained.toml", "strategies.toml", "native32.toml"}) {
    expect_input_sizes_fit(parse(name));
  }
}

TEST(Experiments, Native32DoesNotUpsample) {
  const Experiment e = parse("native32.toml");
  EXPECT_EQ(e.data.input_size, 32);
  EXPECT_GE(e.runs.size(), 4u);
}

}  // namespace
}  // namespace ftbench::config
