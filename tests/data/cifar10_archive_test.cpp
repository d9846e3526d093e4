// read_cifar10 on .tar.gz archives: streamed without extraction, members found by name in any order, and
// corrupt, truncated or incomplete archives named in the error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "runner/data/cifar10.h"
#include "tests/data/fixtures.h"

namespace fs = std::filesystem;

namespace ftbench::data {
namespace {

using testing::Contains;
using testing::input_error;
using testing::Member;
using testing::TempDir;

const std::vector<int64_t> kTrainCounts = {3, 2, 4, 1, 2};
constexpr int64_t kTestCount = 5;

class Cifar10Archive : public ::testing::Test {
 protected:
  std::string write(const std::vector<Member>& members, const std::string& name = "cifar-10-binary.tar.gz") {
    testing::write_tar_gz(tmp_ / name, members);
    return (tmp_ / name).string();
  }
  std::vector<Member> members() const { return testing::fake_members(kTrainCounts, kTestCount); }

  TempDir tmp_;
};

TEST_F(Cifar10Archive, ReadsTheSameRecordsAsTheDirectory) {
  auto all = members();
  all.emplace_back("cifar-10-batches-bin/batches.meta.txt", std::vector<uint8_t>{'c', 'a', 't', '\n'});
  all.insert(all.begin(), Member{"cifar-10-batches-bin/readme.html", {'<', '>'}});
  const std::string archive = write(all);
  const Dataset d = read_cifar10(archive);
  EXPECT_EQ(d.source, archive);
  testing::expect_fake_split(d.train, 12);
  testing::expect_fake_split(d.test, kTestCount);
  EXPECT_FALSE(fs::exists(tmp_ / "cifar-10-batches-bin")) << "nothing is extracted to disk";
}

TEST_F(Cifar10Archive, LimitsStopEarlyAndAreChecked) {
  const std::string archive = write(members());
  const Dataset d = read_cifar10(archive, 4, 2);
  testing::expect_fake_split(d.train, 4);
  testing::expect_fake_split(d.test, 2);
  const std::string message = input_error([&] { read_cifar10(archive, 13, 0); });
  EXPECT_TRUE(Contains(message, archive + ": asked for 13 training records but only 12 are available"));
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(archive, 0, 6); }), "only 5 are available"));

  // data_batch_1 and the test batch come first and hold all that is asked for, so the broken data_batch_5
  // after them is never reached.
  auto m = members();
  m[4].second.resize(3);
  const std::string early = write({m[0], m[5], m[1], m[2], m[3], m[4]}, "early.tar.gz");
  testing::expect_fake_split(read_cifar10(early, 3, 5).train, 3);
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(early); }), "data_batch_5.bin): 3 bytes"));
}

TEST_F(Cifar10Archive, MembersInAnyOrderAndDirectoryAreFound) {
  auto m = members();
  for (auto& member : m) member.first = "some/other/dir/" + fs::path(member.first).filename().string();
  // test, 3, 1, 5, 2, 4: batches arriving early are held until the ones before them arrive.
  const std::vector<Member> shuffled = {m[5], m[2], m[0], m[4], m[1], m[3]};
  const std::string archive = write(shuffled);
  testing::expect_fake_split(read_cifar10(archive).train, 12);
  testing::expect_fake_split(read_cifar10(archive, 10, 3).train, 10);
  testing::expect_fake_split(read_cifar10(archive, 6, 3).train, 6);
}

TEST_F(Cifar10Archive, MissingMemberIsNamed) {
  auto m = members();
  m.erase(m.begin() + 3);  // data_batch_4.bin
  const std::string archive = write(m);
  const std::string message = input_error([&] { read_cifar10(archive); });
  EXPECT_TRUE(Contains(message, archive + ": has no member data_batch_4.bin"));
  // A limit that data_batch_1..3 satisfy does not need it.
  testing::expect_fake_split(read_cifar10(archive, 9, 0).train, 9);

  auto no_test = members();
  no_test.pop_back();
  const std::string archive2 = write(no_test, "no-test.tar.gz");
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(archive2); }), "has no member test_batch.bin"));
}

TEST_F(Cifar10Archive, DuplicateMemberIsRejected) {
  auto m = members();
  m.push_back({"copy/data_batch_2.bin", m[1].second});
  m.insert(m.begin(), m.back());  // before the test batch, which would otherwise end the read
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(write(m)); }), "holds both"));
}

TEST_F(Cifar10Archive, WrongSizeMemberAndBadLabelNameTheMember) {
  auto m = members();
  m[2].second.resize(m[2].second.size() - 1);
  const std::string archive = write(m);
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(archive); }),
                       archive + " (member cifar-10-batches-bin/data_batch_3.bin): 12291 bytes, expected a whole "
                                 "number of 3073-byte records"));

  auto bad = members();
  bad[5].second[kRecordBytes] = 200;
  const std::string archive2 = write(bad, "bad-label.tar.gz");
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10(archive2); }),
                       "(member cifar-10-batches-bin/test_batch.bin): record 1 (byte offset 3073) has label 200"));
}

TEST_F(Cifar10Archive, TruncatedArchiveIsNamed) {
  const std::string archive = write(members());
  auto bytes = testing::read_bytes(archive);
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(archive, bytes);
  const std::string message = input_error([&] { read_cifar10(archive); });
  EXPECT_TRUE(Contains(message, archive + ": "));
  EXPECT_TRUE(Contains(message, "re-download cifar-10-binary.tar.gz"));
}

// libarchive's own gzip filter ignores the trailer; a damaged download must not become wrong pixels.
TEST_F(Cifar10Archive, GzipChecksumMismatchIsRefused) {
  const std::string archive = write(members());
  auto bytes = testing::read_bytes(archive);
  for (std::size_t i = bytes.size() - 8; i < bytes.size() - 4; ++i) bytes[i] ^= 0xFF;  // the CRC-32
  testing::write_bytes(archive, bytes);
  const std::string message = input_error([&] { read_cifar10(archive); });
  EXPECT_TRUE(Contains(message, archive + ": is corrupt: its gzip CRC-32 does not match the data")) << message;
  EXPECT_TRUE(Contains(message, "re-download cifar-10-binary.tar.gz")) << message;
}

TEST_F(Cifar10Archive, GarbageIsNotAnArchive) {
  std::vector<uint8_t> garbage(5000);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 131 + 7);
  testing::write_bytes(tmp_ / "garbage.tar.gz", garbage);
  const std::string message = input_error([&] { read_cifar10((tmp_ / "garbage.tar.gz").string()); });
  EXPECT_TRUE(Contains(message, (tmp_ / "garbage.tar.gz").string() + ": is not a readable tar.gz"));

  testing::write_bytes(tmp_ / "empty.tar.gz", {});
  EXPECT_TRUE(Contains(input_error([&] { read_cifar10((tmp_ / "empty.tar.gz").string()); }), "empty.tar.gz: "));
}

TEST_F(Cifar10Archive, DirectoryHoldingTheArchiveIsAccepted) {
  const std::string archive = write(members());
  const Dataset d = read_cifar10(tmp_.path().string());
  EXPECT_EQ(d.source, archive);
  testing::expect_fake_split(d.train, 12);
}

// The archive as the system tar writes it, the way users get it (skipped where no tar is installed).
TEST_F(Cifar10Archive, ReadsAnArchiveMadeBySystemTar) {
  testing::write_fake_dataset(tmp_ / "src" / "cifar-10-batches-bin", kTrainCounts, kTestCount);
  const fs::path archive = tmp_ / "made-by-tar.tar.gz";
  const std::string command =
      "tar czf '" + archive.string() + "' -C '" + (tmp_ / "src").string() + "' cifar-10-batches-bin 2>/dev/null";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "no working tar: " << command;
  const Dataset d = read_cifar10(archive.string());
  testing::expect_fake_split(d.train, 12);
  testing::expect_fake_split(d.test, kTestCount);
}

}  // namespace
}  // namespace ftbench::data
