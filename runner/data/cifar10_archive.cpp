// read_archive: streams cifar-10-binary.tar.gz with libarchive, straight into the splits, in one pass.
//
// Members are matched by basename (data_batch_N.bin, test_batch.bin) in any directory. A tar stream cannot
// seek, so a training member that arrives before the ones it follows is held aside until they arrive; the
// official archive is in order, and then every record is written once, into its final place. With limits,
// reading stops as soon as both splits are complete.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "runner/base/error.h"
#include "runner/data/records.h"

namespace ftbench::data::detail {
namespace {

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

constexpr const char* kNotAnArchive = "is not a readable tar.gz (corrupt, truncated or another format)";
constexpr const char* kArchiveHint =
    "re-download cifar-10-binary.tar.gz (scripts/get_cifar10.sh), or point at the extracted cifar-10-batches-bin "
    "directory";

std::string basename_of(const std::string& member) {
  const auto slash = member.find_last_of('/');
  return slash == std::string::npos ? member : member.substr(slash + 1);
}

class ArchiveReader {
 public:
  ArchiveReader(std::string path, int64_t train_limit, int64_t test_limit)
      : path_(std::move(path)), train_limit_(train_limit), test_limit_(test_limit) {}

  Dataset read() {
    ArchivePtr a(archive_read_new(), &archive_read_free);
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_gzip(a.get());
    if (archive_read_open_filename(a.get(), path_.c_str(), 1 << 20) != ARCHIVE_OK) fail(a.get(), kNotAnArchive);
    archive_entry* entry = nullptr;
    while (!complete()) {
      const int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail(a.get(), kNotAnArchive);
      const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
      const int slot = batch_slot(basename_of(name));
      if (slot < 0 || archive_entry_filetype(entry) != AE_IFREG) continue;
      if (!archive_entry_size_is_set(entry)) fail(a.get(), "member " + name + " has no size");
      const std::string what = path_ + " (member " + name + ")";
      const int64_t records = record_count(what, archive_entry_size(entry));
      if (slot == kTrainFiles) {
        read_test(a.get(), name, what, records);
      } else {
        read_train(a.get(), slot, name, what, records);
      }
    }
    return finish();
  }

 private:
  [[noreturn]] void fail(archive* a, const std::string& problem) const {
    const char* why = a ? archive_error_string(a) : nullptr;
    throw InputError(path_ + ": " + problem + (why ? std::string(" (") + why + ")" : std::string()) + "; " +
                     kArchiveHint);
  }

  void check_new(int slot, const std::string& name) {
    if (!seen_[static_cast<std::size_t>(slot)].empty()) {
      throw InputError(path_ + ": holds both " + seen_[static_cast<std::size_t>(slot)] + " and " + name +
                       "; expected one of each batch file; " + kArchiveHint);
    }
    seen_[static_cast<std::size_t>(slot)] = name;
  }

  // Copies `count` records of the current member into `split` (the member is skipped past afterwards).
  void copy(archive* a, const std::string& name, const std::string& what, int64_t count, Split& split) {
    RecordWriter writer(split, count, what);
    std::vector<uint8_t> buffer(1 << 20);
    while (writer.bytes_left() > 0) {
      const auto want = static_cast<std::size_t>(std::min<int64_t>(writer.bytes_left(), buffer.size()));
      const la_ssize_t got = archive_read_data(a, buffer.data(), want);
      if (got < 0) fail(a, "is corrupt or truncated inside " + name);
      if (got == 0) fail(a, "ends inside " + name + " (the archive is truncated)");
      writer.feed(buffer.data(), static_cast<std::size_t>(got));
    }
  }

  void read_test(archive* a, const std::string& name, const std::string& what, int64_t records) {
    check_new(kTrainFiles, name);
    check_limit(what, "test", test_limit_, records);
    copy(a, name, what, test_limit_ > 0 ? test_limit_ : records, test_);
  }

  void read_train(archive* a, int slot, const std::string& name, const std::string& what, int64_t records) {
    check_new(slot, name);
    available_ += records;
    const int64_t room = train_limit_ > 0 ? train_limit_ - train_.size : records;
    if (room <= 0) {
      if (slot == next_train_) ++next_train_;
      return;  // every record it could contribute is already read
    }
    if (slot != next_train_) {
      copy(a, name, what, std::min(records, room), held_[static_cast<std::size_t>(slot)]);
      return;
    }
    if (train_.size == 0) reserve_train(records);
    copy(a, name, what, std::min(records, room), train_);
    ++next_train_;
    // Members that arrived early now follow on.
    while (next_train_ < kTrainFiles && !seen_[static_cast<std::size_t>(next_train_)].empty()) {
      append_held(held_[static_cast<std::size_t>(next_train_)]);
      ++next_train_;
    }
  }

  // The official archive holds five equal batches, so five times the first is a good guess.
  void reserve_train(int64_t first_records) {
    const int64_t guess = train_limit_ > 0 ? train_limit_ : first_records * kTrainFiles;
    train_.labels.reserve(static_cast<std::size_t>(guess));
    train_.images.reserve(static_cast<std::size_t>(guess * kImageBytes));
  }

  void append_held(Split& held) {
    const int64_t take = train_limit_ > 0 ? std::min(held.size, train_limit_ - train_.size) : held.size;
    if (take > 0) {
      train_.labels.insert(train_.labels.end(), held.labels.begin(), held.labels.begin() + take);
      train_.images.insert(train_.images.end(), held.images.begin(), held.images.begin() + take * kImageBytes);
      train_.size += take;
    }
    held = Split();
  }

  bool train_complete() const {
    return next_train_ == kTrainFiles || (train_limit_ > 0 && train_.size >= train_limit_);
  }
  bool complete() const { return train_complete() && !seen_[kTrainFiles].empty(); }

  Dataset finish() {
    for (int slot = 0; slot <= kTrainFiles; ++slot) {
      if (slot < kTrainFiles && train_complete()) continue;
      if (seen_[static_cast<std::size_t>(slot)].empty()) {
        const std::string file = slot < kTrainFiles ? train_file_name(slot) : kTestFile;
        throw InputError(path_ + ": has no member " + file + "; a CIFAR-10 archive holds cifar-10-batches-bin/" +
                         "data_batch_1.bin ... data_batch_5.bin and test_batch.bin; " + kArchiveHint);
      }
    }
    check_limit(path_, "training", train_limit_, available_);
    Dataset dataset;
    dataset.source = path_;
    dataset.train = std::move(train_);
    dataset.test = std::move(test_);
    return dataset;
  }

  std::string path_;
  int64_t train_limit_;
  int64_t test_limit_;
  std::array<std::string, kTrainFiles + 1> seen_;  // member names by slot; "" until seen
  std::array<Split, kTrainFiles> held_;            // training members that arrived out of order
  int next_train_ = 0;                             // the training member train_ continues with
  int64_t available_ = 0;                          // training records in the members seen
  Split train_;
  Split test_;
};

}  // namespace

Dataset read_archive(const std::string& archive, int64_t train_limit, int64_t test_limit) {
  return ArchiveReader(archive, train_limit, test_limit).read();
}

}  // namespace ftbench::data::detail
