// write_safetensors: what it writes reads back identically (Python's safetensors reads it too: cli_test.py).
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <unistd.h>

#include <fstream>

#include "fixtures.h"
#include "runner/base/error.h"
#include "runner/weights/safetensors_writer.h"
#include "runner/weights/state_dict.h"

namespace ftbench::weights {
namespace {

namespace fs = std::filesystem;

TEST(SafetensorsWriter, RoundTripsViewsAndDtypes) {
  const fs::path out = fs::temp_directory_path() / ("ftbench-writer-" + std::to_string(::getpid()) + ".safetensors");
  for (const char* file : {"views_zip.pth", "dtypes_zip.pth"}) {
    const StateDict in = read_state_dict(testing::fixtures_dir() / "good" / file);
    write_safetensors(out, in.tensors, {{"source", file}});
    const StateDict back = read_state_dict(out);
    EXPECT_EQ(back.metadata.at("source"), file);
    ASSERT_EQ(back.tensors.size(), in.tensors.size());
    for (const auto& [name, t] : in.tensors) {
      const at::Tensor* b = back.find(name);
      ASSERT_NE(b, nullptr) << name;
      EXPECT_EQ(b->scalar_type(), t.scalar_type()) << name;
      EXPECT_TRUE(testing::bytes_of(*b) == testing::bytes_of(t)) << name;
    }
  }
  fs::remove(out);
}

// A safetensors header length whose low byte is 0x80 (also the first byte of a legacy torch.save pickle) is
// still read as safetensors: googlenet's 10-class state dict once was such a file.
TEST(SafetensorsWriter, HeaderLengthStartingWith0x80IsStillSafetensors) {
  const fs::path out = fs::temp_directory_path() / ("ftbench-0x80-" + std::to_string(::getpid()) + ".safetensors");
  bool found = false;
  for (int pad = 1; pad < 600 && !found; ++pad) {  // vary the header length through the tensor's name
    write_safetensors(out, {{std::string(static_cast<std::size_t>(pad), 'w'), at::ones({3})}});
    std::ifstream in(out, std::ios::binary);
    const int first = in.get();
    if (first != 0x80) continue;
    found = true;
    const StateDict back = read_state_dict(out);
    EXPECT_EQ(back.format, "safetensors");
    ASSERT_EQ(back.tensors.size(), 1u);
    EXPECT_TRUE(back.tensors[0].second.equal(at::ones({3})));
  }
  EXPECT_TRUE(found) << "no header length with low byte 0x80 was produced";
  fs::remove(out);
}

TEST(SafetensorsWriter, MissingDirectoryIsAnInputError) {
  EXPECT_THROW(write_safetensors("/nonexistent-dir/x.safetensors", {{"a", at::ones({2})}}), InputError);
}

TEST(SafetensorsWriter, ComplexTensorsAreRefused) {
  EXPECT_THROW(write_safetensors(fs::temp_directory_path() / "c.safetensors", {{"a", at::ones({2}, at::kComplexFloat)}}),
               InputError);
}

}  // namespace
}  // namespace ftbench::weights
