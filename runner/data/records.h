// Private to runner/data: the pieces the directory reader, the archive reader and the generator share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "runner/data/cifar10.h"

namespace ftbench::data::detail {

inline constexpr int kTrainFiles = 5;
inline constexpr const char* kTestFile = "test_batch.bin";
inline constexpr const char* kMetaFile = "batches.meta.txt";
inline constexpr const char* kBatchDir = "cifar-10-batches-bin";
inline constexpr const char* kArchiveName = "cifar-10-binary.tar.gz";

// The end of every "this file is bad" message: how to get a good copy.
inline constexpr const char* kRefetchHint =
    "re-download cifar-10-binary.tar.gz (scripts/get_cifar10.sh) or regenerate with 'ftbench data synth'";

// "data_batch_1.bin" for index 0.
std::string train_file_name(int index);

// 0..4 for data_batch_1..5.bin, kTrainFiles for test_batch.bin, -1 for any other file name.
int batch_slot(const std::string& file_name);

// Records in a file of `bytes` bytes. Throws InputError naming `what` unless bytes is a positive multiple of
// kRecordBytes, so a file is validated from its size before any of it is read.
int64_t record_count(const std::string& what, int64_t bytes);

// Throws InputError when a split holds fewer records than the limit asks for.
void check_limit(const std::string& where, const char* split, int64_t limit, int64_t available);

// Grows `split` by `count` records and fills them from bytes fed in pieces of any size (a file read in chunks,
// or libarchive's decompressed blocks), splitting each record into its label and its pixels and rejecting
// labels > 9. Holds an index, not a pointer, into the split, so the split may reallocate between feeds.
class RecordWriter {
 public:
  RecordWriter(Split& split, int64_t count, std::string what);

  void feed(const uint8_t* data, std::size_t n);
  int64_t bytes_left() const { return bytes_left_; }

 private:
  Split& split_;
  std::string what_;  // the file, for errors
  int64_t first_;     // index into split_ of this file's first record
  int64_t record_;    // index into split_ of the record being filled
  int64_t in_record_ = 0;
  int64_t bytes_left_;
};

// Reads a .tar.gz (or .tar) holding the batches, streaming it; never extracts to disk. cifar10_archive.cpp.
Dataset read_archive(const std::string& archive, int64_t train_limit, int64_t test_limit);

}  // namespace ftbench::data::detail
