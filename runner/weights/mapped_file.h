// weights::MappedFile: a whole file mapped read-only into memory (RAII; the destructor never throws).
//
// Weight files are read through a mapping rather than read() into a buffer: the parsers look at the few
// bytes they need (headers, pickles) and tensor bytes are copied once, straight from the page cache into the
// tensors' own storage. The mapping is private, so nothing ever writes through to the file.
#pragma once

#include <filesystem>
#include <string>

#include "runner/weights/bytes.h"

namespace ftbench::weights {

class MappedFile {
 public:
  // Maps `path`. Throws InputError naming the file when it is missing, not a regular file or unreadable.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  ByteSpan bytes() const { return {static_cast<const uint8_t*>(data_), size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  void* data_ = nullptr;  // null for an empty file
  std::size_t size_ = 0;
};

}  // namespace ftbench::weights
