// read_archive: streams cifar-10-binary.tar.gz with libarchive, straight into the splits, in one pass.
//
// Members are matched by basename (data_batch_N.bin, test_batch.bin) in any directory. A tar stream cannot
// seek, so a training member that arrives before the ones it follows is held aside until they arrive; the
// official archive is in order, and then every record is written once, into its final place. With limits,
// reading stops as soon as both splits are complete.
//
// The gzip layer is zlib's, not libarchive's: libarchive's gzip filter does not check the gzip trailer
// (CRC-32 and length), so a bit flipped in the compressed data can inflate to wrong pixels without an error.
// zlib checks the trailer when the stream ends, so without limits the archive is read to its end and a
// damaged download is refused. (With limits, only the start is read, and only the labels are checked.)
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
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

// The decompressed bytes of a gzip file (one or more members), for libarchive's read callback. On a failure
// the callback returns -1 and error() says what is wrong in the user's terms.
class GzipSource {
 public:
  explicit GzipSource(const std::string& path) : file_(std::fopen(path.c_str(), "rb")), in_(1 << 20), out_(1 << 20) {
    if (file_ != nullptr && inflateInit2(&z_, 15 + 16) != Z_OK) {  // 15 + 16: a gzip header and trailer
      std::fclose(file_);
      file_ = nullptr;
    }
  }
  ~GzipSource() {
    if (file_ == nullptr) return;
    inflateEnd(&z_);
    std::fclose(file_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  bool opened() const { return file_ != nullptr; }
  const std::string& error() const { return error_; }

  static la_ssize_t read(archive* a, void* self, const void** buffer) {
    auto* source = static_cast<GzipSource*>(self);
    const la_ssize_t n = source->next();
    if (n < 0) archive_set_error(a, EIO, "%s", source->error_.c_str());
    *buffer = source->out_.data();
    return n;
  }

 private:
  // Up to out_.size() decompressed bytes; 0 at the end of the file; -1 with error_ set.
  la_ssize_t next() {
    if (!error_.empty()) return -1;
    z_.next_out = out_.data();
    z_.avail_out = static_cast<uInt>(out_.size());
    while (z_.avail_out == out_.size()) {
      if (z_.avail_in == 0) {
        const std::size_t got = std::fread(in_.data(), 1, in_.size(), file_);
        if (got == 0) {
          if (std::ferror(file_)) return fail("cannot read the file");
          if (ended_ || !started_) return ended_ ? 0 : fail("is empty");
          return fail("is truncated: the gzip data ends before its end mark (an interrupted download?)");
        }
        z_.next_in = in_.data();
        z_.avail_in = static_cast<uInt>(got);
      }
      if (ended_) {  // more bytes after a gzip member: another member follows (as `cat a.gz b.gz` makes)
        if (inflateReset(&z_) != Z_OK) return fail("cannot restart the gzip decoder");
        ended_ = false;
      }
      started_ = true;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        ended_ = true;
      } else if (rc == Z_DATA_ERROR) {
        const std::string why = z_.msg != nullptr ? z_.msg : "invalid data";
        if (why == "incorrect header check") return fail(std::string(kNotAnArchive) + " (not gzip data: " + why + ")");
        if (why == "incorrect data check")
          return fail("is corrupt: its gzip CRC-32 does not match the data (incorrect data check)");
        return fail("is corrupt: the gzip data does not decode (" + why + ")");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return fail("cannot decompress (zlib error " + std::to_string(rc) + ")");
      }
    }
    return static_cast<la_ssize_t>(out_.size() - z_.avail_out);
  }

  la_ssize_t fail(const std::string& why) {
    error_ = why;
    return -1;
  }

  std::FILE* file_;
  z_stream z_{};
  std::vector<unsigned char> in_;
  std::vector<unsigned char> out_;
  bool started_ = false;  // some input was read
  bool ended_ = false;    // the last member's trailer (CRC-32 and length) was read and matched
  std::string error_;
};

class ArchiveReader {
 public:
  ArchiveReader(std::string path, int64_t train_limit, int64_t test_limit)
      : path_(std::move(path)), train_limit_(train_limit), test_limit_(test_limit), gzip_(path_) {}

  Dataset read() {
    if (!gzip_.opened()) throw InputError(path_ + ": cannot open for reading; check its permissions");
    ArchivePtr a(archive_read_new(), &archive_read_free);
    archive_read_support_format_tar(a.get());
    if (archive_read_open(a.get(), &gzip_, nullptr, &GzipSource::read, nullptr) != ARCHIVE_OK)
      fail(a.get(), kNotAnArchive);
    archive_entry* entry = nullptr;
    bool at_end = false;
    while (!complete()) {
      const int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) {
        at_end = true;
        break;
      }
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
    // Everything read: the rest of the archive is read too (and skipped), so that zlib reaches the gzip
    // trailer and checks the CRC-32 of every byte. With limits, reading stopped early on purpose.
    if (!at_end && train_limit_ == 0 && test_limit_ == 0) {
      int rc = ARCHIVE_OK;
      while (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) rc = archive_read_next_header(a.get(), &entry);
      if (rc != ARCHIVE_EOF) fail(a.get(), kNotAnArchive);
    }
    return finish();
  }

 private:
  // The gzip layer's diagnosis, when there is one, is the one to give.
  [[noreturn]] void fail(archive* a, const std::string& problem) const {
    if (!gzip_.error().empty()) throw InputError(path_ + ": " + gzip_.error() + "; " + kArchiveHint);
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
  GzipSource gzip_;  // after path_, which it opens
};

}  // namespace

Dataset read_archive(const std::string& archive, int64_t train_limit, int64_t test_limit) {
  return ArchiveReader(archive, train_limit, test_limit).read();
}

}  // namespace ftbench::data::detail
