// Helpers shared by the runner/data tests: a scratch directory, and small CIFAR-10 files whose every byte is
// predictable, so a test can tell which record landed where.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "runner/data/cifar10.h"

namespace ftbench::data::testing {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Record `index` of a fake split: label index % 10, pixel j = (index * 7 + j) % 251.
std::vector<uint8_t> fake_records(int64_t first_index, int64_t count);
uint8_t fake_pixel(int64_t index, int64_t j);

// Expects `split` to hold fake records 0 .. count-1 in order, labels and pixels split apart.
void expect_fake_split(const Split& split, int64_t count);

// Writes data_batch_1..5.bin holding train_counts[i] records each (indices continue across files) and
// test_batch.bin holding test_count records (indices from 0) into dir, creating it.
void write_fake_dataset(const std::filesystem::path& dir, const std::vector<int64_t>& train_counts, int64_t test_count);

// A member of a test archive: its path inside the archive and its bytes.
using Member = std::pair<std::string, std::vector<uint8_t>>;

// The members write_fake_dataset would write, named cifar-10-batches-bin/<file>, in the official order.
std::vector<Member> fake_members(const std::vector<int64_t>& train_counts, int64_t test_count);

// Writes a gzip-compressed tar holding `members` in the given order, with libarchive.
void write_tar_gz(const std::filesystem::path& archive, const std::vector<Member>& members);

// Runs `f` and returns the message of the ftbench::InputError it throws, or "" (and a test failure) if it
// throws none. Checks the exit code is the bad-input one.
std::string input_error(const std::function<void()>& f);

// EXPECT_TRUE(Contains(message, "part")) prints the whole message when the part is missing.
::testing::AssertionResult Contains(const std::string& text, const std::string& part);

std::vector<uint8_t> read_bytes(const std::filesystem::path& file);
void write_bytes(const std::filesystem::path& file, const std::vector<uint8_t>& bytes);

}  // namespace ftbench::data::testing
