// results::Store and results::read_results against real HDF5 files in a temporary directory.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "results/h5/file.h"
#include "results/reader.h"
#include "results/store.h"
#include "runner/base/error.h"
#include "tests/results/records.h"

namespace ftbench::results {
namespace {

namespace fs = std::filesystem;
using testing::epoch_row;
using testing::experiment;
using testing::run;
using testing::TempDir;

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expect_same(const RunInfo& a, const RunInfo& b) {
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.world_size, b.world_size);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.torch_version, b.torch_version);
  EXPECT_EQ(a.nccl_version, b.nccl_version);
  EXPECT_EQ(a.mpi_version, b.mpi_version);
  EXPECT_EQ(a.hdf5_version, b.hdf5_version);
  EXPECT_EQ(a.weights_file, b.weights_file);
  EXPECT_EQ(a.weights_sha256, b.weights_sha256);
  EXPECT_EQ(a.weights_load, b.weights_load);
  EXPECT_EQ(a.params_total, b.params_total);
  EXPECT_EQ(a.params_trainable, b.params_trainable);
  EXPECT_EQ(a.input_size, b.input_size);
  EXPECT_EQ(a.global_batch, b.global_batch);
  EXPECT_EQ(a.config_toml, b.config_toml);
  EXPECT_EQ(a.ftbench_version, b.ftbench_version);
  EXPECT_EQ(a.git_commit, b.git_commit);
  EXPECT_EQ(a.hostnames, b.hostnames);
  EXPECT_EQ(a.start_time, b.start_time);
  EXPECT_EQ(a.end_time, b.end_time);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error, b.error);
}

void expect_same(const EpochRow& a, const EpochRow& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.train_acc, b.train_acc);
  EXPECT_EQ(a.test_loss, b.test_loss);
  EXPECT_EQ(a.test_acc, b.test_acc);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.epoch_seconds, b.epoch_seconds);
  EXPECT_EQ(a.images_per_second, b.images_per_second);
  EXPECT_EQ(a.test_acc5, b.test_acc5);
  EXPECT_EQ(a.data_seconds, b.data_seconds);
  EXPECT_EQ(a.compute_seconds, b.compute_seconds);
  EXPECT_EQ(a.comm_seconds, b.comm_seconds);
  EXPECT_EQ(a.peak_memory_bytes, b.peak_memory_bytes);
  EXPECT_EQ(a.comm_bytes, b.comm_bytes);
  EXPECT_EQ(a.trainable_params, b.trainable_params);
  EXPECT_EQ(a.confusion, b.confusion);
}

// Writes run k with `epochs` rows; finished with `status` unless it is kRunning.
RunInfo write_run(Store& store, const std::string& run_id, int k, int epochs, RunStatus status) {
  RunInfo info = run(run_id, k);
  store.begin_run(info);
  for (int e = 1; e <= epochs; ++e) store.append_epoch(run_id, epoch_row(e, k));
  if (status != RunStatus::kRunning) {
    info.status = status;
    info.end_time = "2026-05-01T13:00:00Z";
    info.error = status == RunStatus::kFailed ? "loss is NaN at epoch 2" : "";
    store.finish_run(run_id, status, info.end_time, info.error);
  }
  return info;
}

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

TEST(Store, RoundTripTwoRunsThreeEpochs) {
  TempDir dir;
  const std::string path = dir.file("sub/dir/exp.h5");  // parent directories are created
  const ExperimentInfo exp = experiment("roundtrip");
  std::vector<RunInfo> written;
  {
    Store store = Store::open(path, exp);
    EXPECT_EQ(store.path(), path);
    written.push_back(write_run(store, "resnet18-full-s7", 0, 3, RunStatus::kCompleted));
    written.push_back(write_run(store, "vgg16-linear_probe-s8", 1, 3, RunStatus::kFailed));
  }
  const FileRecord record = read_results(path);
  EXPECT_EQ(record.path, path);
  EXPECT_EQ(record.schema_version, kSchemaVersion);
  EXPECT_EQ(record.info.experiment, exp.experiment);
  EXPECT_EQ(record.info.config_toml, exp.config_toml);
  EXPECT_EQ(record.info.created, exp.created);
  EXPECT_EQ(record.info.class_names, exp.class_names);
  ASSERT_EQ(record.runs.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    expect_same(record.runs[k].info, written[k]);
    ASSERT_EQ(record.runs[k].epochs.size(), 3u);
    for (int e = 0; e < 3; ++e) expect_same(record.runs[k].epochs[e], epoch_row(e + 1, k));
  }
  // h5py_roundtrip.py checks the same file from Python.
  if (const char* out = std::getenv("FTBENCH_H5_OUT"))
    fs::copy_file(path, out, fs::copy_options::overwrite_existing);
}

TEST(Store, CreatedDefaultsToNowInUtcAndClassNamesMayBeEmpty) {
  TempDir dir;
  ExperimentInfo exp = experiment("created");
  exp.created.clear();
  exp.class_names.clear();
  Store::open(dir.file("a.h5"), exp);
  const FileRecord record = read_results(dir.file("a.h5"));
  EXPECT_TRUE(record.info.class_names.empty());
  const std::string created = record.info.created;
  ASSERT_EQ(created.size(), 20u) << created;  // 2026-05-01T12:00:00Z
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created.back(), 'Z');
}

TEST(Store, AppendsAfterReopen) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    Store store = Store::open(path, experiment("exp"));
    store.begin_run(run("r", 0));
    store.append_epoch("r", epoch_row(1, 0));
    store.append_epoch("r", epoch_row(2, 0));
  }
  Store store = Store::open(path, experiment("exp"));
  EXPECT_EQ(store.status("r"), RunStatus::kRunning);
  store.append_epoch("r", epoch_row(3, 0));
  const FileRecord record = read_results(path);
  ASSERT_EQ(record.runs.size(), 1u);
  ASSERT_EQ(record.runs[0].epochs.size(), 3u);
  for (int e = 0; e < 3; ++e) expect_same(record.runs[0].epochs[e], epoch_row(e + 1, 0));
}

TEST(Store, AppendRejectsOutOfOrderEpochsAndUnknownRuns) {
  TempDir dir;
  Store store = Store::open(dir.file("a.h5"), experiment("exp"));
  store.begin_run(run("r", 0));
  EXPECT_THROW(store.append_epoch("r", epoch_row(2, 0)), RuntimeError);
  store.append_epoch("r", epoch_row(1, 0));
  EXPECT_THROW(store.append_epoch("r", epoch_row(1, 0)), RuntimeError);
  EXPECT_THROW(store.append_epoch("nope", epoch_row(1, 0)), RuntimeError);
  EXPECT_THROW(store.finish_run("nope", RunStatus::kCompleted, "t"), RuntimeError);
  EXPECT_THROW(store.finish_run("r", RunStatus::kRunning, "t"), RuntimeError);
  EXPECT_THROW(store.begin_run(run("a/b", 0)), RuntimeError);
  EXPECT_EQ(read_results(dir.file("a.h5")).runs.at(0).epochs.size(), 1u);
}

TEST(Store, RefusesAnotherExperimentsFileAndLeavesItUntouched) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    Store store = Store::open(path, experiment("other"));
    write_run(store, "r", 0, 2, RunStatus::kCompleted);
  }
  const std::string before = bytes_of(path);
  const std::string message = message_of<InputError>([&] { Store::open(path, experiment("mine")); });
  EXPECT_EQ(message, path + " belongs to experiment 'other' (root attribute 'experiment'); choose another --output "
                            "or [experiment] output, or delete the file");
  EXPECT_EQ(bytes_of(path), before);
}

TEST(Store, RefusesAFileThatIsNotHdf5) {
  TempDir dir;
  const std::string path = dir.file("notes.h5");
  std::ofstream(path) << "not hdf5\n";
  const std::string message = message_of<InputError>([&] { Store::open(path, experiment("exp")); });
  EXPECT_NE(message.find(path + " exists and is not an HDF5 file"), std::string::npos) << message;
  EXPECT_NE(message.find("delete the file"), std::string::npos) << message;
  EXPECT_EQ(bytes_of(path), "not hdf5\n");
  EXPECT_THROW(read_results(path), InputError);
  EXPECT_THROW(Store::open(dir.file(""), experiment("exp")), InputError);  // a directory
}

TEST(Store, RefusesAnHdf5FileThatIsNotAnFtbenchFile) {
  TempDir dir;
  const std::string path = dir.file("foreign.h5");
  {
    h5::File file = h5::File::create(path);
    file.root().set_attribute("experiment", std::string("exp"));  // but no schema_version, no /runs
  }
  const std::string before = bytes_of(path);
  const std::string message = message_of<InputError>([&] { Store::open(path, experiment("exp")); });
  EXPECT_NE(message.find(path + " is not an ftbench results file (no root attribute 'schema_version')"),
            std::string::npos)
      << message;
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_THROW(read_results(path), InputError);
}

TEST(Store, RefusesAnotherSchemaVersion) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store::open(path, experiment("exp"));
  {
    h5::File file = h5::File::open(path, h5::Access::kReadWrite, std::chrono::seconds(0));
    file.root().set_attribute("schema_version", int64_t{2});
  }
  EXPECT_THROW(Store::open(path, experiment("exp")), InputError);
  const std::string message = message_of<InputError>([&] { read_results(path); });
  EXPECT_NE(message.find("schema version 2"), std::string::npos) << message;
}

TEST(Store, ReplacesAnIncompleteRun) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    Store store = Store::open(path, experiment("exp"));
    write_run(store, "crashed", 0, 2, RunStatus::kRunning);  // as if the trainer was killed
    write_run(store, "failed", 1, 1, RunStatus::kFailed);
    write_run(store, "done", 0, 1, RunStatus::kCompleted);
  }
  Store store = Store::open(path, experiment("exp"));
  EXPECT_EQ(store.status("crashed"), RunStatus::kRunning);
  EXPECT_EQ(store.status("failed"), RunStatus::kFailed);
  store.begin_run(run("crashed", 1));
  store.begin_run(run("failed", 0));
  store.append_epoch("crashed", epoch_row(1, 1));  // restarts from epoch 1

  const FileRecord record = read_results(path);
  ASSERT_EQ(record.runs.size(), 3u);
  EXPECT_EQ(record.runs[0].info.run_id, "done");  // replaced runs move to the end of creation order
  const RunRecord& crashed = record.runs[1];
  EXPECT_EQ(crashed.info.run_id, "crashed");
  EXPECT_EQ(crashed.info.model, "vgg16");  // the new attributes
  EXPECT_EQ(crashed.info.status, RunStatus::kRunning);
  ASSERT_EQ(crashed.epochs.size(), 1u);
  expect_same(crashed.epochs[0], epoch_row(1, 1));
  EXPECT_EQ(record.runs[2].info.run_id, "failed");
  EXPECT_EQ(record.runs[2].info.error, "");
  EXPECT_TRUE(record.runs[2].epochs.empty());
}

TEST(Store, ResumeCutsTheRowsBackToTheCheckpointAndCountsResumes) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store store = Store::open(path, experiment("exp"));
  const RunInfo info = write_run(store, "r", 0, 3, RunStatus::kRunning);  // killed after writing epoch 3
  EXPECT_EQ(store.run_config("r"), info.config_toml);
  EXPECT_EQ(store.run_config("absent"), "");
  store.resume_run("r", 2);  // its checkpoint holds epoch 2: epoch 3 is trained again
  EXPECT_EQ(store.status("r"), RunStatus::kRunning);
  store.append_epoch("r", epoch_row(3, 1));
  store.finish_run("r", RunStatus::kInterrupted, "2026-05-01T13:00:00Z", "stopped by SIGTERM");
  store.resume_run("r", 3);
  store.append_epoch("r", epoch_row(4, 1));
  store.finish_run("r", RunStatus::kCompleted, "2026-05-01T14:00:00Z");

  const RunRecord record = read_results(path).runs.at(0);
  EXPECT_EQ(record.info.resumes, 2);
  EXPECT_EQ(record.info.error, "");
  EXPECT_EQ(record.info.status, RunStatus::kCompleted);
  ASSERT_EQ(record.epochs.size(), 4u);
  for (int e = 0; e < 4; ++e) EXPECT_EQ(record.epochs[static_cast<std::size_t>(e)].epoch, e + 1);
  expect_same(record.epochs[2], epoch_row(3, 1));  // the re-trained epoch 3, not the killed job's
  expect_same(record.epochs[1], epoch_row(2, 0));
  // A checkpoint ahead of the file cannot be resumed; a completed run neither.
  EXPECT_THROW(store.resume_run("r", 9), RuntimeError);
}

TEST(Store, ResumingMoreEpochsThanWrittenOrACompletedRunIsRefused) {
  TempDir dir;
  Store store = Store::open(dir.file("a.h5"), experiment("exp"));
  write_run(store, "short", 0, 1, RunStatus::kFailed);
  write_run(store, "done", 0, 2, RunStatus::kCompleted);
  const std::string ahead = message_of<RuntimeError>([&] { store.resume_run("short", 2); });
  EXPECT_NE(ahead.find("--restart"), std::string::npos) << ahead;
  EXPECT_THROW(store.resume_run("done", 2), RuntimeError);
}

TEST(Store, DiscardRemovesARunCompletedOrNot) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store store = Store::open(path, experiment("exp"));
  write_run(store, "done", 0, 2, RunStatus::kCompleted);
  write_run(store, "other", 1, 1, RunStatus::kCompleted);
  store.discard_run("done");
  store.discard_run("never-there");
  EXPECT_EQ(store.status("done"), RunStatus::kAbsent);
  ASSERT_EQ(read_results(path).runs.size(), 1u);
  EXPECT_EQ(read_results(path).runs[0].info.run_id, "other");
}

TEST(Store, RunGroupCutShortWhileCreatedIsIncomplete) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store::open(path, experiment("exp"));
  {  // what a writer killed inside begin_run leaves: a group without status or datasets
    h5::File file = h5::File::open(path, h5::Access::kReadWrite, std::chrono::seconds(0));
    file.root().open_group("runs").create_group("partial").set_attribute("model", std::string("resnet18"));
  }
  EXPECT_TRUE(read_results(path).runs.empty());
  Store store = Store::open(path, experiment("exp"));
  EXPECT_EQ(store.status("partial"), RunStatus::kRunning);
  write_run(store, "partial", 0, 1, RunStatus::kCompleted);
  EXPECT_EQ(read_results(path).runs.at(0).epochs.size(), 1u);
}

TEST(Store, CompletedRunIsKeptAndCannotBeBegunAgain) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store store = Store::open(path, experiment("exp"));
  EXPECT_EQ(store.status("r"), RunStatus::kAbsent);
  write_run(store, "r", 0, 2, RunStatus::kCompleted);
  EXPECT_EQ(store.status("r"), RunStatus::kCompleted);
  EXPECT_THROW(store.begin_run(run("r", 0)), RuntimeError);
  EXPECT_THROW(store.append_epoch("r", epoch_row(3, 0)), RuntimeError);
  const FileRecord record = read_results(path);
  EXPECT_EQ(record.runs.at(0).info.status, RunStatus::kCompleted);
  EXPECT_EQ(record.runs.at(0).info.end_time, "2026-05-01T13:00:00Z");
  EXPECT_EQ(record.runs.at(0).epochs.size(), 2u);
}

TEST(Store, HdfFailureIsOneLineWithPathAndCause) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    Store store = Store::open(path, experiment("exp"));
    write_run(store, "r", 0, 1, RunStatus::kCompleted);
  }
  // Keep the signature, lose the rest: HDF5 recognises the file but cannot open it. The user's file is
  // damaged, so it is bad input (exit 2), like tests/bad_inputs' results_truncated_file.
  const std::string truncated = dir.file("truncated.h5");
  std::ofstream(truncated, std::ios::binary) << bytes_of(path).substr(0, 200);
  const std::string message = message_of<InputError>([&] { read_results(truncated); });
  EXPECT_EQ(message.rfind(truncated + ": ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_GT(message.size(), truncated.size() + 30) << message;  // carries HDF5's description
}

TEST(Store, InterruptedRunIsKeptWithItsMessageAndRestartsLater) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  {
    Store store = Store::open(path, experiment("exp"));
    store.begin_run(run("r", 0));
    store.append_epoch("r", epoch_row(1, 0));
    store.finish_run("r", RunStatus::kInterrupted, "2026-05-01T13:00:00Z", "stopped by SIGTERM after epoch 1");
    EXPECT_EQ(store.status("r"), RunStatus::kInterrupted);
  }
  const FileRecord record = read_results(path);
  EXPECT_EQ(record.runs.at(0).info.status, RunStatus::kInterrupted);
  EXPECT_EQ(record.runs.at(0).info.error, "stopped by SIGTERM after epoch 1");
  EXPECT_EQ(record.runs.at(0).epochs.size(), 1u);
  Store store = Store::open(path, experiment("exp"));
  store.begin_run(run("r", 0));  // incomplete: replaced
  EXPECT_EQ(store.status("r"), RunStatus::kRunning);
  EXPECT_TRUE(read_results(path).runs.at(0).epochs.empty());
}

TEST(Store, SecondWriterOfTheSameFileIsRefusedWhileTheFirstIsOpen) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  std::optional<Store> first(Store::open(path, experiment("exp")));
  first->begin_run(run("r", 0));
  const std::string before = bytes_of(path);
  const std::string message = message_of<InputError>([&] { Store::open(path, experiment("exp")); });
  EXPECT_NE(message.find(path + " is being written by another ftbench process (" + std::to_string(getpid()) + "@"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(dir.file(".a.h5.lock")), std::string::npos) << message;
  EXPECT_EQ(bytes_of(path), before);
  first.reset();  // the lock goes with the store
  Store second = Store::open(path, experiment("exp"));
  second.append_epoch("r", epoch_row(1, 0));
}

TEST(Store, ReaderHoldingTheFileOpenNeitherBlocksTheWriterNorSeesAPartialChange) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store store = Store::open(path, experiment("exp"));
  store.begin_run(run("r", 0));
  store.append_epoch("r", epoch_row(1, 0));
  // An h5py session that keeps the file open holds HDF5's lock on it the whole time.
  const h5::File reader = h5::File::open(path, h5::Access::kReadOnly, std::chrono::seconds(0));
  const auto start = std::chrono::steady_clock::now();
  store.append_epoch("r", epoch_row(2, 0));
  store.finish_run("r", RunStatus::kCompleted, "2026-05-01T13:00:00Z");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // no waiting for the lock
  // The open reader keeps its snapshot, whole: one row in every dataset, status still running.
  const h5::Group held = reader.root().open_group("runs").open_group("r");
  for (const char* name : {"epoch", "test_acc", "test_acc5", "peak_memory_bytes", "confusion"})
    EXPECT_EQ(held.open_dataset(name).rows(), 1u) << name;
  EXPECT_EQ(held.string_attribute("status"), "running");
  // A new open sees the new file.
  const FileRecord now = read_results(path);
  EXPECT_EQ(now.runs.at(0).epochs.size(), 2u);
  EXPECT_EQ(now.runs.at(0).info.status, RunStatus::kCompleted);
}

TEST(Store, EveryChangeReplacesTheFileAndAFailedChangeLeavesItAsItWas) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  Store store = Store::open(path, experiment("exp"));
  store.begin_run(run("r", 0));
  struct stat before_stat {};
  ASSERT_EQ(::stat(path.c_str(), &before_stat), 0);
  store.append_epoch("r", epoch_row(1, 0));
  struct stat after_stat {};
  ASSERT_EQ(::stat(path.c_str(), &after_stat), 0);
  EXPECT_NE(before_stat.st_ino, after_stat.st_ino);  // a new file took the name, by rename
  EXPECT_FALSE(fs::exists(dir.file(".a.h5.tmp")));
  EXPECT_TRUE(fs::exists(dir.file(".a.h5.lock")));

  const std::string before = bytes_of(path);
  EXPECT_THROW(store.append_epoch("r", epoch_row(3, 0)), RuntimeError);  // fails inside the change
  EXPECT_EQ(bytes_of(path), before);
  EXPECT_FALSE(fs::exists(dir.file(".a.h5.tmp")));

  // A copy left behind by a writer killed mid-change is simply replaced.
  std::ofstream(dir.file(".a.h5.tmp")) << "half a file";
  store.append_epoch("r", epoch_row(2, 0));
  EXPECT_EQ(read_results(path).runs.at(0).epochs.size(), 2u);
  EXPECT_FALSE(fs::exists(dir.file(".a.h5.tmp")));
}

TEST(Store, ALinkToTheFileStaysALink) {
  TempDir dir;
  fs::create_directories(dir.file("real"));
  const std::string real = dir.file("real/a.h5");
  const std::string link = dir.file("link.h5");
  Store::open(real, experiment("exp"));
  fs::create_symlink(real, link);
  Store store = Store::open(link, experiment("exp"));
  store.begin_run(run("r", 0));
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(read_results(real).runs.size(), 1u);
}

TEST(Reader, RunWrittenBeforeTheLaterColumnsReadsWithBlanks) {
  // A run as the first schema-v1 writer left it: no devices or version attributes, no test_acc5, timing,
  // memory, communication or trainable_params series. It is read, not refused.
  TempDir dir;
  const std::string path = dir.file("old.h5");
  Store::open(path, experiment("exp"));
  {
    h5::File file = h5::File::open(path, h5::Access::kReadWrite, std::chrono::seconds(0));
    h5::Group old = file.root().open_group("runs").create_group("old-s0");
    const RunInfo info = run("old-s0", 0);
    for (const char* key : {"run_id", "model", "strategy", "weights", "weights_file", "weights_sha256", "weights_load",
                            "backend", "device", "config_toml", "ftbench_version", "git_commit", "hostnames",
                            "start_time", "end_time", "error"})
      old.set_attribute(key, std::string(key) == "model" ? info.model : std::string("x"));
    for (const char* key : {"seed", "world_size", "params_total", "params_trainable", "input_size", "global_batch"})
      old.set_attribute(key, int64_t{3});
    const EpochRow row = epoch_row(1, 0);
    const std::pair<const char*, double> series[] = {
        {"train_loss", row.train_loss}, {"train_acc", row.train_acc}, {"test_loss", row.test_loss},
        {"test_acc", row.test_acc}, {"lr", row.lr}, {"epoch_seconds", row.epoch_seconds},
        {"images_per_second", row.images_per_second}};
    for (const auto& [name, value] : series) {
      h5::Dataset d = old.create_dataset(name, h5::Element::kFloat64, {}, 16);
      d.resize_rows(1);
      d.write_row(0, &value, 1);
    }
    std::array<double, 10> per_class{};
    h5::Dataset pc = old.create_dataset("per_class_acc", h5::Element::kFloat64, {10}, 16);
    pc.resize_rows(1);
    pc.write_row(0, per_class.data(), per_class.size());
    std::array<int64_t, 100> confusion{};
    confusion[0] = 5;
    h5::Dataset cm = old.create_dataset("confusion", h5::Element::kInt64, {10, 10}, 16);
    cm.resize_rows(1);
    cm.write_row(0, confusion.data(), confusion.size());
    h5::Dataset ep = old.create_dataset("epoch", h5::Element::kInt64, {}, 16);
    ep.resize_rows(1);
    const int64_t one = 1;
    ep.write_row(0, &one, 1);
    old.set_attribute("status", std::string("completed"));
  }
  const FileRecord record = read_results(path);
  ASSERT_EQ(record.runs.size(), 1u);
  const RunRecord& old = record.runs[0];
  EXPECT_EQ(old.info.model, "resnet18");
  EXPECT_EQ(old.info.devices, "");
  EXPECT_EQ(old.info.hdf5_version, "");
  ASSERT_EQ(old.epochs.size(), 1u);
  EXPECT_EQ(old.epochs[0].test_acc, epoch_row(1, 0).test_acc);
  EXPECT_TRUE(std::isnan(old.epochs[0].test_acc5));
  EXPECT_TRUE(std::isnan(old.epochs[0].comm_seconds));
  EXPECT_EQ(old.epochs[0].peak_memory_bytes, 0);
  EXPECT_EQ(old.epochs[0].confusion[0][0], 5);
}

TEST(Reader, MissingFileIsInputError) {
  TempDir dir;
  const std::string message = message_of<InputError>([&] { read_results(dir.file("missing.h5")); });
  EXPECT_NE(message.find("missing.h5: no such file"), std::string::npos) << message;
}

TEST(Reader, ExpandInputsListsH5FilesSorted) {
  TempDir dir;
  fs::create_directories(dir.file("d"));
  for (const char* name : {"d/b.h5", "d/a.h5", "d/notes.txt", "x.h5"}) std::ofstream(dir.file(name)) << "x";
  const auto files = expand_inputs({dir.file("d"), dir.file("x.h5")});
  EXPECT_EQ(files, (std::vector<std::string>{dir.file("d/a.h5"), dir.file("d/b.h5"), dir.file("x.h5")}));
  EXPECT_THROW(expand_inputs({dir.file("missing")}), InputError);
  fs::create_directories(dir.file("empty"));
  EXPECT_THROW(expand_inputs({dir.file("empty")}), InputError);
}

}  // namespace
}  // namespace ftbench::results
