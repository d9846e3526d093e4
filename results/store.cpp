#include "results/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>

#include "results/h5/error.h"
#include "results/h5/file.h"
#include "results/schema.h"
#include "results/writer_lock.h"
#include "runner/base/error.h"
#include "runner/base/fault_point.h"

namespace ftbench::results {
namespace fs = std::filesystem;

// How the file is written: never in place. Every change (create, begin run, append epoch, finish run) is
// made to a private copy beside the file (".<name>.tmp"), which is then flushed, fsync'ed and renamed over
// the file. rename(2) is atomic, so at every moment the path names a complete, closed HDF5 file: the one
// before the change or the one after it.
// - Readers (h5py, pandas, `ftbench report`) open the file whenever they like, with any HDF5 >= 1.10 and
//   no SWMR flag, and see whole epochs only; a reader that keeps the file open keeps its snapshot.
// - A writer killed at any point leaves the last complete file (and perhaps a stale .tmp, replaced by the
//   next writer): no h5clear, no "file is already open for write".
// - Readers never block the writer: it never opens the file for writing, so HDF5's file locks held by an
//   h5py session cannot make a training run wait or fail.
// - A WriterLock (".<name>.lock") keeps a second ftbench from writing the same file meanwhile.
// We chose this over SWMR, which the HDF5 1.10 of our clusters also has: SWMR leaves a crashed writer's file
// unreadable to plain readers until `h5clear -s`, forbids new groups and attributes once it has started
// (each run adds a group, and status is an attribute), needs readers to pass swmr=True, and is not
// supported on NFS. The price here is copying the file for each change: a few milliseconds per epoch for
// files of a few MB (SCHEMA.md has measurements), next to epochs of seconds to hours.
struct Store::Impl {
  std::string path;    // as given, for messages
  std::string target;  // the file that is replaced: `path` with a symbolic link resolved
  WriterLock lock;
};

namespace {

// How long a read waits for a process holding the file's HDF5 lock for writing (a foreign h5py "a" session).
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

void sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: a directory fsync fails with EINVAL on some file systems
  ::close(fd);
}

// Makes `change` to a copy of `target` (or to a new file when `create`), then renames the copy over
// `target`. On failure the copy is removed and `target` is as it was.
void replace(const std::string& target, bool create, const std::function<void(h5::File&)>& change) {
  const std::string tmp = WriterLock::sibling(target, ".tmp");
  std::error_code ec;
  fs::remove(tmp, ec);  // a stale copy left by a killed writer
  ec.clear();
  try {
    if (!create) fs::copy_file(target, tmp, ec);
    if (ec)
      throw RuntimeError("cannot copy " + target + " to " + tmp + " (" + ec.message() +
                         "); the results file is replaced on every write, so its directory needs room and write "
                         "permission for a second copy");
    {
      h5::File file = create ? h5::File::create(tmp) : h5::File::open(tmp, h5::Access::kReadWrite, {});
      change(file);
      file.flush();
    }  // closed: every handle into the copy is gone
    sync_path(tmp, O_RDONLY);
    fault_point("results");  // tests: a writer killed here must leave `target` as it was
    fs::rename(tmp, target, ec);
    if (ec) throw RuntimeError("cannot rename " + tmp + " to " + target + " (" + ec.message() + ")");
    const fs::path parent = fs::path(target).parent_path();
    sync_path(parent.empty() ? "." : parent.string(), O_RDONLY | O_DIRECTORY);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
}

// Run ids become HDF5 link names, where '/' separates groups and "." is the group itself.
void check_run_id(const std::string& run_id) {
  if (run_id.empty() || run_id == "." || run_id.find('/') != std::string::npos)
    throw RuntimeError("run id '" + run_id + "' cannot name an HDF5 group (empty, '.' or containing '/')");
}

h5::Group open_run(h5::File& file, const std::string& path, const std::string& run_id, const char* action) {
  check_run_id(run_id);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (!runs.has(run_id))
    throw RuntimeError(path + ": cannot " + action + " run '" + run_id + "': it does not exist (call begin_run first)");
  return runs.open_group(run_id);
}

RunStatus stored_status(const h5::Group& run) {
  // A group without status was cut short while begin_run wrote it: an incomplete run.
  if (!run.has_attribute(schema::kStatus)) return RunStatus::kRunning;
  const std::string text = run.string_attribute(schema::kStatus);
  const RunStatus status = schema::parse_status(text);
  if (status == RunStatus::kAbsent)
    throw RuntimeError(run.file() + ": " + run.name() + " has status '" + text +
                       "', expected running, completed, failed or interrupted");
  return status;
}

void create_series(h5::Group& run) {
  auto describe = [](h5::Dataset dataset, const char* text) { dataset.set_attribute(schema::kDescription, text); };
  for (const auto& series : schema::kSeries)
    describe(run.create_dataset(series.name, h5::Element::kFloat64, {}, kChunkRows), series.description);
  for (const auto& series : schema::kIntSeries)
    describe(run.create_dataset(series.name, h5::Element::kInt64, {}, kChunkRows), series.description);
  describe(run.create_dataset(schema::kPerClassAcc, h5::Element::kFloat64, {kClasses}, kChunkRows),
           "test accuracy of each true class, fraction in [0, 1]; [epoch, class]");
  describe(run.create_dataset(schema::kConfusion, h5::Element::kInt64, {kClasses, kClasses}, kChunkRows),
           "test confusion counts; [epoch, true class, predicted class]");
  describe(run.create_dataset(schema::kEpoch, h5::Element::kInt64, {}, kChunkRows), "epoch number, 1-based");
}

}  // namespace

std::string hdf5_library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

const std::string& Store::path() const { return impl_->path; }

Store Store::open(const std::string& path, const ExperimentInfo& info) {
  if (info.experiment.empty()) throw RuntimeError(path + ": cannot open a results file for an unnamed experiment");
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(path + " is a directory; --output must name an .h5 file");
  // A link to a results file stays a link: the file it points to is the one replaced.
  const std::string target = fs::is_symlink(path, ec) && fs::exists(path, ec) ? fs::canonical(path, ec).string() : path;
  const bool exists = fs::exists(target, ec);
  if (!exists) {
    const fs::path parent = fs::path(target).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec)
      throw InputError("cannot create directory " + parent.string() + " for " + path + " (" + ec.message() +
                       "); choose another --output or [experiment] output");
  }
  // Locked before the file is examined, so that no other writer changes it between the check and our writes.
  WriterLock lock(target);
  if (exists) {
    check_existing(target, info);
  } else {
    replace(target, /*create=*/true, [&](h5::File& file) { write_root(file, info); });
  }
  return Store(std::make_unique<Impl>(Impl{path, target, std::move(lock)}));
}

RunStatus Store::status(const std::string& run_id) const {
  check_run_id(run_id);
  h5::File file = h5::File::open(impl_->target, h5::Access::kReadOnly, kLockWait);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (!runs.has(run_id)) return RunStatus::kAbsent;
  return stored_status(runs.open_group(run_id));
}

void Store::begin_run(const RunInfo& info) {
  check_run_id(info.run_id);
  replace(impl_->target, /*create=*/false, [&](h5::File& file) {
    h5::Group runs = file.root().open_group(schema::kRunsGroup);
    if (runs.has(info.run_id)) {
      if (stored_status(runs.open_group(info.run_id)) == RunStatus::kCompleted)
        throw RuntimeError(impl_->path + ": run '" + info.run_id +
                           "' is already completed; callers must check status() and skip completed runs");
      // Incomplete (running, failed or interrupted) with no checkpoint to resume from: it starts again.
      runs.remove(info.run_id);
    }
    RunInfo fresh = info;  // end_time and error belong to finish_run
    fresh.end_time.clear();
    fresh.error.clear();
    h5::Group run = runs.create_group(info.run_id);
    for (const auto& [key, field] : schema::kRunStrings) run.set_attribute(key, fresh.*field);
    for (const auto& [key, field] : schema::kRunInts) run.set_attribute(key, fresh.*field);
    create_series(run);
    run.set_attribute(schema::kStatus, std::string(to_string(RunStatus::kRunning)));
  });
}

void Store::append_epoch(const std::string& run_id, const EpochRow& row) {
  replace(impl_->target, /*create=*/false, [&](h5::File& file) {
    h5::Group run = open_run(file, impl_->path, run_id, "append an epoch to");
    if (stored_status(run) != RunStatus::kRunning)
      throw RuntimeError(impl_->path + ": cannot append an epoch to run '" + run_id + "': it is not running");
    h5::Dataset epoch = run.open_dataset(schema::kEpoch);
    const uint64_t n = epoch.rows();
    if (row.epoch != static_cast<int64_t>(n) + 1)
      throw RuntimeError(impl_->path + ": run '" + run_id + "' has " + std::to_string(n) + " epochs; expected epoch " +
                         std::to_string(n + 1) + ", got " + std::to_string(row.epoch));

    auto put = [&](const char* name, const auto* values, std::size_t count) {
      h5::Dataset dataset = run.open_dataset(name);
      dataset.resize_rows(n + 1);
      dataset.write_row(n, values, count);
    };
    for (const auto& series : schema::kSeries) put(series.name, &(row.*series.field), 1);
    for (const auto& series : schema::kIntSeries) put(series.name, &(row.*series.field), 1);
    const auto per_class = row.per_class_acc();
    put(schema::kPerClassAcc, per_class.data(), per_class.size());
    std::array<int64_t, kClasses * kClasses> confusion{};
    for (int t = 0; t < kClasses; ++t)
      for (int p = 0; p < kClasses; ++p) confusion[t * kClasses + p] = row.confusion[t][p];
    put(schema::kConfusion, confusion.data(), confusion.size());
    put(schema::kEpoch, &row.epoch, 1);
  });
}

void Store::finish_run(const std::string& run_id, RunStatus status, const std::string& end_time,
                       const std::string& error) {
  if (status != RunStatus::kCompleted && status != RunStatus::kFailed && status != RunStatus::kInterrupted)
    throw RuntimeError(impl_->path + ": finish_run takes completed, failed or interrupted, got " + to_string(status));
  replace(impl_->target, /*create=*/false, [&](h5::File& file) {
    h5::Group run = open_run(file, impl_->path, run_id, "finish");
    run.set_attribute("end_time", end_time);
    run.set_attribute("error", error);
    run.set_attribute(schema::kStatus, std::string(to_string(status)));
  });
}

std::string Store::run_config(const std::string& run_id) const {
  check_run_id(run_id);
  h5::File file = h5::File::open(impl_->target, h5::Access::kReadOnly, kLockWait);
  h5::Group runs = file.root().open_group(schema::kRunsGroup);
  if (!runs.has(run_id)) return "";
  const h5::Group run = runs.open_group(run_id);
  return run.has_attribute(schema::kConfigToml) ? run.string_attribute(schema::kConfigToml) : "";
}

void Store::resume_run(const std::string& run_id, int64_t rows) {
  replace(impl_->target, /*create=*/false, [&](h5::File& file) {
    h5::Group run = open_run(file, impl_->path, run_id, "resume");
    if (stored_status(run) == RunStatus::kCompleted)
      throw RuntimeError(impl_->path + ": run '" + run_id + "' is completed; there is nothing to resume");
    h5::Dataset epoch = run.open_dataset(schema::kEpoch);
    const uint64_t n = epoch.rows();
    if (rows < 0 || static_cast<uint64_t>(rows) > n)
      throw RuntimeError(impl_->path + ": run '" + run_id + "' has " + std::to_string(n) +
                         " epochs, fewer than the checkpoint's " + std::to_string(rows) +
                         "; the results file is older than the checkpoint (restored from a backup?): re-run with "
                         "--restart to train the run again");
    // Rows past the checkpoint belong to an epoch that will be trained again.
    for (const std::string& name : run.children()) run.open_dataset(name).resize_rows(static_cast<uint64_t>(rows));
    const int64_t resumes = run.has_attribute(schema::kResumes) ? run.int_attribute(schema::kResumes) : 0;
    run.set_attribute(schema::kResumes, resumes + 1);
    run.set_attribute("end_time", std::string());
    run.set_attribute("error", std::string());
    run.set_attribute(schema::kStatus, std::string(to_string(RunStatus::kRunning)));
  });
}

void Store::discard_run(const std::string& run_id) {
  check_run_id(run_id);
  replace(impl_->target, /*create=*/false, [&](h5::File& file) {
    h5::Group runs = file.root().open_group(schema::kRunsGroup);
    if (runs.has(run_id)) runs.remove(run_id);
  });
}

}  // namespace ftbench::results
