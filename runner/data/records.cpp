#include "runner/data/records.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "runner/base/error.h"

namespace ftbench::data::detail {

std::string train_file_name(int index) { return "data_batch_" + std::to_string(index + 1) + ".bin"; }

int batch_slot(const std::string& file_name) {
  for (int i = 0; i < kTrainFiles; ++i) {
    if (file_name == train_file_name(i)) return i;
  }
  return file_name == kTestFile ? kTrainFiles : -1;
}

int64_t record_count(const std::string& what, int64_t bytes) {
  if (bytes == 0) {
    throw InputError(what + ": empty file, expected a whole number of 3073-byte records (1 label + 3072 pixels); " +
                     kRefetchHint);
  }
  if (bytes < 0 || bytes % kRecordBytes != 0) {
    throw InputError(what + ": " + std::to_string(bytes) +
                     " bytes, expected a whole number of 3073-byte records (1 label + 3072 pixels), so it is "
                     "truncated or not a CIFAR-10 batch; " +
                     kRefetchHint);
  }
  return bytes / kRecordBytes;
}

void check_limit(const std::string& where, const char* split, int64_t limit, int64_t available) {
  if (limit > available) {
    throw InputError(where + ": asked for " + std::to_string(limit) + " " + split + " records but only " +
                     std::to_string(available) + " are available; lower the " + split +
                     " size (0 keeps all) or generate a larger dataset with 'ftbench data synth'");
  }
}

RecordWriter::RecordWriter(Split& split, int64_t count, std::string what)
    : split_(split),
      what_(std::move(what)),
      first_(split.size),
      record_(split.size),
      bytes_left_(count * kRecordBytes) {
  split_.size += count;
  split_.labels.resize(static_cast<std::size_t>(split_.size));
  split_.images.resize(static_cast<std::size_t>(split_.size * kImageBytes));
}

void RecordWriter::feed(const uint8_t* data, std::size_t n) {
  n = static_cast<std::size_t>(std::min<int64_t>(static_cast<int64_t>(n), bytes_left_));
  bytes_left_ -= static_cast<int64_t>(n);
  while (n > 0) {
    if (in_record_ == 0) {
      const uint8_t label = *data;
      if (label >= kNumClasses) {
        const int64_t index = record_ - first_;
        throw InputError(what_ + ": record " + std::to_string(index) + " (byte offset " +
                         std::to_string(index * kRecordBytes) + ") has label " + std::to_string(label) +
                         ", expected 0-9; the file is corrupt or not a CIFAR-10 batch; " + kRefetchHint);
      }
      split_.labels[static_cast<std::size_t>(record_)] = label;
      ++data;
      --n;
      in_record_ = 1;
      continue;
    }
    const auto take = static_cast<std::size_t>(std::min<int64_t>(static_cast<int64_t>(n), kRecordBytes - in_record_));
    std::memcpy(split_.images.data() + record_ * kImageBytes + (in_record_ - 1), data, take);
    data += take;
    n -= take;
    in_record_ += static_cast<int64_t>(take);
    if (in_record_ == kRecordBytes) {
      in_record_ = 0;
      ++record_;
    }
  }
}

}  // namespace ftbench::data::detail
