// results::format_report and format_epochs over in-memory records (no HDF5 involved).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "results/report.h"
#include "runner/base/error.h"
#include "tests/results/records.h"

namespace ftbench::results {
namespace {

using nlohmann::json;
using testing::epoch_row;
using testing::experiment;
using testing::run;

RunRecord record(const std::string& run_id, int k, int epochs, RunStatus status) {
  RunRecord r{run(run_id, k), {}};
  r.info.status = status;
  for (int e = 1; e <= epochs; ++e) r.epochs.push_back(epoch_row(e, k));
  return r;
}

// a.h5: r1 (best 70% at epoch 3), r2 (best 72%), r_empty (no epochs yet).
// b.h5: r3, best 95% at epoch 2 of 3, final 93%; its experiment name holds a comma, to exercise CSV quoting.
std::vector<FileRecord> files() {
  FileRecord a{"results/a.h5", kSchemaVersion, experiment("exp-a"), {}};
  a.runs.push_back(record("r1", 0, 3, RunStatus::kCompleted));
  a.runs.push_back(record("r2", 1, 3, RunStatus::kFailed));
  a.runs.push_back(record("r_empty", 0, 0, RunStatus::kRunning));
  FileRecord b{"results/b.h5", kSchemaVersion, experiment("exp,b"), {}};
  RunRecord r3 = record("r3", 0, 3, RunStatus::kCompleted);
  r3.info.params_trainable = 5130;
  r3.epochs[0].test_acc = 0.9;
  r3.epochs[1].test_acc = 0.95;
  r3.epochs[2].test_acc = 0.93;
  b.runs.push_back(r3);
  return {a, b};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Report, JsonHasStableKeysAndValuesBestFirst) {
  // ordered_json keeps the keys in the order written, so the key order is checked too.
  const auto rows = nlohmann::ordered_json::parse(format_report(files(), Format::kJson));
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::string> keys = {"experiment", "run",          "model",      "strategy",     "seed",
                                         "params",     "status",       "epochs",     "best_test_acc", "best_epoch",
                                         "final_test_acc", "train_time_s", "img_per_s", "file"};
  for (const auto& row : rows) {
    std::vector<std::string> found;
    for (const auto& item : row.items()) found.push_back(item.key());
    EXPECT_EQ(found, keys);
  }
  EXPECT_EQ(rows[0]["run"], "r3");
  EXPECT_EQ(rows[1]["run"], "r2");
  EXPECT_EQ(rows[2]["run"], "r1");
  EXPECT_EQ(rows[3]["run"], "r_empty");

  const auto& r3 = rows[0];
  EXPECT_EQ(r3["experiment"], "exp,b");
  EXPECT_EQ(r3["model"], "resnet18");
  EXPECT_EQ(r3["strategy"], "full");
  EXPECT_EQ(r3["seed"], 7);
  EXPECT_EQ(r3["params"], 5130);
  EXPECT_EQ(r3["status"], "completed");
  EXPECT_EQ(r3["epochs"], 3);
  EXPECT_DOUBLE_EQ(r3["best_test_acc"].get<double>(), 0.95);
  EXPECT_EQ(r3["best_epoch"], 2);
  EXPECT_DOUBLE_EQ(r3["final_test_acc"].get<double>(), 0.93);
  EXPECT_DOUBLE_EQ(r3["train_time_s"].get<double>(), 10 + 20 + 30);
  EXPECT_DOUBLE_EQ(r3["img_per_s"].get<double>(), 1002.0);
  EXPECT_EQ(r3["file"], "results/b.h5");

  EXPECT_EQ(rows[1]["params"], 11180642);
  EXPECT_EQ(rows[1]["status"], "failed");
  const auto& empty = rows[3];
  EXPECT_EQ(empty["epochs"], 0);
  EXPECT_TRUE(empty["best_test_acc"].is_null());
  EXPECT_TRUE(empty["best_epoch"].is_null());
  EXPECT_TRUE(empty["final_test_acc"].is_null());
  EXPECT_TRUE(empty["img_per_s"].is_null());
  EXPECT_EQ(empty["train_time_s"], 0.0);
}

TEST(Report, MarkdownIsAFixedWidthTableBestFirst) {
  const auto table = lines(format_report(files(), Format::kMarkdown));
  ASSERT_EQ(table.size(), 6u);  // header, separator, 4 runs
  for (const auto& line : table) {
    EXPECT_EQ(line.size(), table[0].size()) << line;
    EXPECT_EQ(line.front(), '|');
    EXPECT_EQ(line.back(), '|');
  }
  EXPECT_NE(table[0].find("| experiment |"), std::string::npos) << table[0];
  EXPECT_NE(table[0].find("best_test_acc"), std::string::npos);
  EXPECT_EQ(table[1].find_first_not_of("|-: "), std::string::npos) << table[1];
  EXPECT_NE(table[2].find("| r3 "), std::string::npos) << table[2];
  EXPECT_NE(table[2].find("5.13K"), std::string::npos) << table[2];
  EXPECT_NE(table[2].find("95.00%"), std::string::npos) << table[2];
  EXPECT_NE(table[2].find("93.00%"), std::string::npos) << table[2];
  EXPECT_NE(table[2].find("60.0"), std::string::npos) << table[2];
  EXPECT_NE(table[3].find("| r2 "), std::string::npos) << table[3];
  EXPECT_NE(table[3].find("11.18M"), std::string::npos) << table[3];
  EXPECT_NE(table[3].find("72.00%"), std::string::npos) << table[3];
  EXPECT_NE(table[4].find("| r1 "), std::string::npos) << table[4];
  EXPECT_NE(table[5].find("| r_empty "), std::string::npos) << table[5];
  EXPECT_EQ(table[0].find("file"), std::string::npos);  // paths would make it too wide
}

TEST(Report, CsvHasHeaderQuotingAndFractions) {
  const auto csv = lines(format_report(files(), Format::kCsv));
  ASSERT_EQ(csv.size(), 5u);
  EXPECT_EQ(csv[0],
            "experiment,run,model,strategy,seed,params,status,epochs,best_test_acc,best_epoch,final_test_acc,"
            "train_time_s,img_per_s,file");
  EXPECT_EQ(csv[1], "\"exp,b\",r3,resnet18,full,7,5130,completed,3,0.95,2,0.93,60.0,1002.0,results/b.h5");
  EXPECT_EQ(csv[4].rfind("exp-a,r_empty,resnet18,full,7,11181642,running,0,,,,0.0,,results/a.h5", 0), 0u) << csv[4];
}

TEST(Report, ParseFormat) {
  EXPECT_EQ(parse_format("md"), Format::kMarkdown);
  EXPECT_EQ(parse_format("markdown"), Format::kMarkdown);
  EXPECT_EQ(parse_format("csv"), Format::kCsv);
  EXPECT_EQ(parse_format("json"), Format::kJson);
  try {
    parse_format("xml");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("md, csv or json"), std::string::npos) << e.what();
  }
}

TEST(Epochs, ThreeFormats) {
  const auto md = lines(format_epochs(files(), "r1", Format::kMarkdown));
  ASSERT_EQ(md.size(), 7u);  // heading, blank, header, separator, 3 epochs
  EXPECT_EQ(md[0], "### exp-a / r1 (results/a.h5, completed)");
  EXPECT_NE(md[2].find("| epoch |"), std::string::npos) << md[2];
  EXPECT_NE(md[4].find(" 2.0000 |"), std::string::npos) << md[4];  // train_loss of epoch 1
  EXPECT_NE(md[4].find("50.00%"), std::string::npos) << md[4];      // test_acc of epoch 1
  EXPECT_NE(md[6].find(" 0.003333 |"), std::string::npos) << md[6];  // lr of epoch 3
  EXPECT_NE(md[4].find(" 91.00% |"), std::string::npos) << md[4];    // test_acc5 of epoch 1
  EXPECT_NE(md[4].find(" 1.00 GiB |"), std::string::npos) << md[4];  // peak memory
  EXPECT_NE(md[4].find(" 42.7 MiB |"), std::string::npos) << md[4];  // comm bytes

  const auto csv = lines(format_epochs(files(), "r1", Format::kCsv));
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0],
            "experiment,run,epoch,train_loss,train_acc,test_loss,test_acc,test_acc5,lr,seconds,data_seconds,"
            "compute_seconds,comm_seconds,img_per_s,peak_memory_bytes,comm_bytes,trainable_params");
  EXPECT_EQ(csv[1], "exp-a,r1,1,2.0,0.6,2.5,0.5,0.91,0.01,10.0,1.0,7.0,0.5,1001.0,1073742824,44727208,11181641");

  const json rows = json::parse(format_epochs(files(), "r1", Format::kJson));
  ASSERT_EQ(rows.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    EXPECT_EQ(rows[e]["epoch"], e + 1);
    EXPECT_DOUBLE_EQ(rows[e]["test_acc"].get<double>(), epoch_row(e + 1, 0).test_acc);
    EXPECT_DOUBLE_EQ(rows[e]["seconds"].get<double>(), epoch_row(e + 1, 0).epoch_seconds);
  }
}

TEST(Epochs, RunInSeveralFilesShowsEach) {
  auto records = files();
  records[1].runs.push_back(record("r1", 1, 2, RunStatus::kRunning));
  const std::string md = format_epochs(records, "r1", Format::kMarkdown);
  EXPECT_NE(md.find("### exp-a / r1 (results/a.h5, completed)"), std::string::npos) << md;
  EXPECT_NE(md.find("### exp,b / r1 (results/b.h5, running)"), std::string::npos) << md;
  EXPECT_EQ(json::parse(format_epochs(records, "r1", Format::kJson)).size(), 5u);
}

TEST(Epochs, UnknownRunListsTheRunIds) {
  try {
    format_epochs(files(), "r_emty", Format::kMarkdown);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "no run 'r_emty' in results/a.h5, results/b.h5 (did you mean 'r_empty'?); runs there: r1, r2, "
              "r_empty, r3");
  }
}

}  // namespace
}  // namespace ftbench::results

namespace ftbench::results {
namespace {

// A run of `model`-`strategy` (or `name`) with seed `seed` whose epochs have the given test accuracies;
// epoch e takes 10 * e seconds, 100 * e img/s and a peak of e MiB + seed bytes.
RunRecord seeded(const std::string& name, const std::string& model, const std::string& strategy,
                 const std::string& weights, int64_t seed, const std::vector<double>& test_acc) {
  RunRecord r{testing::run(name + "-s" + std::to_string(seed), 0), {}};
  r.info.model = model;
  r.info.strategy = strategy;
  r.info.weights = weights;
  r.info.seed = seed;
  r.info.params_total = 11181642;
  r.info.params_trainable = strategy == "linear_probe" ? 5130 : 11181642;
  r.info.status = RunStatus::kCompleted;
  for (std::size_t i = 0; i < test_acc.size(); ++i) {
    EpochRow e = testing::epoch_row(static_cast<int64_t>(i + 1), 0);
    e.test_acc = test_acc[i];
    e.test_loss = 1.0 - test_acc[i];
    e.epoch_seconds = 10.0 * static_cast<double>(i + 1);
    e.images_per_second = 100.0 * static_cast<double>(i + 1);
    e.peak_memory_bytes = (int64_t{1} << 20) * static_cast<int64_t>(i + 1) + seed;
    r.epochs.push_back(e);
  }
  return r;
}

// As a Slurm array leaves them: experiment "cmp" split over two files. resnet18-full has seeds 0 and 1 in
// a.h5 and seed 2 in b.h5; vgg16-linear_probe one seed; a [[runs]] variant of resnet18 (another name, same
// model, strategy and weights) one seed; a run that has not finished an epoch.
std::vector<FileRecord> seeded_files() {
  FileRecord a{"out/a.h5", kSchemaVersion, testing::experiment("cmp"), {}};
  a.runs.push_back(seeded("resnet18-full", "resnet18", "full", "torchvision", 0, {0.5, 0.8, 0.7}));
  a.runs.push_back(seeded("resnet18-full", "resnet18", "full", "torchvision", 1, {0.6, 0.7, 0.9}));
  a.runs.push_back(seeded("vgg16-linear_probe", "vgg16", "linear_probe", "torchvision", 0, {0.3, 0.4}));
  for (auto& e : a.runs.back().epochs) e.peak_memory_bytes = 0;  // as in files from before the column existed
  a.runs.push_back(seeded("resnet18-lr0.01", "resnet18", "full", "torchvision", 0, {0.95}));
  RunRecord empty = seeded("alexnet-full", "alexnet", "full", "none", 0, {});
  empty.info.status = RunStatus::kRunning;
  a.runs.push_back(empty);
  FileRecord b{"out/b.h5", kSchemaVersion, testing::experiment("cmp"), {}};
  b.runs.push_back(seeded("resnet18-full", "resnet18", "full", "torchvision", 2, {0.2, 0.3, 0.4}));
  return {a, b};
}

TEST(Comparison, OneRowPerConfigurationWithMeanStdAndNAcrossFiles) {
  const auto rows = nlohmann::ordered_json::parse(
      format_comparison(seeded_files(), Format::kJson, parse_metric("test_acc")));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["name"], "resnet18-lr0.01");  // 95%
  EXPECT_EQ(rows[1]["name"], "resnet18-full");    // mean of 80%, 90%, 40% = 70%
  EXPECT_EQ(rows[2]["name"], "vgg16-linear_probe");
  EXPECT_EQ(rows[3]["name"], "alexnet-full");     // no epochs: last

  const auto& r = rows[1];
  EXPECT_EQ(r["experiment"], "cmp");
  EXPECT_EQ(r["model"], "resnet18");
  EXPECT_EQ(r["strategy"], "full");
  EXPECT_EQ(r["weights"], "torchvision");
  EXPECT_EQ(r["metric"], "test_acc");
  EXPECT_EQ(r["n"], 3);
  EXPECT_EQ(r["runs"], 3);
  EXPECT_EQ(r["seeds"], nlohmann::ordered_json::array({0, 1, 2}));
  EXPECT_EQ(r["files"], nlohmann::ordered_json::array({"out/a.h5", "out/b.h5"}));
  EXPECT_EQ(r["status"], "3 completed");
  EXPECT_EQ(r["params"], 11181642);
  EXPECT_EQ(r["epochs"], 3);
  // best: 0.8 (epoch 2), 0.9 (epoch 3), 0.4 (epoch 3); final: 0.7, 0.9, 0.4.
  const double mean = (0.8 + 0.9 + 0.4) / 3;
  const double sd = std::sqrt(((0.8 - mean) * (0.8 - mean) + (0.9 - mean) * (0.9 - mean) +
                               (0.4 - mean) * (0.4 - mean)) / 2);
  EXPECT_NEAR(r["best"].get<double>(), mean, 1e-12);
  EXPECT_NEAR(r["best_std"].get<double>(), sd, 1e-12);
  EXPECT_NEAR(r["best_epoch"].get<double>(), 8.0 / 3, 1e-12);
  EXPECT_NEAR(r["final"].get<double>(), 2.0 / 3, 1e-12);
  // Time to best: 30 s, 60 s, 60 s (cumulative epoch_seconds); total 60 s each, so its std is 0.
  EXPECT_NEAR(r["time_to_best_s"].get<double>(), 50.0, 1e-12);
  EXPECT_NEAR(r["train_time_s"].get<double>(), 60.0, 1e-12);
  EXPECT_NEAR(r["train_time_s_std"].get<double>(), 0.0, 1e-12);
  EXPECT_NEAR(r["img_per_s"].get<double>(), 200.0, 1e-12);
  EXPECT_NEAR(r["peak_memory_bytes"].get<double>(), 3.0 * (1 << 20) + 1.0, 1e-6);  // (max of 3 MiB + seed) mean

  const auto& one = rows[0];  // a single run: no std
  EXPECT_EQ(one["n"], 1);
  EXPECT_DOUBLE_EQ(one["best"].get<double>(), 0.95);
  EXPECT_TRUE(one["best_std"].is_null());
  const auto& vgg = rows[2];  // peak memory 0 = not measured: null, not a mean of zeros
  EXPECT_TRUE(vgg["peak_memory_bytes"].is_null());
  const auto& none = rows[3];
  EXPECT_EQ(none["n"], 0);
  EXPECT_EQ(none["runs"], 1);
  EXPECT_EQ(none["status"], "1 running");
  EXPECT_TRUE(none["best"].is_null());
  EXPECT_TRUE(none["img_per_s"].is_null());
}

TEST(Comparison, JsonKeysAreStableAndCsvHasTheSameColumns) {
  const std::vector<std::string> keys = {
      "experiment", "name", "model", "strategy", "weights", "params", "params_trainable", "epochs", "metric", "n",
      "runs", "seeds", "status", "best", "best_std", "best_epoch", "best_epoch_std", "final", "final_std",
      "time_to_best_s", "time_to_best_s_std", "train_time_s", "train_time_s_std", "img_per_s", "img_per_s_std",
      "peak_memory_bytes", "peak_memory_bytes_std", "files"};
  const auto rows = nlohmann::ordered_json::parse(
      format_comparison(seeded_files(), Format::kJson, parse_metric("test_acc")));
  for (const auto& row : rows) {
    std::vector<std::string> found;
    for (const auto& item : row.items()) found.push_back(item.key());
    EXPECT_EQ(found, keys);
  }
  const auto csv = lines(format_comparison(seeded_files(), Format::kCsv, parse_metric("test_acc")));
  ASSERT_EQ(csv.size(), 5u);
  std::string header;
  for (const auto& k : keys) header += (header.empty() ? "" : ",") + k;
  EXPECT_EQ(csv[0], header);
  EXPECT_EQ(csv[2].rfind("cmp,resnet18-full,resnet18,full,torchvision,11181642,11181642,3,test_acc,3,3,0;1;2,"
                         "3 completed,",
                         0),
            0u)
      << csv[2];
  EXPECT_NE(csv[2].find(",out/a.h5;out/b.h5"), std::string::npos) << csv[2];
  EXPECT_NE(csv[4].find(",test_acc,0,1,0,1 running,,,"), std::string::npos) << csv[4];  // n 0, nulls empty
}

TEST(Comparison, MarkdownShowsMeanPlusMinusStdInAlignedColumns) {
  const auto table = lines(format_comparison(seeded_files(), Format::kMarkdown, parse_metric("test_acc")));
  ASSERT_EQ(table.size(), 6u);
  auto chars = [](const std::string& s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  };
  for (const auto& line : table) EXPECT_EQ(chars(line), chars(table[0])) << line;
  EXPECT_NE(table[0].find(" best test_acc |"), std::string::npos) << table[0];
  EXPECT_NE(table[0].find("peak memory"), std::string::npos) << table[0];
  EXPECT_NE(table[2].find("95.00%"), std::string::npos) << table[2];
  EXPECT_EQ(table[2].find("±"), std::string::npos) << table[2];  // one run: no spread
  EXPECT_NE(table[3].find("| resnet18-full "), std::string::npos) << table[3];
  EXPECT_NE(table[3].find("70.00% ± 26.46%"), std::string::npos) << table[3];
  EXPECT_NE(table[3].find("11.18M"), std::string::npos) << table[3];
  EXPECT_NE(table[3].find("3.0 MiB"), std::string::npos) << table[3];
  EXPECT_NE(table[4].find("5.13K"), std::string::npos) << table[4];  // vgg16 linear probe: trainable
  EXPECT_NE(table[5].find("| alexnet-full "), std::string::npos) << table[5];
}

TEST(Comparison, LossMetricRanksLowestFirst) {
  const auto rows = json::parse(format_comparison(seeded_files(), Format::kJson, parse_metric("test_loss")));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["name"], "resnet18-lr0.01");  // loss 0.05
  EXPECT_EQ(rows[1]["name"], "resnet18-full");    // best losses 0.2, 0.1, 0.6
  EXPECT_NEAR(rows[1]["best"].get<double>(), 0.3, 1e-12);
  EXPECT_EQ(rows[2]["name"], "vgg16-linear_probe");
  EXPECT_EQ(rows[0]["metric"], "test_loss");
}

TEST(Comparison, ParseMetric) {
  EXPECT_TRUE(parse_metric("test_acc5").higher_is_better);
  EXPECT_FALSE(parse_metric("train_loss").higher_is_better);
  try {
    parse_metric("test_accc");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown metric 'test_accc' (did you mean 'test_acc'?); expected test_acc, test_acc5, train_acc, "
              "test_loss or train_loss");
  }
}

}  // namespace
}  // namespace ftbench::results
