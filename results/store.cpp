#include "results/store.h"

#include <array>
#include <chrono>
#include <filesystem>
#include <optional>
#include <system_error>

#include "results/h5/error.h"
#include "results/h5/file.h"
#include "results/schema.h"
#include "runner/base/error.h"

namespace ftbench::results {
namespace fs = std::filesystem;

// The file is open only inside each call, never between calls. A run spends minutes between appends, and in
// that time readers (h5py, `ftbench report`) may open the file, and a killed trainer leaves it closed and
// consistent. The cost, a few milliseconds of open/close per epoch, is nothing next to an epoch.
struct Store::Impl {
  std::string path;
};

namespace {

// How long a call waits for a reader that holds the file's HDF5 lock (a report, an h5py session).
constexpr std::chrono::seconds kLockWait{30};
// 16 epochs per chunk: a 10x10 int64 confusion chunk is 12.8 KB, and most runs fit in one chunk.
constexpr uint64_t kChunkRows = 16;

std::string refuse_fix() { return "choose another --output or [experiment] output, or delete the file"; }

void check_existing(const std::string& path, const ExperimentInfo& info) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + " is a directory; --output must name an .h5 file");
  if (!h5::File::is_hdf5(path))
    throw InputError(path + " exists and is not an HDF5 file; " + refuse_fix());
  // Read-only: a refused file must stay byte-for-byte as it was.
  h5::File file = h5::File::open(path, h5::Access::kReadOnly, kLockWait);
  int64_t version = 0;
  const ExperimentInfo found = schema::read_root(file.root(), refuse_fix(), version);
  if (version != kSchemaVersion)
    throw InputError(path + " has results schema version " + std::to_string(version) + ", this ftbench writes " +
                     std::to_string(kSchemaVersion) + "; " + refuse_fix());
  if (found.experiment != info.experiment)
    throw InputError(path + " belongs to experiment '" + found.experiment + "' (root attribute 'experiment'); " +
                     refuse_fix());
}

void write_root(h5::File& file, const ExperimentInfo& info) {
  h5::Group root = file.root();
  root.set_attribute(schema::kSchemaVersion, int64_t{kSchemaVersion});
  root.set_attribute(schema::kExperiment, info.experiment);
  root.set_attribute(schema::kConfigToml, info.config_toml);
  root.set_attribute(schema::kCreated, info.created.empty() ? utc_now() : info.created);
  root.set_attribute(schema::kClassNames, info.class_names);
  root.create_group(schema::kRunsGroup, /*track_creation_order=*/true);
  file.flush();
}

void create(const std::string& path, const ExperimentInfo& info) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec)
    throw InputError("cannot create directory " + parent.string() + " for " + path + " (" + ec.message() +
                     "); choose another --output or [experiment] output");
  std::optional<h5::File> file(h5::File::create(path));
  try {
    write_root(*file, info);
  } catch (...) {
    // A half-written file would later be refused as "not an ftbench results file"; it is ours, so remove it.
    file.reset();
    std::error_code ignored;
    fs::remove(path, ignored);
    throw;
  }
}

// Run ids become HDF5 link names, where '/' separates groups and "." is the group itself.
void check_run_id(const std::string& run_id) {
  if (run_id.empty() || run_id == "." || run_id.find('/') != std::string::npos)
    throw RuntimeError("run id '" + run_id + "' cannot name an HDF5 group (empty, '.' or containing '/')");
}

struct OpenRun {
  h5::File file;
  h5::Group group;
};

OpenRun open_run(const std::string& path, const std::string& run_id, const char* action) {
  check_run_id(run_id);
  h5::File file = h5::File::open(path, h5::Access::kReadWrite, kLockWait);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (!runs.has(run_id))
    throw RuntimeError(path + ": cannot " + action + " run '" + run_id + "': it does not exist (call begin_run first)");
  h5::Group group = runs.open_group(run_id);
  return {std::move(file), std::move(group)};
}

RunStatus stored_status(const h5::Group& run) {
  // A group without status was cut short while begin_run wrote it: an incomplete run.
  if (!run.has_attribute(schema::kStatus)) return RunStatus::kRunning;
  const std::string text = run.string_attribute(schema::kStatus);
  const RunStatus status = schema::parse_status(text);
  if (status == RunStatus::kAbsent)
    throw RuntimeError(run.file() + ": " + run.name() + " has status '" + text +
                       "', expected running, completed or failed");
  return status;
}

void create_series(h5::Group& run) {
  auto describe = [](h5::Dataset dataset, const char* text) { dataset.set_attribute(schema::kDescription, text); };
  for (const auto& series : schema::kSeries)
    describe(run.create_dataset(series.name, h5::Element::kFloat64, {}, kChunkRows), series.description);
  describe(run.create_dataset(schema::kPerClassAcc, h5::Element::kFloat64, {kClasses}, kChunkRows),
           "test accuracy of each true class, fraction in [0, 1]; [epoch, class]");
  describe(run.create_dataset(schema::kConfusion, h5::Element::kInt64, {kClasses, kClasses}, kChunkRows),
           "test confusion counts; [epoch, true class, predicted class]");
  describe(run.create_dataset(schema::kEpoch, h5::Element::kInt64, {}, kChunkRows), "epoch number, 1-based");
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }

Store Store::open(const std::string& path, const ExperimentInfo& info) {
  if (info.experiment.empty()) throw RuntimeError(path + ": cannot open a results file for an unnamed experiment");
  std::error_code ec;
  if (fs::exists(path, ec)) {
    check_existing(path, info);
    // A file we may not write must fail here, before the first epoch is trained, not after it.
    h5::File::open(path, h5::Access::kReadWrite, kLockWait);
  } else {
    create(path, info);
  }
  return Store(std::make_unique<Impl>(Impl{path}));
}

RunStatus Store::status(const std::string& run_id) const {
  check_run_id(run_id);
  h5::File file = h5::File::open(impl_->path, h5::Access::kReadOnly, kLockWait);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (!runs.has(run_id)) return RunStatus::kAbsent;
  return stored_status(runs.open_group(run_id));
}

void Store::begin_run(const RunInfo& info) {
  check_run_id(info.run_id);
  h5::File file = h5::File::open(impl_->path, h5::Access::kReadWrite, kLockWait);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (runs.has(info.run_id)) {
    if (stored_status(runs.open_group(info.run_id)) == RunStatus::kCompleted)
      throw RuntimeError(impl_->path + ": run '" + info.run_id +
                         "' is already completed; callers must check status() and skip completed runs");
    // Incomplete (running or failed): it restarts from epoch 1 until checkpoint/resume lands.
    runs.remove(info.run_id);
  }
  RunInfo fresh = info;  // end_time and error belong to finish_run
  fresh.end_time.clear();
  fresh.error.clear();
  h5::Group run = runs.create_group(info.run_id);
  for (const auto& [key, field] : schema::kRunStrings) run.set_attribute(key, fresh.*field);
  for (const auto& [key, field] : schema::kRunInts) run.set_attribute(key, fresh.*field);
  create_series(run);
  // Status last: a group cut short before this line reads as incomplete either way.
  run.set_attribute(schema::kStatus, std::string(to_string(RunStatus::kRunning)));
  file.flush();
}

void Store::append_epoch(const std::string& run_id, const EpochRow& row) {
  OpenRun run = open_run(impl_->path, run_id, "append an epoch to");
  if (stored_status(run.group) != RunStatus::kRunning)
    throw RuntimeError(impl_->path + ": cannot append an epoch to run '" + run_id + "': it is not running");
  h5::Dataset epoch = run.group.open_dataset(schema::kEpoch);
  // `epoch` is written last, so its length counts complete rows even after an append was cut short.
  const uint64_t n = epoch.rows();
  if (row.epoch != static_cast<int64_t>(n) + 1)
    throw RuntimeError(impl_->path + ": run '" + run_id + "' has " + std::to_string(n) + " epochs; expected epoch " +
                       std::to_string(n + 1) + ", got " + std::to_string(row.epoch));

  auto put = [&](const char* name, const auto* values, std::size_t count) {
    h5::Dataset dataset = run.group.open_dataset(name);
    dataset.resize_rows(n + 1);
    dataset.write_row(n, values, count);
  };
  for (const auto& series : schema::kSeries) put(series.name, &(row.*series.field), 1);
  const auto per_class = row.per_class_acc();
  put(schema::kPerClassAcc, per_class.data(), per_class.size());
  std::array<int64_t, kClasses * kClasses> confusion{};
  for (int t = 0; t < kClasses; ++t)
    for (int p = 0; p < kClasses; ++p) confusion[t * kClasses + p] = row.confusion[t][p];
  put(schema::kConfusion, confusion.data(), confusion.size());
  put(schema::kEpoch, &row.epoch, 1);
  run.file.flush();
}

void Store::finish_run(const std::string& run_id, RunStatus status, const std::string& end_time,
                       const std::string& error) {
  if (status != RunStatus::kCompleted && status != RunStatus::kFailed)
    throw RuntimeError(impl_->path + ": finish_run takes completed or failed, got " + to_string(status));
  OpenRun run = open_run(impl_->path, run_id, "finish");
  run.group.set_attribute("end_time", end_time);
  run.group.set_attribute("error", error);
  run.group.set_attribute(schema::kStatus, std::string(to_string(status)));
  run.file.flush();
}

}  // namespace ftbench::results
