// read_cifar10: works out what `path` names, then reads a directory of batches (an archive is handed to
// cifar10_archive.cpp).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "runner/base/error.h"
#include "runner/data/cifar10.h"
#include "runner/data/records.h"

namespace fs = std::filesystem;

namespace ftbench::data {
namespace {

constexpr const char* kDirectoryContents =
    "a CIFAR-10 directory holds data_batch_1.bin ... data_batch_5.bin and test_batch.bin (get them with "
    "scripts/get_cifar10.sh, or generate a synthetic set with 'ftbench data synth --out DIR')";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// Size of one batch file in records, validated; a missing file names what the directory must hold.
int64_t file_records(const fs::path& file) {
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (!fs::exists(status)) throw InputError(file.string() + ": no such file; " + kDirectoryContents);
  if (!fs::is_regular_file(status)) {
    throw InputError(file.string() + ": not a regular file; " + kDirectoryContents);
  }
  const auto bytes = fs::file_size(file, ec);
  if (ec) throw InputError(file.string() + ": cannot read its size (" + ec.message() + ")");
  return detail::record_count(file.string(), static_cast<int64_t>(bytes));
}

// Appends the first `count` records of `file` to `split`, streaming it in chunks of whole records.
void read_records(const fs::path& file, int64_t count, Split& split) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot open for reading; check its permissions");
  detail::RecordWriter writer(split, count, file.string());
  std::vector<char> chunk(static_cast<std::size_t>(1024 * kRecordBytes));
  while (writer.bytes_left() > 0) {
    const auto want = std::min<int64_t>(writer.bytes_left(), static_cast<int64_t>(chunk.size()));
    in.read(chunk.data(), want);
    if (in.gcount() != want) {
      // Its size was checked a moment ago, so another process is rewriting it.
      throw InputError(file.string() + ": ended early while being read (is it being rewritten?); " +
                       detail::kRefetchHint);
    }
    writer.feed(reinterpret_cast<const uint8_t*>(chunk.data()), static_cast<std::size_t>(want));
  }
}

// Reads one split from `names` in order. With a limit, only the files that hold the first `limit` records are
// checked and opened.
Split read_split(const fs::path& dir, const std::vector<std::string>& names, int64_t limit, const char* split_name) {
  std::vector<int64_t> counts;
  int64_t available = 0;
  for (const auto& name : names) {
    if (limit > 0 && available >= limit) break;
    counts.push_back(file_records(dir / name));
    available += counts.back();
  }
  detail::check_limit(dir.string(), split_name, limit, available);
  const int64_t want = limit > 0 ? limit : available;

  Split split;
  split.labels.reserve(static_cast<std::size_t>(want));
  split.images.reserve(static_cast<std::size_t>(want * kImageBytes));
  for (std::size_t i = 0; i < counts.size() && split.size < want; ++i) {
    read_records(dir / names[i], std::min(counts[i], want - split.size), split);
  }
  return split;
}

Dataset read_directory(const fs::path& dir, int64_t train_limit, int64_t test_limit) {
  std::vector<std::string> train_names;
  for (int i = 0; i < detail::kTrainFiles; ++i) train_names.push_back(detail::train_file_name(i));
  Dataset dataset;
  dataset.source = dir.string();
  dataset.train = read_split(dir, train_names, train_limit, "training");
  dataset.test = read_split(dir, {detail::kTestFile}, test_limit, "test");
  return dataset;
}

bool holds_batches(const fs::path& dir) {
  return is_file(dir / detail::train_file_name(0)) || is_file(dir / detail::kTestFile);
}

}  // namespace

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

Dataset read_cifar10(const std::string& path, int64_t train_limit, int64_t test_limit) {
  if (train_limit < 0 || test_limit < 0) {
    throw InputError(path + ": a negative record limit (" + std::to_string(std::min(train_limit, test_limit)) +
                     ") was asked for; use a positive count, or 0 to keep every record");
  }
  const fs::path p(path);
  if (is_file(p)) {
    if (detail::batch_slot(p.filename().string()) >= 0) {
      const std::string parent = p.has_parent_path() ? p.parent_path().string() : ".";
      throw InputError(path + ": is a single batch file; point at the directory that holds it (" + parent +
                       ") or at cifar-10-binary.tar.gz");
    }
    return detail::read_archive(path, train_limit, test_limit);
  }
  if (!is_dir(p)) {
    throw InputError(path +
                     ": no such file or directory; expected a cifar-10-batches-bin directory or "
                     "cifar-10-binary.tar.gz (get it with scripts/get_cifar10.sh, or generate a synthetic "
                     "set with 'ftbench data synth --out DIR')");
  }
  if (holds_batches(p)) return read_directory(p, train_limit, test_limit);
  // Be forgiving about pointing one level up, e.g. at data/ after scripts/get_cifar10.sh.
  if (is_dir(p / detail::kBatchDir)) return read_directory(p / detail::kBatchDir, train_limit, test_limit);
  if (is_file(p / detail::kArchiveName)) {
    return detail::read_archive((p / detail::kArchiveName).string(), train_limit, test_limit);
  }
  throw InputError(path + ": holds no CIFAR-10 data; " + kDirectoryContents +
                   " (here, or in a cifar-10-batches-bin/ subdirectory, or as cifar-10-binary.tar.gz)");
}

}  // namespace ftbench::data
