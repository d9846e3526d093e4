// results::format_report and format_epochs over in-memory records (no HDF5 involved).
#include <gtest/gtest.h>

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

  const auto csv = lines(format_epochs(files(), "r1", Format::kCsv));
  ASSERT_EQ(csv.size(), 4u);
  EXPECT_EQ(csv[0], "experiment,run,epoch,train_loss,train_acc,test_loss,test_acc,lr,seconds,img_per_s");
  EXPECT_EQ(csv[1], "exp-a,r1,1,2.0,0.6,2.5,0.5,0.01,10.0,1001.0");

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
