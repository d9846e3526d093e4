// read_cifar10 on directories: layout, limits, and one clear error per kind of broken file.
#include <gtest/gtest.h>

#include <filesystem>

#include "runner/data/cifar10.h"
#include "tests/data/fixtures.h"

namespace fs = std::filesystem;

namespace ftbench::data {
namespace {

using testing::Contains;
using testing::input_error;
using testing::TempDir;

const std::vector<int64_t> kTrainCounts = {3, 2, 4, 1, 2};  // 12 records, uneven like a synth --train 12
constexpr int64_t kTestCount = 5;

TEST(Cifar10Reader, ClassNamesAreTheOfficialOnesInLabelOrder) {
  const auto& names = class_names();
  ASSERT_EQ(names.size(), static_cast<std::size_t>(kNumClasses));
  EXPECT_EQ(names.front(), "airplane");
  EXPECT_EQ(names[3], "cat");
  EXPECT_EQ(names.back(), "truck");
}

TEST(Cifar10Reader, ReadsADirectoryInFileOrderWithLabelsAndPixelsApart) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  const Dataset d = read_cifar10(tmp.path().string());
  EXPECT_EQ(d.source, tmp.path().string());
  testing::expect_fake_split(d.train, 12);
  testing::expect_fake_split(d.test, kTestCount);
}

TEST(Cifar10Reader, LimitsKeepTheFirstRecordsAcrossFiles) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  const Dataset d = read_cifar10(tmp.path().string(), /*train_limit=*/4, /*test_limit=*/2);
  testing::expect_fake_split(d.train, 4);  // 3 from data_batch_1, 1 from data_batch_2
  testing::expect_fake_split(d.test, 2);
  const Dataset all = read_cifar10(tmp.path().string(), 12, kTestCount);  // exactly everything is fine
  EXPECT_EQ(all.train.size, 12);
}

TEST(Cifar10Reader, LimitAboveWhatIsAvailableNamesTheCount) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  const std::string train = input_error([&] { read_cifar10(tmp.path().string(), 13, 0); });
  EXPECT_TRUE(Contains(train, "asked for 13 training records but only 12 are available"));
  const std::string test = input_error([&] { read_cifar10(tmp.path().string(), 0, 6); });
  EXPECT_TRUE(Contains(test, "only 5 are available"));
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(tmp.path().string(), -1, 0); }), "negative"));
}

TEST(Cifar10Reader, LimitOnlyOpensTheFilesItNeeds) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  fs::remove(tmp / "data_batch_5.bin");
  testing::write_bytes(tmp / "data_batch_3.bin", {1, 2, 3});  // broken, but past the limit
  const Dataset d = read_cifar10(tmp.path().string(), 5, 1);
  testing::expect_fake_split(d.train, 5);
  // Without the limit the broken file is found.
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(tmp.path().string()); }), "data_batch_3.bin: 3 bytes"));
}

TEST(Cifar10Reader, TruncatedFileNamesFileSizeAndFix) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  auto bytes = testing::read_bytes(tmp / "data_batch_3.bin");
  bytes.resize(bytes.size() - 2);  // 4 records less 2 bytes
  testing::write_bytes(tmp / "data_batch_3.bin", bytes);
  const std::string message = input_error([&] { read_cifar10(tmp.path().string()); });
  EXPECT_TRUE(Contains(message, (tmp / "data_batch_3.bin").string() + ": 12290 bytes"));
  EXPECT_TRUE(Contains(message, "whole number of 3073-byte records"));
  EXPECT_TRUE(Contains(message, "re-download cifar-10-binary.tar.gz"));
  EXPECT_TRUE(Contains(message, "ftbench data synth"));
}

TEST(Cifar10Reader, FileWithExtraBytesIsRejected) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  auto bytes = testing::read_bytes(tmp / "test_batch.bin");
  bytes.push_back(0);
  testing::write_bytes(tmp / "test_batch.bin", bytes);
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(tmp.path().string()); }), "test_batch.bin: 15366 bytes"));
}

TEST(Cifar10Reader, EmptyFileIsRejected) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  testing::write_bytes(tmp / "data_batch_1.bin", {});
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(tmp.path().string()); }), "data_batch_1.bin: empty file"));
}

TEST(Cifar10Reader, MissingFileSaysWhatTheDirectoryMustHold) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  fs::remove(tmp / "test_batch.bin");
  const std::string message = input_error([&] { read_cifar10(tmp.path().string()); });
  EXPECT_TRUE(Contains(message, (tmp / "test_batch.bin").string() + ": no such file"));
  EXPECT_TRUE(Contains(message, "data_batch_1.bin ... data_batch_5.bin and test_batch.bin"));
}

TEST(Cifar10Reader, LabelAboveNineNamesTheRecord) {
  TempDir tmp;
  testing::write_fake_dataset(tmp.path(), kTrainCounts, kTestCount);
  auto bytes = testing::read_bytes(tmp / "test_batch.bin");
  bytes[2 * kRecordBytes] = 12;
  testing::write_bytes(tmp / "test_batch.bin", bytes);
  const std::string message = input_error([&] { read_cifar10(tmp.path().string()); });
  EXPECT_TRUE(Contains(message, "test_batch.bin: record 2 (byte offset 6146) has label 12, expected 0-9"));
}

TEST(Cifar10Reader, AcceptsTheDirectoryAboveCifar10BatchesBin) {
  TempDir tmp;
  testing::write_fake_dataset(tmp / "cifar-10-batches-bin", kTrainCounts, kTestCount);
  const Dataset d = read_cifar10(tmp.path().string());
  EXPECT_EQ(d.source, (tmp / "cifar-10-batches-bin").string());
  testing::expect_fake_split(d.train, 12);
}

TEST(Cifar10Reader, PathWithoutDataSaysWhatIsExpected) {
  TempDir tmp;
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(tmp.path().string()); }), "holds no CIFAR-10 data"));
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10((tmp / "nope").string()); }), "nope: no such file or directory"));
  fs::create_directories(tmp / "d" / "data_batch_1.bin");  // a directory where a file belongs
  testing::write_bytes(tmp / "d" / "test_batch.bin", testing::fake_records(0, 1));
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10((tmp / "d").string()); }), "not a regular file"));
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10((tmp / "d" / "test_batch.bin").string()); }),
                       "is a single batch file; point at the directory that holds it"));
}

}  // namespace
}  // namespace ftbench::data
