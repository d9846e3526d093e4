#include "runner/weights/zip_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstring>

#include "runner/base/error.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights {
namespace {

// PyTorchStreamReader reads through this adapter: straight from the mapping, bounds-checked.
class SpanAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit SpanAdapter(ByteSpan bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size; }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size) return 0;
    const size_t available = std::min<uint64_t>(n, bytes_.size - pos);
    std::memcpy(buf, bytes_.data + pos, available);
    return available;
  }

 private:
  ByteSpan bytes_;
};

// The one-line refusal of a file that is not a zip archive ftbench can read; `reason` says what is wrong.
InputError unreadable_archive(const std::string& where, const std::string& reason) {
  return InputError(where + ": not a readable torch.save zip archive (" + reason +
                    "); the file is truncated or corrupt");
}

// PyTorchStreamReader allocates a record's declared size before it reads the record (its constructor does so
// for `version`), and miniz takes that size from the central directory without checking it against the file:
// a deflated entry may claim gigabytes. So the central directory is walked here first, the way miniz walks
// it, and no entry may declare more bytes, compressed or not, than the whole file holds (torch.save stores
// records uncompressed, so a real file passes; read_record applies the same bound). A directory this walk
// cannot follow is refused here too rather than left to a reader that may be more lenient. The directory's
// own size field is not relied on: miniz does not rely on it either.
void check_declared_sizes(ByteSpan bytes, const std::string& where) {
  constexpr uint32_t kEndSignature = 0x06054b50;       // end of central directory
  constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
  constexpr uint32_t kZip64EndSignature = 0x06064b50;
  constexpr uint32_t kEntrySignature = 0x02014b50;     // central directory file header
  constexpr uint64_t kEndSize = 22, kLocatorSize = 20, kZip64EndSize = 56, kEntrySize = 46;
  constexpr uint32_t kUnset32 = 0xFFFFFFFF;
  if (bytes.size < kEndSize) throw unreadable_archive(where, "shorter than a zip directory");

  // The end record is the last one in the file, followed by a comment of at most 64 KiB.
  uint64_t end = bytes.size - kEndSize;
  const uint64_t lowest = end > 0xFFFF ? end - 0xFFFF : 0;
  while (load_le32(bytes.data + end) != kEndSignature) {
    if (end == lowest) throw unreadable_archive(where, "no end of central directory record");
    --end;
  }
  uint64_t entries = load_le16(bytes.data + end + 10);
  uint64_t dir_offset = load_le32(bytes.data + end + 16);
  if (end >= kLocatorSize && load_le32(bytes.data + end - kLocatorSize) == kZip64LocatorSignature) {
    const uint64_t end64 = load_le64(bytes.data + end - kLocatorSize + 8);
    if (!bytes.contains(end64, kZip64EndSize) || load_le32(bytes.data + end64) != kZip64EndSignature) {
      throw unreadable_archive(where, "a zip64 locator that points to no zip64 directory end");
    }
    entries = load_le64(bytes.data + end64 + 32);
    dir_offset = load_le64(bytes.data + end64 + 48);
  }

  uint64_t pos = dir_offset;
  for (uint64_t i = 0; i < entries; ++i) {
    if (!bytes.contains(pos, kEntrySize) || load_le32(bytes.data + pos) != kEntrySignature) {
      throw unreadable_archive(where, "central directory entry " + std::to_string(i) + " is missing");
    }
    const uint8_t* header = bytes.data + pos;
    uint64_t compressed = load_le32(header + 20);
    uint64_t uncompressed = load_le32(header + 24);
    const uint64_t name_size = load_le16(header + 28);
    const uint64_t extra_size = load_le16(header + 30);
    const uint64_t comment_size = load_le16(header + 32);
    if (!bytes.contains(pos + kEntrySize, name_size + extra_size + comment_size)) {
      throw unreadable_archive(where, "central directory entry " + std::to_string(i) + " runs past the end");
    }
    // The zip64 extra field (id 1) holds the 64-bit sizes, each only where the header says 0xFFFFFFFF.
    const uint8_t* extra = header + kEntrySize + name_size;
    for (uint64_t at = 0; at + 4 <= extra_size;) {
      const uint64_t field_end = at + 4 + load_le16(extra + at + 2);
      if (field_end > extra_size) break;
      if (load_le16(extra + at) == 1) {
        uint64_t next = at + 4;
        if (uncompressed == kUnset32 && next + 8 <= field_end) {
          uncompressed = load_le64(extra + next);
          next += 8;
        }
        if (compressed == kUnset32 && next + 8 <= field_end) compressed = load_le64(extra + next);
      }
      at = field_end;
    }
    const uint64_t declared = std::max(compressed, uncompressed);
    if (declared > bytes.size) {
      const std::string name(reinterpret_cast<const char*>(header + kEntrySize), name_size);
      throw InputError(where + ": zip entry " + printable(name) + " claims " + std::to_string(declared) +
                       " bytes, more than the whole file (" + std::to_string(bytes.size) +
                       "); the file is corrupt");
    }
    pos += kEntrySize + name_size + extra_size + comment_size;
  }
}

// LibTorch's messages run over several sentences and lines; keep the first sentence.
std::string first_sentence(const c10::Error& e) {
  const std::string msg = e.what_without_backtrace();
  return msg.substr(0, std::min(msg.find('\n'), msg.find(". ")));
}

class Archive : public RecordSource {
 public:
  Archive(ByteSpan bytes, std::string where) : where_(std::move(where)), size_(bytes.size) {
    check_declared_sizes(bytes, where_);
    try {
      reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::make_shared<SpanAdapter>(bytes));
    } catch (const c10::Error& e) {
      throw unreadable_archive(where_, first_sentence(e));
    }
  }

  bool has_record(const std::string& name) override { return guard([&] { return reader_->hasRecord(name); }); }

  uint64_t record_size(const std::string& name) override {
    return guard([&] { return static_cast<uint64_t>(reader_->getRecordSize(name)); });
  }

  std::string read_record(const std::string& name, uint64_t max_bytes) override {
    const uint64_t n = record_size(name);
    if (n > max_bytes || n > size_) {
      throw InputError(where_ + ": record " + printable(name) + " claims " + std::to_string(n) +
                       " bytes, more than allowed here (" + std::to_string(std::min(max_bytes, size_)) + ")");
    }
    std::string out(n, '\0');
    read_record_into(name, out.data(), n);
    return out;
  }

  void read_record_into(const std::string& name, void* dst, uint64_t n) override {
    // A zip entry's declared size is untrusted: it must match what the caller allocated and fit the file.
    if (record_size(name) != n || n > size_) {
      throw InputError(where_ + ": record " + printable(name) + " does not have the expected " + std::to_string(n) + " bytes");
    }
    const auto got = guard([&] { return static_cast<uint64_t>(reader_->getRecord(name, dst, n)); });
    if (got != n) throw InputError(where_ + ": record " + printable(name) + " is truncated");
  }

  uint64_t file_size() const override { return size_; }

 private:
  template <typename F>
  auto guard(F f) -> decltype(f()) {
    try {
      return f();
    } catch (const c10::Error& e) {
      throw InputError(where_ + ": corrupt zip archive (" + first_sentence(e) + ")");
    }
  }

  std::string where_;
  uint64_t size_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
};

}  // namespace

std::unique_ptr<RecordSource> open_zip_archive(ByteSpan bytes, const std::string& where) {
  return std::make_unique<Archive>(bytes, where);
}

}  // namespace ftbench::weights
