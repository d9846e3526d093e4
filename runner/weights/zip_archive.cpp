#include "runner/weights/zip_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <c10/util/Exception.h>

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

// LibTorch's messages run over several sentences and lines; keep the first sentence.
std::string first_sentence(const c10::Error& e) {
  const std::string msg = e.what_without_backtrace();
  return msg.substr(0, std::min(msg.find('\n'), msg.find(". ")));
}

class Archive : public RecordSource {
 public:
  Archive(ByteSpan bytes, std::string where) : where_(std::move(where)), size_(bytes.size) {
    try {
      reader_ = std::make_unique<caffe2::serialize::PyTorchStreamReader>(std::make_shared<SpanAdapter>(bytes));
    } catch (const c10::Error& e) {
      throw InputError(where_ + ": not a readable torch.save zip archive (" + first_sentence(e) +
                       "); the file is truncated or corrupt");
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
