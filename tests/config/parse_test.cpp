// Valid experiments: every key read, defaults, matrix expansion order, explicit [[runs]].
#include <gtest/gtest.h>

#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

const char* kFull = R"([experiment]
name = "full-test"
output = "out/full.h5"
seeds = [3, 1]
deterministic = true

[data]
dataset = "synthetic"
path = "/tmp/synth"
train_size = 512
test_size = 128
input_size = 64
augment = false

[train]
epochs = 5
batch_size = 64
optimizer = "sgd"
lr = 0.1
momentum = 0.8
weight_decay = 1e-4
schedule = "constant"
threads = 4
batchnorm = "frozen"

[dist]
backend = "mpi"
bucket_cap_mb = 4.5
grad_dtype = "bf16"
timeout_s = 20

[matrix]
models = ["vgg16", "resnet18"]
strategies = ["full"]
weights = "none"
)";

TEST(ParseExperiment, ReadsEveryKey) {
  const Experiment e = parse_experiment_text(kFull, "exp.toml", options_with_models());
  EXPECT_EQ(e.source_path, "exp.toml");
  EXPECT_EQ(e.source_text, kFull);
  EXPECT_EQ(e.name, "full-test");
  EXPECT_EQ(e.output, "out/full.h5");
  EXPECT_EQ(e.seeds, (std::vector<int64_t>{3, 1}));
  EXPECT_TRUE(e.deterministic);

  EXPECT_EQ(e.data.dataset, "synthetic");
  EXPECT_EQ(e.data.path, "/tmp/synth");
  EXPECT_EQ(e.data.train_size, 512);
  EXPECT_EQ(e.data.test_size, 128);
  EXPECT_EQ(e.data.input_size, 64);
  EXPECT_EQ(e.data.input_size_origin, "exp.toml:12:14");  // for "below the model's minimum", found later
  EXPECT_FALSE(e.data.augment);

  EXPECT_EQ(e.train.epochs, 5);
  EXPECT_EQ(e.train.batch_size, 64);
  EXPECT_EQ(e.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(e.train.lr, 0.1);
  EXPECT_DOUBLE_EQ(e.train.momentum, 0.8);
  EXPECT_DOUBLE_EQ(e.train.weight_decay, 1e-4);
  EXPECT_EQ(e.train.schedule, "constant");
  EXPECT_EQ(e.train.threads, 4);
  EXPECT_EQ(e.train.batchnorm, "frozen");

  EXPECT_EQ(e.dist.backend, "mpi");
  EXPECT_DOUBLE_EQ(e.dist.bucket_cap_mb, 4.5);
  EXPECT_EQ(e.dist.grad_dtype, "bf16");
  EXPECT_DOUBLE_EQ(e.dist.timeout_s, 20);
}

TEST(ParseExperiment, DistKeysAreValidated) {
  EXPECT_ERROR(error_of(kMinimal + "[dist]\nbackend = \"gloo\"\n"), "exp.toml:6:11", "dist.backend", "nccl");
  EXPECT_ERROR(error_of(kMinimal + "[dist]\ntimeout_s = 0\n"), "exp.toml:6:13", "dist.timeout_s");
  EXPECT_ERROR(error_of(kMinimal + "[dist]\nbucket_cap_m = 4\n"), "exp.toml:6:1", "dist.bucket_cap_m",
               "did you mean 'dist.bucket_cap_mb'?");
  EXPECT_ERROR(error_of(kMinimal + "[train]\nbatchnorm = \"sync\"\n"), "exp.toml:6:13", "train.batchnorm",
               "frozen");
}

TEST(ParseExperiment, ExpandsMatrixModelsThenStrategiesThenSeeds) {
  const Experiment e = parse_experiment_text(kFull, "exp.toml", options_with_models());
  std::vector<std::string> ids;
  for (const auto& run : e.runs) ids.push_back(run.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"vgg16-full-s3", "vgg16-full-s1", "resnet18-full-s3", "resnet18-full-s1"}));
  ASSERT_EQ(e.runs.size(), 4u);
  EXPECT_EQ(e.runs[1].model, "vgg16");
  EXPECT_EQ(e.runs[1].strategy, "full");
  EXPECT_EQ(e.runs[1].weights, "none");
  EXPECT_EQ(e.runs[1].seed, 1);
  EXPECT_EQ(e.runs[1].train.batch_size, 64);  // every matrix run inherits [train]
  EXPECT_DOUBLE_EQ(e.runs[3].train.lr, 0.1);
}

TEST(ParseExperiment, FillsDefaults) {
  const Experiment e = parse_experiment_text(kMinimal, "exp.toml", options_with_models());
  const DataConfig data;
  const TrainConfig train;
  EXPECT_EQ(e.name, "demo");
  EXPECT_EQ(e.output, "results/demo.h5");
  EXPECT_EQ(e.seeds, (std::vector<int64_t>{0}));
  EXPECT_FALSE(e.deterministic);
  EXPECT_EQ(e.data.dataset, data.dataset);
  EXPECT_EQ(e.data.path, data.path);
  EXPECT_EQ(e.data.train_size, 0);
  EXPECT_EQ(e.data.test_size, 0);
  EXPECT_EQ(e.data.input_size, 0);
  EXPECT_TRUE(e.data.augment);
  EXPECT_EQ(e.train.epochs, train.epochs);
  EXPECT_EQ(e.train.batch_size, train.batch_size);
  EXPECT_EQ(e.train.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(e.train.lr, train.lr);
  EXPECT_DOUBLE_EQ(e.train.momentum, train.momentum);
  EXPECT_DOUBLE_EQ(e.train.weight_decay, train.weight_decay);
  EXPECT_EQ(e.train.schedule, "cosine");
  EXPECT_EQ(e.train.threads, 0);
  ASSERT_EQ(e.runs.size(), 1u);
  EXPECT_EQ(e.runs[0].id, "resnet18-full-s0");
  EXPECT_EQ(e.runs[0].strategy, "full");
  EXPECT_EQ(e.runs[0].weights, "none");
}

TEST(ParseExperiment, AcceptsIntegerForFloatAndModelInputSize) {
  const Experiment e =
      parse_experiment_text(kMinimal + "[train]\nlr = 1\nweight_decay = 0\n[data]\ninput_size = \"model\"\n",
                            "exp.toml", options_with_models());
  EXPECT_DOUBLE_EQ(e.train.lr, 1.0);
  EXPECT_DOUBLE_EQ(e.train.weight_decay, 0.0);
  EXPECT_EQ(e.data.input_size, 0);
}

const char* kRuns = R"([experiment]
name = "explicit"
seeds = [0, 1]

[train]
lr = 0.05

[[runs]]
model = "resnet18"
seed = 7
[runs.train]
lr = 0.2
epochs = 3

[[runs]]
model = "vgg16"
strategy = "full"
weights = "none"
)";

TEST(ParseExperiment, ReadsExplicitRunsWithTrainOverrides) {
  const Experiment e = parse_experiment_text(kRuns, "exp.toml", options_with_models());
  ASSERT_EQ(e.runs.size(), 3u);
  // A run with a seed is one run; a run without one is repeated for every experiment seed.
  EXPECT_EQ(e.runs[0].id, "resnet18-full-s7");
  EXPECT_EQ(e.runs[1].id, "vgg16-full-s0");
  EXPECT_EQ(e.runs[2].id, "vgg16-full-s1");
  EXPECT_DOUBLE_EQ(e.runs[0].train.lr, 0.2);
  EXPECT_EQ(e.runs[0].train.epochs, 3);
  EXPECT_EQ(e.runs[0].train.batch_size, 128);  // keys not in [runs.train] come from [train] / defaults
  EXPECT_DOUBLE_EQ(e.runs[1].train.lr, 0.05);
  EXPECT_EQ(e.runs[1].train.epochs, 2);
  EXPECT_DOUBLE_EQ(e.train.lr, 0.05);  // [runs.train] does not leak into the experiment's [train]
}

TEST(ParseExperiment, NamedRunsTakeTheirIdFromTheName) {
  const std::string text = R"([experiment]
name = "lrs"
seeds = [0, 1]
[[runs]]
name = "resnet18-lr0.05"
model = "resnet18"
[runs.train]
lr = 0.05
[[runs]]
name = "resnet18-lr0.01"
model = "resnet18"
[runs.train]
lr = 0.01
)";
  const Experiment e = parse_experiment_text(text, "exp.toml", options_with_models());
  ASSERT_EQ(e.runs.size(), 4u);
  EXPECT_EQ(e.runs[0].id, "resnet18-lr0.05-s0");
  EXPECT_EQ(e.runs[1].id, "resnet18-lr0.05-s1");
  EXPECT_EQ(e.runs[2].id, "resnet18-lr0.01-s0");
  EXPECT_DOUBLE_EQ(e.runs[3].train.lr, 0.01);
  // The name survives the resolved TOML, so the re-parsed experiment has the same run ids.
  const Experiment again = parse_experiment_text(e.resolved_toml, "resolved.toml", options_with_models());
  ASSERT_EQ(again.runs.size(), 4u);
  EXPECT_EQ(again.runs[2].id, "resnet18-lr0.01-s0");
}

TEST(ParseExperiment, RejectsUnsafeRunName) {
  const std::string message =
      error_of("[experiment]\nname = \"x\"\n[[runs]]\nname = \"a b\"\nmodel = \"resnet18\"\n");
  EXPECT_ERROR(message, "exp.toml:4:8", "runs[0].name", "letters, digits");
}

TEST(ParseExperiment, ReadsFromFile) {
  const std::string path = ::testing::TempDir() + "ftbench_config_read.toml";
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fputs(kFull, file);
    std::fclose(file);
  }
  const Experiment e = parse_experiment(path, options_with_models());
  EXPECT_EQ(e.source_path, path);
  EXPECT_EQ(e.source_text, kFull);
  EXPECT_EQ(e.runs.size(), 4u);
  std::remove(path.c_str());
}

TEST(MakeRunId, ReplacesUnsafeStrategyCharacters) {
  EXPECT_EQ(make_run_id("resnet18", "full", 0), "resnet18-full-s0");
  EXPECT_EQ(make_run_id("resnet18", "freeze:layer2", 12), "resnet18-freeze_layer2-s12");
  EXPECT_EQ(make_run_id("vgg16", "a/b c-d.e", 1), "vgg16-a_b_c_d.e-s1");
}

TEST(ValidateForWorld, AcceptsBatchAtLeastWorldSize) {
  const Experiment e = parse_experiment_text(kMinimal + "[train]\nbatch_size = 4\n", "exp.toml", options_with_models());
  EXPECT_NO_THROW(validate_for_world(e, 1));
  EXPECT_NO_THROW(validate_for_world(e, 4));
}

}  // namespace
}  // namespace ftbench::config::testing

namespace ftbench::config::testing {
namespace {

TEST(ParseExperiment, WeightsKeywordsPathsStrictnessAndDir) {
  const Experiment e = parse_experiment_text(R"([experiment]
name = "w"
[weights]
dir = "/scratch/weights"
[[runs]]
model = "resnet18"
weights = "torchvision"
[[runs]]
model = "vgg16"
weights = "ckpt/vgg16-finetuned.pth"
strict_weights = false
)",
                                             "exp.toml", options_with_models());
  ASSERT_EQ(e.runs.size(), 2u);
  EXPECT_EQ(e.weights_dir, "/scratch/weights");
  EXPECT_EQ(e.runs[0].weights, "torchvision");
  EXPECT_TRUE(e.runs[0].strict_weights);
  EXPECT_EQ(e.runs[1].weights, "ckpt/vgg16-finetuned.pth");
  EXPECT_FALSE(e.runs[1].strict_weights);
  const Experiment again = parse_experiment_text(e.resolved_toml, "resolved.toml", options_with_models());
  EXPECT_EQ(again.weights_dir, "/scratch/weights");
  EXPECT_FALSE(again.runs[1].strict_weights);
  EXPECT_EQ(again.runs[1].weights, "ckpt/vgg16-finetuned.pth");
}

TEST(ParseExperiment, WeightsMustBeANonEmptyString) {
  EXPECT_ERROR(error_of(kMinimal + "weights = 3\n"), "exp.toml:5:11", "matrix.weights", "torchvision");
  EXPECT_ERROR(error_of(kMinimal + "weights = \"\"\n"), "exp.toml:5:11", "matrix.weights");
  EXPECT_ERROR(error_of(kMinimal + "strict_weights = \"no\"\n"), "exp.toml:5:18", "matrix.strict_weights");
  EXPECT_ERROR(error_of(kMinimal + "[weights]\ndri = \"x\"\n"), "exp.toml:6:1", "weights.dri",
               "did you mean 'weights.dir'?");
}

}  // namespace
}  // namespace ftbench::config::testing
