// Broken and malicious files: each is one InputError naming the file, never a crash or another exception,
// and no payload ever runs (its marker file never appears).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "fixtures.h"
#include "runner/base/error.h"
#include "runner/weights/state_dict.h"
#include "runner/weights/unpickler.h"

namespace ftbench::weights {
namespace {

namespace fs = std::filesystem;
using testing::fixtures_dir;

// The InputError message reading `path` gives; fails the test for success or any other exception.
std::string refusal(const fs::path& path) {
  try {
    read_state_dict(path);
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << path << ": not an InputError: " << e.what();
    return "";
  }
  ADD_FAILURE() << path << ": was accepted";
  return "";
}

TEST(BadFiles, EachIsOneLineInputErrorNamingTheFile) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() / "bad")) {
    const std::string message = refusal(entry.path());
    EXPECT_EQ(message.rfind(entry.path().string(), 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    ++count;
  }
  EXPECT_GE(count, 29) << "make_fixtures.py wrote fewer bad files than expected";
}

TEST(BadFiles, SayWhatIsWrong) {
  const fs::path bad = fixtures_dir() / "bad";
  EXPECT_NE(refusal(bad / "truncated_legacy.pth").find("truncated"), std::string::npos);
  EXPECT_NE(refusal(bad / "wrong_magic_legacy.pth").find("wrong magic number"), std::string::npos);
  EXPECT_NE(refusal(bad / "lying_header.safetensors").find("header claims 1000000 bytes"), std::string::npos);
  EXPECT_NE(refusal(bad / "overlap.safetensors").find("overlaps"), std::string::npos);
  EXPECT_NE(refusal(bad / "huge_shape.safetensors").find("overflows"), std::string::npos);
  EXPECT_NE(refusal(bad / "huge_shape_zip.pth").find("reaches past its storage"), std::string::npos);
  EXPECT_NE(refusal(bad / "huge_storage_legacy.pth").find("more than the whole file"), std::string::npos);
  EXPECT_NE(refusal(bad / "text.pth").find("a text file"), std::string::npos);
  EXPECT_NE(refusal(bad / "text.safetensors").find("a text file"), std::string::npos);
  EXPECT_NE(refusal(bad / "truncated_zip.pth").find("zip archive"), std::string::npos);
  EXPECT_NE(refusal(bad / "lying_entry_size_zip.pth").find("claims 2147483632 bytes, more than the whole file"),
            std::string::npos);
  EXPECT_NE(refusal(fixtures_dir() / "no-such-file.pth").find("cannot open"), std::string::npos);
}

TEST(MaliciousPickles, AreRefusedByNameAndNothingRuns) {
  const auto index = testing::read_json(fixtures_dir() / "evil" / "index.json");
  int files = 0;
  for (const auto& [file, info] : index.items()) {
    if (file.size() < 4 || file.substr(file.size() - 4) != ".pth") continue;
    const std::string message = refusal(fixtures_dir() / "evil" / file);
    for (const auto& name : info.at("names")) {
      EXPECT_NE(message.find(name.get<std::string>()), std::string::npos) << file << ": " << message;
    }
    EXPECT_NE(message.find("nothing from the file was executed"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(info.at("marker").get<std::string>())) << file << ": its payload ran";
    ++files;
  }
  EXPECT_EQ(files, 6);  // system, eval and an arbitrary callable, each in a zip and a legacy file
  // The same payloads, aimed elsewhere, did run under Python's own pickle (make_fixtures.py checked).
  EXPECT_TRUE(fs::exists(fixtures_dir() / "proof" / "system_zip.pth.ran"));
}

TEST(MaliciousPickles, ReduceOfAnAllowedTagIsRefused) {
  std::ifstream in(fixtures_dir() / "evil" / "reduce_tag.pkl", std::ios::binary);
  const std::string p((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    pickle::unpickle({reinterpret_cast<const uint8_t*>(p.data()), p.size()}, "reduce_tag.pkl", {true, 1000});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("REDUCE calls 'torch.FloatStorage'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ftbench::weights
