// Every error path: each message must start at the exact FILE:LINE:COL and name the key and the fix.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/config/test_util.h"

namespace ftbench::config::testing {
namespace {

// kMinimal is 4 lines, so a table appended to it starts on line 5 and its first key is on line 6.
std::string with_train(const std::string& lines) { return kMinimal + "[train]\n" + lines; }
std::string with_data(const std::string& lines) { return kMinimal + "[data]\n" + lines; }

TEST(ConfigErrors, SyntaxErrorGivesTomlPosition) {
  EXPECT_ERROR(error_of("[experiment]\nname = = \"x\"\n"), "exp.toml:2:8", "fix the TOML syntax");
}

TEST(ConfigErrors, IntegerTooLargeForTomlIsSyntaxError) {
  EXPECT_ERROR(error_of(with_train("epochs = 99999999999999999999\n")), "exp.toml:6:30", "not representable in 64 bits",
               "fix the TOML syntax");
}

TEST(ConfigErrors, UnknownKeySuggestsCommonSpelling) {
  EXPECT_ERROR(error_of(with_train("learning_rate = 0.1\n")), "exp.toml:6:1", "unknown key 'train.learning_rate'",
               "did you mean 'train.lr'?");
}

TEST(ConfigErrors, UnknownKeySuggestsCloseKey) {
  EXPECT_ERROR(error_of(with_train("epochs = 1\nbatchsize = 8\n")), "exp.toml:7:1", "unknown key 'train.batchsize'",
               "did you mean 'train.batch_size'?");
}

TEST(ConfigErrors, UnknownKeyWithoutMatchListsValidKeys) {
  EXPECT_ERROR(error_of(with_train("zzzzzz = 1\n")), "exp.toml:6:1", "unknown key 'train.zzzzzz'",
               "valid keys in [train] are epochs, batch_size", "threads and batchnorm");
}

TEST(ConfigErrors, FirstUnknownKeyInFileOrderIsReported) {
  EXPECT_ERROR(error_of(with_train("zeta = 1\nalpha = 2\n")), "exp.toml:6:1", "unknown key 'train.zeta'");
}

TEST(ConfigErrors, KeyInWrongTableSuggestsItsHome) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"demo\"\nlr = 0.1\n[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:3:1",
               "unknown key 'experiment.lr'", "did you mean 'train.lr'?", "move it under [train]");
}

TEST(ConfigErrors, UnknownTableSuggestsClosest) {
  EXPECT_ERROR(error_of(kMinimal + "[trian]\nlr = 0.1\n"), "exp.toml:5:2", "unknown table [trian]",
               "did you mean [train]?");
}

TEST(ConfigErrors, UnknownTableWithoutMatchListsTables) {
  EXPECT_ERROR(error_of(kMinimal + "[zzzz]\nbackend = \"mpi\"\n"), "exp.toml:5:2", "unknown table [zzzz]",
               "valid tables are experiment, data, train, dist, weights, matrix and runs");
}

TEST(ConfigErrors, UnknownSubTable) {
  EXPECT_ERROR(error_of(kMinimal + "[train.extra]\nx = 1\n"), "exp.toml:5:8", "unknown table 'train.extra'",
               "valid keys in [train]");
}

TEST(ConfigErrors, WrongTypeQuotedNumber) {
  EXPECT_ERROR(error_of(with_train("lr = \"0.1\"\n")), "exp.toml:6:6", "train.lr must be a number, got string \"0.1\"",
               "remove the quotes: lr = 0.1");
}

TEST(ConfigErrors, WrongTypeFloatForInteger) {
  EXPECT_ERROR(error_of(with_train("epochs = 2.5\n")), "exp.toml:6:10",
               "train.epochs must be an integer, got float 2.5", "e.g. epochs = 2");
}

TEST(ConfigErrors, WrongTypeBoolean) {
  EXPECT_ERROR(error_of(with_data("augment = \"yes\"\n")), "exp.toml:6:11",
               "data.augment must be true or false, got string \"yes\"", "e.g. augment = true");
}

TEST(ConfigErrors, WrongTypeForTable) {
  EXPECT_ERROR(error_of("train = 5\n" + kMinimal), "exp.toml:1:9", "train must be a table, got integer 5",
               "write it as a [train] section");
}

TEST(ConfigErrors, NanLearningRate) {
  EXPECT_ERROR(error_of(with_train("lr = nan\n")), "exp.toml:6:6", "train.lr must be a finite number > 0, got nan",
               "e.g. lr = 0.01");
}

TEST(ConfigErrors, InfiniteLearningRate) {
  EXPECT_ERROR(error_of(with_train("lr = inf\n")), "exp.toml:6:6", "train.lr must be a finite number > 0, got inf",
               "e.g. lr = 0.01");
}

TEST(ConfigErrors, NegativeInfiniteWeightDecay) {
  EXPECT_ERROR(error_of(with_train("weight_decay = -inf\n")), "exp.toml:6:16",
               "train.weight_decay must be a finite number >= 0, got -inf", "e.g. weight_decay = 0.0005");
}

TEST(ConfigErrors, NegativeLearningRate) {
  EXPECT_ERROR(error_of(with_train("lr = -0.1\n")), "exp.toml:6:6", "train.lr must be a finite number > 0, got -0.1",
               "e.g. lr = 0.01");
}

TEST(ConfigErrors, ZeroLearningRateGivenAsInteger) {
  EXPECT_ERROR(error_of(with_train("lr = 0\n")), "exp.toml:6:6", "train.lr must be a finite number > 0, got 0");
}

// Integers above 2^53 have no exact double: they must still be range-checked, not read as nothing.
TEST(ConfigErrors, HugeIntegerForNumber) {
  EXPECT_ERROR(error_of(with_train("momentum = 9007199254740993\n")), "exp.toml:6:12",
               "train.momentum must be a finite number >= 0 and < 1, got 9007199254740993");
  EXPECT_ERROR(error_of(kMinimal + "[dist]\nbucket_cap_mb = 4611686018427387904\n"), "exp.toml:6:17",
               "dist.bucket_cap_mb must be a finite number > 0 and <= 4096, got 4611686018427387904");
}

TEST(ConfigErrors, Utf16FileNamesItsEncoding) {
  const std::string utf16("\xFF\xFE[\0e\0x\0p\0]\0", 12);
  EXPECT_ERROR(error_of(utf16), "exp.toml:1:1", "the file is UTF-16", "save it as UTF-8");
  EXPECT_ERROR(error_of(std::string("\xFE\xFF\0[", 4)), "exp.toml:1:1", "the file is UTF-16");
  EXPECT_ERROR(error_of(std::string("\xFF\xFE\0\0[\0\0\0", 8)), "exp.toml:1:1", "the file is UTF-32");
}

TEST(ConfigErrors, MomentumOutOfRange) {
  EXPECT_ERROR(error_of(with_train("momentum = -0.5\n")), "exp.toml:6:12",
               "train.momentum must be a finite number >= 0 and < 1, got -0.5", "e.g. momentum = 0.9");
  EXPECT_ERROR(error_of(with_train("momentum = 1.0\n")), "exp.toml:6:12",
               "train.momentum must be a finite number >= 0 and < 1, got 1.0");
}

TEST(ConfigErrors, NegativeTrainSize) {
  EXPECT_ERROR(error_of(with_data("train_size = -1\n")), "exp.toml:6:14",
               "data.train_size must be an integer >= 0, got -1", "e.g. train_size = 0");
}

TEST(ConfigErrors, ZeroEpochs) {
  EXPECT_ERROR(error_of(with_train("epochs = 0\n")), "exp.toml:6:10", "train.epochs must be an integer >= 1, got 0",
               "use a value from 1 to 100000");
}

TEST(ConfigErrors, HugeEpochs) {
  EXPECT_ERROR(error_of(with_train("epochs = 10000000000\n")), "exp.toml:6:10",
               "train.epochs must be an integer <= 100000, got 10000000000", "use a value from 1 to 100000");
}

// 2^63-1 used to pass and overflow in the trainer (the loss became NaN): global batches have a bound.
TEST(ConfigErrors, HugeBatchSize) {
  EXPECT_ERROR(error_of(with_train("batch_size = 9223372036854775807\n")), "exp.toml:6:14",
               "train.batch_size must be an integer <= 1048576, got 9223372036854775807");
}

TEST(ConfigErrors, TooManyThreads) {
  EXPECT_ERROR(error_of(with_train("threads = 2000\n")), "exp.toml:6:11",
               "train.threads must be an integer <= 1024, got 2000", "use a value from 0 to 1024");
}

TEST(ConfigErrors, ZeroBatchSize) {
  EXPECT_ERROR(error_of(with_train("batch_size = 0\n")), "exp.toml:6:14",
               "train.batch_size must be an integer >= 1, got 0", "use a value from 1 to 1048576");
}

TEST(ConfigErrors, EnumListsChoicesAndClosest) {
  EXPECT_ERROR(error_of(with_data("dataset = \"cifar\"\n")), "exp.toml:6:11",
               "data.dataset must be one of \"cifar10\" or \"synthetic\", got \"cifar\"", "did you mean \"cifar10\"?");
}

TEST(ConfigErrors, EnumWithoutCloseChoice) {
  EXPECT_ERROR(error_of(with_train("schedule = \"linear\"\n")), "exp.toml:6:12",
               "train.schedule must be one of \"constant\", \"cosine\" or \"step\", got \"linear\"",
               "use one of \"constant\", \"cosine\" or \"step\"");
  EXPECT_ERROR(error_of(with_train("optimizer = \"lamb\"\n")), "exp.toml:6:13",
               "train.optimizer must be one of \"sgd\" or \"adamw\", got \"lamb\"", "use one of \"sgd\" or \"adamw\"");
}

TEST(ConfigErrors, InputSize) {
  EXPECT_ERROR(error_of(with_data("input_size = 0\n")), "exp.toml:6:14",
               "data.input_size must be from 1 to 1024 pixels, got 0", "e.g. input_size = 32");
  EXPECT_ERROR(error_of(with_data("input_size = \"native\"\n")), "exp.toml:6:14",
               "data.input_size must be \"model\" or an integer number of pixels, got string \"native\"",
               "input_size = \"model\"");
}

TEST(ConfigErrors, EmptyFile) {
  EXPECT_ERROR(error_of(""), "exp.toml:1:1", "the file is empty", "[experiment]", "name = ");
  EXPECT_ERROR(error_of("# only a comment\n\n"), "exp.toml:1:1", "the file is empty");
}

TEST(ConfigErrors, MissingExperimentTable) {
  EXPECT_ERROR(error_of("[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:1:1", "missing [experiment] table",
               "add [experiment] with name = ");
}

TEST(ConfigErrors, TopLevelKeySuggestsItsTable) {
  EXPECT_ERROR(error_of("seeds = [0]\n[experiment]\nname = \"d\"\n[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:1:1",
               "unknown key 'seeds'", "did you mean 'experiment.seeds'?");
}

TEST(ConfigErrors, MissingNamePointsAtTableHeader) {
  EXPECT_ERROR(error_of("\n[experiment]\nseeds = [0]\n[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:2:1",
               "missing required key 'experiment.name'", "add name = \"my-experiment\" under [experiment]");
}

TEST(ConfigErrors, NameUnsafeForFilename) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"my exp/1\"\n[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:2:8",
               "experiment.name must be a name of letters, digits", "got string \"my exp/1\"",
               "e.g. name = \"my_exp_1\"");
  EXPECT_ERROR(error_of("[experiment]\nname = \"\"\n[matrix]\nmodels = [\"resnet18\"]\n"), "exp.toml:2:8",
               "experiment.name must not be empty");
}

TEST(ConfigErrors, Seeds) {
  const auto seeds = [](const std::string& value) {
    return "[experiment]\nname = \"demo\"\nseeds = " + value + "\n[matrix]\nmodels = [\"resnet18\"]\n";
  };
  EXPECT_ERROR(error_of(seeds("[1, 1]")), "exp.toml:3:13", "experiment.seeds lists 1 twice", "remove the duplicate");
  EXPECT_ERROR(error_of(seeds("[]")), "exp.toml:3:9", "experiment.seeds must not be empty", "e.g. seeds = [0]");
  EXPECT_ERROR(error_of(seeds("[0, -2]")), "exp.toml:3:13", "experiment.seeds[1] must be an integer >= 0, got -2",
               "seeds are non-negative");
  EXPECT_ERROR(error_of(seeds("[\"a\"]")), "exp.toml:3:10", "experiment.seeds[0] must be an integer, got string",
               "e.g. seeds = [0, 1, 2]");
  EXPECT_ERROR(error_of(seeds("3")), "exp.toml:3:9", "experiment.seeds must be an array of integers, got integer 3",
               "e.g. seeds = [0, 1, 2]");
}

TEST(ConfigErrors, UnknownModelSuggestsClosest) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"demo\"\n[matrix]\nmodels = [\"resnet18\", \"resnet81\"]\n"),
               "exp.toml:4:23", "unknown model \"resnet81\" in matrix.models", "did you mean \"resnet18\"?",
               "known models: \"resnet18\", \"vgg16\" or \"inception_v3\"");
}

TEST(ConfigErrors, UnknownModelWithoutMatchListsModels) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"demo\"\n[matrix]\nmodels = [\"alexnet\"]\n"), "exp.toml:4:11",
               "unknown model \"alexnet\" in matrix.models", "use one of \"resnet18\", \"vgg16\" or \"inception_v3\"");
}

TEST(ConfigErrors, MatrixValues) {
  const std::string head = "[experiment]\nname = \"demo\"\n[matrix]\n";
  EXPECT_ERROR(error_of(head + "weights = \"none\"\n"), "exp.toml:3:1", "missing required key 'matrix.models'",
               "add models = [\"resnet18\"] under [matrix]");
  EXPECT_ERROR(error_of(head + "models = []\n"), "exp.toml:4:10", "matrix.models must not be empty");
  EXPECT_ERROR(error_of(head + "models = [\"vgg16\", \"vgg16\"]\n"), "exp.toml:4:20",
               "matrix.models lists \"vgg16\" twice", "remove the duplicate");
  EXPECT_ERROR(error_of(head + "models = \"vgg16\"\n"), "exp.toml:4:10",
               "matrix.models must be an array of strings, got string \"vgg16\"", "e.g. models = [\"resnet18\"]");
  EXPECT_ERROR(error_of(head + "models = [\"vgg16\"]\nstrategies = [\"finetune\"]\n"), "exp.toml:5:15",
               "matrix.strategies[0] must be one of \"full\", \"linear_probe\", \"discriminative\", \"gradual\" or "
               "\"freeze:<stage>\", got \"finetune\"");
  EXPECT_ERROR(error_of(head + "models = [\"vgg16\"]\nweights = true\n"), "exp.toml:5:11",
               "matrix.weights must be \"none\", \"torchvision\" or the path of a weights file, got boolean");
}

TEST(ConfigErrors, BothMatrixAndRuns) {
  EXPECT_ERROR(error_of(kMinimal + "[[runs]]\nmodel = \"resnet18\"\n"), "exp.toml:5:1",
               "both [matrix] (at exp.toml:3:1) and [[runs]] are given", "not both");
}

TEST(ConfigErrors, NeitherMatrixNorRuns) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"demo\"\n"), "exp.toml:1:1", "neither [matrix] nor [[runs]]",
               "add [matrix] with models = [\"resnet18\"]");
}

TEST(ConfigErrors, DuplicateRunsNameBothPlaces) {
  EXPECT_ERROR(error_of("[experiment]\nname = \"d\"\n[[runs]]\nmodel = \"resnet18\"\n[[runs]]\nmodel = \"resnet18\"\n"
                        "seed = 0\n"),
               "exp.toml:5:1", "run 'resnet18-full-s0' is defined twice (first at exp.toml:3:1)",
               "change the model, strategy or seed");
}

TEST(ConfigErrors, RunsTables) {
  const std::string head = "[experiment]\nname = \"d\"\n";
  EXPECT_ERROR(error_of(head + "[runs]\nmodel = \"resnet18\"\n"), "exp.toml:3:1",
               "runs must be an array of tables, got a table", "[[runs]]");
  EXPECT_ERROR(error_of(head + "[[runs]]\nseed = 1\n"), "exp.toml:3:1", "missing required key 'runs[0].model'",
               "add model = \"resnet18\" under [[runs]]");
  EXPECT_ERROR(error_of(head + "[[runs]]\nmodel = \"resnet19\"\n"), "exp.toml:4:9",
               "unknown model \"resnet19\" in runs[0].model", "did you mean \"resnet18\"?");
  EXPECT_ERROR(error_of(head + "[[runs]]\nmodel = \"vgg16\"\nlr = 0.1\n"), "exp.toml:5:1", "unknown key 'runs[0].lr'",
               "did you mean 'runs[0].train.lr'? (move it under [runs.train])");
  EXPECT_ERROR(error_of(head + "[[runs]]\nmodel = \"vgg16\"\n[runs.train]\nlearning_rate = 0.1\n"), "exp.toml:6:1",
               "unknown key 'runs[0].train.learning_rate'", "did you mean 'runs[0].train.lr'?");
  EXPECT_ERROR(error_of(head + "[[runs]]\nmodel = \"vgg16\"\n[runs.train]\nepochs = 0\n"), "exp.toml:6:10",
               "runs[0].train.epochs must be an integer >= 1, got 0");
  EXPECT_ERROR(error_of(head + "[[runs]]\nmodel = \"vgg16\"\nseed = -1\n"), "exp.toml:5:8",
               "runs[0].seed must be an integer >= 0, got -1");
}

TEST(ConfigErrors, BatchSmallerThanWorldSize) {
  const Experiment e = parse_experiment_text(with_train("batch_size = 1\n"), "exp.toml", options_with_models());
  try {
    validate_for_world(e, 2);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_ERROR(error.what(), "exp.toml:6:14", "train.batch_size (1) is smaller than the world size (2)",
                 "use a global batch of at least 2");
  }
}

TEST(ConfigErrors, BatchSmallerThanWorldSizeInOneRun) {
  const Experiment e = parse_experiment_text(
      "[experiment]\nname = \"d\"\n[[runs]]\nmodel = \"vgg16\"\n[[runs]]\nmodel = \"resnet18\"\n[runs.train]\n"
      "batch_size = 2\n",
      "exp.toml", options_with_models());
  EXPECT_NO_THROW(validate_for_world(e, 2));
  try {
    validate_for_world(e, 3);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_ERROR(error.what(), "exp.toml:8:14", "runs[1].train.batch_size (2) is smaller than the world size (3)",
                 "use a global batch of at least 3");
  }
}

TEST(ConfigErrors, DefaultBatchSmallerThanWorldSize) {
  const Experiment e = parse_experiment_text(kMinimal + "[train]\nepochs = 1\n", "exp.toml", options_with_models());
  try {
    validate_for_world(e, 256);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_ERROR(error.what(), "exp.toml:5:1",
                 "train.batch_size (128, the default) is smaller than the world size (256)",
                 "add batch_size = 256 under [train]");
  }
}

TEST(ConfigErrors, UnreadableFile) {
  try {
    parse_experiment("/nonexistent/ftbench/exp.toml");
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "/nonexistent/ftbench/exp.toml: cannot read (No such file or directory); check the path");
  }
}

TEST(ConfigErrors, DirectoryIsUnreadable) {
  const std::string dir = ::testing::TempDir();
  try {
    parse_experiment(dir);
    FAIL() << "expected an InputError";
  } catch (const InputError& error) {
    EXPECT_ERROR(error.what(), dir, "cannot read (Is a directory)", "check the path");
  }
}

TEST(ConfigErrors, ExitCodeIsBadInput) {
  try {
    parse_experiment_text("", "exp.toml");
    FAIL() << "expected an InputError";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::kBadInput);
  }
}

}  // namespace
}  // namespace ftbench::config::testing
