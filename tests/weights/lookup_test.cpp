// torchvision's cache lookup and the hash prefix in its file names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "runner/base/error.h"
#include "runner/weights/lookup.h"

namespace ftbench::weights {
namespace {

namespace fs = std::filesystem;

class Lookup : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ftbench-lookup-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "torch_home" / "hub" / "checkpoints");
    fs::create_directories(root_ / "home");
    fs::create_directories(root_ / "extra");
    setenv("TORCH_HOME", (root_ / "torch_home").c_str(), 1);
    setenv("HOME", (root_ / "home").c_str(), 1);
    unsetenv("XDG_CACHE_HOME");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }
  fs::path root_;
};

TEST_F(Lookup, SearchesTorchHomeThenHomeCacheThenExtraDir) {
  const auto dirs = torchvision_search_dirs((root_ / "extra").string());
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0].dir, root_ / "torch_home" / "hub" / "checkpoints");
  EXPECT_EQ(dirs[1].dir, root_ / "home" / ".cache" / "torch" / "hub" / "checkpoints");
  EXPECT_EQ(dirs[2].dir, root_ / "extra");

  touch(root_ / "extra" / "resnet18-f37072fd.pth");
  EXPECT_EQ(find_torchvision_file("resnet18", "resnet18-f37072fd.pth", (root_ / "extra").string()),
            root_ / "extra" / "resnet18-f37072fd.pth");
  touch(root_ / "home" / ".cache" / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth");
  EXPECT_EQ(find_torchvision_file("resnet18", "resnet18-f37072fd.pth", (root_ / "extra").string()).parent_path(),
            dirs[1].dir);
  touch(root_ / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth");
  EXPECT_EQ(find_torchvision_file("resnet18", "resnet18-f37072fd.pth", "").parent_path(), dirs[0].dir);
}

TEST_F(Lookup, MissingFileSaysWhatWhereAndHowToFetch) {
  try {
    find_torchvision_file("resnet18", "resnet18-f37072fd.pth", (root_ / "extra").string());
    FAIL();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("resnet18-f37072fd.pth"), std::string::npos) << m;
    EXPECT_NE(m.find((root_ / "torch_home" / "hub" / "checkpoints").string()), std::string::npos) << m;
    EXPECT_NE(m.find((root_ / "home" / ".cache" / "torch" / "hub" / "checkpoints").string()), std::string::npos) << m;
    EXPECT_NE(m.find((root_ / "extra").string()), std::string::npos) << m;
    EXPECT_NE(m.find("scripts/fetch_weights.sh resnet18"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
  }
}

TEST(HashPrefix, ReadsTorchvisionNames) {
  EXPECT_EQ(hash_prefix_in_name("resnet18-f37072fd.pth"), "f37072fd");
  EXPECT_EQ(hash_prefix_in_name("/x/y/alexnet-owt-7be5be79.pth"), "7be5be79");
  EXPECT_EQ(hash_prefix_in_name("mnasnet1.0_top1_73.512-f206786ef8.pth"), "f206786ef8");
  EXPECT_EQ(hash_prefix_in_name("model.pth"), std::nullopt);
  EXPECT_EQ(hash_prefix_in_name("run-final.pth"), std::nullopt);
  EXPECT_EQ(hash_prefix_in_name("a-abc.pth"), std::nullopt);  // too short to be a hash
}

TEST(HashPrefix, MismatchIsAnInputError) {
  EXPECT_NO_THROW(check_hash_prefix("resnet18-f37072fd.pth", "f37072fd575b2f4a", "fix"));
  EXPECT_NO_THROW(check_hash_prefix("mine.pth", "0000", "fix"));
  EXPECT_THROW(check_hash_prefix("resnet18-f37072fd.pth", "00000000aaaa", "fix"), InputError);
}

}  // namespace
}  // namespace ftbench::weights
