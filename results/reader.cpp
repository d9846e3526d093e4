#include "results/reader.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <system_error>

#include "results/h5/error.h"
#include "results/h5/file.h"
#include "results/schema.h"
#include "runner/base/error.h"

namespace ftbench::results {
namespace fs = std::filesystem;
namespace {

// ftbench's writer never holds the file itself (it renames a new copy over it); another program that has
// it open for writing (h5py in "a" mode) is waited for this long.
constexpr std::chrono::seconds kLockWait{5};

const char* kReadFix = "pass a results file written by 'ftbench run' (default results/<experiment>.h5)";

RunInfo read_info(const h5::Group& run) {
  RunInfo info;
  for (const auto& [key, field] : schema::kRunStrings)
    if (run.has_attribute(key) || !schema::added_later(key)) info.*field = run.string_attribute(key);
  for (const auto& [key, field] : schema::kRunInts)
    if (run.has_attribute(key) || !schema::added_later(key)) info.*field = run.int_attribute(key);
  const std::string status = run.string_attribute(schema::kStatus);
  info.status = schema::parse_status(status);
  if (info.status == RunStatus::kAbsent)
    throw h5::FormatError(run.file() + ": " + run.name() + " has status '" + status + "'");
  return info;
}

std::vector<double> read_rows(const h5::Group& run, const char* name, uint64_t row_size) {
  const h5::Dataset dataset = run.open_dataset(name);
  auto values = dataset.read_float64();
  if (values.size() != dataset.rows() * row_size)
    throw h5::FormatError(run.file() + ": " + dataset.name() + " does not have rows of " + std::to_string(row_size));
  return values;
}

std::vector<EpochRow> read_epochs(const h5::Group& run) {
  const h5::Dataset epoch_dataset = run.open_dataset(schema::kEpoch);
  const auto epochs = epoch_dataset.read_int64();
  const h5::Dataset confusion_dataset = run.open_dataset(schema::kConfusion);
  const auto confusion = confusion_dataset.read_int64();
  if (confusion.size() != confusion_dataset.rows() * kClasses * kClasses)
    throw h5::FormatError(run.file() + ": " + confusion_dataset.name() + " is not [epochs, 10, 10]");
  read_rows(run, schema::kPerClassAcc, kClasses);  // derived from confusion; read only to check its shape

  // Files written by this ftbench always hold as many rows in every dataset (each change replaces the whole
  // file); a file edited by other tools may not, and then only rows present in every dataset count.
  std::size_t rows = std::min(epochs.size(), confusion.size() / (kClasses * kClasses));
  const auto absent = [&](const char* name) { return !run.has(name) && schema::added_later(name); };
  std::vector<std::vector<double>> series;
  for (const auto& s : schema::kSeries) {
    if (absent(s.name)) {
      series.emplace_back(epochs.size(), std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    series.push_back(read_rows(run, s.name, 1));
    rows = std::min(rows, series.back().size());
  }
  std::vector<std::vector<int64_t>> int_series;
  for (const auto& s : schema::kIntSeries) {
    if (absent(s.name)) {
      int_series.emplace_back(epochs.size(), 0);
      continue;
    }
    int_series.push_back(run.open_dataset(s.name).read_int64());
    rows = std::min(rows, int_series.back().size());
  }

  std::vector<EpochRow> out(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    out[r].epoch = epochs[r];
    for (std::size_t s = 0; s < series.size(); ++s) out[r].*(schema::kSeries[s].field) = series[s][r];
    for (std::size_t s = 0; s < int_series.size(); ++s) out[r].*(schema::kIntSeries[s].field) = int_series[s][r];
    for (int t = 0; t < kClasses; ++t)
      for (int p = 0; p < kClasses; ++p) out[r].confusion[t][p] = confusion[(r * kClasses + t) * kClasses + p];
  }
  return out;
}

}  // namespace

FileRecord read_results(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file; " + kReadFix);
  if (fs::is_directory(path, ec)) throw InputError(path + " is a directory, expected an .h5 file; " + kReadFix);
  if (!h5::File::is_hdf5(path)) throw InputError(path + " is not an HDF5 file; " + kReadFix);

  const h5::File file = h5::File::open(path, h5::Access::kReadOnly, kLockWait);
  const h5::Group root = file.root();
  FileRecord record;
  record.path = path;
  record.info = schema::read_root(root, kReadFix, record.schema_version);
  if (record.schema_version != kSchemaVersion)
    throw InputError(path + " has results schema version " + std::to_string(record.schema_version) +
                     ", this ftbench reads version " + std::to_string(kSchemaVersion) +
                     "; read it with the ftbench that wrote it");
  try {
    const h5::Group runs = root.open_group(schema::kRunsGroup);
    for (const auto& run_id : runs.children()) {
      const h5::Group run = runs.open_group(run_id);
      // begin_run writes status last: a group without it was cut short while being created, and is no run yet.
      if (!run.has_attribute(schema::kStatus)) continue;
      record.runs.push_back({read_info(run), read_epochs(run)});
    }
  } catch (const h5::FormatError& e) {
    throw InputError(std::string(e.what()) + "; the file is damaged or was not written by ftbench");
  }
  return record;
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.path().extension() == ".h5" && entry.is_regular_file(ec)) found.push_back(entry.path().string());
      if (ec) throw InputError(path + ": cannot list the directory (" + ec.message() + ")");
      if (found.empty()) throw InputError(path + " holds no .h5 files; pass results files or their directory");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      throw InputError(path + ": no such file or directory; pass results files (.h5) or directories holding them");
    }
  }
  return files;
}

}  // namespace ftbench::results
