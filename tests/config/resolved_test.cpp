// resolved_toml: the complete configuration as TOML, which must read back into the same Experiment.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

void expect_same_train(const TrainConfig& a, const TrainConfig& b) {
  EXPECT_EQ(a.epochs, b.epochs);
  EXPECT_EQ(a.batch_size, b.batch_size);
  EXPECT_EQ(a.optimizer, b.optimizer);
  EXPECT_EQ(a.lr, b.lr);  // exact: the writer must spell doubles so they read back bit for bit
  EXPECT_EQ(a.momentum, b.momentum);
  EXPECT_EQ(a.weight_decay, b.weight_decay);
  EXPECT_EQ(a.schedule, b.schedule);
  EXPECT_EQ(a.threads, b.threads);
}

void expect_same_experiment(const Experiment& a, const Experiment& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.seeds, b.seeds);
  EXPECT_EQ(a.deterministic, b.deterministic);
  EXPECT_EQ(a.data.dataset, b.data.dataset);
  EXPECT_EQ(a.data.path, b.data.path);
  EXPECT_EQ(a.data.train_size, b.data.train_size);
  EXPECT_EQ(a.data.test_size, b.data.test_size);
  EXPECT_EQ(a.data.input_size, b.data.input_size);
  EXPECT_EQ(a.data.augment, b.data.augment);
  expect_same_train(a.train, b.train);
  ASSERT_EQ(a.runs.size(), b.runs.size());
  for (std::size_t i = 0; i < a.runs.size(); ++i) {
    SCOPED_TRACE(a.runs[i].id);
    EXPECT_EQ(a.runs[i].id, b.runs[i].id);
    EXPECT_EQ(a.runs[i].model, b.runs[i].model);
    EXPECT_EQ(a.runs[i].strategy, b.runs[i].strategy);
    EXPECT_EQ(a.runs[i].weights, b.runs[i].weights);
    EXPECT_EQ(a.runs[i].seed, b.runs[i].seed);
    expect_same_train(a.runs[i].train, b.runs[i].train);
    EXPECT_EQ(a.runs[i].resolved_toml, b.runs[i].resolved_toml);
  }
}

// Values that a naive float writer would not read back exactly, a path that needs escaping, overrides.
const char* kMatrixExperiment = R"([experiment]
name = "round.trip-1"
seeds = [2, 0, 1]
deterministic = true
[data]
path = "C:\\data\\\"cifar\"\tdir"
input_size = 48
[train]
lr = 0.1
weight_decay = 3e-5
momentum = 0.30000000000000004
[matrix]
models = ["vgg16", "resnet18"]
)";

const char* kRunsExperiment = R"([experiment]
name = "runs"
seeds = [0, 1]
[[runs]]
model = "resnet18"
[runs.train]
lr = 0.123456789012345
batch_size = 32
[[runs]]
model = "vgg16"
seed = 9
)";

TEST(ResolvedToml, ReparsesWithToml) {
  const Experiment e = parse_experiment_text(kMatrixExperiment, "exp.toml", options_with_models());
  toml::table table;
  ASSERT_NO_THROW(table = toml::parse(std::string_view(e.resolved_toml))) << e.resolved_toml;
  EXPECT_EQ(table["experiment"]["name"].value<std::string>(), "round.trip-1");
  EXPECT_EQ(table["train"]["epochs"].value<int64_t>(), 2);  // defaults are written out
  EXPECT_EQ(table["data"]["dataset"].value<std::string>(), "cifar10");
  EXPECT_EQ(table["matrix"]["weights"].value<std::string>(), "none");
}

TEST(ResolvedToml, MatrixRoundTripsToSameExperiment) {
  const Experiment e = parse_experiment_text(kMatrixExperiment, "exp.toml", with_overrides({"train.epochs=3"}));
  const Experiment again = parse_experiment_text(e.resolved_toml, "resolved.toml", options_with_models());
  expect_same_experiment(e, again);
  EXPECT_EQ(again.train.epochs, 3);
  EXPECT_EQ(again.data.path, "C:\\data\\\"cifar\"\tdir");
  EXPECT_EQ(e.resolved_toml, again.resolved_toml);  // writing is a fixed point
}

TEST(ResolvedToml, RunsRoundTripToSameExperiment) {
  const Experiment e = parse_experiment_text(kRunsExperiment, "exp.toml", options_with_models());
  const Experiment again = parse_experiment_text(e.resolved_toml, "resolved.toml", options_with_models());
  expect_same_experiment(e, again);
  EXPECT_EQ(e.resolved_toml, again.resolved_toml);
  ASSERT_EQ(again.runs.size(), 3u);
  EXPECT_EQ(again.runs[1].train.batch_size, 32);
  EXPECT_EQ(again.runs[2].train.batch_size, 128);
}

TEST(ResolvedToml, IsDeterministic) {
  const Experiment a = parse_experiment_text(kMatrixExperiment, "exp.toml", options_with_models());
  const Experiment b = parse_experiment_text(kMatrixExperiment, "exp.toml", options_with_models());
  EXPECT_EQ(a.resolved_toml, b.resolved_toml);
}

TEST(ResolvedToml, RunTomlIsAOneRunExperiment) {
  const Experiment e = parse_experiment_text(kRunsExperiment, "exp.toml", options_with_models());
  for (const RunSpec& run : e.runs) {
    SCOPED_TRACE(run.id);
    const Experiment one = parse_experiment_text(run.resolved_toml, "run.toml", options_with_models());
    ASSERT_EQ(one.runs.size(), 1u);
    EXPECT_EQ(one.runs[0].id, run.id);
    EXPECT_EQ(one.runs[0].model, run.model);
    EXPECT_EQ(one.runs[0].seed, run.seed);
    expect_same_train(one.runs[0].train, run.train);  // the run's effective [train], overrides included
    EXPECT_EQ(one.name, e.name);
    EXPECT_EQ(one.data.path, e.data.path);
  }
}

}  // namespace
}  // namespace ftbench::config::testing
