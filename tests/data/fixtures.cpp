#include "tests/data/fixtures.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "runner/base/error.h"
#include "runner/data/cifar10.h"

namespace fs = std::filesystem;

namespace ftbench::data::testing {

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "ftbench-data-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

uint8_t fake_pixel(int64_t index, int64_t j) { return static_cast<uint8_t>((index * 7 + j) % 251); }

std::vector<uint8_t> fake_records(int64_t first_index, int64_t count) {
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<std::size_t>(count * kRecordBytes));
  for (int64_t index = first_index; index < first_index + count; ++index) {
    bytes.push_back(static_cast<uint8_t>(index % kNumClasses));
    for (int64_t j = 0; j < kImageBytes; ++j) bytes.push_back(fake_pixel(index, j));
  }
  return bytes;
}

void expect_fake_split(const Split& split, int64_t count) {
  ASSERT_EQ(split.size, count);
  ASSERT_EQ(split.labels.size(), static_cast<std::size_t>(count));
  ASSERT_EQ(split.images.size(), static_cast<std::size_t>(count * kImageBytes));
  for (int64_t index = 0; index < count; ++index) {
    ASSERT_EQ(split.labels[static_cast<std::size_t>(index)], index % kNumClasses) << "record " << index;
    for (int64_t j = 0; j < kImageBytes; ++j) {
      ASSERT_EQ(split.images[static_cast<std::size_t>(index * kImageBytes + j)], fake_pixel(index, j))
          << "record " << index << " byte " << j;
    }
  }
}

std::vector<Member> fake_members(const std::vector<int64_t>& train_counts, int64_t test_count) {
  std::vector<Member> members;
  int64_t first = 0;
  for (std::size_t i = 0; i < train_counts.size(); ++i) {
    members.emplace_back("cifar-10-batches-bin/data_batch_" + std::to_string(i + 1) + ".bin",
                         fake_records(first, train_counts[i]));
    first += train_counts[i];
  }
  members.emplace_back("cifar-10-batches-bin/test_batch.bin", fake_records(0, test_count));
  return members;
}

void write_fake_dataset(const fs::path& dir, const std::vector<int64_t>& train_counts, int64_t test_count) {
  fs::create_directories(dir);
  for (const auto& [name, bytes] : fake_members(train_counts, test_count)) {
    write_bytes(dir / fs::path(name).filename(), bytes);
  }
}

void write_tar_gz(const fs::path& archive_path, const std::vector<Member>& members) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, archive_path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error(std::string("cannot write test archive: ") + archive_error_string(a));
  }
  for (const auto& [name, bytes] : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_size(entry, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_write_header(a, entry);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "messages are one line: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an ftbench::InputError";
  return "";
}

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in: " << text;
}

std::vector<uint8_t> read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& file, const std::vector<uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace ftbench::data::testing
